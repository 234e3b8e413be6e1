#include <algorithm>

#include "engine/engine.hpp"
#include "flow/policy.hpp"
#include "json/codec.hpp"
#include "vectors/vectors.hpp"

namespace kd::vectors {

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
  st.show_key = true;
  return st;
}

Outcome from_engine(const engine::Outcome& e) {
  Outcome o;
  o.lines = e.lines;
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
  Outcome o = from_engine((*e)->start(start_params(s)));
  if ((*e)->changed()) states_[0] = (*e)->state_text();
  return o;
}

Outcome InProcessDriver::deliver(const Setup& s, const Delivery& d, const Overrides& ov) {
  auto& slot = states_[index_of(d.target)];
  auto e = engine::make_engine(d.target, s.keys, settings_for(s, d.target, ov), slot.value_or(""));
  if (!e) return Outcome{{}, "malformed", 3};
  Outcome o = from_engine((*e)->feed(d.line));
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
      Record r{"", from, std::nullopt, l};
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
    run.records.push_back({step, p.from, *to, p.line});
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
    if (got.line != want.line || got.from != want.from || got.to != want.to)
      fails.push_back("line " + std::to_string(i + 1) + " (" + want.step + "): expected " + want.line +
                      "\n  got " + got.line);
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
