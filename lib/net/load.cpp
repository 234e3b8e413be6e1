#include "net/load.hpp"

#include <algorithm>
#include <array>
#include <cinttypes>
#include <cstdio>
#include <ctime>
#include <map>
#include <memory>
#include <optional>
#include <unordered_map>

#include "core/run_error.hpp"
#include "core/string_hash.hpp"
#include "crypto/suite.hpp"
#include "engine/engine.hpp"
#include "net/block_random.hpp"
#include "net/histogram.hpp"
#include "net/loop.hpp"
#include "net/retransmit.hpp"
#include "net/stream.hpp"
#include "net/transactions.hpp"

namespace kd::net {

namespace {

// Registrations started per call of on_deadline() when no --rate paces them, so that answers are
// read between bursts.
constexpr std::uint64_t kStartBurst = 64;
constexpr std::size_t kLoadBatch = 64;

std::string fixed3(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.3f", v);
  return buf;
}

// {"p50":..,"p90":..,"p99":..,"p999":..,"max":..} in milliseconds from microseconds.
std::string percentiles_ms(const Histogram& h) {
  auto ms = [](std::uint64_t us) { return fixed3(static_cast<double>(us) / 1000.0); };
  return R"({"count":)" + std::to_string(h.count()) + R"(,"p50":)" + ms(h.percentile(50)) + R"(,"p90":)" +
         ms(h.percentile(90)) + R"(,"p99":)" + ms(h.percentile(99)) + R"(,"p999":)" + ms(h.percentile(99.9)) +
         R"(,"max":)" + ms(h.max()) + "}";
}

// What happened in a span of time: an interval of --stats, or the whole run.
struct Tally {
  std::uint64_t attempted = 0, registered = 0, timeouts = 0, retransmissions = 0, ignored = 0, provisional = 0;
  std::map<std::string, std::uint64_t> failed;  // by error code
  Histogram latency;  // start to registered, microseconds
  // Request sent to its answer received, by (request, answer) step names (static: msg's catalogue):
  // a pair of views, where a "s1->s6" key cost a string built per answer.
  std::map<std::pair<std::string_view, std::string_view>, Histogram> steps;

  std::uint64_t failures() const {
    std::uint64_t n = 0;
    for (const auto& [_, k] : failed) n += k;
    return n;
  }
  void merge(const Tally& t) {
    attempted += t.attempted;
    registered += t.registered;
    timeouts += t.timeouts;
    retransmissions += t.retransmissions;
    ignored += t.ignored;
    provisional += t.provisional;
    for (const auto& [code, n] : t.failed) failed[code] += n;
    latency.merge(t.latency);
    for (const auto& [name, h] : t.steps) steps[name].merge(h);
  }
  // The members the stats lines and the summary share.
  std::string fields() const {
    std::string s = R"("attempted":)" + std::to_string(attempted) + R"(,"registered":)" + std::to_string(registered) +
                    R"(,"failed":{)";
    bool first = true;
    for (const auto& [code, n] : failed) {
      s += (first ? "\"" : ",\"") + code + "\":" + std::to_string(n);
      first = false;
    }
    s += R"(},"timeouts":)" + std::to_string(timeouts) + R"(,"retransmissions":)" + std::to_string(retransmissions) +
         R"(,"ignored":)" + std::to_string(ignored) + R"(,"provisional":)" + std::to_string(provisional) +
         R"(,"latency_ms":)" + percentiles_ms(latency) + R"(,"steps_ms":{)";
    // By name "s1->s6", sorted as the names are, whatever the order of the pairs.
    std::map<std::string, const Histogram*> named;
    for (const auto& [exchange, h] : steps)
      named.emplace(std::string(exchange.first) + "->" + std::string(exchange.second), &h);
    first = true;
    for (const auto& [name, h] : named) {
      s += (first ? "\"" : ",\"") + name + "\":" + percentiles_ms(*h);
      first = false;
    }
    return s + "}";
  }
};

class Load final : public Loop::Handler {
public:
  Load(const LoadOptions& o, const LiveOptions& live, LoadContext& ctx, const flow::StartParams& start,
       std::function<std::string(std::uint64_t)> id_at)
      : o_(o), ctx_(ctx), start_(start), id_at_(std::move(id_at)),
        edge_(with_request_transport(ctx.wire, msg::Role::term, live.peers), msg::Role::term),
        now_s_(ctx.settings.now) {
    edge_.set_wire_lines(false);  // it prints no message lines: no hex and JSON object per message sent
    timers_ = default_timers(ctx.wire.binding);
    if (!live.retransmit.empty())
      if (auto why = parse_timers(live.retransmit, timers_)) throw UsageError("--retransmit: " + *why);
    const std::string& p = live.peers.front();
    const std::string role = p.substr(0, p.find('='));
    const Endpoint e = live_endpoint("--peer " + role + "=", p.substr(role.size() + 1), ctx.wire.binding);
    if (auto why = loop_.resolve(e, peer_)) throw UsageError("--peer " + role + "=: " + *why);
    // Over TCP every terminal's request goes on one connection (sipp's -t t1), sent once: a
    // reliable transport does not retransmit (RFC 3261 17.1.2.2), and what waited on a connection
    // that broke goes again on a new one (on_stream_fault).
    const auto framing = stream_framing(ctx.wire.binding).value_or(StreamFraming::lines);
    if (auto why = loop_.open_client(peer_, socket_, e.transport, framing)) throw IoError{*why};
    name_sent_by(edge_, loop_, socket_);
    if (e.transport == Transport::tcp) timers_ = without_retransmission(timers_);
    if (ctx.stats) ctx.stats->open();
  }

