#include "crypto/protocol.hpp"
#include "flow/edge.hpp"

namespace kd::flow {

namespace {

bool proxied(const msg::Message& m) { return m.flow == msg::Flow::proxied; }

// Every check reads the state as prune() would leave it (an expired entry counts as absent), and
// prune() runs only once an input is taken: a refusal leaves the state as it was.
bool rand_used(const SwitchState& st, std::string_view rand_hex, const Context& ctx) {
  auto it = st.used_rands.find(rand_hex);
  return it != st.used_rands.end() && sat_add(it->second, ctx.policy->skew) >= ctx.now;
}

void prune(SwitchState& st, const Context& ctx) {
  if (!st.pruned.due(ctx.now)) return;
  st.seen_n1.prune(ctx.now);
  // sat_add(until, skew) < now, which no until can meet while now <= skew.
  if (ctx.now > ctx.policy->skew) st.used_rands.drop_before(ctx.now - ctx.policy->skew);
  st.failures.erase_if([&](const auto& kv) { return kv.second.until < ctx.now; });
}

Result<SwitchRegistration*> find_reg(SwitchState& st, const msg::Message& m) {
  auto it = st.regs.find(*m.IDc);
  if (it == st.regs.end())
    return err(Code::unexpected_message, "no registration of " + *m.IDc + " is under way");
  SwitchRegistration& r = it->second;
  if (r.flow != m.flow)
    return err(Code::unexpected_message, "the registration of " + *m.IDc + " uses the " +
                                             std::string(msg::flow_name(r.flow)) + " flow");
  if (*peer_of(m) != r.peer)
    return err(Code::identity_mismatch, "the registration of " + *m.IDc + " came through " + r.peer);
  if (*m.suite != r.suite) return err(Code::suite_mismatch, "the registration uses " + r.suite);
  return &r;
}

msg::Message auth_request(const SwitchRegistration& r, const std::string& idc) {  // s3 / d2
  return make_message(r.flow, r.flow == msg::Flow::proxied ? 3 : 2, r.suite, idc, r.peer);
}

Output on_register(SwitchState& st, const msg::Message& m, Context& ctx) {  // s2 / d1
  if (auto f = st.failures.find(*m.IDc);
      f != st.failures.end() && f->second.count >= ctx.policy->max_attempts && f->second.until >= ctx.now)
    return Output::fail(err(Code::too_many_attempts, *m.IDc + " is locked out for another " +
                                                         std::to_string(f->second.until - ctx.now) + " s"));
  SwitchRegistration r;
  r.flow = m.flow;
  r.suite = *m.suite;
  r.peer = *peer_of(m);
  if (!proxied(m)) {
    if (r.peer != ctx.self_id)
      return Output::fail(err(Code::identity_mismatch, "IDss is " + r.peer + ", this switch is " + ctx.self_id));
    if (auto s = edge_accept_register(r.edge, st.seen_n1, m, ctx); !s) return Output::fail(s.error());
  }
  r.ipc = *m.IPc;
  Output o;
  o.messages.push_back(auth_request(r, *m.IDc));
  st.regs[*m.IDc] = std::move(r);
  return o;
}

Output on_vector(SwitchState& st, const msg::Message& m, Context& ctx) {  // s4 / d3
  auto r = find_reg(st, m);
  if (!r) return Output::fail(r.error());
  SwitchRegistration& reg = **r;
  if (reg.challenge)
    return Output::fail(err(Code::unexpected_message, "a challenge for " + *m.IDc + " is already live"));
  if (rand_used(st, HexKey(*m.Rand).view(), ctx))
    return Output::fail(err(Code::reused_challenge, "the AuC's Rand was already answered once"));
  Challenge c;
  c.rand = *m.Rand;
  c.authenticator = *m.Authenticator_c;
  c.ekc = *m.EKc;
  c.ekpeer = proxied(m) ? *m.EKsp : *m.EKss;
  c.expires = sat_add(ctx.now, ctx.policy->challenge_ttl);
  reg.challenge = std::move(c);
  Output o;
  if (proxied(m)) {
    msg::Message out = make_message(m.flow, 5, reg.suite, *m.IDc, reg.peer);
    out.Rand = m.Rand;
    o.messages.push_back(std::move(out));
  } else {
    o.messages.push_back(edge_challenge(reg.edge, m, *m.Rand, ctx));
  }
  return o;
}

Output on_answer(SwitchState& st, const msg::Message& m, Context& ctx) {  // s8 / d5
  const HexKey rand_hex(*m.Rand);
  if (rand_used(st, rand_hex.view(), ctx))
    return Output::fail(err(Code::reused_challenge, "this Rand was already answered"));
  auto r = find_reg(st, m);
  if (!r) return Output::fail(r.error());
  SwitchRegistration& reg = **r;
  if (!reg.challenge || reg.challenge->rand != *m.Rand)
    return Output::fail(err(Code::unknown_challenge, "Rand is not the live challenge of " + *m.IDc));
  if (ctx.now > reg.challenge->expires)
    return Output::fail(err(Code::expired_challenge, "the challenge expired " +
                                                         std::to_string(ctx.now - reg.challenge->expires) + " s ago"));
  std::string chosen;
  if (!proxied(m)) {
    auto c = edge_check_answer(reg.edge, st.seen_n1, m, ctx);
    if (!c) return Output::fail(c.error());
    chosen = std::move(*c);
  }
  const bool right = crypto::ct_equal(*m.Authenticator_c, reg.challenge->authenticator);
  std::optional<Secret> k;  // direct flow: K, opened before anything changes
  if (right && !proxied(m)) {
    const Entity* self = ctx.keys->find(ctx.self_id);
    if (!self || self->role != msg::Role::sw)
      return Output::fail(err(Code::unknown_identity, "no switch key for " + ctx.self_id + " in the keystore"));
    const auto& suite = *crypto::find_suite(reg.suite);
    crypto::SealBinding b{m.flow, *m.IDc, ctx.self_id, reg.challenge->rand, msg::Role::sw};
    k = entity_open(ctx, *self, suite, b, reg.challenge->ekpeer);
    if (!k) return Output::fail(err(Code::bad_seal, "EKss does not open under this switch's key"));
  }

  // Taken (or, with a wrong word, counted): from here on the state changes.
  if (!proxied(m)) edge_take_answer(reg.edge, st.seen_n1, m, ctx, std::move(chosen));
  else reg.ipc = *m.IPc;
  Challenge c = std::move(*reg.challenge);
  reg.challenge.reset();
  st.used_rands.set(rand_hex.view(), c.expires);
  Output o;

  if (!right) {
    o.keep_state_on_error = true;  // the failed attempt counts, and its challenge is retired
    Failures& f = st.failures[*m.IDc];
    if (f.until < ctx.now) f = Failures{};  // over: prune() would have dropped it
    f.count++;
    f.until = sat_add(ctx.now, ctx.policy->lockout);
    if (f.count >= ctx.policy->max_attempts) {
      o.error = err(Code::too_many_attempts, "wrong Authenticator_c; " + std::to_string(f.count) +
                                                 " attempts used; " + *m.IDc + " is locked out for " +
                                                 std::to_string(ctx.policy->lockout) + " s");
      st.regs.erase(*m.IDc);
      return o;
    }
    o.error = err(Code::bad_authenticator, "wrong Authenticator_c; a fresh challenge is requested (" +
                                               std::to_string(ctx.policy->max_attempts - f.count) + " attempts left)");
    o.messages.push_back(auth_request(reg, *m.IDc));
    return o;
  }
  st.failures.erase(*m.IDc);

  msg::Message report = make_message(m.flow, proxied(m) ? 11 : 7, reg.suite, *m.IDc, reg.peer);
  report.Rand = c.rand;
  report.IPc = proxied(m) ? reg.ipc : reg.edge.ipc;
  // Room for both at once: growing from one message to two was an allocation and a move more.
  o.messages.reserve(2);
  if (proxied(m)) {
    msg::Message out = make_message(m.flow, 9, reg.suite, *m.IDc, reg.peer);
    out.EKc = c.ekc;
    out.EKsp = c.ekpeer;
    o.messages.push_back(std::move(out));
  } else {
    o.messages.push_back(edge_success(reg.edge, m, c.ekc, *k, ctx));
    o.events.push_back(key_established(o.messages.back(), reg.edge, std::move(*k)));
  }
  o.messages.push_back(std::move(report));
  st.regs.erase(*m.IDc);
  return o;
}

}  // namespace

Output switch_handle(SwitchState& st, const msg::Message& m, Context& ctx) {
  if (auto s = check_recipient(m, msg::Role::sw); !s) return Output::fail(s.error());
  Output o;
  if (msg::spec_of(m).from == msg::Role::auc) o = on_vector(st, m, ctx);
  else if (m.step == (proxied(m) ? 2 : 1)) o = on_register(st, m, ctx);
  else o = on_answer(st, m, ctx);
  if (!o.error || o.keep_state_on_error) prune(st, ctx);
  return o;
}

}  // namespace kd::flow
