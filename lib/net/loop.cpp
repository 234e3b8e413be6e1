#include "net/loop.hpp"

#include <asio.hpp>

#include <poll.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <map>

#include "capture/capture.hpp"
#include "net/commit_window.hpp"

namespace kd::net {

namespace {

using asio::ip::tcp;
using asio::ip::udp;

asio::ip::address to_ip(const Address& a) {
  if (a.v6) {
    asio::ip::address_v6::bytes_type b;
    std::memcpy(b.data(), a.ip.data(), 16);
    return asio::ip::address_v6(b);
  }
  asio::ip::address_v4::bytes_type b;
  std::memcpy(b.data(), a.ip.data(), 4);
  return asio::ip::address_v4(b);
}

Address from_ip(const asio::ip::address& ip, std::uint16_t port) {
  Address a;
  a.port = port;
  if (ip.is_v6()) {
    const auto v6 = ip.to_v6();
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
  const auto b = ip.to_v4().to_bytes();
  std::memcpy(a.ip.data(), b.data(), 4);
  return a;
}

udp::endpoint to_asio(const Address& a) { return {to_ip(a), a.port}; }
Address from_asio(const udp::endpoint& e) { return from_ip(e.address(), e.port()); }

bool would_block(const asio::error_code& ec) { return ec == asio::error::would_block || ec == asio::error::try_again; }

// One TCP connection: accepted by a listener, or a client socket's connection to its peer.
struct Conn {
  explicit Conn(tcp::socket s) : sock(std::move(s)), idle(sock.get_executor()) {}
  tcp::socket sock;
  asio::steady_timer idle;                  // a listener's: closes it after Impl::idle_ms of nothing
  std::chrono::steady_clock::time_point active = std::chrono::steady_clock::now();  // bytes either way
  std::optional<std::chrono::steady_clock::time_point> begun;  // the first byte of a message not yet complete
  SocketId owner = 0;
  Address peer;
  std::unique_ptr<capture::Framer> framer;  // what the peer sends, cut into messages
  Bytes out;                                // framed bytes the peer has not taken yet
  bool open = true;                         // false once closed: a late handler finds it so
  bool connected = false;                   // a client's, until its connect completes: false
  bool write_armed = false;
};

// What a SocketId names: a UDP socket, a TCP listener with its connections, or a TCP client
// socket with its one connection (absent until a send opens it).
struct Socket {
  Transport transport = Transport::udp;
  StreamFraming framing = StreamFraming::lines;
  std::unique_ptr<udp::socket> udp_socket;
  std::unique_ptr<tcp::acceptor> acceptor;
  Address peer;  // a TCP client's
  std::map<Address, std::shared_ptr<Conn>> conns;
  // A listener's connections closed at once (it held kMaxConnectionsPerListener): how many since
  // its last note, and when that note was (0: none yet).
  std::uint64_t refused_unnoted = 0;
  std::uint64_t refused_noted_ms = 0;
};

}  // namespace

struct Loop::Impl {
  asio::io_context io{1};
  asio::signal_set signals{io, SIGINT, SIGTERM};
  asio::steady_timer timer{io};
  std::optional<std::uint64_t> armed_for;  // the deadline timer is set for, if it is set
  bool kept_early = false;                 // the handler's deadline moved later since it was set
  asio::steady_timer accept_pause{io};
  std::vector<std::unique_ptr<Socket>> sockets;
  Handler* handler = nullptr;
  std::uint64_t idle_ms = kStreamIdleMs;
  std::uint64_t message_ms = kStreamMessageMs;
  std::size_t max_batch = 64;
  std::uint64_t commit_window_us = 0;
  int signal = 0;
  std::vector<Datagram> batch;
  std::vector<pollfd> polled;  // the UDP sockets, while a commit window waits
  std::vector<SocketId> sent_on;  // send_all(): the sockets its messages went on so far
  std::vector<Bytes> spare;  // buffers of the last batch's datagrams, reused (at most max_batch kept)
  // What one recvmmsg(2) receives into: kSlots datagrams of up to 64 KiB each. Allocated without
  // being written, so only the pages datagrams filled are resident (kd-live(7), MEMORY). A TCP
  // read uses the first slot.
  static constexpr std::size_t kSlots = 64, kSlotSize = 65536;
  std::unique_ptr<std::uint8_t[]> slots{new std::uint8_t[kSlots * kSlotSize]};
  std::array<mmsghdr, kSlots> slot_msgs{};
  std::array<iovec, kSlots> slot_iov{};
  std::array<udp::endpoint, kSlots> slot_from;

