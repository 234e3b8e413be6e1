#include "vectors/files.hpp"

#include <limits>
#include <set>

#include <nlohmann/json.hpp>

#include "flow/policy.hpp"
#include "json/message.hpp"

namespace kd::vectors {

using oj = nlohmann::ordered_json;

namespace {

// A member of a vector file with its path as jq(1) writes it (.keys[0].id), so that a member that is
// missing or of the wrong type is named in kd's words, never in nlohmann's ("type must be string,
// but is number", which said neither which member nor where).
class Node {
public:
  Node(const oj& j, std::string path) : j_(j), path_(std::move(path)) {}
  const oj& json() const { return j_; }
  const std::string& path() const { return path_; }
  [[noreturn]] void fail(const std::string& what) const {
    throw std::runtime_error((path_.empty() ? std::string("the file") : path_) + " " + what);
  }
  bool has(const char* key) const { return j_.is_object() && j_.contains(key); }
  // The member KEY, which must be there.
  Node operator[](const char* key) const {
    if (!j_.is_object()) fail("must be an object");
    auto it = j_.find(key);
    if (it == j_.end()) throw std::runtime_error(path_ + "." + key + " is missing");
    return {*it, path_ + "." + key};
  }
  std::string str() const { return as<std::string>(j_.is_string(), "must be a string"); }
  bool boolean() const { return as<bool>(j_.is_boolean(), "must be true or false"); }
  std::vector<Node> items() const {
    if (!j_.is_array()) fail("must be an array");
    std::vector<Node> out;
    for (std::size_t i = 0; i < j_.size(); ++i) out.emplace_back(j_[i], path_ + "[" + std::to_string(i) + "]");
    return out;
  }
  std::vector<std::pair<std::string, Node>> members() const {
    if (!j_.is_object()) fail("must be an object");
    std::vector<std::pair<std::string, Node>> out;
    for (const auto& [k, v] : j_.items()) out.emplace_back(k, Node(v, path_ + "[" + oj(k).dump() + "]"));
    return out;
  }

private:
  // The value as a T when it is of the type asked for (is_type), or the error that names it.
  template <class T>
  T as(bool is_type, const char* wrong) const {
    if (!is_type) fail(wrong);
    return j_.get<T>();
  }

