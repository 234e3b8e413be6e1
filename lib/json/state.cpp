// The role state files (state.hpp): written by a direct writer (Writer, below), read by a reader
// that knows each member (Node, below) and says which one is wrong in kd's words.
#include "json/state.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>
#include <functional>
#include <optional>
#include <span>
#include <tuple>
#include <type_traits>
#include <vector>

#include "json/internal.hpp"
#include "msg/suite.hpp"

namespace kd::json {

namespace {

// What is wrong with a state file, and where (thrown while reading it, caught by decode_state).
struct Damaged {
  std::string detail;
};

// A value of a state file and where it sits, so that an error names the member the way jq does
// (".registrations.alice.n1") and a user can look at it, or mend it, with jq. The path is built only
// for an error: a service's state file holds a record per terminal.
class Node {
public:
  explicit Node(const json& j) : j_(j) {}

  [[noreturn]] void fail(std::string_view what) const { throw Damaged{path() + " " + std::string(what)}; }

  // An object whose members are all among known (those not in optional must be there): a member kd
  // does not know is refused, as the keystore refuses one (kd would drop it in rewriting the file,
  // and it may mean something this version cannot honour).
  void members(std::initializer_list<std::string_view> known, std::initializer_list<std::string_view> optional = {}) const {
    if (!j_.is_object()) fail("must be an object");
    for (auto it = j_.begin(); it != j_.end(); ++it)
      if (std::find(known.begin(), known.end(), it.key()) == known.end() &&
          std::find(optional.begin(), optional.end(), it.key()) == optional.end())
        child(it.value(), it.key()).fail("is not a member kd knows");
    for (auto k : known)
      if (!j_.contains(k)) child(j_, k).fail("is missing");
  }
  bool has(std::string_view key) const { return j_.contains(key); }
  Node operator[](std::string_view key) const { return child(j_.find(key).value(), key); }
  // Each member of an object: f(key, node).
  template <class F>
  void each(F&& f) const {
    if (!j_.is_object()) fail("must be an object");
    for (auto it = j_.begin(); it != j_.end(); ++it) f(it.key(), child(it.value(), it.key()));
  }
  template <class F>
  void each_element(F&& f) const {
    if (!j_.is_array()) fail("must be an array");
    for (std::size_t i = 0; i < j_.size(); ++i) f(Node(j_[i], this, {}, i));
  }

  bool is_null() const { return j_.is_null(); }
  std::string str() const {
    if (!j_.is_string()) fail("must be a string");
    return j_.get<std::string>();
  }
  bool boolean() const {
    if (!j_.is_boolean()) fail("must be true or false");
    return j_.get<bool>();
  }
  // Numbers of a state file are non-negative integers within range, or the file is damaged
  // (nlohmann's get<unsigned>() would wrap -5 to 2^64-5, a challenge that never expires).
  std::uint64_t num(std::uint64_t max = UINT64_MAX) const {
    if (!j_.is_number_unsigned() || j_.get<std::uint64_t>() > max) fail("must be an integer from 0 to " + std::to_string(max));
    return j_.get<std::uint64_t>();
  }
  Bytes hex() const {
    auto b = hex_field(j_, "");
    if (!b) throw Damaged{path() + b.error().detail};
    return std::move(*b);
  }
  std::optional<Bytes> opt_hex() const {
    if (j_.is_null()) return std::nullopt;
    return hex();
  }
  msg::Flow flow() const {
    auto f = j_.is_string() ? msg::parse_flow(j_.get_ref<const std::string&>()) : std::nullopt;
    if (!f) fail("must be \"proxied\" or \"direct\"");
    return *f;
  }

  // Values checked for meaning with the rules the messages and options follow (msg::check_identity,
  // check_ip, check_mech_list, the suite catalogue, the fields' lengths): a value kd would refuse in
  // a message is refused in its state, not taken and refused later in other words (a Rand of the
  // wrong length as bad_seal), or sent on (an empty IPc in the "registered" event).
  void require(const Status& st) const {
    if (!st) fail("is not valid: " + st.error().detail);
  }
  std::string identity(std::string_view what) const {
    std::string s = str();
    require(msg::check_identity(what, s));
    return s;
  }
  std::string ip() const {
    std::string s = str();
    require(msg::check_ip(s));
    return s;
  }
  std::string suite() const {
    std::string s = str();
    if (!msg::find_suite(s)) fail("is not valid: unknown suite \"" + s + "\"");
    return s;
  }
  // A mechanism's name, or "" before one is chosen.
  std::string chosen() const {
    std::string s = str();
    if (!s.empty()) require(msg::check_mech_name(s));
    return s;
  }
  Bytes hex(std::size_t len) const {
    Bytes b = hex();
    if (b.size() != len) fail("must be " + std::to_string(len) + " bytes (" + std::to_string(2 * len) + " hex digits)");
    return b;
  }
  std::optional<Bytes> opt_hex(std::size_t len) const {
    if (j_.is_null()) return std::nullopt;
    return hex(len);
  }

private:
  Node(const json& j, const Node* parent, std::string_view key, std::size_t index = 0)
      : j_(j), parent_(parent), key_(key), index_(index) {}
  Node child(const json& j, std::string_view key) const { return Node(j, this, key); }