  void arm(SocketId id) {
    Socket& s = *sockets[id];
    if (s.acceptor) return accept(id);
    if (!s.udp_socket) return;  // a TCP client's connection is armed when a send opens it
    s.udp_socket->async_wait(udp::socket::wait_read, [this, id](const asio::error_code& ec) {
      if (ec) return;  // cancelled: the loop is stopping
      drain(id);
      arm(id);
    });
  }

  // What the socket that woke the loop holds now, then what its other UDP sockets hold, up to
  // max_batch datagrams in all: handled together, so the service makes its state durable once for
  // all of them (group commit; a proxy's datagrams from its terminals and from its switch, ready
  // at once, cost one sync, not one each).
  // With a commit window, a batch that waits for a sync is followed by what comes within the
  // window (each a batch handled as it comes), and one on_commit() ends them all: fewer syncs per
  // datagram under load, for a delay of at most the window. Nothing else runs meanwhile (timers,
  // TCP): they wait at most the window too.
  void drain(SocketId id) {
    CommitWindow window(commit_window_us, max_batch);
    if (!take(id, max_batch)) return rearm_timer();
    window.handled(batch.size(), handler->wants_sync(), now_us());
    for (std::uint64_t now = now_us(); !window.due(now); now = now_us()) {
      if (wait_readable(window.deadline_us() - now) && take(id, window.room()))
        window.handled(batch.size(), handler->wants_sync(), now_us());
    }
    handler->on_commit();
    rearm_timer();
  }

  // What the UDP sockets hold now, up to limit datagrams, handled as one batch: those of the
  // socket id first, then each other's in turn. False when there was none.
  bool take(SocketId id, std::size_t limit) {
    for (auto& d : batch)
      if (spare.size() < max_batch) spare.push_back(std::move(d.data));
    batch.clear();
    for (std::size_t k = 0; k < sockets.size() && batch.size() < limit; ++k) {
      const auto at = static_cast<SocketId>((id + k) % sockets.size());
      if (sockets[at]->udp_socket) receive(at, *sockets[at]->udp_socket, limit);
    }
    if (batch.empty()) return false;
    handler->on_datagrams(batch, now_ms());
    return true;
  }

  // Whether a UDP socket became readable within us microseconds (poll(2): the window's wait is
  // shorter than the event loop's millisecond timers).
  bool wait_readable(std::uint64_t us) {
    polled.clear();
    for (const auto& s : sockets)
      if (s->udp_socket) polled.push_back(pollfd{s->udp_socket->native_handle(), POLLIN, 0});
    const timespec t{static_cast<time_t>(us / 1000000), static_cast<long>(us % 1000000) * 1000};
    return ::ppoll(polled.data(), polled.size(), &t, nullptr) > 0;
  }

  // The datagrams socket id holds now, into batch (up to limit), each copied from its slot into a
  // reused buffer the size of the datagram (what a batch keeps). One recvmmsg(2) takes up to
  // kSlots: fewer than asked for means the socket is empty, so no call ends on EAGAIN (a datagram
  // that comes later wakes the loop again: arm() re-arms the socket's wait).
  void receive(SocketId id, udp::socket& s, std::size_t limit) {
    while (batch.size() < limit) {
      const std::size_t want = std::min(limit - batch.size(), kSlots);
      for (std::size_t k = 0; k < want; ++k) {
        slot_iov[k] = iovec{slots.get() + k * kSlotSize, kSlotSize};
        slot_msgs[k] = mmsghdr{};
        slot_msgs[k].msg_hdr.msg_name = slot_from[k].data();
        slot_msgs[k].msg_hdr.msg_namelen = static_cast<socklen_t>(slot_from[k].capacity());
        slot_msgs[k].msg_hdr.msg_iov = &slot_iov[k];
        slot_msgs[k].msg_hdr.msg_iovlen = 1;
      }
      const int r = ::recvmmsg(s.native_handle(), slot_msgs.data(), static_cast<unsigned>(want), 0, nullptr);
      if (r < 0 && errno == EINTR) continue;
      // EAGAIN: nothing (more); another error was reported on the socket (reading it cleared it):
      // wait for the next datagram.
      if (r <= 0) break;
      for (std::size_t k = 0; k < static_cast<std::size_t>(r); ++k) {
        slot_from[k].resize(slot_msgs[k].msg_hdr.msg_namelen);
        const std::uint8_t* at = slots.get() + k * kSlotSize;
        Bytes data;
        if (!spare.empty()) {
          data = std::move(spare.back());
          spare.pop_back();
        }
        data.assign(at, at + slot_msgs[k].msg_len);
        batch.push_back(Datagram{id, from_asio(slot_from[k]), std::move(data)});
      }
      if (static_cast<std::size_t>(r) < want) break;
    }
  }