  End run() {
    began_us_ = Loop::now_us();
    next_stats_ms_ = began_us_ / 1000 + o_.stats_interval_s * 1000;
    const bool interrupted = loop_.run(*this, kLoadBatch) != 0;
    const std::uint64_t end_us = Loop::now_us();
    report_interval(end_us);
    ctx_.report->progress_done();
    total_.merge(interval_);
    const double elapsed = static_cast<double>(end_us - began_us_) / 1e6;
    const std::uint64_t unfinished = terminals_.size();
    ctx_.report->out(R"({"event":"load-summary",)" + total_.fields() + R"(,"unfinished":)" + std::to_string(unfinished) +
                     R"(,"elapsed_s":)" + fixed3(elapsed) + R"(,"rate":)" +
                     fixed3(elapsed > 0 ? static_cast<double>(total_.registered) / elapsed : 0.0) + "}\n");
    if (interrupted)
      ctx_.report->diagnostic("load: stopped by a signal with " + std::to_string(unfinished) + " registrations in flight");
    if (total_.failures()) return End::refused;
    return total_.registered == o_.count ? End::ok : End::no_answer;
  }

  void on_datagrams(std::vector<Datagram>& batch, std::uint64_t now) override {
    tick_clock();
    for (auto& d : batch) handle(d, now);
    start_due(now);
    flush();
    done_if_finished();
  }

  std::optional<std::uint64_t> deadline() override {
    std::optional<std::uint64_t> d = client_.deadline();
    auto at = [&d](std::uint64_t t) { d = d ? std::min(*d, t) : t; };
    if (can_start()) at(next_start_ms());
    at(next_stats_ms_);
    return d;
  }

  void on_deadline(std::uint64_t now) override {
    tick_clock();
    std::vector<Outgoing> resend;
    std::vector<ClientTransactions::Txn> gave_up;
    client_.on_time(now, resend, gave_up);
    for (const auto& r : resend) {
      ++interval_.retransmissions;
      send(r.bytes);
    }
    for (const auto& t : gave_up) give_up(t);
    start_due(now);
    if (now >= next_stats_ms_) {
      report_interval(Loop::now_us());
      total_.merge(interval_);
      interval_ = Tally{};
      while (next_stats_ms_ <= now) next_stats_ms_ += o_.stats_interval_s * 1000;
    }
    flush();
    done_if_finished();
  }

  // The connection broke, could not be opened, or the peer closed it or sent what does not frame:
  // the requests waiting on it go again on a new one (ClientTransactions::transport_failed), the
  // resends counted as retransmissions.
  void on_stream_fault(SocketId socket, const Address&, StreamFault fault,
                       const std::string& why) override {
    std::vector<ClientTransactions::Txn> gave_up;
    const std::size_t waiting = client_.transport_failed(socket, Loop::now_ms(), gave_up);
    if (fault != StreamFault::closed || waiting > 0) ctx_.report->diagnostic("note: " + printable(why));
    for (const auto& t : gave_up) give_up(t);
    flush();
    done_if_finished();
  }

private:
  // A terminal in flight: its own role engine (a state of one registration), and when it sent what
  // it waits an answer to. Dropped once it registered, was refused or timed out.
  struct Terminal {
    std::unique_ptr<engine::RoleEngine> engine;
    std::uint64_t started_us = 0, sent_us = 0;
    // The step sent last and the step that answers it (static: msg's catalogue); empty when it
    // awaits nothing.
    std::string_view request, awaiting;
    // Its registration's identity (SIP's Call-ID and From tag, kd-live(7) TRANSACTIONS): the
    // kRegistrationBytes after each request's own kTxnBytes.
    Bytes fresh;
  };

