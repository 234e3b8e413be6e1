#include "crypto/protocol.hpp"
#include "flow/edge.hpp"

namespace kd::flow {

namespace {

using Phase = EdgeExchange::Phase;

Result<EdgeExchange*> find_exchange(ProxyState& st, const msg::Message& m) {
  auto it = st.exchanges.find(*m.IDc);
  if (it == st.exchanges.end())
    return err(Code::unexpected_message, "no exchange with " + *m.IDc + " is under way");
  if (*m.suite != it->second.suite)
    return err(Code::suite_mismatch, "the exchange uses " + it->second.suite);
  return &it->second;
}

Output on_register(ProxyState& st, const msg::Message& m, Context& ctx) {  // s1
  EdgeExchange ex;
  if (auto s = edge_accept_register(ex, st.seen_n1, m, ctx); !s) return Output::fail(s.error());
  msg::Message out = make_message(m.flow, 2, *m.suite, *m.IDc, ctx.self_id);
  out.IPc = ex.ipc;
  st.exchanges[*m.IDc] = std::move(ex);
  Output o;
  o.messages.push_back(std::move(out));
  return o;
}

Output on_challenge(ProxyState& st, const msg::Message& m, Context& ctx) {  // s5: the 401 with the challenge
  auto ex = find_exchange(st, m);
  if (!ex) return Output::fail(ex.error());
  if ((*ex)->phase == Phase::awaiting_answer)
    return Output::fail(err(Code::unexpected_message, "a challenge to " + *m.IDc + " is already out"));
  Output o;
  o.messages.push_back(edge_challenge(**ex, m, *m.Rand, ctx));
  return o;
}

Output on_answer(ProxyState& st, const msg::Message& m, Context& ctx) {  // s7
  auto ex = find_exchange(st, m);
  if (!ex) return Output::fail(ex.error());
  if (auto s = edge_accept_answer(**ex, st.seen_n1, m, ctx); !s) return Output::fail(s.error());
  msg::Message out = make_message(m.flow, 8, *m.suite, *m.IDc, ctx.self_id);
  out.Rand = m.Rand;
  out.Authenticator_c = m.Authenticator_c;
  out.IPc = (*ex)->ipc;
  Output o;
  o.messages.push_back(std::move(out));
  return o;
}

Output on_success(ProxyState& st, const msg::Message& m, Context& ctx) {  // s9
  auto ex = find_exchange(st, m);
  if (!ex) return Output::fail(ex.error());
  EdgeExchange& x = **ex;
  if (x.phase != Phase::awaiting_result || !x.rand)
    return Output::fail(err(Code::unexpected_message, "no answer of " + *m.IDc + " is waiting for a result"));
  const Entity* self = ctx.keys->find(ctx.self_id);
  if (!self || self->role != msg::Role::proxy)
    return Output::fail(err(Code::unknown_identity, "no proxy key for " + ctx.self_id + " in the keystore"));
  const auto& suite = *crypto::find_suite(x.suite);
  crypto::SealBinding b{m.flow, *m.IDc, ctx.self_id, *x.rand, msg::Role::proxy};
  auto k = entity_open(ctx, *self, suite, b, *m.EKsp);
  if (!k) return Output::fail(err(Code::bad_seal, "EKsp does not open under this proxy's key"));

  Output o;
  o.messages.push_back(edge_success(x, m, *m.EKc, *k, ctx));
  o.events.push_back(key_established(o.messages.back(), x, std::move(*k)));
  st.exchanges.erase(*m.IDc);
  return o;
}

}  // namespace

Output proxy_handle(ProxyState& st, const msg::Message& m, Context& ctx) {
  if (auto s = check_recipient(m, msg::Role::proxy); !s) return Output::fail(s.error());
  if (*m.IDsp != ctx.self_id)
    return Output::fail(err(Code::identity_mismatch, "IDsp is " + *m.IDsp + ", this proxy is " + ctx.self_id));
  Output o;
  switch (m.step) {
    case 1: o = on_register(st, m, ctx); break;
    case 5: o = on_challenge(st, m, ctx); break;
    case 7: o = on_answer(st, m, ctx); break;
    default: o = on_success(st, m, ctx); break;  // 9
  }
  // Stale nonces go only once an input is accepted: a refusal leaves the state as it was (the
  // checks treat a stale entry as absent, so pruning before or after them decides alike).
  if (!o.error && st.pruned.due(ctx.now)) st.seen_n1.prune(ctx.now);
  return o;
}

}  // namespace kd::flow