  std::string path() const {
    if (!parent_) return ".";
    std::string p = parent_->parent_ ? parent_->path() : std::string();
    if (key_.data() == nullptr) return p + "[" + std::to_string(index_) + "]";
    const bool plain = !key_.empty() && !(key_[0] >= '0' && key_[0] <= '9') &&
                       std::all_of(key_.begin(), key_.end(), [](char c) {
                         return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
                       });
    // Quoted as is: the line is escaped where printed (kd::printable), once.
    return p + "." + (plain ? std::string(key_) : "\"" + std::string(key_) + "\"");
  }

  const json& j_;
  const Node* parent_ = nullptr;
  std::string_view key_;  // no data: an array element, index_
  std::size_t index_ = 0;
};

constexpr std::uint64_t kMaxSeq = std::uint64_t{1} << 62;  // so that the next number never wraps

// The keys of the maps: an IDc, or a nonce or Rand in lowercase hex (HexKey writes them so, and
// looks them up so: another spelling would never match).
void idc_key(const std::string& k, const Node& at) { at.require(msg::check_identity("IDc", k)); }
void hex_key(const std::string& k, const Node& at) {
  static_assert(msg::kNonceLen == msg::kRandLen);
  const bool ok = k.size() == 2 * msg::kNonceLen &&
                  std::all_of(k.begin(), k.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
  if (!ok)
    at.fail("must be " + std::to_string(msg::kNonceLen) + " bytes in lowercase hex (" + std::to_string(2 * msg::kNonceLen) +
            " digits)");
}

TrackedMap<std::uint64_t>::Map expiry_map(const Node& n) {
  TrackedMap<std::uint64_t>::Map m;
  n.each([&m](const std::string& k, const Node& v) {
    hex_key(k, v);
    m.emplace_hint(m.end(), k, v.num());
  });
  return m;
}
template <class V, class K, class F>
typename TrackedMap<V>::Map map_of(const Node& n, K&& check_key, F&& read) {
  typename TrackedMap<V>::Map m;
  n.each([&](const std::string& k, const Node& v) {
    check_key(k, v);
    m.emplace_hint(m.end(), k, read(v));
  });
  return m;
}

// The peer a record names: the proxy's IDsp in the proxied flow, the switch's IDss in the direct.
std::string_view peer_field(msg::Flow f) {
  return msg::field_name(f == msg::Flow::proxied ? msg::Field::IDsp : msg::Field::IDss);
}

// A mechanism list as SecMechList carries it; empty where none has come yet (an exchange before
// the terminal's answer) when allow_empty.
msg::MechList mechs_of(const Node& n, bool allow_empty = false) {
  msg::MechList l;
  n.each_element([&l](const Node& m) {
    m.members({"name", "q"});
    l.push_back({m["name"].str(), static_cast<std::uint16_t>(m["q"].num(1000))});
  });
  if (!l.empty() || !allow_empty) n.require(msg::check_mech_list(l));
  return l;
}

// The terminal-facing half of an exchange. The switch keeps one in the proxied flow too, empty (the
// proxy holds that half): there every member is read for its type and the whole must be empty.
flow::EdgeExchange edge_of(const Node& n, bool empty = false) {
  n.members({"chosen", "ipc", "mechs", "n2", "phase", "rand", "suite", "term_n1"});
  flow::EdgeExchange e;
  e.phase = static_cast<flow::EdgeExchange::Phase>(n["phase"].num(2));
  if (empty) {
    e.suite = n["suite"].str();
    e.ipc = n["ipc"].str();
    e.term_n1 = n["term_n1"].hex();
    e.n2 = n["n2"].opt_hex();
    e.rand = n["rand"].opt_hex();
    e.mechs = mechs_of(n["mechs"], true);
    e.chosen = n["chosen"].str();
    if (!(e == flow::EdgeExchange{})) n.fail("must be an empty exchange in the proxied flow");
    return e;
  }
  e.suite = n["suite"].suite();
  e.ipc = n["ipc"].ip();
  e.term_n1 = n["term_n1"].hex(msg::kNonceLen);
  e.n2 = n["n2"].opt_hex(msg::kNonceLen);
  e.rand = n["rand"].opt_hex(msg::kRandLen);
  e.mechs = mechs_of(n["mechs"], true);
  e.chosen = n["chosen"].chosen();
  return e;
}

flow::TermRegistration term_registration_of(const Node& n) {
  n.members({"chosen", "contact", "flow", "mechs", "n1", "peer", "phase", "rand", "registered_at", "suite"});
  flow::TermRegistration r;
  r.phase = static_cast<flow::TermRegistration::Phase>(n["phase"].num(2));
  r.flow = n["flow"].flow();
  r.suite = n["suite"].suite();
  r.peer = n["peer"].identity(peer_field(r.flow));
  r.contact = n["contact"].ip();
  r.mechs = mechs_of(n["mechs"]);
  r.n1 = n["n1"].hex(msg::kNonceLen);
  r.rand = n["rand"].opt_hex(msg::kRandLen);
  r.chosen = n["chosen"].chosen();
  r.registered_at = n["registered_at"].num();
  return r;
}

// A live challenge at the switch: the lengths are its suite's, as the messages that carry it.
flow::Challenge challenge_of(const Node& n, const msg::Suite& suite) {
  n.members({"authenticator", "ekc", "ekpeer", "expires", "rand"});
  const std::size_t sealed_len = msg::kAeadNonceLen + suite.key_len + msg::kAeadTagLen;
  flow::Challenge c;
  c.rand = n["rand"].hex(msg::kRandLen);
  c.authenticator = n["authenticator"].hex(suite.auth_len);
  c.ekc = n["ekc"].hex(sealed_len);
  c.ekpeer = n["ekpeer"].hex(sealed_len);
  c.expires = n["expires"].num();
  return c;
}

flow::SwitchRegistration switch_registration_of(const Node& n) {
  n.members({"challenge", "edge", "flow", "ipc", "peer", "suite"});
  flow::SwitchRegistration r;
  r.flow = n["flow"].flow();
  r.suite = n["suite"].suite();
  r.peer = n["peer"].identity(peer_field(r.flow));
  r.ipc = n["ipc"].ip();
  if (!n["challenge"].is_null()) r.challenge = challenge_of(n["challenge"], *msg::find_suite(r.suite));
  r.edge = edge_of(n["edge"], r.flow == msg::Flow::proxied);
  return r;
}

flow::Failures failures_of(const Node& n) {
  n.members({"count", "until"});
  return flow::Failures{static_cast<std::uint32_t>(n["count"].num(UINT32_MAX)), n["until"].num()};
}

flow::IssuedChallenge issued_of(const Node& n) {
  // "seq" is absent from files written before challenges were numbered: decode_auc_state numbers them.
  n.members({"answered", "expires", "flow", "idc", "peer", "suite"}, {"seq"});
  flow::IssuedChallenge c;
  c.flow = n["flow"].flow();
  c.idc = n["idc"].identity("IDc");
  c.peer = n["peer"].identity(peer_field(c.flow));
  c.suite = n["suite"].suite();
  c.expires = n["expires"].num();
  c.answered = n["answered"].boolean();
  if (n.has("seq")) {
    c.seq = n["seq"].num(kMaxSeq);
    if (c.seq == 0) n["seq"].fail("must be an integer from 1 to " + std::to_string(kMaxSeq));
  }
  return c;
}

flow::AucRecord auc_record_of(const Node& n) {
  n.members({"at", "flow", "ipc", "peer", "suite"});
  flow::AucRecord r;
  r.flow = n["flow"].flow();
  r.peer = n["peer"].identity(peer_field(r.flow));
  r.ipc = n["ipc"].ip();
  r.suite = n["suite"].suite();
  r.at = n["at"].num();
  return r;
}

template <class State>
Result<State> decode_state(std::string_view text, std::string_view role, const std::function<void(const Node&, State&)>& fill) {
  json j;
  if (auto s = parse_strict(text, j); !s) return s.error();
  if (j.is_object() && j.contains("kd_state"))
    if (auto v = other_version(j["kd_state"], "state file")) return err(Code::malformed, *v);
  if (!j.is_object() || !j.contains("kd_state") || !is_version_one(j["kd_state"]))
    return err(Code::malformed, "not a kd state file (want {\"kd_state\":1,...})");
  if (!j.contains("role")) return err(Code::malformed, "damaged: .role is missing");
  if (!j["role"].is_string()) return err(Code::malformed, "damaged: .role must be a string");
  if (j["role"] != role)
    return err(Code::malformed,
               "this state file belongs to the " + j["role"].get<std::string>() + ", not the " + std::string(role));
  try {
    State s;
    fill(Node(j), s);
    return s;
  } catch (const Damaged& d) {
    return err(Code::malformed, "damaged: " + d.detail);
  }
}

}  // namespace

Result<flow::TermState> decode_term_state(std::string_view text) {
  return decode_state<flow::TermState>(text, "term", [](const Node& n, flow::TermState& s) {
    n.members({"kd_state", "registrations", "role", "seen_n2"});
    s.regs.reset(map_of<flow::TermRegistration>(n["registrations"], idc_key, term_registration_of));
    s.seen_n2.expiry.reset(expiry_map(n["seen_n2"]));
  });
}
Result<flow::ProxyState> decode_proxy_state(std::string_view text) {
  return decode_state<flow::ProxyState>(text, "proxy", [](const Node& n, flow::ProxyState& s) {
    n.members({"exchanges", "kd_state", "role", "seen_n1"});
    s.exchanges.reset(map_of<flow::EdgeExchange>(n["exchanges"], idc_key, [](const Node& x) { return edge_of(x); }));
    s.seen_n1.expiry.reset(expiry_map(n["seen_n1"]));
  });
}
Result<flow::SwitchState> decode_switch_state(std::string_view text, KeptRequests* requests) {
  KeptRequests::Map kept;
  auto st = decode_state<flow::SwitchState>(text, "switch", [&kept](const Node& n, flow::SwitchState& s) {
    // "requests" only while a SIP request waits for its answer
    n.members({"failures", "kd_state", "registrations", "role", "seen_n1", "used_rands"}, {"requests"});
    s.regs.reset(map_of<flow::SwitchRegistration>(n["registrations"], idc_key, switch_registration_of));
    s.failures.reset(map_of<flow::Failures>(n["failures"], idc_key, failures_of));
    s.used_rands.reset(expiry_map(n["used_rands"]));
    s.seen_n1.expiry.reset(expiry_map(n["seen_n1"]));
    if (n.has("requests"))
      kept = map_of<Bytes>(n["requests"], idc_key, [](const Node& w) {
        Bytes b = w.hex();
        if (b.empty()) w.fail("must not be empty");
        return b;
      });
  });
  if (st && requests) requests->reset(std::move(kept));
  return st;
}
Result<flow::AucState> decode_auc_state(std::string_view text) {
  return decode_state<flow::AucState>(text, "auc", [](const Node& n, flow::AucState& s) {
    n.members({"issued", "kd_state", "registered", "role"});
    // Numbered challenges in issue order, then those of a file written before challenges were
    // numbered, oldest expiry first (ties by Rand); add() numbers these and applies the bound.
    std::vector<std::pair<std::string, flow::IssuedChallenge>> all;
    n["issued"].each([&all](const std::string& rand, const Node& c) {
      hex_key(rand, c);
      all.emplace_back(rand, issued_of(c));
    });
    std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) {
      return std::tuple(a.second.seq == 0, a.second.seq, a.second.expires, a.first) <
             std::tuple(b.second.seq == 0, b.second.seq, b.second.expires, b.first);
    });
    for (auto& [rand, c] : all) s.issued.add(rand, std::move(c));
    s.issued.tracked().mark_saved();  // as loaded: nothing changed
    s.registered.reset(map_of<flow::AucRecord>(n["registered"], idc_key, auc_record_of));
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
    // A short plain key, its quotes and the colon in one append (a batch's changes are mostly keys).
    if (k.size() <= kShort && plain(k)) {
      char b[kShort + 4];
      b[0] = '"';
      if (!k.empty()) std::memcpy(b + 1, k.data(), k.size());  // (no null pointer to memcpy)
      std::size_t n = k.size() + 1;
      b[n++] = '"';
      b[n++] = ':';
      if (pretty_) b[n++] = ' ';
      out_.append(b, n);
      return;
    }
    str(k);
    out_.append(pretty_ ? ": " : ":", pretty_ ? 2 : 1);
  }
  void item() {  // before an array's element (key() does it for a member)
    if (!first_) out_ += ',';
    first_ = false;
    newline();
  }
  void str(std::string_view v) {
    if (!plain(v)) {
      out_ += json(std::string(v)).dump();
      return;
    }
    // The quotes and the text in one append: two push_backs and an append per string were most of
    // the cost of writing a batch's changes (callgrind, kd-proxy serve).
    if (v.size() <= kShort) {
      char b[kShort + 2];
      b[0] = '"';
      if (!v.empty()) std::memcpy(b + 1, v.data(), v.size());
      b[v.size() + 1] = '"';
      out_.append(b, v.size() + 2);
      return;
    }
    const std::size_t at = out_.size();
    out_.resize(at + v.size() + 2);
    char* p = out_.data() + at;
    *p = '"';
    std::memcpy(p + 1, v.data(), v.size());
    p[v.size() + 1] = '"';
  }
  void num(std::uint64_t v) {
    char buf[24];
    const auto r = std::to_chars(buf, buf + sizeof buf, v);
    out_.append(buf, r.ptr);
  }
  void boolean(bool v) { out_ += v ? "true" : "false"; }
  void null() { out_ += "null"; }
  void hex(const Bytes& b) {  // straight into out_, without a string of its own
    const std::size_t at = out_.size();
    out_.resize(at + 2 * b.size() + 2);
    char* p = out_.data() + at;
    *p = '"';
    to_hex(b, std::span<char>(p + 1, 2 * b.size()));
    p[2 * b.size() + 1] = '"';
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
  static constexpr std::size_t kShort = 60;  // a string written through a buffer on the stack
  // Printable ASCII but for '"' and '\\': written as it is.
  static constexpr std::array<bool, 256> kPlain = [] {
    std::array<bool, 256> t{};
    for (int c = 0x20; c < 0x7f; ++c) t[static_cast<std::size_t>(c)] = c != '"' && c != '\\';
    return t;
  }();
  static bool plain(std::string_view v) {
    for (const char c : v)
      if (!kPlain[static_cast<unsigned char>(c)]) return false;
    return true;
  }
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

// Each state's tracked members, by the name its file gives them, in that name's order (what
// changes_into writes them in): f(name, map).

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
    f("failures", s.failures);
    f("registrations", s.regs);
    f("seen_n1", s.seen_n1.expiry);
    f("used_rands", s.used_rands);
  } else {
    static_assert(std::is_same_v<State, flow::AucState>);
    if constexpr (std::is_const_v<S>) f("issued", s.issued.all());
    else f("issued", s.issued.tracked());
    f("registered", s.registered);
  }
}

// Each member's changes written straight into out, the members in key order as a JSON object
// keeps them (members() lists them so; "requests" goes in its place among them), a member without
// changes left out: no string per member, no sorting, no copy of the whole.
template <class S>
void changes_into(std::string& out, const S& s, const KeptRequests* requests) {
  out += '{';
  bool first = true;
  auto put_changes = [&out, &first](std::string_view name, const auto& map) {
    const std::size_t at = out.size();
    if (!first) out += ',';
    Writer w(out, false);
    w.str(name);
    out += ':';
    w.open('{');
    bool any = false;
    map.changes([&w, &any](const std::string& key, const auto* now) {
      any = true;
      w.key(key);
      if (now) put(w, *now);
      else w.null();
    });
    if (!any) return out.resize(at);
    w.close('}');
    first = false;
  };
  bool requests_done = requests == nullptr;
  members(s, [&](std::string_view name, const auto& map) {
    if (!requests_done && name > "requests") {
      put_changes("requests", *requests);
      requests_done = true;
    }
    put_changes(name, map);
  });
  if (!requests_done) put_changes("requests", *requests);
  out += '}';
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
template <class S>
void tracking(S& s, bool on) {
  members(s, [on](const char*, auto& map) { map.set_tracking(on); });
}

}  // namespace

void append_state_changes(std::string& out, const flow::TermState& s) { changes_into(out, s, nullptr); }
void append_state_changes(std::string& out, const flow::ProxyState& s) { changes_into(out, s, nullptr); }
void append_state_changes(std::string& out, const flow::SwitchState& s, const KeptRequests& requests) {
  changes_into(out, s, &requests);
}
void append_state_changes(std::string& out, const flow::AucState& s) { changes_into(out, s, nullptr); }
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
void track_state_changes(flow::TermState& s, bool on) { tracking(s, on); }
void track_state_changes(flow::ProxyState& s, bool on) { tracking(s, on); }
void track_state_changes(flow::SwitchState& s, KeptRequests& requests, bool on) {
  tracking(s, on);
  requests.set_tracking(on);
}
void track_state_changes(flow::AucState& s, bool on) { tracking(s, on); }

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