  bool can_start() const { return started_ < o_.count && terminals_.size() < o_.concurrency; }

  // When the next registration is due: at once without --rate, else the n-th at n/R seconds.
  std::uint64_t next_start_ms() const {
    if (!o_.rate) return 0;
    return (began_us_ + started_ * 1'000'000 / o_.rate) / 1000;
  }

  void start_due(std::uint64_t now) {
    for (std::uint64_t burst = 0; can_start() && next_start_ms() <= now && burst < kStartBurst; ++burst)
      start_one(id_at_(started_++));
  }

  void start_one(const std::string& id) {
    ++interval_.attempted;
    auto e = engine::make_engine(msg::Role::term, ctx_.keys, ctx_.settings, "");
    if (!e) throw IoError{"a terminal's engine: " + e.error().detail};  // a fresh state cannot fail
    Terminal& t = terminals_.try_emplace(id).first->second;
    t.engine = std::move(*e);
    t.engine->settings().now = now_s_;
    t.started_us = Loop::now_us();
    t.fresh.resize(wire::kTxnBytes + wire::kRegistrationBytes);
    random_.fill(std::span<std::uint8_t>(t.fresh).subspan(wire::kTxnBytes));
    start_.idc = id;  // the only parameter that differs between terminals: no copy of the rest
    handle_outcome(id, t, t.engine->start(start_));
  }

  void handle(const Datagram& d, std::uint64_t now) {
    // An answer comes from where the requests went (kd-live(7), TRANSACTIONS): what comes from
    // elsewhere answers no terminal, whatever it names.
    if (d.from != peer_) {
      ++interval_.ignored;
      return;
    }
    // A provisional answer (kd-live(7), TRANSACTIONS): the request it names stops being resent and
    // waits. Counted; one that names no request under way, or more than one (the terminals share a
    // socket), holds none.
    if (wire::has_provisional(ctx_.wire.binding))
      if (const auto p = wire::read_provisional(ctx_.wire.binding, d.data)) {
        ++interval_.provisional;
        client_.provisional(p->transaction, d.from, now, p->delay_ms ? p->delay_ms : timers_.timeout_ms);
        return;
      }
    std::string step;
    Bytes wire_bytes;
    wire::Binding used = wire::Binding::json;
    bool text = false;
    auto m = decode_datagram(edge_, d.data, step, wire_bytes, used, text);
    // What no terminal in flight waits for: an answer to a retransmission that came after the first
    // answer, a duplicate, or what cannot be read at all. Counted, never fed to a terminal.
    if (!m || !m->IDc) {
      ++interval_.ignored;
      return;
    }
    const std::string_view id = *m->IDc;
    auto it = terminals_.find(id);
    if (it == terminals_.end() || it->second.awaiting != msg::spec_of(*m).name) {
      ++interval_.ignored;
      return;
    }
    Terminal& t = it->second;
    const std::uint64_t now_us = Loop::now_us();
    interval_.steps[{t.request, t.awaiting}].record(now_us - t.sent_us);
    client_.complete(id);
    t.awaiting = {};
    t.engine->settings().now = now_s_;
    handle_outcome(id, t, t.engine->feed_message(*m, wire_bytes));
  }

  void handle_outcome(std::string_view id, Terminal& t, const engine::Outcome& o) {
    for (const auto& s : o.sent) {
      const msg::StepSpec& spec = msg::spec_of(s.message);
      Bytes bytes;
      random_.fill(std::span<std::uint8_t>(t.fresh).first(wire::kTxnBytes));  // a new transaction
      auto line = edge_.outgoing(s.message, now_s_, s.previous, &bytes, t.fresh);
      if (!line) {
        fail(id, line.error().code);
        return;
      }
      if (bytes.empty()) bytes = Bytes(line->begin(), line->end());  // JSON: the object is the datagram
      const std::string_view answer = answer_to(spec.name);
      send(bytes);
      if (answer.empty()) continue;  // the terminal sends nothing else, but a request nothing answers ends here
      t.request = spec.name;
      t.awaiting = answer;
      t.sent_us = Loop::now_us();
      const auto ref = wire::request_transaction(ctx_.wire.binding, bytes);
      // Known by the terminal's id alone: a terminal awaits one answer at a time.
      client_.start(std::string(id), std::string(t.request), Outgoing{socket_, peer_, std::move(bytes)}, timers_,
                    Loop::now_ms(), ref);
    }
    if (o.error) {
      fail(id, o.error->code);
      return;
    }
    for (const auto& e : o.events)
      if (e.name == "registered") {
        ++interval_.registered;
        interval_.latency.record(Loop::now_us() - t.started_us);
        erase(id);
        return;
      }
  }