  void accept(SocketId id) {
    sockets[id]->acceptor->async_accept([this, id](const asio::error_code& ec, tcp::socket peer) {
      if (ec == asio::error::operation_aborted) return;
      if (!ec) {
        adopt(id, std::move(peer));
        return accept(id);
      }
      // Out of descriptors, most often: accepting again at once would spin.
      report(id, Address{}, StreamFault::transport, "accepting a connection: " + ec.message());
      accept_pause.expires_after(std::chrono::milliseconds(100));
      accept_pause.async_wait([this, id](const asio::error_code& e) {
        if (!e) accept(id);
      });
    });
  }

  void adopt(SocketId id, tcp::socket peer) {
    Socket& s = *sockets[id];
    asio::error_code ec;
    const auto remote = peer.remote_endpoint(ec);
    if (ec) return;  // already gone
    const Address from = from_ip(remote.address(), remote.port());
    if (s.conns.size() >= kMaxConnectionsPerListener) {
      peer.close(ec);
      // A note for the first, then at most one per kRefusedNoteMs naming how many were closed since
      // the last: a flood of connections does not flood standard error.
      ++s.refused_unnoted;
      const std::uint64_t now = now_ms();
      if (s.refused_noted_ms != 0 && now - s.refused_noted_ms < kRefusedNoteMs) return;
      const std::uint64_t n = s.refused_unnoted;
      s.refused_unnoted = 0;
      s.refused_noted_ms = std::max<std::uint64_t>(now, 1);
      handler->on_stream_fault(id, from, StreamFault::overflow,
                               to_string(from, Transport::tcp) + ": closed at once: the listener holds " +
                                   std::to_string(kMaxConnectionsPerListener) + " connections already" +
                                   (n > 1 ? " (" + std::to_string(n) + " closed since the last note)" : std::string()));
      return;
    }
    auto c = std::make_shared<Conn>(std::move(peer));
    c->owner = id;
    c->peer = from;
    c->framer = make_stream_framer(s.framing);
    c->connected = true;
    c->sock.non_blocking(true, ec);
    c->sock.set_option(tcp::no_delay(true), ec);
    s.conns[from] = c;
    arm_read(c);
    arm_idle(c);
  }

  // Bounded memory and descriptors: a peer that went away without a FIN (a crash, a NAT that
  // forgot the flow) does not hold its connection for ever.
  // A message begun and not complete in message_ms closes it too (a byte a second is activity).
  void arm_idle(const std::shared_ptr<Conn>& c) {
    using std::chrono::milliseconds;
    const bool bounded = c->begun && message_ms != 0;
    if (idle_ms == 0 && !bounded) return;
    auto at = std::chrono::steady_clock::time_point::max();
    if (idle_ms != 0) at = c->active + milliseconds(idle_ms);
    if (bounded) at = std::min(at, *c->begun + milliseconds(message_ms));
    c->idle.expires_at(at);
    c->idle.async_wait([this, c](const asio::error_code& ec) {
      if (ec || !c->open) return;
      const auto now = std::chrono::steady_clock::now();
      if (c->begun && message_ms != 0 && now - *c->begun >= milliseconds(message_ms)) {
        const Address peer = c->peer;
        const SocketId owner = c->owner;
        close(c);
        return report(owner, peer, StreamFault::framing,
                      to_string(peer, Transport::tcp) + ": a message begun " + std::to_string(message_ms / 1000) +
                          " s ago is not complete; the connection is closed");
      }
      if (idle_ms != 0 && now - c->active >= milliseconds(idle_ms)) return close(c);
      arm_idle(c);  // there was activity since: wait from it
    });
  }

