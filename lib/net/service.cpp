#include "net/service.hpp"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <iterator>
#include <map>
#include <memory>
#include <optional>
#include <type_traits>

#include "core/run_error.hpp"
#include "crypto/suite.hpp"
#include "engine/engine.hpp"
#include "json/event.hpp"
#include "json/line.hpp"
#include "json/message.hpp"
#include "net/block_random.hpp"
#include "net/journal.hpp"
#include "net/loop.hpp"
#include "net/response_journal.hpp"
#include "net/retransmit.hpp"
#include "net/stream.hpp"
#include "net/transactions.hpp"
#include "wire/radius.hpp"

namespace kd::net {

using codecs::WireEdge;
using codecs::WireOptions;

namespace {

// A request and the step that answers it on the same link, in the opposite direction (kd-live(7),
// TRANSACTIONS). s11 and d7 are answered by RADIUS's Accounting-Response, which is not a KD step.
struct Exchange {
  std::string_view request, answer;
};
constexpr Exchange kExchanges[] = {{"s1", "s6"}, {"s2", "s5"}, {"s3", "s4"}, {"s7", "s10"},
                                   {"s8", "s9"}, {"d1", "d4"}, {"d2", "d3"}, {"d5", "d6"}};

}  // namespace

std::string_view answer_to(std::string_view request) {
  for (const auto& e : kExchanges)
    if (e.request == request) return e.answer;
  return {};
}
std::string_view request_of(std::string_view answer) {
  for (const auto& e : kExchanges)
    if (e.answer == answer) return e.request;
  return {};
}

namespace {

bool accounting(const msg::StepSpec& s) { return s.to == msg::Role::auc && answer_to(s.name).empty(); }

// The name of the exchange a terminal's message belongs to: its IDc and the request's step.
std::string exchange_name(const msg::Message& m, std::string_view request) { return *m.IDc + "/" + std::string(request); }

// Server transactions kept at most (kd-live(7), MEMORY).
constexpr std::size_t kMaxServerTransactions = 1 << 18;
// and the bytes they hold at most: datagrams of up to 64 KiB that do not decode open transactions
// too, and 2^18 of them would hold 16 GiB.
constexpr std::size_t kMaxServerTransactionBytes = std::size_t{256} << 20;
// Datagrams handled per state save (group commit).
constexpr std::size_t kBatch = 64;

enum class Events : std::uint8_t { all, errors, none };

// An address as IPc writes it: IP:PORT, an IPv6 address in brackets.
std::string ipc_of(const Address& a) {
  const std::string s = to_string(a);  // "udp:IP:PORT"
  return s.substr(s.find(':') + 1);
}

bool looks_json(ByteView b) {
  for (const auto c : b) {
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') continue;
    return c == '{';
  }
  return false;
}

}  // namespace

Result<msg::Message> decode_datagram(const WireEdge& edge, ByteView data, std::string& step, Bytes& wire_bytes,
                                     wire::Binding& used, bool& text, ByteView answered) {
  // Decode in the form this role reads the step in (the filters' rule, WireEdge).
  used = wire::Binding::json;
  text = looks_json(data);
  auto m = text ? edge.from_line(std::string_view(reinterpret_cast<const char*>(data.data()), data.size()), &step,
                                 &wire_bytes)
                : edge.from_raw(data, &used, answered);
  // What no wire codec reads, sent to a service whose signaling speaks JSON, is a bad JSON
  // message: the filter's words ("a message must be a JSON object", the parser's position), not
  // those of the last wire decoder tried. A RADIUS packet keeps RADIUS's reason.
  if (!m && !text && !edge.sends_wire(*msg::find_step("s1")) && !wire::radius::recipient(data)) {
    text = true;
    m = edge.from_line(std::string_view(reinterpret_cast<const char*>(data.data()), data.size()), &step, &wire_bytes);
  }
  if (m && !text) {
    step = msg::spec_of(*m).name;
    if (!edge.sends_wire(msg::spec_of(*m)))
      m = err(Code::malformed, "this service speaks " + step + " as a JSON object, not in " +
                                   std::string(wire::binding_name(used)));
    else
      wire_bytes = Bytes(data.begin(), data.end());  // the AuC answers a RADIUS request with its Identifier
  }
  return m;
}

WireOptions with_request_transport(WireOptions w, msg::Role role, const std::vector<std::string>& peers) {
  for (const auto& p : peers) {
    Endpoint e;
    const auto eq = p.find('=');
    const bool signaling = role == msg::Role::term || (role == msg::Role::proxy && p.starts_with("switch="));
    if (signaling && eq != std::string::npos && !parse_endpoint(p.substr(eq + 1), e) &&
        e.transport == Transport::tcp)
      w.transport = wire::Transport::tcp;
  }
  return w;
}

void name_sent_by(WireEdge& edge, Loop& loop, SocketId socket) {
  static_assert(std::is_same_v<SocketId, std::uint32_t>);  // as service.hpp declares it
  auto sent_by = [&loop, socket]() -> std::string {
    const auto local = loop.local_address(socket);
    if (!local) return {};
    const std::string at = to_string(*local);  // "udp:IP:PORT"
    return at.substr(at.find(':') + 1);        // a Via's sent-by: IP:PORT
  };
  // A TCP client's connection is opened at its first request, and again from a new port after it
  // ended: its address is asked for as each request is encoded (which opens the connection then),
  // not now, so that a service whose peer is not up yet starts as before.
  if (loop.transport(socket) == Transport::tcp) edge.follow_sent_by(std::move(sent_by));
  else edge.set_sent_by(sent_by());
}

Endpoint live_endpoint(std::string_view option, const std::string& text, wire::Binding binding) {
  Endpoint e;
  const std::string named = std::string(option) + (option.ends_with('=') ? "" : " ") + text;
  if (auto why = parse_endpoint(text, e)) throw UsageError(std::string(option) + ": " + *why);
  if (e.transport == Transport::tcp && !stream_framing(binding))
    throw UsageError(named + ": " + std::string(wire::binding_name(binding)) + " travels over UDP only (over TCP: " +
                     stream_binding_names() + ")");
  return e;
}

namespace {

Events events_of(const std::string& events) {
  if (events == "all") return Events::all;
  if (events == "errors") return Events::errors;
  if (events == "none") return Events::none;
  throw UsageError("--events must be all, errors or none");
}

// The AuC link of a switch or an AuC: RADIUS unless --auc-link json (or --binding json) says.
bool radius_link_of(msg::Role role, const codecs::WireOptions& w) {
  return w.radius_link.value_or(w.binding != wire::Binding::json) && (role == msg::Role::sw || role == msg::Role::auc);
}

// The timers of role's signaling link and of its AuC link, the binding's defaults with --retransmit
// over them. The terminal and the proxy have no AuC link: the spec is not checked against timers
// they never use (an MGCP max=300 is above MGCP's initial, below a JSON link's). Throws UsageError.
void live_timers(const LiveOptions& o, msg::Role role, const codecs::WireOptions& w, Timers& signaling, Timers& link) {
  signaling = default_timers(w.binding == wire::Binding::radius ? wire::Binding::json : w.binding);
  link = default_timers(radius_link_of(role, w) ? wire::Binding::radius : wire::Binding::json);
  if (!o.retransmit.empty())
    if (auto why = parse_timers(o.retransmit, signaling)) throw UsageError("--retransmit: " + *why);
  if (role == msg::Role::term || role == msg::Role::proxy) {
    link = signaling;
    return;
  }
  if (!o.retransmit.empty())
    if (auto why = parse_timers(o.retransmit, link)) throw UsageError("--retransmit: " + *why);
}

// --peer ROLE=ENDPOINT: the roles role sends requests to, each with its endpoint (not resolved).
// Throws UsageError.
std::map<std::string, Endpoint> peer_endpoints(const std::vector<std::string>& peers, msg::Role role,
                                               const codecs::WireOptions& w) {
  std::vector<std::string_view> allowed;
  switch (role) {
    case msg::Role::term: allowed = {"proxy", "switch"}; break;
    case msg::Role::proxy: allowed = {"switch"}; break;
    case msg::Role::sw: allowed = {"auc", "auc-acct"}; break;
    case msg::Role::auc: break;
  }
  std::string names;
  for (const auto a : allowed) names += (names.empty() ? "" : ", ") + std::string(a);
  std::map<std::string, Endpoint> out;
  for (const auto& p : peers) {
    const auto eq = p.find('=');
    const std::string name = p.substr(0, eq == std::string::npos ? 0 : eq);
    bool ok = false;
    for (const auto a : allowed) ok = ok || a == name;
    if (eq == std::string::npos || !ok)
      throw UsageError("--peer " + p + ": " +
                       (allowed.empty() ? std::string("kd-auc serve sends no request, so it has no peer")
                                        : "must be ROLE=ENDPOINT with ROLE " + names));
    if (out.count(name)) throw UsageError("--peer " + name + "= is given twice: one endpoint per role");
    const wire::Binding binding = role == msg::Role::sw ? (radius_link_of(role, w) ? wire::Binding::radius : wire::Binding::json)
                                                        : w.binding;
    out[name] = live_endpoint("--peer " + name + "=", p.substr(eq + 1), binding);
  }
  auto need = [&](const char* name, const char* why) {
    if (!out.count(name)) throw UsageError(std::string("--peer ") + name + "=ENDPOINT is required: " + why);
  };
  if (role == msg::Role::proxy) need("switch", "the proxy forwards each registration to its switch");
  if (role == msg::Role::sw) need("auc", "the switch asks its AuC");
  if (role == msg::Role::term && out.size() != 1)
    throw UsageError("--peer: give exactly one, proxy=ENDPOINT (proxied flow, --via) or switch=ENDPOINT (direct)");
  return out;
}

}  // namespace

void check_live_options(const LiveOptions& o, msg::Role role, const codecs::WireOptions& w) {
  events_of(o.events);
  Timers signaling, link;
  live_timers(o, role, w, signaling, link);
  std::vector<std::pair<std::string, Endpoint>> named;
  for (const auto& text : o.listen) named.emplace_back("--listen: ", live_endpoint("--listen", text, w.binding));
  for (const auto& [peer, e] : peer_endpoints(o.peers, role, w)) named.emplace_back("--peer " + peer + "=: ", e);
  // A name that does not resolve is the command line's fault: found here, before the state file
  // is locked, it leaves no lock file behind. The sockets resolve it again where they are made.
  Loop loop;
  for (const auto& [option, e] : named) {
    Address at;
    if (auto why = loop.resolve(e, at)) throw UsageError(option + *why);
  }
}

namespace {

// The role behind the transaction layer: decodes what arrives, answers retransmissions from the
// cache, feeds the rest to the engine, makes its state durable, then sends and prints.
class Live final : public Loop::Handler {
public:
  Live(const LiveOptions& o, LiveContext& ctx, bool registering)
      : ctx_(ctx), edge_(with_request_transport(ctx.wire, ctx.role, o.peers), ctx.role), registering_(registering),
        server_(kMaxServerTransactions, kMaxServerTransactionBytes) {
    edge_.set_wire_lines(registering);  // a service prints events, never the messages
    events_ = events_of(o.events);
    radius_link_ = radius_link_of(ctx.role, ctx.wire);
    live_timers(o, ctx.role, ctx.wire, signaling_timers_, link_timers_);
    parse_peers(o.peers);
    if (!registering) loop_.set_commit_window(o.commit_window_us);
    // A request this service has not answered in time gets its binding's provisional answer.
    if (!registering && wire::has_provisional(ctx.wire.binding)) server_.provisional_after(signaling_timers_.provisional_ms);
    server_.set_reachable([this](SocketId s, const Address& to) { return loop_.reaches(s, to); });
    // The terminal's edge (the proxy; the switch in the direct flow) learns where the terminal is
    // from its datagrams, unless kd-proxy --source states it.
    learn_source_ = (ctx.role == msg::Role::proxy || ctx.role == msg::Role::sw) &&
                    ctx.engine.settings().observed_source.empty();
  }

