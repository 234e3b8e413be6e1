// The role state files (state.hpp): written by a direct writer (Writer, below), read through
// nlohmann's ADL hooks inside a try block, since a state file that does not parse is reported.
#include "json/state.hpp"

#include <algorithm>
#include <charconv>
#include <functional>
#include <optional>
#include <tuple>
#include <type_traits>
#include <vector>

#include "json/internal.hpp"

namespace kd::flow {

using nlohmann::json;

// Numbers of a state file: non-negative integers within range, or the file is damaged (nlohmann's
// get<unsigned>() would wrap -5 to 2^64-5, a challenge that never expires).
static std::uint64_t u64(const json& j, std::uint64_t max = UINT64_MAX) {
  if (!j.is_number_unsigned() || j.get<std::uint64_t>() > max)
    throw std::runtime_error("a number out of range: " + j.dump());
  return j.get<std::uint64_t>();
}
constexpr std::uint64_t kMaxSeq = std::uint64_t{1} << 62;  // so that the next number never wraps
static TrackedMap<std::uint64_t>::Map expiry_map(const json& j) {
  if (!j.is_object()) throw std::runtime_error("an expiry map must be an object: " + j.dump());
  TrackedMap<std::uint64_t>::Map m;
  for (const auto& [k, v] : j.items()) m[k] = u64(v);
  return m;
}

static Bytes unhex(const json& j) {
  auto b = from_hex(j.get<std::string>());
  if (!b) throw std::runtime_error("bad hex in state");
  return *b;
}
static std::optional<Bytes> opt_unhex(const json& j) {
  if (j.is_null()) return std::nullopt;
  return unhex(j);
}

static msg::MechList mechs_from(const json& a) {
  msg::MechList l;
  for (const auto& m : a) l.push_back({m.at("name").get<std::string>(), static_cast<std::uint16_t>(u64(m.at("q"), 1000))});
  return l;
}
static msg::Flow flow_from(const json& j) {
  auto f = msg::parse_flow(j.get<std::string>());
  if (!f) throw std::runtime_error("bad flow in state");
  return *f;
}

void from_json(const json& j, ReplayCache& c) { c.expiry.reset(expiry_map(j)); }

void from_json(const json& j, EdgeExchange& e) {
  int phase = static_cast<int>(u64(j.at("phase"), 2));
  if (phase < 0 || phase > 2) throw std::runtime_error("bad phase in state");
  e.phase = static_cast<EdgeExchange::Phase>(phase);
  e.suite = j.at("suite").get<std::string>();
  e.ipc = j.at("ipc").get<std::string>();
  e.term_n1 = unhex(j.at("term_n1"));
  e.n2 = opt_unhex(j.at("n2"));
  e.rand = opt_unhex(j.at("rand"));
  e.mechs = mechs_from(j.at("mechs"));
  e.chosen = j.at("chosen").get<std::string>();
}

void from_json(const json& j, TermRegistration& r) {
  int phase = static_cast<int>(u64(j.at("phase"), 2));
  if (phase < 0 || phase > 2) throw std::runtime_error("bad phase in state");
  r.phase = static_cast<TermRegistration::Phase>(phase);
  r.flow = flow_from(j.at("flow"));
  r.suite = j.at("suite").get<std::string>();
  r.peer = j.at("peer").get<std::string>();
  r.contact = j.at("contact").get<std::string>();
  r.mechs = mechs_from(j.at("mechs"));
  r.n1 = unhex(j.at("n1"));
  r.rand = opt_unhex(j.at("rand"));
  r.chosen = j.at("chosen").get<std::string>();
  r.registered_at = u64(j.at("registered_at"));
}

void from_json(const json& j, Challenge& c) {
  c.rand = unhex(j.at("rand"));
  c.authenticator = unhex(j.at("authenticator"));
  c.ekc = unhex(j.at("ekc"));
  c.ekpeer = unhex(j.at("ekpeer"));
  c.expires = u64(j.at("expires"));
}

void from_json(const json& j, SwitchRegistration& r) {
  r.flow = flow_from(j.at("flow"));
  r.suite = j.at("suite").get<std::string>();
  r.peer = j.at("peer").get<std::string>();
  r.ipc = j.at("ipc").get<std::string>();
  if (!j.at("challenge").is_null()) r.challenge = j.at("challenge").get<Challenge>();
  r.edge = j.at("edge").get<EdgeExchange>();
}

void from_json(const json& j, Failures& f) {
  f.count = static_cast<std::uint32_t>(u64(j.at("count"), UINT32_MAX));
  f.until = u64(j.at("until"));
}

void from_json(const json& j, IssuedChallenge& c) {
  c.idc = j.at("idc").get<std::string>();
  c.peer = j.at("peer").get<std::string>();
  c.suite = j.at("suite").get<std::string>();
  c.flow = flow_from(j.at("flow"));
  c.expires = u64(j.at("expires"));
  c.answered = j.at("answered").get<bool>();
  // Absent from files written before challenges were numbered: decode_auc_state numbers them.
  c.seq = j.contains("seq") ? u64(j.at("seq"), kMaxSeq) : 0;
  if (j.contains("seq") && c.seq == 0) throw std::runtime_error("seq 0 in state");
}

void from_json(const json& j, AucRecord& r) {
  r.peer = j.at("peer").get<std::string>();
  r.ipc = j.at("ipc").get<std::string>();
  r.suite = j.at("suite").get<std::string>();
  r.flow = flow_from(j.at("flow"));
  r.at = u64(j.at("at"));
}

}  // namespace kd::flow