  // c by value throughout: the map entry a caller may have passed is erased here.
  void close(std::shared_ptr<Conn> c) {
    if (!c->open) return;
    c->open = false;
    asio::error_code ec;
    c->sock.close(ec);
    c->idle.cancel();
    auto& conns = sockets[c->owner]->conns;
    if (const auto it = conns.find(c->peer); it != conns.end() && it->second == c) conns.erase(it);
  }

  void arm_read(const std::shared_ptr<Conn>& c) {
    c->sock.async_wait(tcp::socket::wait_read, [this, c](const asio::error_code& ec) {
      if (ec || !c->open) return;
      read(c);
      if (c->open) arm_read(c);
    });
  }

  // What the connection holds now (a bounded number of reads, so that one busy peer does not hold
  // the loop), cut into messages and handled in batches of max_batch.
  void read(const std::shared_ptr<Conn>& c) {
    std::vector<Bytes> messages;
    std::optional<std::pair<StreamFault, std::string>> fault;
    bool ended = false;
    for (int round = 0; round < 16 && !ended && !fault; ++round) {
      asio::error_code ec;
      const std::size_t n = c->sock.read_some(asio::buffer(slots.get(), kSlotSize), ec);
      if (would_block(ec)) break;
      if (ec == asio::error::eof) {
        ended = true;
      } else if (ec) {
        fault = {StreamFault::transport, to_string(c->peer, Transport::tcp) + ": " + ec.message()};
      } else {
        c->active = std::chrono::steady_clock::now();
        const std::size_t held = c->framer->pending() + n;
        const bool was_partial = c->framer->pending() != 0;
        const std::size_t complete = messages.size();
        if (c->framer->push(ByteView(slots.get(), n), messages) != 0) {
          const bool too_long = held > kMaxStreamMessage || c->framer->discarded_overlong();
          fault = {too_long ? StreamFault::oversized : StreamFault::framing,
                   to_string(c->peer, Transport::tcp) +
                       (too_long ? ": a message longer than " + std::to_string(kMaxStreamMessage / 1024) + " KiB"
                                 : std::string(": bytes that do not frame as messages of this binding")) +
                       "; the connection is closed"};
        } else if (sockets[c->owner]->acceptor) {
          // When the message now pending began: with these bytes, unless it was pending before.
          if (c->framer->pending() == 0) {
            c->begun.reset();
          } else if (!was_partial || messages.size() > complete) {
            const bool newly = !c->begun;
            c->begun = c->active;
            if (newly) arm_idle(c);  // its deadline may come before the idle one
          }
        }
      }
    }
    for (std::size_t i = 0; i < messages.size() && c->open;) {
      batch.clear();
      for (; i < messages.size() && batch.size() < max_batch; ++i)
        batch.push_back(Datagram{c->owner, c->peer, std::move(messages[i])});
      handler->on_datagrams(batch, now_ms());
      handler->on_commit();
    }
    if (ended || fault) close(c);
    // A client learns that its peer closed the connection: requests sent on it are not answered
    // there (RFC 3261 18.1.1); a listener's peer closing its own is the end of its business.
    if (ended && !fault && !sockets[c->owner]->acceptor)
      fault = {StreamFault::closed, to_string(c->peer, Transport::tcp) + ": the peer closed the connection"};
    if (fault) handler->on_stream_fault(c->owner, c->peer, fault->first, fault->second);
    rearm_timer();
  }

  std::shared_ptr<Conn> connect(SocketId id) {
    Socket& s = *sockets[id];
    auto c = std::make_shared<Conn>(tcp::socket(io));
    c->owner = id;
    c->peer = s.peer;
    c->framer = make_stream_framer(s.framing);
    s.conns[s.peer] = c;
    c->sock.async_connect(tcp::endpoint(to_ip(s.peer), s.peer.port), [this, c](const asio::error_code& ec) {
      if (!c->open) return;
      if (ec) {
        close(c);
        report(c->owner, c->peer, StreamFault::transport,
               to_string(c->peer, Transport::tcp) + ": cannot connect: " + ec.message());
        return;
      }
      asio::error_code e;
      c->connected = true;
      c->sock.non_blocking(true, e);
      c->sock.set_option(tcp::no_delay(true), e);
      arm_read(c);
      if (auto why = flush(c)) report(c->owner, c->peer, StreamFault::transport, *why);
    });
    return c;
  }