  // Binds every --listen endpoint and prints its "listening" line.
  void listen(const std::vector<std::string>& endpoints) {
    listeners_.clear();
    std::vector<Endpoint> eps;
    for (const auto& text : endpoints) eps.push_back(live_endpoint("--listen", text, ctx_.wire.binding));
    std::string lines;
    for (const auto& e : eps) {
      Address at;  // a name that does not resolve is the command line's fault, not the system's
      if (auto why = loop_.resolve(e, at)) throw UsageError("--listen: " + *why);
      SocketId id = 0;
      Address bound;
      if (auto why = loop_.listen(e, id, bound, stream_framing_of(ctx_.wire.binding))) throw IoError{*why};
      listeners_.push_back(id);
      if (e.transport == Transport::tcp) server_.match_by_host(id);  // a copy may come on a new connection
      lines += R"({"event":"listening","role":")" + std::string(msg::role_name(ctx_.role)) + R"(","binding":")" +
               std::string(wire::binding_name(ctx_.wire.binding)) + R"(","addr":")" + to_string(bound, e.transport) +
               "\"}\n";
    }
    ctx_.report->out(lines);
  }

  // kd-term register: the first message, sent at once.
  void start(const flow::StartParams& p) {
    const std::uint64_t now = Loop::now_ms();
    tick_clock();
    handle_outcome(ctx_.engine.start(p), now);
    commit();
  }

