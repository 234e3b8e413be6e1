// The role state files (state.hpp): written with nlohmann's ADL hooks; read through them inside a
// try block, since a state file that does not parse is reported, not thrown.
#include "json/state.hpp"

#include <algorithm>
#include <functional>
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

static json hex(const Bytes& b) { return to_hex(b); }
static Bytes unhex(const json& j) {
  auto b = from_hex(j.get<std::string>());
  if (!b) throw std::runtime_error("bad hex in state");
  return *b;
}
static json opt_hex(const std::optional<Bytes>& b) { return b ? json(to_hex(*b)) : json(nullptr); }
static std::optional<Bytes> opt_unhex(const json& j) {
  if (j.is_null()) return std::nullopt;
  return unhex(j);
}

static json mechs_json(const msg::MechList& l) {
  json a = json::array();
  for (const auto& m : l) a.push_back({{"name", m.name}, {"q", m.q}});
  return a;
}
static msg::MechList mechs_from(const json& a) {
  msg::MechList l;
  for (const auto& m : a) l.push_back({m.at("name").get<std::string>(), static_cast<std::uint16_t>(u64(m.at("q"), 1000))});
  return l;
}
static json flow_json(msg::Flow f) { return msg::flow_name(f); }
static msg::Flow flow_from(const json& j) {
  auto f = msg::parse_flow(j.get<std::string>());
  if (!f) throw std::runtime_error("bad flow in state");
  return *f;
}

void to_json(json& j, const ReplayCache& c) { j = c.expiry.all(); }
void from_json(const json& j, ReplayCache& c) { c.expiry.reset(expiry_map(j)); }

void to_json(json& j, const EdgeExchange& e) {
  j = {{"phase", static_cast<int>(e.phase)}, {"suite", e.suite}, {"ipc", e.ipc},
       {"term_n1", hex(e.term_n1)}, {"n2", opt_hex(e.n2)}, {"rand", opt_hex(e.rand)},
       {"mechs", mechs_json(e.mechs)}, {"chosen", e.chosen}};
}
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