  std::optional<std::string> write(std::shared_ptr<Conn> c, StreamFraming framing, ByteView data) {
    if (auto why = append_framed(framing, data, c->out)) return to_string(c->peer, Transport::tcp) + ": " + *why;
    if (c->out.size() > kMaxStreamQueued) {
      close(c);
      return to_string(c->peer, Transport::tcp) + ": the peer has not taken " + std::to_string(c->out.size()) +
             " bytes sent to it; the connection is closed";
    }
    return c->connected ? flush(c) : std::nullopt;
  }

  // Writes what the socket takes now; the rest when it becomes writable.
  std::optional<std::string> flush(std::shared_ptr<Conn> c) {
    std::size_t done = 0;
    while (done < c->out.size()) {
      asio::error_code ec;
      const std::size_t n = c->sock.write_some(asio::buffer(c->out.data() + done, c->out.size() - done), ec);
      if (would_block(ec)) break;
      if (ec) {
        close(c);
        return to_string(c->peer, Transport::tcp) + ": " + ec.message() + "; the connection is closed";
      }
      done += n;
      c->active = std::chrono::steady_clock::now();
    }
    c->out.erase(c->out.begin(), c->out.begin() + static_cast<std::ptrdiff_t>(done));
    if (!c->out.empty() && !c->write_armed) {
      c->write_armed = true;
      c->sock.async_wait(tcp::socket::wait_write, [this, c](const asio::error_code& ec) {
        c->write_armed = false;
        if (ec || !c->open) return;
        if (auto why = flush(c)) report(c->owner, c->peer, StreamFault::transport, *why);
      });
    }
    return std::nullopt;
  }

  // The handler learns of a fault, which may move its deadline (requests to send again).
  void report(SocketId id, const Address& peer, StreamFault f, const std::string& why) {
    handler->on_stream_fault(id, peer, f, why);
    rearm_timer();
  }