  // serve with --state: the response cache is kept in STATE.journal (kd-live(7), DURABILITY). Reads
  // it now, before any socket is bound, so that a journal refused leaves everything as it was.
  void open_journal() {
    if (ctx_.state_path.empty()) {
      ctx_.engine.set_tracking(false);  // nothing saves the state (cli's Session does the same)
      return open_peers();
    }
    journal_ = std::make_unique<ResponseJournal>(ctx_.state_path, ctx_.tool, *ctx_.report);
    // The loop handles the next batch while the last one's records are synced (commit()).
    // What a sync releases is sent together (flush()): one sendmmsg(2) per socket, not one per batch.
    journal_->sync_in_background([this](std::function<void()> f) {
      loop_.post([this, f = std::move(f)] {
        f();
        flush();
      });
    });
    open_peers();
  }

  // The sockets towards the peers. A service sends to a UDP peer from the port it used before a
  // crash or a stop (the journal keeps it) when that port is free: a request it resends after a
  // restart then comes from the same address, so the peer answers it from its cache instead of
  // taking it for a replay (kd-live(7), DURABILITY).
  void open_peers() {
    std::map<std::string, std::uint16_t> was;
    if (journal_) was = journal_->take_ports();
    for (auto& [role, p] : peers_) {
      const auto it = was.find(role);
      if (auto why = loop_.open_client(p.addr, p.socket, p.transport, p.framing, it == was.end() ? 0 : it->second))
        throw IoError{*why};
      if (!role.starts_with("auc")) name_sent_by(edge_, loop_, p.socket);
    }
  }

  // What the journal holds, taken in before anything is handled or sent (its file is open for the
  // batches from then on).
  void restore() {
    if (journal_) restore_journal();
  }

  End run() {
    // SIGINT or SIGTERM ends a service (status 0) or a registration without its answer.
    if (!result_) loop_.run(*this, kBatch);
    commit();  // what the last batch changed is already saved; a failure to save ends with status 3
    // A clean stop leaves the state file whole: saved once more if anything changed since it was
    // (kd-live(7), SERVICES), and a failure says it was this save.
    if (journal_ && journal_->appended()) {
      try {
        compact(Loop::now_ms(), unix_ms());
      } catch (const IoError& e) {
        throw IoError{"final save at stop: " + e.what};
      }
    }
    if (registering_ && !result_) return End::no_answer;
    return result_.value_or(End::ok);
  }

  void on_datagrams(std::vector<Datagram>& batch, std::uint64_t now) override {
    tick_clock();
    server_.expire(now);
    for (auto& d : batch) {
      handle(d, now);
      if (result_) break;
    }
  }

  // The loop calls this after one batch, or after the batches of a commit window (--commit-window).
  bool wants_sync() override { return journal_ && !result_ && journal_dirty(); }
  void on_commit() override { commit(); }

  // The earliest of the requests' schedules and the provisional answers due (the transaction
  // layer's deadlines: the loop only waits for them).
  std::optional<std::uint64_t> deadline() override {
    const auto c = client_.deadline(), s = server_.deadline();
    return c && s ? std::min(*c, *s) : c ? c : s;
  }

  void on_deadline(std::uint64_t now) override {
    std::vector<Outgoing> resend;
    std::vector<ClientTransactions::Txn> gave_up;
    client_.on_time(now, resend, gave_up);
    for (auto& r : resend) outbox_.push_back(std::move(r));
    for (auto& t : gave_up) give_up(t, " after " + std::to_string(t.sends()) + " sends");
    server_.take_late(now, [this](const ServerTransactions::Late& l) { send_provisional(l.socket, l.to, l.request); });
    commit();
  }

  // A connection cut for what its peer sent is an input refused (an error line); one that could
  // not be opened, broke or was closed is the network's doing (a note), and the requests sent on
  // it to a peer go again on a new connection (kd-live(7), TRANSPORTS).
  void on_stream_fault(SocketId socket, const Address& peer, StreamFault fault,
                       const std::string& why) override {
    switch (fault) {
      case StreamFault::oversized: emit(json::encode_error(err(Code::oversized, why), ""), true); break;
      case StreamFault::framing: emit(json::encode_error(err(Code::malformed, why), ""), true); break;
      case StreamFault::overflow:
      case StreamFault::transport:
      case StreamFault::closed: {
        bool own_peer = false;
        for (const auto& [role, p] : peers_) own_peer = own_peer || (p.socket == socket && p.addr == peer);
        std::vector<ClientTransactions::Txn> gave_up;
        const std::size_t waiting = own_peer ? client_.transport_failed(socket, Loop::now_ms(), gave_up) : 0;
        // A peer closing a connection nothing waits on (its idle timeout) is no news.
        if (fault != StreamFault::closed || waiting > 0) ctx_.report->diagnostic("note: " + printable(why));
        for (auto& t : gave_up)
          give_up(t, ": its connection failed " + std::to_string(t.failures) + " times (the last: " + why + ")");
        break;
      }
    }
    commit();
  }

private:
  // The binding an endpoint of this role carries: the switch's AuC link, or the role's own.
  wire::Binding link_binding() const { return radius_link_ ? wire::Binding::radius : wire::Binding::json; }
  static StreamFraming stream_framing_of(wire::Binding b) {
    return stream_framing(b).value_or(StreamFraming::lines);  // (a UDP endpoint: unused)
  }