  const oj& j_;
  std::string path_;
};

// A number of a vector file, as strict as the tools' options: a whole number in [lo, hi] (nlohmann
// would wrap a negative one and truncate a fraction).
std::uint64_t whole(const Node& n, std::uint64_t lo, std::uint64_t hi = std::numeric_limits<std::uint64_t>::max()) {
  const oj& j = n.json();
  if (!j.is_number_unsigned() || j.get<std::uint64_t>() < lo || j.get<std::uint64_t>() > hi)
    n.fail("must be a whole number from " + std::to_string(lo) + " to " + std::to_string(hi));
  return j.get<std::uint64_t>();
}


const char* kPositiveSchema = "kd_positive.schema.json";
const char* kNegativeSchema = "kd_negative.schema.json";

std::string role_str(msg::Role r) { return std::string(msg::role_name(r)); }
msg::Role role_of(const Node& n) {
  auto r = msg::parse_role(n.str());
  if (!r) n.fail("is an unknown role: " + n.str());
  return *r;
}

void put_setup(oj& j, const Setup& s) {
  j["suite"] = s.suite;
  j["flow"] = msg::flow_name(s.flow);
  j["binding"] = s.binding;
  if (s.binding != "json") j["radius_secret"] = s.radius_secret;
  j["seed"] = to_hex(s.seed);
  j["now"] = s.now;
  j["identities"] = oj{{"term", s.term}, {"proxy", s.proxy}, {"switch", s.sw}, {"auc", s.auc}};
  j["mechs"] = s.mechs;
  j["contact"] = s.contact;
  oj keys = oj::array();
  for (const auto& [id, e] : s.keys.entities)
    keys.push_back(oj{{"id", id}, {"role", msg::role_name(e.role)}, {"key", to_hex(e.key.view())}});
  j["keys"] = std::move(keys);
}

// Not shown when it is not hex: it may be a key.
Bytes unhex(const Node& n) {
  auto b = from_hex(n.str());
  if (!b) n.fail("must be hex digits, two per byte");
  return *b;
}

Setup get_setup(const Node& j) {
  Setup s;
  s.suite = j["suite"].str();
  auto flow = msg::parse_flow(j["flow"].str());
  if (!flow) j["flow"].fail("must be proxied or direct");
  s.flow = *flow;
  s.binding = j["binding"].str();
  if (s.binding != "json") {
    bool known = false;
    for (const auto& b : wire_bindings()) known = known || b == s.binding;
    if (!known) throw std::runtime_error("unknown binding " + s.binding + " (json, sip, mgcp, h248, h323)");
    s.radius_secret = j["radius_secret"].str();
    if (s.radius_secret.empty() || s.radius_secret.size() > 128)
      throw std::runtime_error("radius_secret must hold 1 to 128 bytes");
  }
  s.seed = unhex(j["seed"]);
  if (s.seed.empty() || s.seed.size() > 64) throw std::runtime_error("seed must be 1 to 64 bytes of hex");
  s.now = whole(j["now"], 0, std::numeric_limits<std::int64_t>::max());
  const Node ids = j["identities"];
  s.term = ids["term"].str();
  s.proxy = ids["proxy"].str();
  s.sw = ids["switch"].str();
  s.auc = ids["auc"].str();
  s.mechs = j["mechs"].str();
  s.contact = j["contact"].str();
  for (const auto& k : j["keys"].items()) {
    std::string id = k["id"].str();
    s.keys.entities.emplace(id, flow::Entity{id, role_of(k["role"]), Secret(unhex(k["key"]))});
  }
  return s;
}

template <class F>
auto guarded(std::string_view text, F&& f) -> decltype(f(std::declval<const Node&>())) {
  // nlohmann takes a NUL byte for the end of its input: what follows it would go unread.
  if (text.find('\0') != std::string_view::npos) return err(Code::malformed, "not valid JSON: a NUL byte");
  oj j;
  try {
    j = oj::parse(text.begin(), text.end());
  } catch (const oj::parse_error& e) {
    return err(Code::malformed, json::not_json_at(text, e.byte));
  }
  try {
    return f(Node(j, ""));
  } catch (const std::exception& e) {
    return err(Code::malformed, e.what());
  }
}

}  // namespace

Result<std::string> vector_type(std::string_view text) {
  return guarded(text, [](const Node& n) -> Result<std::string> {
    const oj& j = n.json();
    if (!j.is_object() || !j.contains("kd_vectors") || !j["kd_vectors"].is_number_unsigned() || j["kd_vectors"] != 1)
      return err(Code::malformed, "not a kd vector file (want \"kd_vectors\": 1)");
    const auto type = j.find("type");
    std::string t = type != j.end() && type->is_string() ? type->get<std::string>() : "";
    if (t != "positive" && t != "negative") return err(Code::malformed, "\"type\" must be positive or negative");
    return t;
  });
}

std::string encode_positive(const Positive& v) {
  oj j;
  j["kd_vectors"] = 1;
  j["type"] = "positive";
  j["schema"] = kPositiveSchema;
  put_setup(j, v.setup);
  oj tr = oj::array();
  for (const auto& r : v.records) {
    oj e;
    e["from"] = role_str(r.from);
    if (r.to) {
      e["step"] = r.step;
      e["to"] = role_str(*r.to);
      e["message"] = oj::parse(r.line);
      if (v.setup.binding != "json") e["binding"] = r.wire_binding;
      e["wire"] = to_hex(r.wire_binding.empty() || r.wire_binding == "json" ? to_bytes(r.line) : r.wire);
    } else {
      e["event"] = oj::parse(r.line);
    }
    tr.push_back(std::move(e));
  }
  j["transcript"] = std::move(tr);
  j["session_key"] = v.session_key;
  if (!v.pcap.empty()) j["pcap"] = v.pcap;
  return j.dump(1) + "\n";
}

Result<Positive> decode_positive(std::string_view text) {
  return guarded(text, [](const Node& j) -> Result<Positive> {
    Positive v;
    v.setup = get_setup(j);
    for (const auto& e : j["transcript"].items()) {
      Record r;
      r.from = role_of(e["from"]);
      if (e.has("event")) {
        r.line = e["event"].json().dump();
      } else {
        r.step = e["step"].str();
        r.to = role_of(e["to"]);
        r.wire = unhex(e["wire"]);
        r.wire_binding = e.has("binding") ? e["binding"].str() : "json";
        if (r.wire_binding == "json") {
          r.line.assign(r.wire.begin(), r.wire.end());
          if (e["message"].json().dump() != r.line)
            throw std::runtime_error("transcript entry " + r.step + ": \"message\" and \"wire\" disagree");
        } else {
          if (r.wire_binding != "radius" && r.wire_binding != v.setup.binding)
            throw std::runtime_error("transcript entry " + r.step + ": binding " + r.wire_binding +
                                     " is neither the vector's nor radius");
          r.line = e["message"].json().dump();
        }
      }
      v.records.push_back(std::move(r));
    }
    v.session_key = j["session_key"].str();
    if (j.has("pcap")) v.pcap = j["pcap"].str();
    // A name in ../pcap (kd-vectors(5)); a path would make the runner read any file.
    if (j.has("pcap") &&
        (v.pcap.empty() || v.pcap[0] == '.' ||
         v.pcap.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") != std::string::npos))
      throw std::runtime_error("pcap must be a file name (letters, digits, . _ -, not beginning with .), not \"" +
                               v.pcap + "\"");
    return v;
  });
}

std::string encode_negative(const Negative& v) {
  oj j;
  j["kd_vectors"] = 1;
  j["type"] = "negative";
  j["schema"] = kNegativeSchema;
  j["numberOfTests"] = v.count();
  oj notes = oj::object();
  for (const auto& [flag, n] : v.notes) notes[flag] = oj{{"bugType", n.bug_type}, {"description", n.description}};
  j["notes"] = std::move(notes);
  oj groups = oj::array();
  for (const auto& g : v.groups) {
    oj gj;
    put_setup(gj, g.setup);
    oj tests = oj::array();
    for (const auto& c : g.tests) {
      oj t;
      t["tcId"] = c.tc_id;
      t["comment"] = c.comment;
      t["flags"] = c.flags;
      t["before"] = c.before;
      if (!c.extra.empty()) {
        oj ex = oj::array();
        for (const auto& x : c.extra) ex.push_back(oj{{"target", role_str(x.target)}, {"input", x.line}});
        t["extra"] = std::move(ex);
      }
      t["target"] = role_str(c.input.target);
      if (c.is_wire()) {
        t["step"] = c.step;
        t["binding"] = c.wire_binding;
        t["wire"] = to_hex(c.wire);
      } else {
        t["input"] = c.input.line;
      }
      oj o = oj::object();
      if (c.overrides.now) o["now"] = *c.overrides.now;
      if (c.overrides.skew) o["skew"] = *c.overrides.skew;
      if (c.overrides.challenge_ttl) o["challenge_ttl"] = *c.overrides.challenge_ttl;
      if (c.overrides.lockout) o["lockout"] = *c.overrides.lockout;
      if (c.overrides.max_attempts) o["max_attempts"] = *c.overrides.max_attempts;
      if (c.overrides.support) o["support"] = *c.overrides.support;
      if (!o.empty()) t["overrides"] = std::move(o);
      t["result"] = c.result;
      if (!c.error.empty()) t["error"] = c.error;
      if (c.state_change) t["stateChange"] = true;
      tests.push_back(std::move(t));
    }
    gj["tests"] = std::move(tests);
    groups.push_back(std::move(gj));
  }
  j["testGroups"] = std::move(groups);
  return j.dump(1) + "\n";
}

Result<Negative> decode_negative(std::string_view text) {
  return guarded(text, [](const Node& j) -> Result<Negative> {
    Negative v;
    std::set<int> ids;
    for (const auto& [flag, n] : j["notes"].members()) v.notes[flag] = {n["bugType"].str(), n["description"].str()};
    for (const auto& gj : j["testGroups"].items()) {
      Group g;
      g.setup = get_setup(gj);
      for (const auto& t : gj["tests"].items()) {
        Case c;
        c.tc_id = static_cast<int>(whole(t["tcId"], 1, std::numeric_limits<int>::max()));
        if (!ids.insert(c.tc_id).second) throw std::runtime_error("tcId " + std::to_string(c.tc_id) + " appears twice");
        c.comment = t["comment"].str();
        for (const auto& f : t["flags"].items()) c.flags.push_back(f.str());
        for (const auto& f : c.flags)
          if (!v.notes.count(f)) throw std::runtime_error("tcId " + std::to_string(c.tc_id) + ": flag " + f + " has no note");
        c.before = t["before"].str();
        if (t.has("extra"))
          for (const auto& x : t["extra"].items()) c.extra.push_back({role_of(x["target"]), x["input"].str()});
        if (t.has("wire")) {
          // A malformed encoding: delivered as the wire line a tool would print for these bytes.
          c.step = t["step"].str();
          c.wire_binding = t["binding"].str();
          c.wire = unhex(t["wire"]);
          const msg::StepSpec* spec = msg::find_step(c.step);
          if (!spec) throw std::runtime_error("tcId " + std::to_string(c.tc_id) + ": unknown step " + c.step);
          if (c.wire.empty()) throw std::runtime_error("tcId " + std::to_string(c.tc_id) + ": empty wire");
          c.input = {role_of(t["target"]), json::encode_wire_line(c.wire_binding, *spec, c.wire)};
        } else {
          c.input = {role_of(t["target"]), t["input"].str()};
        }
        if (t.has("overrides")) {
          const Node o = t["overrides"];
          if (!o.json().is_object()) o.fail("must be an object");
          if (o.has("now")) c.overrides.now = whole(o["now"], 0, std::numeric_limits<std::int64_t>::max());
          if (o.has("skew")) c.overrides.skew = whole(o["skew"], 0);
          if (o.has("challenge_ttl")) c.overrides.challenge_ttl = whole(o["challenge_ttl"], 0);
          if (o.has("lockout")) c.overrides.lockout = whole(o["lockout"], 0);
          if (o.has("max_attempts"))
            c.overrides.max_attempts = static_cast<std::uint32_t>(whole(o["max_attempts"], 1, 100));
          if (o.has("support")) {
            c.overrides.support = o["support"].str();
            if (!flow::parse_name_list(*c.overrides.support))
              throw std::runtime_error("tcId " + std::to_string(c.tc_id) + ": support is not a list of mechanism names");
          }
        }
        c.result = t["result"].str();
        if (c.result != "valid" && c.result != "invalid" && c.result != "acceptable")
          throw std::runtime_error("tcId " + std::to_string(c.tc_id) + ": result must be valid, invalid or acceptable");
        if (t.has("error")) c.error = t["error"].str();
        if (c.result == "invalid" && c.error.empty())
          throw std::runtime_error("tcId " + std::to_string(c.tc_id) + ": an invalid case needs \"error\"");
        c.state_change = t.has("stateChange") && t["stateChange"].boolean();
        g.tests.push_back(std::move(c));
      }
      v.groups.push_back(std::move(g));
    }
    const std::uint64_t declared = whole(j["numberOfTests"], 0);
    if (declared != v.count())
      throw std::runtime_error("numberOfTests says " + std::to_string(declared) +
                               " but the file holds " + std::to_string(v.count()));
    return v;
  });
}

}  // namespace kd::vectors