  // The timer set for the handler's deadline. One set for a time no later than the deadline stays
  // set: moving it was a timerfd_settime(2) per batch (each batch's new transactions end later than
  // the earliest), where waking at the old time finds nothing due and sets it again.
  void rearm_timer() {
    const auto d = handler->deadline();
    if (!d) {
      timer.cancel();
      armed_for.reset();
      return;
    }
    if (armed_for && *armed_for <= *d) {
      kept_early = kept_early || *armed_for < *d;
      return;
    }
    armed_for = *d;
    kept_early = false;
    const auto now = now_ms();
    timer.expires_after(std::chrono::milliseconds(*d > now ? *d - now : 0));
    timer.async_wait([this](const asio::error_code& ec) {
      if (ec) return;  // cancelled or moved
      const bool early = kept_early;
      armed_for.reset();
      kept_early = false;
      const auto at = now_ms();
      // Set for the deadline as it is: due (as before). Kept from an earlier one: due only if the
      // deadline is by now.
      if (const auto due = handler->deadline(); !early || (due && *due <= at)) handler->on_deadline(at);
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

// A UDP socket's receive buffer: 4 MiB asked for (kd-live(7), MEMORY), so that a burst of
// datagrams waits in the kernel while the loop is busy instead of being dropped (a drop costs its
// sender a retransmission interval: 500 ms in SIP). The kernel caps it at net.core.rmem_max; a
// refusal leaves the default, as a smaller buffer only costs time.
namespace {
void ask_receive_buffer(udp::socket& s) {
  asio::error_code ignored;
  s.set_option(asio::socket_base::receive_buffer_size(kUdpReceiveBuffer), ignored);
}
}  // namespace

std::optional<std::string> Loop::listen(const Endpoint& e, SocketId& id, Address& bound, StreamFraming framing) {
  Address at;
  if (auto why = resolve(e, at)) return why;
  auto sock = std::make_unique<Socket>();
  sock->transport = e.transport;
  sock->framing = framing;
  asio::error_code ec;
  if (e.transport == Transport::tcp) {
    auto a = std::make_unique<tcp::acceptor>(impl_->io);
    const tcp::endpoint ep(to_ip(at), at.port);
    a->open(ep.protocol(), ec);
    // A service restarted on its port must not wait for the old connections' TIME_WAIT.
    if (!ec) a->set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec && at.v6) a->set_option(asio::ip::v6_only(true), ec);
    if (!ec) a->bind(ep, ec);
    if (!ec) a->listen(asio::socket_base::max_listen_connections, ec);
    if (ec) return "--listen " + to_string(e) + ": " + ec.message();
    const auto local = a->local_endpoint(ec);
    if (ec) return "--listen " + to_string(e) + ": " + ec.message();
    bound = from_ip(local.address(), local.port());
    sock->acceptor = std::move(a);
  } else {
    auto s = std::make_unique<udp::socket>(impl_->io);
    const auto ep = to_asio(at);
    s->open(ep.protocol(), ec);
    if (!ec && at.v6) s->set_option(asio::ip::v6_only(true), ec);
    if (!ec) s->bind(ep, ec);
    if (!ec) s->non_blocking(true, ec);
    if (!ec) ask_receive_buffer(*s);
    if (ec) return "--listen " + to_string(e) + ": " + ec.message();
    bound = from_asio(s->local_endpoint(ec));
    if (ec) return "--listen " + to_string(e) + ": " + ec.message();
    sock->udp_socket = std::move(s);
  }
  id = static_cast<SocketId>(impl_->sockets.size());
  impl_->sockets.push_back(std::move(sock));
  return std::nullopt;
}

std::optional<std::string> Loop::open_client(const Address& peer, SocketId& id, Transport t, StreamFraming framing,
                                             std::uint16_t local_port) {
  auto sock = std::make_unique<Socket>();
  sock->transport = t;
  sock->framing = framing;
  sock->peer = peer;
  if (t == Transport::udp) {
    auto s = std::make_unique<udp::socket>(impl_->io);
    asio::error_code ec;
    s->open(peer.v6 ? udp::v6() : udp::v4(), ec);
    if (!ec && local_port != 0) {
      s->bind(udp::endpoint(peer.v6 ? udp::v6() : udp::v4(), local_port), ec);
      if (ec) {  // taken: any free port
        ec.clear();
        s = std::make_unique<udp::socket>(impl_->io);
        s->open(peer.v6 ? udp::v6() : udp::v4(), ec);
        local_port = 0;
      }
    }
    if (!ec && local_port == 0) s->bind(udp::endpoint(peer.v6 ? udp::v6() : udp::v4(), 0), ec);
    if (!ec) s->non_blocking(true, ec);
    if (!ec) ask_receive_buffer(*s);
    if (ec) return "a UDP socket towards " + to_string(peer) + ": " + ec.message();
    sock->udp_socket = std::move(s);
  }
  id = static_cast<SocketId>(impl_->sockets.size());
  impl_->sockets.push_back(std::move(sock));
  return std::nullopt;
}

std::uint16_t Loop::local_port(SocketId socket) const {
  const Socket& s = *impl_->sockets.at(socket);
  if (!s.udp_socket) return 0;
  asio::error_code ec;
  const auto e = s.udp_socket->local_endpoint(ec);
  return ec ? 0 : e.port();
}

std::optional<Address> Loop::local_address(SocketId socket) {
  const Socket& s = *impl_->sockets.at(socket);
  if (s.transport == Transport::tcp && !s.acceptor) {
    // The kernel binds the connection's address and port as its connect starts (Impl::connect).
    const auto it = s.conns.find(s.peer);
    const auto c = it != s.conns.end() ? it->second : impl_->connect(socket);
    asio::error_code ec;
    const auto local = c->sock.local_endpoint(ec);
    if (ec || local.port() == 0 || local.address().is_unspecified()) return std::nullopt;
    return from_ip(local.address(), local.port());
  }
  if (!s.udp_socket || s.transport != Transport::udp || s.peer.port == 0) return std::nullopt;
  // The socket is bound to any address and stays unconnected (it takes answers from wherever they
  // come): a connected socket of its own asks the system which source address it would use.
  udp::socket probe(impl_->io);
  asio::error_code ec;
  probe.connect(to_asio(s.peer), ec);
  if (ec) return std::nullopt;
  const auto local = probe.local_endpoint(ec);
  const std::uint16_t port = local_port(socket);
  if (ec || port == 0) return std::nullopt;
  return from_ip(local.address(), port);
}

std::optional<std::string> Loop::send(SocketId socket, const Address& to, ByteView data) {
  Socket& s = *impl_->sockets.at(socket);
  asio::error_code ec;
  if (s.udp_socket) {
    s.udp_socket->send_to(asio::buffer(data.data(), data.size()), to_asio(to), 0, ec);
    if (ec) return "sending to " + to_string(to) + ": " + ec.message();
    return std::nullopt;
  }
  if (s.acceptor) {
    // An answer goes back on the connection its request came on; there is no other way to it.
    const auto it = s.conns.find(to);
    if (it == s.conns.end()) return to_string(to, Transport::tcp) + ": the connection is closed; not sent";
    return impl_->write(it->second, s.framing, data);
  }
  const auto it = s.conns.find(s.peer);
  auto c = it != s.conns.end() ? it->second : impl_->connect(socket);
  auto why = impl_->write(c, s.framing, data);
  if (why && !c->open) {
    // The connection broke under this send: reported as any later break, once the caller is done.
    asio::post(impl_->io, [m = impl_.get(), c, w = *why] { m->report(c->owner, c->peer, StreamFault::transport, w); });
    return std::nullopt;
  }
  return why;
}

void Loop::send_all(const std::vector<Outgoing>& out, const std::function<void(const std::string&)>& failed) {
  constexpr std::size_t kRun = 64;  // datagrams per sendmmsg(2) (a batch's answers and requests)
  std::array<mmsghdr, kRun> msgs{};
  std::array<iovec, kRun> iov{};
  std::array<udp::endpoint, kRun> to;
  std::array<std::size_t, kRun> index{};  // each message's place in out
  // The sockets in the order of their first message; each socket's messages in their order in out.
  std::vector<SocketId>& done = impl_->sent_on;
  done.clear();
  for (std::size_t first = 0; first < out.size(); ++first) {
    const SocketId id = out[first].socket;
    if (std::find(done.begin(), done.end(), id) != done.end()) continue;
    done.push_back(id);
    Socket& s = *impl_->sockets.at(id);
    if (!s.udp_socket) {
      for (std::size_t i = first; i < out.size(); ++i)
        if (out[i].socket == id)
          if (auto why = send(id, out[i].to, out[i].bytes)) failed(*why);
      continue;
    }
    for (std::size_t i = first; i < out.size();) {
      std::size_t n = 0;
      for (; n < kRun && i < out.size(); ++i) {
        if (out[i].socket != id) continue;
        const Outgoing& o = out[i];
        index[n] = i;
        to[n] = to_asio(o.to);
        iov[n] = iovec{const_cast<std::uint8_t*>(o.bytes.data()), o.bytes.size()};
        msgs[n] = mmsghdr{};
        msgs[n].msg_hdr.msg_name = to[n].data();
        msgs[n].msg_hdr.msg_namelen = static_cast<socklen_t>(to[n].size());
        msgs[n].msg_hdr.msg_iov = &iov[n];
        msgs[n].msg_hdr.msg_iovlen = 1;
        ++n;
      }
      // A datagram refused ends the call before it (its error is lost when some went): the next
      // call starts with it and reports it.
      for (std::size_t sent = 0; sent < n;) {
        const int r = ::sendmmsg(s.udp_socket->native_handle(), msgs.data() + sent, static_cast<unsigned>(n - sent), 0);
        if (r > 0) {
          sent += static_cast<std::size_t>(r);
        } else if (r < 0 && errno == EINTR) {
          continue;
        } else {
          const asio::error_code ec(r < 0 ? errno : EIO, asio::system_category());
          failed("sending to " + to_string(out[index[sent]].to) + ": " + ec.message());
          ++sent;
        }
      }
    }
  }
}

Transport Loop::transport(SocketId socket) const { return impl_->sockets.at(socket)->transport; }

bool Loop::reaches(SocketId socket, const Address& to) const {
  const Socket& s = *impl_->sockets.at(socket);
  return !s.acceptor || s.conns.contains(to);  // close() takes a connection out of conns
}

void Loop::set_stream_idle(std::uint64_t ms) { impl_->idle_ms = ms; }
void Loop::set_stream_message_time(std::uint64_t ms) { impl_->message_ms = ms; }
void Loop::set_commit_window(std::uint64_t us) { impl_->commit_window_us = us; }

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

void Loop::post(std::function<void()> f) {
  asio::post(impl_->io, std::move(f));
}

}  // namespace kd::net