  // --peer ROLE=ENDPOINT: the roles this tool sends requests to.
  void parse_peers(const std::vector<std::string>& peers) {
    for (const auto& [role, e] : peer_endpoints(peers, ctx_.role, ctx_.wire)) {
      const wire::Binding binding = ctx_.role == msg::Role::sw ? link_binding() : ctx_.wire.binding;
      Address a;
      if (auto why = loop_.resolve(e, a)) throw UsageError("--peer " + role + "=: " + *why);
      peers_[role] = Peer{a, 0, e.transport, stream_framing_of(binding)};
    }
  }

  void tick_clock() {
    if (!ctx_.fixed_clock) ctx_.engine.settings().now = static_cast<std::uint64_t>(std::time(nullptr));
  }

  void emit(const std::string& line, bool is_error) {
    if (events_ == Events::none || (events_ == Events::errors && !is_error)) return;
    out_ += line;
    out_ += '\n';
  }

  // The state first, then what depends on it: datagrams, then lines. With a journal, they wait for
  // the sync of this batch's records and of every batch's before (a retransmission answered from
  // the cache may repeat an answer still waiting for its sync), while the loop goes on.
  void commit() {
    if (journal_) commit_journaled();
    else ctx_.save();  // no state file (open_journal()): what waits on a save, the tool's lines
    if (journal_ && journal_->syncing() && (!outbox_.empty() || !out_.empty())) {
      journal_->after_sync([this, out = std::move(outbox_), lines = std::move(out_)]() mutable {
        deliver(std::move(out), lines);
      });
      outbox_.clear();
      out_.clear();
    } else {
      deliver(std::move(outbox_), out_);
      outbox_.clear();
      out_.clear();
    }
    flush();
    if (result_) loop_.stop();
  }

  // What a commit (or a sync) released, kept until flush() sends it with what is released with it.
  void deliver(std::vector<Outgoing>&& out, const std::string& lines) {
    if (sending_.empty()) sending_.swap(out);
    else std::move(out.begin(), out.end(), std::back_inserter(sending_));
    printing_ += lines;
  }

  // The lines released, then the datagrams in the order released: a script that has an answer
  // finds its event line already printed (kd-live(7), SERVICES, --events).
  void flush() {
    if (!printing_.empty()) ctx_.report->out(printing_);
    printing_.clear();
    if (!sending_.empty())
      loop_.send_all(sending_, [this](const std::string& why) { ctx_.report->diagnostic("note: " + printable(why)); });
    sending_.clear();
  }

  static std::uint64_t unix_ms() {
    return static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count());
  }

  // One batch in the journal, synced: the answers given and the entries of the role state that
  // changed; what the batch sends waits for it (commit()). The state file is rewritten only when
  // the journal has grown (compact()), so a batch costs what it changed, not the whole state.
  bool journal_dirty() const {
    return !journal_->batch().empty() || ctx_.engine.changed() || !batch_.pending.empty() || !batch_.sent.empty() ||
           !batch_.settled.empty();
  }

  void commit_journaled() {
    if (!journal_dirty()) return;
    // The answers are in the batch already (journal_answer()); the state's changes follow them,
    // written in place.
    if (ctx_.engine.changed())
      encode_changes(journal_->batch(), [this](std::string& out) { ctx_.engine.write_state_changes(out); });
    journal_->append(batch_);
    batch_.pending.clear();
    batch_.sent.clear();
    batch_.settled.clear();
    ctx_.engine.mark_saved();
    if (journal_->compacting()) compact(Loop::now_ms(), unix_ms());
  }

  // Each answer the cache is given goes into the journal's batch as it is given, expiring in Unix
  // time: no copy of its request and answer waits for the commit.
  void journal_answer(const AnswerRef& a) {
    const std::uint64_t mono = Loop::now_ms(), wall = unix_ms();
    encode_answer(journal_->batch(), AnswerRef{a.from, a.request, a.socket, a.response,
                                                         wall + (a.expires_ms > mono ? a.expires_ms - mono : 0)});
  }

  // Requests under way (kd-live(7), DURABILITY): journaled with the batch that opens them, so that
  // a service restarted after a crash goes on with them; settled ones leave the journal.
  void note_pending(PendingRequest r) {
    if (!journal_) return;
    batch_.pending.push_back(r);
    pending_[r.name] = std::move(r);
  }
  void note_sent(SentRequest r) {
    if (!journal_) return;
    batch_.sent.push_back(r);
    sent_[r.key] = std::move(r);
  }
  void settle(char kind, const std::string& key) {
    if (!journal_) return;
    const bool known = kind == 'P' ? pending_.erase(key) > 0 : sent_.erase(key) > 0;
    if (!known) return;
    // Opened in this batch: it never reaches the journal.
    if (kind == 'P') {
      auto it = std::find_if(batch_.pending.begin(), batch_.pending.end(), [&](const auto& r) { return r.name == key; });
      if (it != batch_.pending.end()) {
        batch_.pending.erase(it);
        return;
      }
    } else {
      auto it = std::find_if(batch_.sent.begin(), batch_.sent.end(), [&](const auto& r) { return r.key == key; });
      if (it != batch_.sent.end()) {
        batch_.sent.erase(it);
        return;
      }
    }
    batch_.settled.push_back({kind, key});
  }

  // The state file rewritten whole, then the journal as the cache is, on it (expiry in Unix time).
  void compact(std::uint64_t mono, std::uint64_t wall) {
    journal_->drain();
    flush();  // what the syncs released goes before the snapshot, as it would without it
    journal_->snapshot(ctx_.engine.state_text());
    rewrite_journal(mono, wall);
  }

  // The cache as it is, in place of the journal (expiry in Unix time).
  void rewrite_journal(std::uint64_t mono, std::uint64_t wall) {
    Batch now;
    std::erase_if(pending_, [wall](const auto& kv) { return kv.second.expires_ms <= wall; });
    for (const auto& [name, r] : pending_) now.pending.push_back(r);
    for (const auto& [key, r] : sent_) now.sent.push_back(r);
    for (const auto& [role, p] : peers_)
      if (const auto port = loop_.local_port(p.socket)) now.ports.emplace_back(role, port);
    // The cached answers encoded straight from the cache (a copy of each cost as much as encoding it).
    journal_->rewrite(now, [&](const std::function<void(const AnswerRef&)>& add) {
      server_.for_each_answered(mono, [&](const AnswerRef& a) {
        add(AnswerRef{a.from, a.request, a.socket, a.response, wall + (a.expires_ms - mono)});
      });
    });
  }