namespace kd::json {

namespace {

template <class State>
Result<State> decode_state(std::string_view text, std::string_view role,
                           const std::function<void(const json&, State&)>& fill) {
  json j;
  if (auto s = parse_strict(text, j); !s) return s.error();
  try {
    if (!j.is_object() || !j.contains("kd_state") || j["kd_state"] != 1)
      return err(Code::malformed, "not a kd state file (want {\"kd_state\":1,...})");
    if (!j.contains("role") || j["role"] != role)
      return err(Code::malformed, "this state file belongs to the " + j.value("role", std::string("?")) +
                                      ", not the " + std::string(role));
    State s;
    fill(j, s);
    return s;
  } catch (const std::exception& e) {
    return err(Code::malformed, std::string("state file is damaged: ") + e.what());
  }
}

}  // namespace

Result<flow::TermState> decode_term_state(std::string_view text) {
  return decode_state<flow::TermState>(text, "term", [](const json& j, flow::TermState& s) {
    s.regs.reset(j.at("registrations").get<TrackedMap<flow::TermRegistration>::Map>());
    s.seen_n2 = j.at("seen_n2").get<flow::ReplayCache>();
  });
}
Result<flow::ProxyState> decode_proxy_state(std::string_view text) {
  return decode_state<flow::ProxyState>(text, "proxy", [](const json& j, flow::ProxyState& s) {
    s.exchanges.reset(j.at("exchanges").get<TrackedMap<flow::EdgeExchange>::Map>());
    s.seen_n1 = j.at("seen_n1").get<flow::ReplayCache>();
  });
}
Result<flow::SwitchState> decode_switch_state(std::string_view text, KeptRequests* requests) {
  KeptRequests::Map kept;
  auto st = decode_state<flow::SwitchState>(text, "switch", [&kept](const json& j, flow::SwitchState& s) {
    s.regs.reset(j.at("registrations").get<TrackedMap<flow::SwitchRegistration>::Map>());
    s.failures.reset(j.at("failures").get<TrackedMap<flow::Failures>::Map>());
    s.used_rands.reset(flow::expiry_map(j.at("used_rands")));
    s.seen_n1 = j.at("seen_n1").get<flow::ReplayCache>();
    if (j.contains("requests")) {  // only while a SIP request waits for its answer
      if (!j.at("requests").is_object()) throw std::runtime_error("requests must be an object");
      for (const auto& [idc, wire] : j.at("requests").items()) kept[idc] = flow::unhex(wire);
    }
  });
  if (st && requests) requests->reset(std::move(kept));
  return st;
}
Result<flow::AucState> decode_auc_state(std::string_view text) {
  return decode_state<flow::AucState>(text, "auc", [](const json& j, flow::AucState& s) {
    // Numbered challenges in issue order, then those of a file written before challenges were
    // numbered, oldest expiry first (ties by Rand); add() numbers these and applies the bound.
    std::vector<std::pair<std::string, flow::IssuedChallenge>> all;
    for (auto& [rand, c] : j.at("issued").get<std::map<std::string, flow::IssuedChallenge>>()) all.emplace_back(rand, c);
    std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) {
      return std::tuple(a.second.seq == 0, a.second.seq, a.second.expires, a.first) <
             std::tuple(b.second.seq == 0, b.second.seq, b.second.expires, b.first);
    });
    for (auto& [rand, c] : all) s.issued.add(rand, std::move(c));
    s.issued.tracked().mark_saved();  // as loaded: nothing changed
    s.registered.reset(j.at("registered").get<TrackedMap<flow::AucRecord>::Map>());
  });
}

