#include "net/loop.hpp"

#include <asio.hpp>

#include <chrono>
#include <csignal>
#include <cstring>

namespace kd::net {

namespace {

using asio::ip::udp;

udp::endpoint to_asio(const Address& a) {
  if (a.v6) {
    asio::ip::address_v6::bytes_type b;
    std::memcpy(b.data(), a.ip.data(), 16);
    return {asio::ip::address_v6(b), a.port};
  }
  asio::ip::address_v4::bytes_type b;
  std::memcpy(b.data(), a.ip.data(), 4);
  return {asio::ip::address_v4(b), a.port};
}

Address from_asio(const udp::endpoint& e) {
  Address a;
  a.port = e.port();
  if (e.address().is_v6()) {
    const auto v6 = e.address().to_v6();
    if (v6.is_v4_mapped()) {
      const auto b = asio::ip::make_address_v4(asio::ip::v4_mapped, v6).to_bytes();
      std::memcpy(a.ip.data(), b.data(), 4);
      return a;
    }
    const auto b = v6.to_bytes();
    std::memcpy(a.ip.data(), b.data(), 16);
    a.v6 = true;
    return a;
  }
  const auto b = e.address().to_v4().to_bytes();
  std::memcpy(a.ip.data(), b.data(), 4);
  return a;
}

}  // namespace

struct Loop::Impl {
  asio::io_context io{1};
  asio::signal_set signals{io, SIGINT, SIGTERM};
  asio::steady_timer timer{io};
  std::vector<std::unique_ptr<udp::socket>> sockets;
  Handler* handler = nullptr;
  std::size_t max_batch = 64;
  int signal = 0;
  std::vector<Datagram> batch;
  Bytes buffer = Bytes(65536);

  void arm(SocketId id) {
    sockets[id]->async_wait(udp::socket::wait_read, [this, id](const asio::error_code& ec) {
      if (ec) return;  // cancelled: the loop is stopping
      drain(id);
      arm(id);
    });
  }

  // What the socket holds now, up to max_batch datagrams: handled together, so the service makes
  // its state durable once for all of them (group commit).
  void drain(SocketId id) {
    batch.clear();
    auto& s = *sockets[id];
    while (batch.size() < max_batch) {
      udp::endpoint from;
      asio::error_code ec;
      const std::size_t n = s.receive_from(asio::buffer(buffer), from, 0, ec);
      if (ec == asio::error::would_block || ec == asio::error::try_again) break;
      if (ec) break;  // an error reported on the socket (reading it cleared it): wait for the next datagram
      batch.push_back(Datagram{id, from_asio(from), Bytes(buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(n))});
    }
    if (!batch.empty()) handler->on_datagrams(batch, now_ms());
    rearm_timer();
  }

  void rearm_timer() {
    const auto d = handler->deadline();
    if (!d) {
      timer.cancel();
      return;
    }
    const auto now = now_ms();
    timer.expires_after(std::chrono::milliseconds(*d > now ? *d - now : 0));
    timer.async_wait([this](const asio::error_code& ec) {
      if (ec) return;  // cancelled or moved
      handler->on_deadline(now_ms());
      rearm_timer();
    });
  }
};

Loop::Loop() : impl_(std::make_unique<Impl>()) {}
Loop::~Loop() {
  // A stop signal often comes twice (timeout(1) sends it to the command and to its process
  // group). Once one has ended run(), a second must not kill the process while it saves its
  // state and exits: destroying the signal set restores the default action, so ignore them.
  const bool stopping = impl_->signal != 0;
  impl_.reset();
  if (stopping) {
    std::signal(SIGINT, SIG_IGN);
    std::signal(SIGTERM, SIG_IGN);
  }
}

std::uint64_t Loop::now_ms() {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch()).count());
}

std::uint64_t Loop::now_us() {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now().time_since_epoch()).count());
}

std::optional<std::string> Loop::resolve(const Endpoint& e, Address& out) {
  asio::error_code ec;
  const auto literal = asio::ip::make_address(e.host, ec);
  if (!ec) {
    out = from_asio(udp::endpoint(literal, e.port));
    return std::nullopt;
  }
  udp::resolver r(impl_->io);
  const auto found = r.resolve(e.host, std::to_string(e.port), udp::resolver::numeric_service, ec);
  if (ec || found.empty()) return to_string(e) + ": cannot resolve " + e.host + ": " + (ec ? ec.message() : "no address");
  out = from_asio(found.begin()->endpoint());
  return std::nullopt;
}

std::optional<std::string> Loop::listen(const Endpoint& e, SocketId& id, Address& bound) {
  Address at;
  if (auto why = resolve(e, at)) return why;
  auto s = std::make_unique<udp::socket>(impl_->io);
  asio::error_code ec;
  const auto ep = to_asio(at);
  s->open(ep.protocol(), ec);
  if (!ec && at.v6) s->set_option(asio::ip::v6_only(true), ec);
  if (!ec) s->bind(ep, ec);
  if (!ec) s->non_blocking(true, ec);
  if (ec) return "--listen " + to_string(e) + ": " + ec.message();
  bound = from_asio(s->local_endpoint(ec));
  if (ec) return "--listen " + to_string(e) + ": " + ec.message();
  id = static_cast<SocketId>(impl_->sockets.size());
  impl_->sockets.push_back(std::move(s));
  return std::nullopt;
}

std::optional<std::string> Loop::open_client(const Address& peer, SocketId& id) {
  auto s = std::make_unique<udp::socket>(impl_->io);
  asio::error_code ec;
  s->open(peer.v6 ? udp::v6() : udp::v4(), ec);
  if (!ec) s->bind(udp::endpoint(peer.v6 ? udp::v6() : udp::v4(), 0), ec);
  if (!ec) s->non_blocking(true, ec);
  if (ec) return "a UDP socket towards " + to_string(peer) + ": " + ec.message();
  id = static_cast<SocketId>(impl_->sockets.size());
  impl_->sockets.push_back(std::move(s));
  return std::nullopt;
}

std::optional<std::string> Loop::send(SocketId socket, const Address& to, ByteView data) {
  asio::error_code ec;
  impl_->sockets.at(socket)->send_to(asio::buffer(data.data(), data.size()), to_asio(to), 0, ec);
  if (ec) return "sending to " + to_string(to) + ": " + ec.message();
  return std::nullopt;
}

int Loop::run(Handler& h, std::size_t max_batch) {
  Impl& m = *impl_;
  m.handler = &h;
  m.max_batch = max_batch == 0 ? 1 : max_batch;
  m.signal = 0;
  m.signals.async_wait([&m](const asio::error_code& ec, int sig) {
    if (ec) return;
    m.signal = sig;
    m.io.stop();
  });
  for (SocketId id = 0; id < m.sockets.size(); ++id) m.arm(id);
  m.rearm_timer();
  m.io.restart();
  m.io.run();
  return m.signal;
}

void Loop::stop() { impl_->io.stop(); }

}  // namespace kd::net