  // The answers of the journal back in the cache: those not expired, on a socket this service
  // listens on (the same --listen, in the same order); then the journal is rewritten with them.
  void restore_journal() {
    const std::uint64_t mono = Loop::now_ms(), wall = unix_ms();
    for (auto& a : journal_->take_loaded()) {
      if (a.expires_ms <= wall || std::find(listeners_.begin(), listeners_.end(), a.socket) == listeners_.end())
        continue;
      a.expires_ms = mono + (a.expires_ms - wall);
      server_.restore(std::move(a));
    }
    server_.expire(mono);
    resume_requests(mono, wall);
    if (!journal_->has_state_file()) journal_->snapshot(ctx_.engine.state_text());  // a base to change
    rewrite_journal(mono, wall);
    server_.record_answers([this](const AnswerRef& a) { journal_answer(a); });
    commit();  // sends the requests resumed
  }

  // The requests under way at the crash: a request the role accepted waits again for its answer
  // (its retransmissions absorbed meanwhile), and a request sent goes again, on a new schedule.
  void resume_requests(std::uint64_t mono, std::uint64_t wall) {
    std::size_t resumed = 0;
    for (auto& r : journal_->take_pending()) {
      if (r.expires_ms <= wall || std::find(listeners_.begin(), listeners_.end(), r.socket) == listeners_.end())
        continue;
      server_.open(r.from, r.request, r.socket, mono, r.expires_ms - wall, r.name);
      pending_[r.name] = std::move(r);
      ++resumed;
    }
    for (auto& r : journal_->take_sent()) {
      if (registering_) continue;  // kd-term register: a registration of its own, not the last run's
      const auto peer = peers_.find(r.peer);
      if (peer == peers_.end()) continue;  // no such --peer this run
      Outgoing out{peer->second.socket, peer->second.addr, r.request};
      outbox_.push_back(out);
      const bool to_auc = r.peer.starts_with("auc");
      if (to_auc && radius_link_ && out.bytes.size() >= wire::radius::kMinPacket) radius_waiting_.emplace(out.bytes[1], r.key);
      const Timers& t = to_auc ? link_timers_ : signaling_timers_;
      const auto ref = provisional_ref(to_auc, out.bytes, peer->second.transport);
      client_.start(r.key, r.label, std::move(out),
                    peer->second.transport == Transport::tcp ? without_retransmission(t) : t, mono, ref);
      sent_[r.key] = std::move(r);
      ++resumed;
    }
    if (resumed > 0)
      ctx_.report->diagnostic("note: journal " + printable(journal_->path()) + ": " + std::to_string(resumed) +
                              " requests under way at the last stop go on");
  }

  // kd-term register: an answer that does not decode is discarded (RFC 3261 18.1.2), so that one
  // spoofed datagram does not end a registration: an error line says so, and the transaction
  // waits on for a valid answer. If none comes, give_up() ends the registration as a refusal with
  // that error, not as a silence: a device's malformed answer is still refused. Only the first
  // since the last valid answer gets a line, so that a peer sending garbage without end does not
  // make the terminal print without end; the others are counted for the refusal.
  void discard(const Error& e, std::string_view step) {
    const std::uint64_t count = discarded_ ? discarded_->count + 1 : 1;
    discarded_ = Discarded{e, std::string(step), count};
    if (count > 1) return;
    emit(json::encode_error(err(e.code, e.detail + " (discarded: the registration waits on for a valid answer)"), step),
         true);
  }

  // A request that got no answer: a timeout line, and the end of a registration (how: why not).
  void give_up(const ClientTransactions::Txn& t, const std::string& how) {
    forget_radius(t);
    settle('Q', t.key);
    const std::string to = to_string(t.out.to, loop_.transport(t.out.socket));
    emit(R"({"event":"timeout","step":")" + t.label + R"(","to":")" + to + R"(","sends":)" + std::to_string(t.sends()) + "}",
         true);
    if (!registering_) return;
    if (discarded_)
      return refuse(err(discarded_->error.code, "no valid answer to " + t.label + " from " + to + how +
                                                    "; what came did not decode" +
                                                    (discarded_->count > 1
                                                         ? " (" + std::to_string(discarded_->count) + " datagrams)"
                                                         : std::string()) +
                                                    ": " + discarded_->error.detail),
                    discarded_->step);
    ctx_.report->diagnostic("no answer to " + t.label + " from " + to + printable(how));
    finish(End::no_answer);
  }

  void finish(End status) {
    if (!result_) result_ = status;
  }

  const Timers& timers_for(const msg::StepSpec& s) const {
    return s.to == msg::Role::auc || s.from == msg::Role::auc ? link_timers_ : signaling_timers_;
  }

  void refuse(const Error& e, std::string_view step) {
    emit(json::encode_error(e, step), true);
    if (registering_) {
      ctx_.report->diagnostic("error: " + std::string(code_name(e.code)) +
                              (step.empty() ? std::string() : " (" + printable(step) + ")") + ": " + printable(e.detail));
      finish(End::refused);
    }
  }