namespace {

// The state's JSON written directly, as nlohmann's dump() writes the same values (objects in key
// order, compact, or indented by one space per level as dump(1)): a service writes the entries
// its batches change, and its snapshots, and building nlohmann trees for them was most of the cost
// of a commit after the sync. tests/unit/json_test.cpp checks the text against nlohmann's dump and
// reads it back. A string of anything but printable ASCII is written by nlohmann itself.
class Writer {
public:
  Writer(std::string& out, bool pretty) : out_(out), pretty_(pretty) {}

  void open(char c) {
    out_ += c;
    first_ = true;
    ++depth_;
  }
  void close(char c) {
    --depth_;
    if (!first_) newline();
    out_ += c;
    first_ = false;
  }
  void key(std::string_view k) {
    item();
    str(k);
    out_ += pretty_ ? ": " : ":";
  }
  void item() {  // before an array's element (key() does it for a member)
    if (!first_) out_ += ',';
    first_ = false;
    newline();
  }
  void str(std::string_view v) {
    const bool plain = std::all_of(v.begin(), v.end(), [](char c) { return c >= 0x20 && c < 0x7f && c != '"' && c != '\\'; });
    if (!plain) {
      out_ += json(std::string(v)).dump();
      return;
    }
    out_ += '"';
    out_ += v;
    out_ += '"';
  }
  void num(std::uint64_t v) {
    char buf[24];
    const auto r = std::to_chars(buf, buf + sizeof buf, v);
    out_.append(buf, r.ptr);
  }
  void boolean(bool v) { out_ += v ? "true" : "false"; }
  void null() { out_ += "null"; }
  void hex(const Bytes& b) {
    out_ += '"';
    out_ += to_hex(b);
    out_ += '"';
  }
  void opt_hex(const std::optional<Bytes>& b) { b ? hex(*b) : null(); }
  // An object whose members are written by f, or an array when c is '['.
  template <class F>
  void object(F&& f, char c = '{') {
    open(c);
    f();
    close(c == '{' ? '}' : ']');
  }

private:
  void newline() {
    if (!pretty_) return;
    out_ += '\n';
    out_.append(depth_, ' ');
  }
  std::string& out_;
  bool pretty_;
  bool first_ = true;
  std::size_t depth_ = 0;
};

void put(Writer& w, std::uint64_t v) { w.num(v); }
void put(Writer& w, const Bytes& v) { w.hex(v); }
void put(Writer& w, const msg::MechList& l) {
  w.object([&] {
    for (const auto& m : l) {
      w.item();
      w.object([&] {
        w.key("name"); w.str(m.name);
        w.key("q"); w.num(m.q);
      });
    }
  }, '[');
}
void put(Writer& w, const flow::EdgeExchange& e) {
  w.object([&] {
    w.key("chosen"); w.str(e.chosen);
    w.key("ipc"); w.str(e.ipc);
    w.key("mechs"); put(w, e.mechs);
    w.key("n2"); w.opt_hex(e.n2);
    w.key("phase"); w.num(static_cast<std::uint64_t>(e.phase));
    w.key("rand"); w.opt_hex(e.rand);
    w.key("suite"); w.str(e.suite);
    w.key("term_n1"); w.hex(e.term_n1);
  });
}
void put(Writer& w, const flow::TermRegistration& r) {
  w.object([&] {
    w.key("chosen"); w.str(r.chosen);
    w.key("contact"); w.str(r.contact);
    w.key("flow"); w.str(msg::flow_name(r.flow));
    w.key("mechs"); put(w, r.mechs);
    w.key("n1"); w.hex(r.n1);
    w.key("peer"); w.str(r.peer);
    w.key("phase"); w.num(static_cast<std::uint64_t>(r.phase));
    w.key("rand"); w.opt_hex(r.rand);
    w.key("registered_at"); w.num(r.registered_at);
    w.key("suite"); w.str(r.suite);
  });
}
void put(Writer& w, const flow::Challenge& c) {
  w.object([&] {
    w.key("authenticator"); w.hex(c.authenticator);
    w.key("ekc"); w.hex(c.ekc);
    w.key("ekpeer"); w.hex(c.ekpeer);
    w.key("expires"); w.num(c.expires);
    w.key("rand"); w.hex(c.rand);
  });
}
void put(Writer& w, const flow::SwitchRegistration& r) {
  w.object([&] {
    w.key("challenge");
    if (r.challenge) put(w, *r.challenge);
    else w.null();
    w.key("edge"); put(w, r.edge);
    w.key("flow"); w.str(msg::flow_name(r.flow));
    w.key("ipc"); w.str(r.ipc);
    w.key("peer"); w.str(r.peer);
    w.key("suite"); w.str(r.suite);
  });
}
void put(Writer& w, const flow::Failures& f) {
  w.object([&] {
    w.key("count"); w.num(f.count);
    w.key("until"); w.num(f.until);
  });
}
void put(Writer& w, const flow::IssuedChallenge& c) {
  w.object([&] {
    w.key("answered"); w.boolean(c.answered);
    w.key("expires"); w.num(c.expires);
    w.key("flow"); w.str(msg::flow_name(c.flow));
    w.key("idc"); w.str(c.idc);
    w.key("peer"); w.str(c.peer);
    w.key("seq"); w.num(c.seq);
    w.key("suite"); w.str(c.suite);
  });
}
void put(Writer& w, const flow::AucRecord& r) {
  w.object([&] {
    w.key("at"); w.num(r.at);
    w.key("flow"); w.str(msg::flow_name(r.flow));
    w.key("ipc"); w.str(r.ipc);
    w.key("peer"); w.str(r.peer);
    w.key("suite"); w.str(r.suite);
  });
}
template <class Map>
void put_map(Writer& w, const Map& m) {
  w.object([&] {
    for (const auto* e : sorted_by_key(m)) {  // hash tables (TrackedMap), written in key order
      w.key(e->first);
      put(w, e->second);
    }
  });
}

}  // namespace

