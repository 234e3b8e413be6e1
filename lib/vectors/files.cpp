#include "vectors/files.hpp"

#include <limits>
#include <set>

#include <nlohmann/json.hpp>

#include "flow/policy.hpp"
#include "json/message.hpp"

namespace kd::vectors {

using oj = nlohmann::ordered_json;

namespace {

// A number of a vector file, as strict as the tools' options: a whole number in [lo, hi] (nlohmann
// would wrap a negative one and truncate a fraction).
std::uint64_t whole(const oj& j, const std::string& name, std::uint64_t lo,
                    std::uint64_t hi = std::numeric_limits<std::uint64_t>::max()) {
  if (!j.is_number_unsigned() || j.get<std::uint64_t>() < lo || j.get<std::uint64_t>() > hi)
    throw std::runtime_error(name + " must be a whole number from " + std::to_string(lo) + " to " + std::to_string(hi));
  return j.get<std::uint64_t>();
}


const char* kPositiveSchema = "kd_positive.schema.json";
const char* kNegativeSchema = "kd_negative.schema.json";

std::string role_str(msg::Role r) { return std::string(msg::role_name(r)); }
msg::Role role_of(const oj& j) {
  auto r = msg::parse_role(j.get<std::string>());
  if (!r) throw std::runtime_error("unknown role " + j.get<std::string>());
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

Bytes unhex(const oj& j) {
  auto b = from_hex(j.get<std::string>());
  if (!b) throw std::runtime_error("bad hex: " + j.get<std::string>());
  return *b;
}

Setup get_setup(const oj& j) {
  Setup s;
  s.suite = j.at("suite").get<std::string>();
  auto flow = msg::parse_flow(j.at("flow").get<std::string>());
  if (!flow) throw std::runtime_error("bad flow");
  s.flow = *flow;
  s.binding = j.at("binding").get<std::string>();
  if (s.binding != "json") {
    bool known = false;
    for (const auto& b : wire_bindings()) known = known || b == s.binding;
    if (!known) throw std::runtime_error("unknown binding " + s.binding + " (json, sip, mgcp, h248, h323)");
    s.radius_secret = j.at("radius_secret").get<std::string>();
    if (s.radius_secret.empty() || s.radius_secret.size() > 128)
      throw std::runtime_error("radius_secret must hold 1 to 128 bytes");
  }
  s.seed = unhex(j.at("seed"));
  if (s.seed.empty() || s.seed.size() > 64) throw std::runtime_error("seed must be 1 to 64 bytes of hex");
  s.now = whole(j.at("now"), "now", 0, std::numeric_limits<std::int64_t>::max());
  const auto& ids = j.at("identities");
  s.term = ids.at("term").get<std::string>();
  s.proxy = ids.at("proxy").get<std::string>();
  s.sw = ids.at("switch").get<std::string>();
  s.auc = ids.at("auc").get<std::string>();
  s.mechs = j.at("mechs").get<std::string>();
  s.contact = j.at("contact").get<std::string>();
  for (const auto& k : j.at("keys")) {
    std::string id = k.at("id").get<std::string>();
    s.keys.entities.emplace(id, flow::Entity{id, role_of(k.at("role")), Secret(unhex(k.at("key")))});
  }
  return s;
}

template <class F>
auto guarded(std::string_view text, F&& f) -> decltype(f(std::declval<const oj&>())) {
  // nlohmann takes a NUL byte for the end of its input: what follows it would go unread.
  if (text.find('\0') != std::string_view::npos) return err(Code::malformed, "not valid JSON: a NUL byte");
  oj j = oj::parse(text.begin(), text.end(), nullptr, false);
  if (j.is_discarded()) return err(Code::malformed, "not valid JSON");
  try {
    return f(j);
  } catch (const std::exception& e) {
    return err(Code::malformed, e.what());
  }
}

}  // namespace

Result<std::string> vector_type(std::string_view text) {
  return guarded(text, [](const oj& j) -> Result<std::string> {
    if (!j.is_object() || !j.contains("kd_vectors") || !j["kd_vectors"].is_number_unsigned() || j["kd_vectors"] != 1)
      return err(Code::malformed, "not a kd vector file (want \"kd_vectors\": 1)");
    std::string t = j.value("type", "");
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
  return guarded(text, [](const oj& j) -> Result<Positive> {
    Positive v;
    v.setup = get_setup(j);
    for (const auto& e : j.at("transcript")) {
      Record r;
      r.from = role_of(e.at("from"));
      if (e.contains("event")) {
        r.line = e.at("event").dump();
      } else {
        r.step = e.at("step").get<std::string>();
        r.to = role_of(e.at("to"));
        r.wire = unhex(e.at("wire"));
        r.wire_binding = e.value("binding", "json");
        if (r.wire_binding == "json") {
          r.line.assign(r.wire.begin(), r.wire.end());
          if (e.at("message").dump() != r.line)
            throw std::runtime_error("transcript entry " + r.step + ": \"message\" and \"wire\" disagree");
        } else {
          if (r.wire_binding != "radius" && r.wire_binding != v.setup.binding)
            throw std::runtime_error("transcript entry " + r.step + ": binding " + r.wire_binding +
                                     " is neither the vector's nor radius");
          r.line = e.at("message").dump();
        }
      }
      v.records.push_back(std::move(r));
    }
    v.session_key = j.at("session_key").get<std::string>();
    v.pcap = j.value("pcap", "");
    // A name in ../pcap (kd-vectors(5)); a path would make the runner read any file.
    if (j.contains("pcap") &&
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
  return guarded(text, [](const oj& j) -> Result<Negative> {
    Negative v;
    std::set<int> ids;
    for (const auto& [flag, n] : j.at("notes").items())
      v.notes[flag] = {n.at("bugType").get<std::string>(), n.at("description").get<std::string>()};
    for (const auto& gj : j.at("testGroups")) {
      Group g;
      g.setup = get_setup(gj);
      for (const auto& t : gj.at("tests")) {
        Case c;
        c.tc_id = static_cast<int>(whole(t.at("tcId"), "tcId", 1, std::numeric_limits<int>::max()));
        if (!ids.insert(c.tc_id).second) throw std::runtime_error("tcId " + std::to_string(c.tc_id) + " appears twice");
        c.comment = t.at("comment").get<std::string>();
        c.flags = t.at("flags").get<std::vector<std::string>>();
        for (const auto& f : c.flags)
          if (!v.notes.count(f)) throw std::runtime_error("tcId " + std::to_string(c.tc_id) + ": flag " + f + " has no note");
        c.before = t.at("before").get<std::string>();
        if (t.contains("extra"))
          for (const auto& x : t.at("extra"))
            c.extra.push_back({role_of(x.at("target")), x.at("input").get<std::string>()});
        if (t.contains("wire")) {
          // A malformed encoding: delivered as the wire line a tool would print for these bytes.
          c.step = t.at("step").get<std::string>();
          c.wire_binding = t.at("binding").get<std::string>();
          c.wire = unhex(t.at("wire"));
          const msg::StepSpec* spec = msg::find_step(c.step);
          if (!spec) throw std::runtime_error("tcId " + std::to_string(c.tc_id) + ": unknown step " + c.step);
          if (c.wire.empty()) throw std::runtime_error("tcId " + std::to_string(c.tc_id) + ": empty wire");
          c.input = {role_of(t.at("target")), json::encode_wire_line(c.wire_binding, *spec, c.wire)};
        } else {
          c.input = {role_of(t.at("target")), t.at("input").get<std::string>()};
        }
        if (t.contains("overrides")) {
          const auto& o = t.at("overrides");
          const std::string tc = "tcId " + std::to_string(c.tc_id) + ": ";
          if (o.contains("now"))
            c.overrides.now = whole(o.at("now"), tc + "now", 0, std::numeric_limits<std::int64_t>::max());
          if (o.contains("skew")) c.overrides.skew = whole(o.at("skew"), tc + "skew", 0);
          if (o.contains("challenge_ttl")) c.overrides.challenge_ttl = whole(o.at("challenge_ttl"), tc + "challenge_ttl", 0);
          if (o.contains("lockout")) c.overrides.lockout = whole(o.at("lockout"), tc + "lockout", 0);
          if (o.contains("max_attempts"))
            c.overrides.max_attempts = static_cast<std::uint32_t>(whole(o.at("max_attempts"), tc + "max_attempts", 1, 100));
          if (o.contains("support")) {
            c.overrides.support = o.at("support").get<std::string>();
            if (!flow::parse_name_list(*c.overrides.support))
              throw std::runtime_error("tcId " + std::to_string(c.tc_id) + ": support is not a list of mechanism names");
          }
        }
        c.result = t.at("result").get<std::string>();
        if (c.result != "valid" && c.result != "invalid" && c.result != "acceptable")
          throw std::runtime_error("tcId " + std::to_string(c.tc_id) + ": result must be valid, invalid or acceptable");
        c.error = t.value("error", "");
        if (c.result == "invalid" && c.error.empty())
          throw std::runtime_error("tcId " + std::to_string(c.tc_id) + ": an invalid case needs \"error\"");
        c.state_change = t.value("stateChange", false);
        g.tests.push_back(std::move(c));
      }
      v.groups.push_back(std::move(g));
    }
    if (j.at("numberOfTests").get<std::size_t>() != v.count())
      throw std::runtime_error("numberOfTests says " + std::to_string(j.at("numberOfTests").get<std::size_t>()) +
                               " but the file holds " + std::to_string(v.count()));
    return v;
  });
}

}  // namespace kd::vectors