  void handle(const Datagram& d, std::uint64_t now) {
    const Bytes* cached = nullptr;
    const auto req = server_.request(d.socket, d.from, d.data);  // hashed once for every call below
    switch (server_.lookup(req, now, &cached)) {
      case ServerTransactions::Seen::answered: outbox_.push_back({d.socket, d.from, *cached}); return;
      case ServerTransactions::Seen::pending: send_provisional(d.socket, d.from, d.data); return;
      case ServerTransactions::Seen::absorbed: return;
      case ServerTransactions::Seen::fresh: break;
    }
    if (provisional(d, now)) return;
    const std::uint64_t keep = signaling_timers_.keep_response_ms;
    // At the switch, an Access-Challenge is verified against the Access-Request it answers, as sent.
    ByteView answered;
    if (ctx_.role == msg::Role::sw && radius_link_) {
      if (radius_answer(d, req, now)) return;
      answered = radius_request_answered(d);
    }

    std::string step;
    Bytes wire_bytes;
    wire::Binding used = wire::Binding::json;
    bool text = false;
    auto m = decode_datagram(edge_, d.data, step, wire_bytes, used, text, answered);
    if (!m) {
      server_.open(req, now, keep, "");
      if (registering_) return discard(m.error(), step);
      refuse(m.error(), step);
      reject_radius(d, m.error(), now);
      return;
    }
    const msg::StepSpec& spec = msg::spec_of(*m);
    // An answer to one of this role's requests: the transaction waiting for it, if any.
    const auto request = request_of(spec.name);
    const std::string key = request.empty() ? std::string() : exchange_name(*m, spec.name);
    const ClientTransactions::Txn* waiting = request.empty() ? nullptr : client_.find(key);
    if (!request.empty() && !from_peer(d, waiting ? &waiting->out : nullptr)) {
      server_.open(req, now, timers_for(spec).keep_response_ms, "");  // its copies are absorbed
      return misplaced(d, spec.name, spec.name, request, waiting);
    }
    // A request is taken only on a listening socket (kd-live(7), TRANSACTIONS, "Where a request
    // comes to"): on a socket this service sends its own requests from, it would be answered from
    // there, by a role that only a listener's peers address.
    if (request.empty() && !listening(d.socket)) {
      server_.open(req, now, timers_for(spec).keep_response_ms, "");  // its copies are absorbed
      return misdirected(d, spec.name);
    }
    // s1, s7, d1, d5 take IPc as a NAT sees it: where the datagram came from (kd-protocol(7), IPc).
    if (learn_source_) ctx_.engine.settings().observed_source = spec.from == msg::Role::term ? ipc_of(d.from) : "";
    if (registering_) emit(text ? json::encode_message(*m) : json::encode_wire_line(wire::binding_name(used), spec, d.data), false);

    if (!request.empty()) {
      // The transaction ends; a copy of the answer that comes again (the peer answered a
      // retransmission) is absorbed.
      if (const auto* t = waiting) {
        if (text && !same_txn(d.data, t->out.bytes)) {
          // The answer to an earlier request of this exchange (its "txn" is not the one waiting):
          // a late copy, not this request's answer.
          server_.open(req, now, timers_for(spec).keep_response_ms, "");
          return;
        }
        forget_radius(*t);
        client_.complete(key);
        settle('Q', key);
        server_.open(req, now, timers_for(spec).keep_response_ms, "");
        discarded_.reset();  // a valid answer came after what was discarded
        unexpected_ = 0;
      }
      handle_outcome(ctx_.engine.feed_message(*m, wire_bytes), now);
      return;
    }
    // A request: its transaction opens, named for the answer the role may give later.
    engine::Outcome o = ctx_.engine.feed_message(*m, wire_bytes);
    const auto& t = timers_for(spec);
    const std::string name = o.error ? std::string() : exchange_name(*m, spec.name);
    const std::uint64_t wait = std::max(signaling_timers_.timeout_ms, link_timers_.timeout_ms) + t.keep_response_ms;
    server_.open(req, now, wait, name);
    if (!name.empty() && !answer_to(spec.name).empty())
      note_pending({name, d.from, d.socket, Bytes(d.data.begin(), d.data.end()), unix_ms() + wait,
                    text ? json::string_field(as_text(d.data), json::kTxnMember).value_or("") : std::string()});
    if (o.error) reject_radius(d, *o.error, now);
    else if (accounting(spec) && radius_link_)
      answer_request(d, wire::radius::answer_packet(ctx_.wire.radius_secret, d.data, wire::radius::accounting_response), now);
    handle_outcome(o, now);
  }

  // A request the role accepted and has not answered yet (it waits for its own peer): the
  // binding's provisional answer, to where the request came from, at every retransmission of it
  // (RFC 3435 3.5.6, H.248.1 Annex D.1.4) and once unprompted when the answer is late (the
  // provisional timer, ServerTransactions::take_late()); neither cached nor journaled, as it is
  // no answer (kd-live(7), TRANSACTIONS). SIP, JSON and RADIUS have none: the retransmission is
  // absorbed.
  void send_provisional(SocketId socket, const Address& to, ByteView request) {
    if (!wire::has_provisional(ctx_.wire.binding)) return;
    // RequestInProgress's delay: as long as this service may itself wait for the peer it asked.
    const std::uint64_t wait = (ctx_.role == msg::Role::sw ? link_timers_ : signaling_timers_).timeout_ms;
    if (auto p = wire::provisional_answer(ctx_.wire.binding, request, ctx_.engine.settings().self_id,
                                          static_cast<std::uint32_t>(std::min<std::uint64_t>(wait, 65535))))
      outbox_.push_back({socket, to, std::move(*p)});
  }

  // A provisional answer from a peer: the request under way it names stops being resent and waits,
  // for RequestInProgress's delay or the binding's transaction timeout (kd-live(7), TIMERS). One
  // that names no request under way is dropped. True when data was one (never decoded as a step).
  bool provisional(const Datagram& d, std::uint64_t now) {
    if (!wire::has_provisional(ctx_.wire.binding)) return false;
    const auto p = wire::read_provisional(ctx_.wire.binding, d.data);
    if (!p) return false;
    if (from_peer(d, nullptr))  // one from elsewhere (a listening socket too) names nothing of ours
      client_.provisional(p->transaction, d.from, now, p->delay_ms ? p->delay_ms : signaling_timers_.timeout_ms);
    return true;
  }

  // Where an answer may come from (kd-live(7), TRANSACTIONS, "Where an answer comes from"): the
  // socket its request went out on (never a listening one: anyone may send there, and a forged s5
  // would put its Rand in the terminal's s6), and the address the request went to, over UDP as
  // RADIUS asks of its clients (over TCP the connection is the one opened to it). sent: the
  // request waiting; none, the peers of this role.
  bool from_peer(const Datagram& d, const Outgoing* sent) const {
    if (sent) return d.socket == sent->socket && d.from == sent->to;
    for (const auto& [role, p] : peers_)
      if (d.socket == p.socket && d.from == p.addr) return true;
    return false;
  }

  // An answer from elsewhere: an error line, and the role never sees it; the request it claims to
  // answer (if waiting) goes on waiting, so kd-term register too waits on for the real answer.
  // what: the answer as the line names it; step: the line's step.
  void misplaced(const Datagram& d, std::string_view what, std::string_view step, std::string_view request,
                 const ClientTransactions::Txn* waiting) {
    const Transport t = loop_.transport(d.socket);
    std::string detail = std::string(what) + " from " + to_string(d.from, t) + (listening(d.socket) ? " on a listening socket" : "") +
                         ": not from where " + std::string(request) + " went";
    if (waiting) detail += " (" + to_string(waiting->out.to, loop_.transport(waiting->out.socket)) + ")";
    detail += "; an answer is taken only from there";
    if (registering_) {
      if (quiet_discard()) return;
      detail += " (discarded: the registration waits on for a valid answer)";
    }
    emit(json::encode_error(err(Code::unexpected_message, detail), step), true);
  }