void to_json(json& j, const TermRegistration& r) {
  j = {{"phase", static_cast<int>(r.phase)}, {"flow", flow_json(r.flow)}, {"suite", r.suite},
       {"peer", r.peer}, {"contact", r.contact}, {"mechs", mechs_json(r.mechs)}, {"n1", hex(r.n1)},
       {"rand", opt_hex(r.rand)}, {"chosen", r.chosen}, {"registered_at", r.registered_at}};
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

void to_json(json& j, const Challenge& c) {
  j = {{"rand", hex(c.rand)}, {"authenticator", hex(c.authenticator)}, {"ekc", hex(c.ekc)},
       {"ekpeer", hex(c.ekpeer)}, {"expires", c.expires}};
}
void from_json(const json& j, Challenge& c) {
  c.rand = unhex(j.at("rand"));
  c.authenticator = unhex(j.at("authenticator"));
  c.ekc = unhex(j.at("ekc"));
  c.ekpeer = unhex(j.at("ekpeer"));
  c.expires = u64(j.at("expires"));
}

void to_json(json& j, const SwitchRegistration& r) {
  j = {{"flow", flow_json(r.flow)}, {"suite", r.suite}, {"peer", r.peer}, {"ipc", r.ipc},
       {"challenge", r.challenge ? json(*r.challenge) : json(nullptr)},
       {"edge", r.edge}};
}
void from_json(const json& j, SwitchRegistration& r) {
  r.flow = flow_from(j.at("flow"));
  r.suite = j.at("suite").get<std::string>();
  r.peer = j.at("peer").get<std::string>();
  r.ipc = j.at("ipc").get<std::string>();
  if (!j.at("challenge").is_null()) r.challenge = j.at("challenge").get<Challenge>();
  r.edge = j.at("edge").get<EdgeExchange>();
}

void to_json(json& j, const Failures& f) { j = {{"count", f.count}, {"until", f.until}}; }
void from_json(const json& j, Failures& f) {
  f.count = static_cast<std::uint32_t>(u64(j.at("count"), UINT32_MAX));
  f.until = u64(j.at("until"));
}

void to_json(json& j, const IssuedChallenge& c) {
  j = {{"idc", c.idc}, {"peer", c.peer}, {"suite", c.suite}, {"flow", flow_json(c.flow)},
       {"expires", c.expires}, {"answered", c.answered}, {"seq", c.seq}};
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

void to_json(json& j, const AucRecord& r) {
  j = {{"peer", r.peer}, {"ipc", r.ipc}, {"suite", r.suite}, {"flow", flow_json(r.flow)}, {"at", r.at}};
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

json state_head(std::string_view role) { return json{{"kd_state", 1}, {"role", role}}; }

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

std::string encode_state(const flow::TermState& s) {
  json j = state_head("term");
  j["registrations"] = s.regs.all();
  j["seen_n2"] = s.seen_n2;
  return j.dump(1) + "\n";
}
std::string encode_state(const flow::ProxyState& s) {
  json j = state_head("proxy");
  j["exchanges"] = s.exchanges.all();
  j["seen_n1"] = s.seen_n1;
  return j.dump(1) + "\n";
}
std::string encode_state(const flow::SwitchState& s, const KeptRequests& requests) {
  json j = state_head("switch");
  j["registrations"] = s.regs.all();
  j["failures"] = s.failures.all();
  j["used_rands"] = s.used_rands.all();
  j["seen_n1"] = s.seen_n1;
  if (!requests.empty()) {
    json r = json::object();
    for (const auto& [idc, wire] : requests) r[idc] = to_hex(wire);
    j["requests"] = r;
  }
  return j.dump(1) + "\n";
}
std::string encode_state(const flow::AucState& s) {
  json j = state_head("auc");
  j["issued"] = s.issued.all().all();
  j["registered"] = s.registered.all();
  return j.dump(1) + "\n";
}

namespace {

// Each state's tracked members, by the name its file gives them: f(name, map, encode) with encode
// turning an entry's value into its JSON.
const auto as_json = [](const auto& v) { return json(v); };
const auto as_hex = [](const Bytes& v) { return json(to_hex(v)); };

template <class S, class F>
void members(S& s, F&& f) {
  using State = std::remove_const_t<S>;
  if constexpr (std::is_same_v<State, flow::TermState>) {
    f("registrations", s.regs, as_json);
    f("seen_n2", s.seen_n2.expiry, as_json);
  } else if constexpr (std::is_same_v<State, flow::ProxyState>) {
    f("exchanges", s.exchanges, as_json);
    f("seen_n1", s.seen_n1.expiry, as_json);
  } else if constexpr (std::is_same_v<State, flow::SwitchState>) {
    f("registrations", s.regs, as_json);
    f("failures", s.failures, as_json);
    f("used_rands", s.used_rands, as_json);
    f("seen_n1", s.seen_n1.expiry, as_json);
  } else {
    static_assert(std::is_same_v<State, flow::AucState>);
    if constexpr (std::is_const_v<S>) f("issued", s.issued.all(), as_json);
    else f("issued", s.issued.tracked(), as_json);
    f("registered", s.registered, as_json);
  }
}

template <class S>
std::string changes_of(const S& s, const KeptRequests* requests) {
  json out = json::object();
  auto put = [&out](const char* name, const auto& map, const auto& encode) {
    map.changes([&](const std::string& key, const auto* now) { out[name][key] = now ? encode(*now) : json(nullptr); });
  };
  members(s, put);
  if (requests) put("requests", *requests, as_hex);
  return out.dump();
}
template <class S>
bool changed_of(const S& s) {
  bool any = false;
  members(s, [&any](const char*, const auto& map, const auto&) { any = any || map.changed(); });
  return any;
}
template <class S>
void saved(S& s) {
  members(s, [](const char*, auto& map, const auto&) { map.mark_saved(); });
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