std::string encode_state(const flow::TermState& s) {
  std::string out;
  Writer w(out, true);
  w.object([&] {
    w.key("kd_state"); w.num(1);
    w.key("registrations"); put_map(w, s.regs.all());
    w.key("role"); w.str("term");
    w.key("seen_n2"); put_map(w, s.seen_n2.expiry.all());
  });
  return out + "\n";
}
std::string encode_state(const flow::ProxyState& s) {
  std::string out;
  Writer w(out, true);
  w.object([&] {
    w.key("exchanges"); put_map(w, s.exchanges.all());
    w.key("kd_state"); w.num(1);
    w.key("role"); w.str("proxy");
    w.key("seen_n1"); put_map(w, s.seen_n1.expiry.all());
  });
  return out + "\n";
}
std::string encode_state(const flow::SwitchState& s, const KeptRequests& requests) {
  std::string out;
  Writer w(out, true);
  w.object([&] {
    w.key("failures"); put_map(w, s.failures.all());
    w.key("kd_state"); w.num(1);
    w.key("registrations"); put_map(w, s.regs.all());
    if (!requests.empty()) {
      w.key("requests"); put_map(w, requests.all());
    }
    w.key("role"); w.str("switch");
    w.key("seen_n1"); put_map(w, s.seen_n1.expiry.all());
    w.key("used_rands"); put_map(w, s.used_rands.all());
  });
  return out + "\n";
}
std::string encode_state(const flow::AucState& s) {
  std::string out;
  Writer w(out, true);
  w.object([&] {
    w.key("issued"); put_map(w, s.issued.all().all());
    w.key("kd_state"); w.num(1);
    w.key("registered"); put_map(w, s.registered.all());
    w.key("role"); w.str("auc");
  });
  return out + "\n";
}

