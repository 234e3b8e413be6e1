#include <algorithm>

#include "crypto/protocol.hpp"
#include "flow/edge.hpp"

namespace kd::flow {

namespace {

using TermPhase = TermRegistration::Phase;

// Drops stale nonces; only once an input is accepted, so that a refusal leaves the state as it was
// (the checks treat a stale entry as absent, so pruning before or after them decides alike).
void prune(TermState& st, std::uint64_t now) {
  if (st.pruned.due(now)) st.seen_n2.prune(now);
}

Result<const Entity*> own_key(const Context& ctx, const std::string& idc) {
  const Entity* e = ctx.keys->find(idc);
  if (!e || e->role != msg::Role::term)
    return err(Code::unknown_identity, "no terminal key for " + idc + " in the keystore");
  return e;
}

// What every message to the terminal must satisfy before its content is looked at: the exchange,
// a replayed N2, the phase, the timestamp, the echoed N1.
Result<TermRegistration*> match(TermState& st, const msg::Message& m, const Context& ctx,
                                std::uint64_t ts, std::string_view ts_name, bool success) {
  auto it = st.regs.find(*m.IDc);
  if (it == st.regs.end())
    return err(Code::unexpected_message, "no registration of " + *m.IDc + " is under way");
  TermRegistration& r = it->second;
  if (r.flow != m.flow)
    return err(Code::unexpected_message, "the registration of " + *m.IDc + " uses the " +
                                             std::string(msg::flow_name(r.flow)) + " flow");
  if (*peer_of(m) != r.peer)
    return err(Code::identity_mismatch, "the registration of " + *m.IDc + " goes to " + r.peer);
  if (*m.suite != r.suite) return err(Code::suite_mismatch, "the registration uses " + r.suite);
  if (st.seen_n2.seen(*m.N2, ctx.now)) return err(Code::replayed_nonce, "N2 was seen before");
  if (!success && r.phase == TermPhase::registered)
    return err(Code::unexpected_message, *m.IDc + " is already registered");
  if (success && r.phase != TermPhase::awaiting_result)
    return err(Code::unexpected_message, "no answer of " + *m.IDc + " is waiting for a result");
  if (auto s = check_timestamp(ts, ctx.now, ctx.policy->skew, ts_name); !s) return s.error();
  if (*m.N1 != r.n1) return err(Code::nonce_mismatch, "N1 does not echo the N1 last sent");
  return &r;
}

Output on_challenge(TermState& st, const msg::Message& m, Context& ctx) {
  auto r = match(st, m, ctx, *m.TS2, "TS2", false);
  if (!r) return Output::fail(r.error());
  TermRegistration& reg = **r;
  auto key = own_key(ctx, *m.IDc);
  if (!key) return Output::fail(key.error());
  const auto& suite = *crypto::find_suite(reg.suite);

  msg::Message out = make_message(m.flow, m.flow == msg::Flow::proxied ? 7 : 5, reg.suite, *m.IDc, reg.peer);
  out.N1 = ctx.rng->draw(Purpose::nonce, msg::kNonceLen);
  out.N2 = m.N2;
  out.TS3 = ctx.now;
  out.Rand = m.Rand;
  out.Authenticator_c = entity_authenticator(ctx, **key, suite, *m.Rand, *m.IDc);
  out.SecMechList = reg.mechs;
  out.IPc = reg.contact;

  st.seen_n2.add(*m.N2, sat_add(*m.TS2, ctx.policy->skew));
  reg.n1 = *out.N1;
  reg.rand = m.Rand;
  reg.phase = TermPhase::awaiting_result;
  Output o;
  o.messages.push_back(std::move(out));
  return o;
}

Output on_success(TermState& st, const msg::Message& m, Context& ctx) {
  auto r = match(st, m, ctx, *m.TS4, "TS4", true);
  if (!r) return Output::fail(r.error());
  TermRegistration& reg = **r;
  if (!reg.rand)  // only a hand-edited state file gets here
    return Output::fail(err(Code::unexpected_message, "the state holds no challenge for " + *m.IDc));
  auto key = own_key(ctx, *m.IDc);
  if (!key) return Output::fail(key.error());
  const auto& suite = *crypto::find_suite(reg.suite);

  crypto::SealBinding b{m.flow, *m.IDc, reg.peer, *reg.rand, msg::Role::term};
  auto k = entity_open(ctx, **key, suite, b, *m.EKc);
  if (!k) return Output::fail(err(Code::bad_seal, "EKc does not open under this terminal's key"));
  if (!crypto::ct_equal(crypto::message_mac(suite, k->view(), m), *m.MAC))
    return Output::fail(err(Code::bad_mac, "the MAC over the success response does not verify"));
  if (*m.SecMechList != reg.mechs)
    return Output::fail(err(Code::mechanism_downgrade, "the echoed SecMechList differs from the list sent"));
  bool offered = std::any_of(reg.mechs.begin(), reg.mechs.end(), [&](const msg::Mech& x) {
    return x.name == *m.SecMech && x.q > 0;
  });
  if (!offered || is_forbidden(*m.SecMech))
    return Output::fail(err(Code::mechanism_downgrade, "SecMech " + *m.SecMech + " was not offered or is forbidden"));

  st.seen_n2.add(*m.N2, sat_add(*m.TS4, ctx.policy->skew));
  reg.phase = TermPhase::registered;
  reg.chosen = *m.SecMech;
  reg.registered_at = ctx.now;
  reg.rand.reset();
  Output o;
  o.events.push_back(event_for("registered", m, reg.chosen, reg.contact, std::move(*k)));
  return o;
}

}  // namespace

Output term_start(TermState& st, const StartParams& p, Context& ctx) {
  auto tmpl = start_template(p, ctx.now);
  if (!tmpl) return Output::fail(tmpl.error());
  if (auto key = own_key(ctx, p.idc); !key) return Output::fail(key.error());
  msg::Message out = std::move(*tmpl);
  out.N1 = ctx.rng->draw(Purpose::nonce, msg::kNonceLen);

  TermRegistration reg;
  reg.flow = out.flow;
  reg.suite = p.suite;
  reg.peer = *peer_of(out);
  reg.contact = p.contact;
  reg.mechs = p.mechs;
  reg.n1 = *out.N1;
  st.regs[p.idc] = std::move(reg);
  prune(st, ctx.now);
  Output o;
  o.messages.push_back(std::move(out));
  return o;
}

Output term_handle(TermState& st, const msg::Message& m, Context& ctx) {
  if (auto s = check_recipient(m, msg::Role::term); !s) return Output::fail(s.error());
  Output o = m.SecMechReq ? on_challenge(st, m, ctx)  // s6 / d4
                          : on_success(st, m, ctx);   // s10 / d6
  if (!o.error) prune(st, ctx.now);
  return o;
}

}  // namespace kd::flow