  // A request that got no answer in time, or whose connection failed too often: its terminal ends
  // as a timeout.
  void give_up(const ClientTransactions::Txn& t) {
    ++interval_.timeouts;
    erase(t.key);
  }

  void fail(std::string_view id, Code code) {
    ++interval_.failed[std::string(code_name(code))];
    auto it = terminals_.find(id);
    if (it == terminals_.end()) return;
    if (!it->second.awaiting.empty()) client_.complete(id);
    terminals_.erase(it);
  }

  void erase(std::string_view id) {
    if (auto it = terminals_.find(id); it != terminals_.end()) terminals_.erase(it);
  }

  // Queued, and sent with the rest of what the batch or deadline sends (flush()).
  void send(ByteView bytes) { outbox_.push_back(Outgoing{socket_, peer_, Bytes(bytes.begin(), bytes.end())}); }
  void flush() {
    loop_.send_all(outbox_, [this](const std::string& why) {
      if (!send_failed_) {  // once: UDP may lose the datagram anyway, and the retransmissions follow
        ctx_.report->diagnostic("note: " + printable(why));
        send_failed_ = true;
      }
    });
    outbox_.clear();
  }

  void tick_clock() {
    if (!ctx_.fixed_clock) now_s_ = static_cast<std::uint64_t>(std::time(nullptr));
  }

  void done_if_finished() {
    if (started_ == o_.count && terminals_.empty()) loop_.stop();
  }

  // The interval's line in --stats, and the progress on standard error.
  void report_interval(std::uint64_t now_us) {
    const double t = static_cast<double>(now_us - began_us_) / 1e6;
    if (ctx_.stats)
      ctx_.stats->write(R"({"event":"load-stats","time_s":)" + fixed3(t) + "," + interval_.fields() +
                        R"(,"in_flight":)" + std::to_string(terminals_.size()) + "}\n");
    Tally so_far = total_;
    so_far.merge(interval_);
    const std::string progress =
        "load: " + fixed3(t) + " s, " + std::to_string(so_far.attempted) + "/" + std::to_string(o_.count) +
        " started, " + std::to_string(so_far.registered) + " registered, " + std::to_string(so_far.failures()) +
        " refused, " + std::to_string(so_far.timeouts) + " timed out, " + std::to_string(terminals_.size()) +
        " in flight, p50 " + fixed3(static_cast<double>(so_far.latency.percentile(50)) / 1000.0) + " ms, p99 " +
        fixed3(static_cast<double>(so_far.latency.percentile(99)) / 1000.0) + " ms";
    ctx_.report->progress(progress);
  }

  const LoadOptions& o_;
  LoadContext& ctx_;
  flow::StartParams start_;
  std::function<std::string(std::uint64_t)> id_at_;
  codecs::WireEdge edge_;
  Timers timers_;
  Loop loop_;
  Address peer_;
  SocketId socket_ = 0;
  ClientTransactions client_;
  BlockRandom random_;  // transaction identities (never the terminals' randomness)
  std::unordered_map<std::string, Terminal, StringHash, std::equal_to<>> terminals_;  // by id
  std::uint64_t started_ = 0, began_us_ = 0, next_stats_ms_ = 0;
  std::uint64_t now_s_ = 0;
  Tally interval_, total_;
  bool send_failed_ = false;
  std::vector<Outgoing> outbox_;  // what this batch or deadline sends
};

}  // namespace

End generate_load(const LoadOptions& o, const LiveOptions& live, LoadContext& ctx, const flow::StartParams& start,
                  std::function<std::string(std::uint64_t)> id_at) {
  Load load(o, live, ctx, start, std::move(id_at));
  return load.run();
}

}  // namespace kd::net