namespace {

// Each state's tracked members, by the name its file gives them: f(name, map).

template <class S, class F>
void members(S& s, F&& f) {
  using State = std::remove_const_t<S>;
  if constexpr (std::is_same_v<State, flow::TermState>) {
    f("registrations", s.regs);
    f("seen_n2", s.seen_n2.expiry);
  } else if constexpr (std::is_same_v<State, flow::ProxyState>) {
    f("exchanges", s.exchanges);
    f("seen_n1", s.seen_n1.expiry);
  } else if constexpr (std::is_same_v<State, flow::SwitchState>) {
    f("registrations", s.regs);
    f("failures", s.failures);
    f("used_rands", s.used_rands);
    f("seen_n1", s.seen_n1.expiry);
  } else {
    static_assert(std::is_same_v<State, flow::AucState>);
    if constexpr (std::is_const_v<S>) f("issued", s.issued.all());
    else f("issued", s.issued.tracked());
    f("registered", s.registered);
  }
}

template <class S>
std::string changes_of(const S& s, const KeptRequests* requests) {
  // Each member's changes, then the members in key order, as a JSON object keeps them.
  std::vector<std::pair<std::string_view, std::string>> parts;
  auto put_changes = [&parts](const char* name, const auto& map) {
    std::string text;
    Writer w(text, false);
    w.open('{');
    map.changes([&w](const std::string& key, const auto* now) {
      w.key(key);
      if (now) put(w, *now);
      else w.null();
    });
    if (text.size() > 1) parts.emplace_back(name, std::move(text));
  };
  members(s, put_changes);
  if (requests) put_changes("requests", *requests);
  std::sort(parts.begin(), parts.end());
  std::string out;
  Writer w(out, false);
  w.object([&] {
    for (auto& [name, text] : parts) {
      w.key(name);
      out += text;
      out += '}';
    }
  });
  return out;
}
template <class S>
bool changed_of(const S& s) {
  bool any = false;
  members(s, [&any](const char*, const auto& map) { any = any || map.changed(); });
  return any;
}
template <class S>
void saved(S& s) {
  members(s, [](const char*, auto& map) { map.mark_saved(); });
}

}  // namespace

std::string encode_state_changes(const flow::TermState& s) { return changes_of(s, nullptr); }
std::string encode_state_changes(const flow::ProxyState& s) { return changes_of(s, nullptr); }
std::string encode_state_changes(const flow::SwitchState& s, const KeptRequests& requests) {
  return changes_of(s, &requests);
}
std::string encode_state_changes(const flow::AucState& s) { return changes_of(s, nullptr); }
bool state_changed(const flow::TermState& s) { return changed_of(s); }
bool state_changed(const flow::ProxyState& s) { return changed_of(s); }
bool state_changed(const flow::SwitchState& s, const KeptRequests& requests) {
  return changed_of(s) || requests.changed();
}
bool state_changed(const flow::AucState& s) { return changed_of(s); }
void mark_state_saved(flow::TermState& s) { saved(s); }
void mark_state_saved(flow::ProxyState& s) { saved(s); }
void mark_state_saved(flow::SwitchState& s, KeptRequests& requests) {
  saved(s);
  requests.mark_saved();
}
void mark_state_saved(flow::AucState& s) { saved(s); }

Result<std::string> apply_state_changes(std::string_view state_text, std::span<const std::string> changes) {
  json st;
  if (auto r = parse_strict(state_text, st); !r) return err(Code::malformed, "state file: " + r.error().detail);
  if (!st.is_object() || !st.contains("kd_state") || !st.contains("role"))
    return err(Code::malformed, "not a kd state file (want {\"kd_state\":1,...})");
  for (const auto& text : changes) {
    json ch;
    if (auto r = parse_strict(text, ch); !r) return err(Code::malformed, "state changes: " + r.error().detail);
    if (!ch.is_object()) return err(Code::malformed, "state changes must be a JSON object");
    for (auto& [member, entries] : ch.items()) {
      if (member == "kd_state" || member == "role" || !entries.is_object())
        return err(Code::malformed, "state changes: member \"" + member + "\" is not a map of entries");
      json& target = st[member];
      if (target.is_null()) target = json::object();  // "requests" is absent while empty
      if (!target.is_object()) return err(Code::malformed, "state file: member \"" + member + "\" is not an object");
      for (auto& [key, value] : entries.items()) {
        if (value.is_null()) target.erase(key);
        else target[key] = value;
      }
      if (member == "requests" && target.empty()) st.erase("requests");
    }
  }
  return st.dump(1) + "\n";
}

}  // namespace kd::json
