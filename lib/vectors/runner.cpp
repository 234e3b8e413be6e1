#include <algorithm>

#include "codecs/codecs.hpp"
#include "engine/engine.hpp"
#include "flow/policy.hpp"
#include "json/line.hpp"
#include "json/message.hpp"
#include "vectors/vectors.hpp"
#include "wire/codec.hpp"

namespace kd::vectors {

std::vector<std::string> wire_bindings() {
  std::vector<std::string> names;
  for (const auto& row : wire::bindings())
    if (row.carrier == wire::Carrier::signaling) names.emplace_back(row.name);
  return names;
}

namespace {

std::unique_ptr<wire::Codec> codec_named(const Setup& s, const std::string& name) {
  auto b = wire::parse_binding(name);
  if (!b) return nullptr;
  return codecs::make_codec(*b, {s.radius_secret});
}

}  // namespace

std::string binding_of_step(const Setup& s, const msg::StepSpec& step) {
  if (s.binding == "json") return "json";
  if (auto r = codec_named(s, "radius"); r && r->carries(step)) return "radius";
  if (auto c = codec_named(s, s.binding); c && c->carries(step)) return s.binding;
  return "json";
}

Result<Bytes> encode_wire(const Setup& s, const msg::Message& m, std::string* binding, ByteView previous) {
  const std::string b = binding_of_step(s, msg::spec_of(m));
  if (binding) *binding = b;
  auto c = codec_named(s, b);
  if (!c) return err(Code::malformed, "no codec for binding " + b);
  return c->encode_after(m, previous);
}

Result<msg::Message> decode_wire(const Setup& s, const std::string& binding, ByteView wire) {
  auto c = codec_named(s, binding);
  if (!c) {
    if (binding == "radius") return err(Code::malformed, "a radius wire line needs the shared secret");
    return err(Code::malformed, "unknown binding \"" + binding + "\"");
  }
  return c->decode(wire);
}

namespace {

std::size_t index_of(msg::Role r) { return static_cast<std::size_t>(r); }

std::string self_id(const Setup& s, msg::Role r) {
  switch (r) {
    case msg::Role::term: return {};
    case msg::Role::proxy: return s.proxy;
    case msg::Role::sw: return s.sw;
    case msg::Role::auc: return s.auc;
  }
  return {};
}

}  // namespace

bool override_applies(std::string_view option, msg::Role r) {
  if (option == "challenge_ttl") return r == msg::Role::sw || r == msg::Role::auc;
  if (option == "max_attempts" || option == "lockout") return r == msg::Role::sw;
  if (option == "support") return r == msg::Role::proxy || r == msg::Role::sw;
  return true;  // now, skew
}

namespace {

engine::Settings settings_for(const Setup& s, msg::Role r, const Overrides& o) {
  engine::Settings st;
  st.seed = s.seed;
  st.now = o.now.value_or(s.now);
  if (o.skew) st.policy.skew = *o.skew;
  if (o.challenge_ttl && override_applies("challenge_ttl", r)) st.policy.challenge_ttl = *o.challenge_ttl;
  if (o.lockout && override_applies("lockout", r)) st.policy.lockout = *o.lockout;
  if (o.max_attempts && override_applies("max_attempts", r)) st.policy.max_attempts = *o.max_attempts;
  if (o.support && override_applies("support", r)) st.policy.supported = *flow::parse_name_list(*o.support);
  st.self_id = self_id(s, r);
  return st;
}

// What a tool prints: with a wire binding, each message sent as a wire line (as kd-term(1),
// WIRE OPTIONS, describes), events as they are.
Outcome from_engine(const Setup& s, const engine::Outcome& e) {
  Outcome o;
  o.lines = engine::json_lines(e, true);  // kd-vectors drives the tools with --show-key
  if (s.binding != "json")
    for (std::size_t i = 0; i < e.sent.size(); ++i) {
      const msg::Message& m = e.sent[i].message;
      std::string b;
      auto bytes = encode_wire(s, m, &b, e.sent[i].previous);
      if (!bytes) {
        o.lines[i] = "{\"event\":\"error\",\"code\":\"cannot encode\"}";
        o.code = "cannot encode " + std::string(msg::spec_of(m).name) + ": " + bytes.error().detail;
        o.status = 3;
        return o;
      }
      if (b != "json") o.lines[i] = json::encode_wire_line(b, msg::spec_of(m), *bytes);
    }
  if (e.error) {
    o.code = std::string(code_name(e.error->code));
    o.status = 1;
  }
  return o;
}

}  // namespace

flow::StartParams start_params(const Setup& s) {
  flow::StartParams p;
  p.idc = s.term;
  if (s.flow == msg::Flow::proxied) p.via = s.proxy;
  p.sw = s.sw;
  p.suite = s.suite;
  auto mechs = flow::parse_mech_arg(s.mechs);
  if (mechs) p.mechs = *mechs;
  p.contact = s.contact;
  return p;
}

void InProcessDriver::reset(const Setup&) { states_ = {}; }

Outcome InProcessDriver::start(const Setup& s) {
  auto e = engine::make_engine(msg::Role::term, s.keys, settings_for(s, msg::Role::term, {}),
                               states_[0].value_or(""));
  if (!e) return Outcome{{}, "malformed", 3};
  Outcome o = from_engine(s, (*e)->start(start_params(s)));
  if ((*e)->changed()) states_[0] = (*e)->state_text();
  return o;
}

Outcome InProcessDriver::deliver(const Setup& s, const Delivery& d, const Overrides& ov) {
  auto& slot = states_[index_of(d.target)];
  auto e = engine::make_engine(d.target, s.keys, settings_for(s, d.target, ov), slot.value_or(""));
  if (!e) return Outcome{{}, "malformed", 3};
  Outcome o;
  if (json::is_wire_line(d.line)) {
    // A wire line: decoded with the library codec of its binding, then fed as the tools do.
    std::string step;
    Bytes wire;  // what the engine is given as received, as the tools do
    auto m = [&]() -> Result<msg::Message> {
      auto w = json::decode_wire_line(d.line);
      if (!w) return w.error();
      step = w->step;
      auto dm = decode_wire(s, w->binding, w->wire);
      if (!dm) return dm.error();
      wire = w->wire;
      const auto& spec = msg::spec_of(*dm);
      if ((!w->step.empty() && w->step != spec.name) || (!w->to.empty() && w->to != msg::role_name(spec.to)))
        return err(Code::malformed, "the wire line's hints name another step than its bytes hold");
      step = spec.name;
      return dm;
    }();
    o = from_engine(s, m ? (*e)->feed_message(*m, wire) : (*e)->reject(m.error(), step));
  } else {
    std::string step;
    auto m = codecs::JsonCodec().decode_line(d.line, &step);
    o = from_engine(s, m ? (*e)->feed_message(*m) : (*e)->reject(m.error(), step));
  }
  if ((*e)->changed()) slot = (*e)->state_text();
  return o;
}

Run run_registration(const Setup& s, Driver& d) {
  Run run;
  d.reset(s);
  struct Pending {
    std::string line;
    msg::Role from;
  };
  std::vector<Pending> queue;
  auto collect = [&](const Outcome& o, msg::Role from) {
    for (const auto& l : o.lines) {
      if (auto to = json::string_field(l, "to")) {
        queue.push_back({l, from});
        continue;
      }
      Record r;
      r.from = from;
      r.line = l;
      run.records.push_back(r);
      auto ev = json::string_field(l, "event").value_or("");
      if (ev == "error") run.errors.push_back(l);
      if (ev == "registered") run.term_key = json::string_field(l, "session_key").value_or("");
      if (ev == "key-established") run.edge_key = json::string_field(l, "session_key").value_or("");
    }
  };
  run.before["s1"] = run.before["d1"] = d.snapshot();
  collect(d.start(s), msg::Role::term);
  for (std::size_t i = 0; i < queue.size() && i < 64; ++i) {
    Pending p = queue[i];
    auto step = json::string_field(p.line, "step").value_or("");
    auto to = msg::parse_role(json::string_field(p.line, "to").value_or(""));
    if (!to) {
      run.errors.push_back("unroutable line: " + p.line);
      break;
    }
    Record r;
    r.step = step;
    r.from = p.from;
    r.to = *to;
    r.line = p.line;
    run.records.push_back(r);
    if (!run.before.count(step)) run.before[step] = d.snapshot();
    collect(d.deliver(s, {*to, p.line}, {}), *to);
  }
  run.before["end"] = d.snapshot();
  if (run.term_key.empty() || run.term_key != run.edge_key)
    run.errors.push_back("the registration did not end with equal session keys");
  return run;
}

Report check(const Positive& v, Driver& d) {
  Report rep;
  rep.cases = 1;
  auto& fails = rep.lines;
  Run run = run_registration(v.setup, d);
  for (const auto& e : run.errors) fails.push_back(e);
  const std::size_t n = std::max(run.records.size(), v.records.size());
  for (std::size_t i = 0; i < n; ++i) {
    if (i >= run.records.size() || i >= v.records.size()) {
      fails.push_back("the transcript has " + std::to_string(run.records.size()) + " lines; the vector has " +
                      std::to_string(v.records.size()));
      break;
    }
    const auto &got = run.records[i], &want = v.records[i];
    const std::string where = "line " + std::to_string(i + 1) + " (" + want.step + ")";
    if (got.from != want.from || got.to != want.to || got.step != want.step) {
      fails.push_back(where + ": expected a record from " + std::string(msg::role_name(want.from)) + " for step " +
                      want.step + ", got " + got.line);
    } else if (want.to && json::is_wire_line(got.line)) {
      // What was sent in a wire binding: its bytes must be the vector's, byte for byte.
      auto w = json::decode_wire_line(got.line);
      if (!w)
        fails.push_back(where + ": an unreadable wire line: " + w.error().detail);
      else if (w->binding != want.wire_binding || w->wire != want.wire)
        fails.push_back(where + ": expected " + want.wire_binding + " bytes " + to_hex(want.wire) + "\n  got " +
                        w->binding + " bytes " + to_hex(w->wire));
    } else if (want.to && want.wire_binding != "json" && !want.wire_binding.empty()) {
      fails.push_back(where + ": expected a " + want.wire_binding + " wire line, got " + got.line);
    } else if (got.line != want.line) {
      fails.push_back(where + ": expected " + want.line + "\n  got " + got.line);
    }
  }
  // The codecs in both directions, independently of the run: encode(message) == wire and
  // decode(wire) == message for every message of the transcript.
  for (std::size_t i = 0; i < v.records.size(); ++i) {
    const auto& r = v.records[i];
    if (!r.to || r.wire_binding.empty() || r.wire_binding == "json") continue;
    const std::string where = "line " + std::to_string(i + 1) + " (" + r.step + ", " + r.wire_binding + ")";
    auto m = json::decode_message(r.line);
    if (!m) {
      fails.push_back(where + ": the logical message does not decode: " + m.error().detail);
      continue;
    }
    if (binding_of_step(v.setup, msg::spec_of(*m)) != r.wire_binding)
      fails.push_back(where + ": the step travels in " + binding_of_step(v.setup, msg::spec_of(*m)) + " in this binding");
    auto c = codec_named(v.setup, r.wire_binding);
    if (!c) {
      fails.push_back(where + ": no codec for binding " + r.wire_binding);
      continue;
    }
    // A message that answers or forwards another (msg::previous_step) is encoded after it.
    ByteView previous;
    if (const auto* ps = msg::previous_step(msg::spec_of(*m)))
      for (std::size_t k = i; k-- > 0;)
        if (v.records[k].to && v.records[k].step == ps->name && v.records[k].wire_binding == r.wire_binding) {
          previous = v.records[k].wire;
          break;
        }
    auto enc = c->encode_after(*m, previous);
    if (!enc) fails.push_back(where + ": encode fails: " + std::string(code_name(enc.error().code)) + ": " + enc.error().detail);
    else if (*enc != r.wire) fails.push_back(where + ": encode gives " + to_hex(*enc) + "\n  the vector has " + to_hex(r.wire));
    auto dec = c->decode(r.wire);
    if (!dec) fails.push_back(where + ": decode fails: " + std::string(code_name(dec.error().code)) + ": " + dec.error().detail);
    else if (!(*dec == *m)) fails.push_back(where + ": decode gives " + json::encode_message(*dec) + "\n  the vector has " + r.line);
  }
  if (run.term_key != v.session_key) fails.push_back("session key differs from the vector's");
  rep.failed = fails.empty() ? 0 : 1;
  return rep;
}

Report check(const Negative& v, Driver& d) {
  Report rep;
  auto& fails = rep.lines;
  for (const auto& g : v.groups) {
    rep.cases += g.tests.size();
    Run run = run_registration(g.setup, d);
    if (!run.errors.empty()) {
      fails.push_back("group " + g.setup.suite + "/" + std::string(msg::flow_name(g.setup.flow)) +
                      ": the registration the group starts from fails, so its " +
                      std::to_string(g.tests.size()) + " cases fail: " + run.errors.front());
      rep.failed += g.tests.size();
      continue;
    }
    for (const auto& c : g.tests) {
      const std::size_t before_fails = fails.size();
      const std::string id = "tcId " + std::to_string(c.tc_id) + " (" + c.comment + ")";
      auto snap = run.before.find(c.before);
      if (snap == run.before.end()) {
        fails.push_back(id + ": no state before \"" + c.before + "\" in this flow");
        continue;
      }
      d.restore(snap->second);
      for (const auto& x : c.extra) d.deliver(g.setup, x, c.overrides);
      Snapshot s0 = d.snapshot();
      Outcome o = d.deliver(g.setup, c.input, c.overrides);
      Snapshot s1 = d.snapshot();
      if (c.is_wire() && c.result == "invalid") {
        // The library codec on its own, whatever the driver.
        auto dm = decode_wire(g.setup, c.wire_binding, c.wire);
        if (dm) fails.push_back(id + ": the " + c.wire_binding + " codec accepts the bytes; expected " + c.error);
        else if (std::string(code_name(dm.error().code)) != c.error)
          fails.push_back(id + ": the " + c.wire_binding + " codec says " + std::string(code_name(dm.error().code)) +
                          " (" + dm.error().detail + "), expected " + c.error);
      }
      if (c.result == "invalid") {
        if (o.code != c.error)
          fails.push_back(id + ": expected " + c.error + ", got " + (o.code.empty() ? "acceptance" : o.code));
        else if (o.status != 1)
          fails.push_back(id + ": exit status " + std::to_string(o.status) + ", expected 1");
        else if (!c.state_change && s0 != s1)
          fails.push_back(id + ": the rejection changed the recipient's state");
        else if (c.state_change && s0 == s1)
          fails.push_back(id + ": the rejection should have been recorded in the state");
      } else if (!o.code.empty()) {
        fails.push_back(id + ": expected acceptance, got " + o.code);
      }
      if (fails.size() != before_fails) ++rep.failed;
    }
  }
  return rep;
}

}  // namespace kd::vectors