  // kd-term register: answers from elsewhere and requests at its socket are bounded as answers
  // that do not decode are: only the first since the last valid answer gets an error line, so that
  // a flood of distinct forgeries does not make the terminal print without end. True when this
  // one is to be discarded without a line.
  bool quiet_discard() { return unexpected_++ > 0; }

  bool listening(SocketId socket) const {
    return std::find(listeners_.begin(), listeners_.end(), socket) != listeners_.end();
  }

  // A request on a socket of this service's own (towards a --peer; kd-term's one socket): an error
  // line naming where it came from and the socket, and the role never sees it.
  void misdirected(const Datagram& d, std::string_view step) {
    const Transport t = loop_.transport(d.socket);
    std::string detail = std::string(step) + " from " + to_string(d.from, t) + " on ";
    std::string towards = "a socket of its own";
    for (const auto& [role, p] : peers_)
      if (p.socket == d.socket) towards = "the socket that sends to --peer " + role + "=" + to_string(p.addr, t);
    if (registering_ && quiet_discard()) return;
    if (registering_)
      detail += "the socket kd-term sends its requests from: kd-term takes only answers (discarded: the "
                "registration waits on for a valid answer)";
    else detail += towards + ": a request is taken only on a listening socket";
    emit(json::encode_error(err(Code::unexpected_message, detail), step), true);
  }

  // The identity a provisional answer would name a signaling request by (UDP only: over TCP a
  // request is never resent, so no peer answers a resend with one).
  std::optional<std::uint32_t> provisional_ref(bool to_auc, ByteView bytes, Transport t) const {
    if (to_auc || t != Transport::udp) return std::nullopt;
    return wire::request_transaction(ctx_.wire.binding, bytes);
  }

  void answer_request(const Datagram& d, Bytes answer, std::uint64_t now) {
    if (auto out = server_.answer(d.socket, d.from, d.data, std::move(answer), now, link_timers_.keep_response_ms))
      outbox_.push_back(std::move(*out));
  }

  // The AuC refuses an Access-Request with an Access-Reject naming the reason's code (RFC 2865
  // section 4.3), so that a RADIUS client gets an answer and stops; other refusals are silent, and
  // so is one of a request whose Message-Authenticator does not verify (RFC 3579 section 3.2): who
  // does not hold the secret learns nothing from the AuC.
  void reject_radius(const Datagram& d, const Error& e, std::uint64_t now) {
    if (ctx_.role != msg::Role::auc || !radius_link_ || d.data.size() < wire::radius::kMinPacket ||
        d.data[0] != wire::radius::access_request ||
        !wire::radius::authentic_request(ctx_.wire.radius_secret, d.data))
      return;
    answer_request(d,
                   wire::radius::answer_packet(ctx_.wire.radius_secret, d.data, wire::radius::access_reject,
                                               "kd: " + std::string(code_name(e.code))),
                   now);
  }

  // At the switch: the Access-Request waiting that an Access-Challenge d answers (its Identifier and
  // a Response Authenticator that verifies against it), or nothing (then d is decoded against the
  // Identifier and Request Authenticator derived from its fields).
  ByteView radius_request_answered(const Datagram& d) const {
    if (d.data.size() < wire::radius::kMinPacket || d.data[0] != wire::radius::access_challenge) return {};
    auto [lo, hi] = radius_waiting_.equal_range(d.data[1]);
    for (auto it = lo; it != hi; ++it)
      if (const auto* t = client_.find(it->second); t && wire::radius::answers(ctx_.wire.radius_secret, d.data, t->out.bytes))
        return t->out.bytes;
    return {};
  }

  static std::string_view as_text(ByteView b) { return {reinterpret_cast<const char*>(b.data()), b.size()}; }

  // Whether a JSON answer belongs to the JSON request sent: the same transaction member, or none
  // on either side (a peer that sets none).
  static bool same_txn(ByteView answer, ByteView request) {
    const auto got = json::string_field(as_text(answer), json::kTxnMember);
    if (!got) return true;
    const auto sent = json::string_field(as_text(request), json::kTxnMember);
    return !sent || *sent == *got;
  }

  // At the switch: an Access-Reject or Accounting-Response from the AuC ends the request it
  // answers (matched by Identifier and Response Authenticator). True when d was one.
  bool radius_answer(const Datagram& d, const ServerTransactions::Request& req, std::uint64_t now) {
    if (d.data.size() < wire::radius::kMinPacket) return false;
    const std::uint8_t code = d.data[0];
    if (code != wire::radius::access_reject && code != wire::radius::accounting_response) return false;
    auto [lo, hi] = radius_waiting_.equal_range(d.data[1]);
    for (auto it = lo; it != hi; ++it) {
      const auto* t = client_.find(it->second);
      if (!t || !wire::radius::answers(ctx_.wire.radius_secret, d.data, t->out.bytes)) continue;
      if (!from_peer(d, &t->out)) {
        server_.open(req, now, link_timers_.keep_response_ms, "");  // its copies are absorbed
        const std::string what = code == wire::radius::access_reject ? "the Access-Reject" : "the Accounting-Response";
        misplaced(d, what + " to " + t->label, t->label, t->label, t);
        return true;
      }
      if (code == wire::radius::access_reject)
        emit(json::encode_error(err(Code::unexpected_message, "the AuC refused " + t->label + " (Access-Reject)"),
                                t->label),
             true);
      const std::string key = it->second;
      radius_waiting_.erase(it);
      client_.complete(key);
      settle('Q', key);
      return true;
    }
    return true;  // an answer to nothing waiting (a duplicate): dropped
  }

  void forget_radius(const ClientTransactions::Txn& t) {
    if (radius_waiting_.empty() || t.out.bytes.size() < wire::radius::kMinPacket) return;
    auto [lo, hi] = radius_waiting_.equal_range(t.out.bytes[1]);
    for (auto it = lo; it != hi; ++it)
      if (it->second == t.key) {
        radius_waiting_.erase(it);
        return;
      }
  }

  // Sends what the role said: an answer to the transaction it answers, a request to the peer.
  void handle_outcome(const engine::Outcome& o, std::uint64_t now) {
    for (const auto& s : o.sent) {
      // A service's request goes out as a new transaction (kd-live(7), TRANSACTIONS): its
      // identifiers drawn here, not derived from the fields, which two registrations of one
      // terminal share. An answer echoes its JSON request's transaction member. The terminal's
      // requests carry its registration's identity too (SIP's Call-ID and From tag), drawn with
      // its first request.
      const std::string_view answered_request = request_of(msg::spec_of(s.message).name);
      Bytes fresh;
      std::string txn;
      ByteView answered_bytes;
      if (answered_request.empty()) {
        fresh.resize(wire::kTxnBytes);
        random_.fill(fresh);
        if (!registering_) txn = to_hex(ByteView(fresh).first(8));
        else if (registration_ids_.empty()) registration_ids_ = random_.draw(wire::kRegistrationBytes);
        fresh.insert(fresh.end(), registration_ids_.begin(), registration_ids_.end());
      } else {
        // The answer echoes its request's identity: a JSON request's transaction member, a wire
        // request as it came (Codec::encode_answer), read from the request's open transaction, so
        // that nothing kept for it outlives the transaction (kd-live(7), MEMORY).
        const ByteView request = server_.pending_request(exchange_name(s.message, answered_request));
        if (looks_json(request)) txn = json::string_field(as_text(request), json::kTxnMember).value_or("");
        else answered_bytes = request;
      }
      Bytes bytes;
      auto line = edge_.outgoing(s.message, ctx_.engine.settings().now, s.previous, &bytes, fresh, txn, answered_bytes);
      if (!line) {
        refuse(err(line.error().code, std::string(msg::spec_of(s.message).name) + ": cannot encode: " + line.error().detail),
               msg::spec_of(s.message).name);
        continue;
      }
      if (bytes.empty()) bytes = Bytes(line->begin(), line->end());  // JSON: the object is the datagram
      const msg::StepSpec& spec = msg::spec_of(s.message);
      if (registering_) emit(*line, false);
      if (const auto request = request_of(spec.name); !request.empty()) {
        const std::string name = exchange_name(s.message, request);
        auto out = server_.answer(name, std::move(bytes), now, timers_for(spec).keep_response_ms);
        settle('P', name);
        if (out) outbox_.push_back(std::move(*out));
        else ctx_.report->diagnostic("note: " + std::string(spec.name) + " for " + printable(*s.message.IDc) +
                                     ": no request of it is waiting; not sent");
        continue;
      }
      send_request(s.message, spec, std::move(bytes), now);
    }
    for (const auto& e : o.events) {
      if (events_ == Events::all) emit(json::encode_event(e, ctx_.show_key), false);
      if (registering_ && e.name == "registered") finish(End::ok);
    }
    if (o.error) refuse(*o.error, o.step);
  }

  void send_request(const msg::Message& m, const msg::StepSpec& spec, Bytes bytes, std::uint64_t now) {
    std::string role(msg::role_name(spec.to));
    if (accounting(spec) && peers_.count("auc-acct")) role = "auc-acct";
    const auto it = peers_.find(role);
    if (it == peers_.end()) {
      refuse(err(Code::wrong_recipient, std::string(spec.name) + " goes to the " + role + ", and no --peer " + role +
                                            "= was given"),
             spec.name);
      return;
    }
    Outgoing out{it->second.socket, it->second.addr, std::move(bytes)};
    outbox_.push_back(out);
    const bool radius = spec.to == msg::Role::auc && radius_link_;
    std::string key;
    if (const auto answer = answer_to(spec.name); !answer.empty()) key = exchange_name(m, answer);
    else if (radius) key = "radius/" + to_hex(ByteView(out.bytes).first(wire::radius::kMinPacket));
    else return;  // s11 and d7 over JSON: nothing answers them, so they are sent once
    if (radius) radius_waiting_.emplace(out.bytes[1], key);
    const bool reliable = it->second.transport == Transport::tcp;
    note_sent({key, std::string(spec.name), role, out.bytes});
    const auto ref = provisional_ref(spec.to == msg::Role::auc, out.bytes, it->second.transport);
    client_.start(std::move(key), std::string(spec.name), std::move(out),
                  reliable ? without_retransmission(timers_for(spec)) : timers_for(spec), now, ref);
  }

  struct Peer {
    Address addr;
    SocketId socket = 0;
    Transport transport = Transport::udp;
    StreamFraming framing = StreamFraming::lines;
  };

  LiveContext& ctx_;
  WireEdge edge_;
  bool registering_;
  Events events_ = Events::all;
  bool radius_link_ = false;
  bool learn_source_ = false;
  Timers signaling_timers_, link_timers_;
  Loop loop_;
  ServerTransactions server_;
  ClientTransactions client_;
  std::vector<SocketId> listeners_;
  std::unique_ptr<ResponseJournal> journal_;
  std::map<std::string, Peer> peers_;
  std::multimap<std::uint8_t, std::string> radius_waiting_;  // RADIUS requests by Identifier
  std::map<std::string, PendingRequest> pending_;  // by name: accepted, to be answered
  std::map<std::string, SentRequest> sent_;        // by key: sent, awaiting the answer
  Batch batch_;  // opened and settled since the last commit
  std::vector<Outgoing> sending_;                // released (deliver()), for flush()
  std::string printing_;
  BlockRandom random_;                           // transaction identities (never the role's randomness)
  Bytes registration_ids_;                       // kd-term register: its registration's (kRegistrationBytes)
  std::vector<Outgoing> outbox_;
  std::string out_;
  std::optional<End> result_;
  struct Discarded {
    Error error;
    std::string step;
    std::uint64_t count = 1;  // since the last valid answer
  };
  std::optional<Discarded> discarded_;  // kd-term register: the last answer that did not decode
  std::uint64_t unexpected_ = 0;        // kd-term register: misplaced or misdirected since the last valid answer
};

}  // namespace

End run_service(const LiveOptions& o, LiveContext& ctx) {
  Live live(o, ctx, false);
  live.open_journal();
  live.listen(o.listen);
  live.restore();
  return live.run();
}

End run_registration(const LiveOptions& o, LiveContext& ctx, const flow::StartParams& start) {
  Live live(o, ctx, true);
  live.open_journal();
  live.restore();
  live.start(start);
  return live.run();
}

}  // namespace kd::net
