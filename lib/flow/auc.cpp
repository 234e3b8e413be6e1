#include <algorithm>

#include "crypto/protocol.hpp"
#include "flow/edge.hpp"

namespace kd::flow {

void IssuedChallenges::add(std::string_view rand, IssuedChallenge c) {
  if (auto old = by_rand_.find(rand); old != by_rand_.end()) erase(old);
  if (c.seq == 0) c.seq = next_seq_;
  next_seq_ = std::max(next_seq_, c.seq + 1);
  auto it = by_rand_.entry(rand);
  it->second = std::move(c);
  const IssuedChallenge& ic = it->second;
  by_expiry_.emplace(ic.expires, &it->first);
  auto& mine = by_idc_[ic.idc];
  mine.emplace(ic.seq, &it->first);
  while (mine.size() > kMaxChallengesPerTerminal) erase(by_rand_.find(*mine.begin()->second));
}

void IssuedChallenges::mark_answered(std::string_view rand) {
  if (auto it = by_rand_.find(rand); it != by_rand_.end()) it->second.answered = true;
}

void IssuedChallenges::prune(std::uint64_t now, std::uint64_t skew) {
  while (!by_expiry_.empty() && sat_add(by_expiry_.begin()->first, skew) < now)
    erase(by_rand_.find(*by_expiry_.begin()->second));
}

void IssuedChallenges::erase(Map::iterator it) {
  const IssuedChallenge& c = it->second;
  by_expiry_.erase({c.expires, &it->first});
  auto mine = by_idc_.find(c.idc);
  mine->second.erase({c.seq, &it->first});
  if (mine->second.empty()) by_idc_.erase(mine);
  by_rand_.erase(it);
}

void IssuedChallenges::index() {
  by_expiry_.clear();
  by_idc_.clear();
  for (const auto& [rand, c] : by_rand_.all()) {
    by_expiry_.emplace(c.expires, &rand);
    by_idc_[c.idc].emplace(c.seq, &rand);
  }
}

namespace {

Result<const Entity*> entity(const Context& ctx, const std::string& id, msg::Role role,
                             std::string_view field) {
  const Entity* e = ctx.keys->find(id);
  if (!e) return err(Code::unknown_identity, std::string(field) + " " + id + " is not in the keystore");
  if (e->role != role)
    return err(Code::unknown_identity, std::string(field) + " " + id + " is a " +
                                           std::string(msg::role_name(e->role)) + ", not a " +
                                           std::string(msg::role_name(role)));
  return e;
}

Output on_request(AucState& st, const msg::Message& m, Context& ctx) {  // s3 / d2
  const bool proxied = m.flow == msg::Flow::proxied;
  const std::string& peer = *peer_of(m);
  auto term = entity(ctx, *m.IDc, msg::Role::term, "IDc");
  if (!term) return Output::fail(term.error());
  auto other = entity(ctx, peer, proxied ? msg::Role::proxy : msg::Role::sw, proxied ? "IDsp" : "IDss");
  if (!other) return Output::fail(other.error());
  const auto& suite = *crypto::find_suite(*m.suite);

  // Only an accepted request changes the state: the engine hands the AuC its state itself.
  st.issued.prune(ctx.now, ctx.policy->skew);
  // Draw order is part of the protocol (kd-protocol(7)): Rand, K, then the two seal nonces, each
  // from its purpose's stream. With --seed a repeated request (a re-challenge after a wrong answer)
  // starts the same streams again, so an attempt whose Rand the AuC still holds is dropped whole:
  // its K and its two seal nonces are skipped with it, and no K or nonce comes back either.
  Bytes rand;
  Secret k;
  for (;;) {
    rand = ctx.rng->draw(Purpose::rand, msg::kRandLen);
    k = ctx.rng->draw_secret(Purpose::session_key, suite.key_len);
    if (!st.issued.find(HexKey(rand).view())) break;
    ctx.rng->draw(Purpose::seal_nonce, 2 * crypto::kAeadNonceLen);
  }
  msg::Message out = make_message(m.flow, proxied ? 4 : 3, *m.suite, *m.IDc, peer);
  out.Rand = rand;
  out.Authenticator_c = entity_authenticator(ctx, **term, suite, rand, *m.IDc);
  crypto::SealBinding bc{m.flow, *m.IDc, peer, rand, msg::Role::term};
  out.EKc = entity_seal(ctx, **term, suite, bc, k.view());
  crypto::SealBinding bp{m.flow, *m.IDc, peer, rand, proxied ? msg::Role::proxy : msg::Role::sw};
  (proxied ? out.EKsp : out.EKss) = entity_seal(ctx, **other, suite, bp, k.view());

  IssuedChallenge ic;
  ic.idc = *m.IDc;
  ic.peer = peer;
  ic.suite = *m.suite;
  ic.flow = m.flow;
  ic.expires = sat_add(ctx.now, ctx.policy->challenge_ttl);
  st.issued.add(HexKey(rand).view(), std::move(ic));
  Output o;
  o.messages.push_back(std::move(out));
  return o;
}

Output on_report(AucState& st, const msg::Message& m, Context& ctx) {  // s11 / d7
  // Issued challenges are kept one window past their lifetime so a late report is still matched;
  // one past that is as unknown as one never issued, pruned or not.
  const HexKey rand_hex(*m.Rand);
  const std::string_view rand = rand_hex.view();
  const IssuedChallenge* c = st.issued.find(rand);
  if (!c || sat_add(c->expires, ctx.policy->skew) < ctx.now || c->idc != *m.IDc || c->peer != *peer_of(m) ||
      c->flow != m.flow || c->suite != *m.suite)
    return Output::fail(err(Code::unknown_challenge, "no challenge with this Rand was issued for " + *m.IDc));
  if (c->answered)
    return Output::fail(err(Code::reused_challenge, "this challenge was already reported"));
  st.issued.prune(ctx.now, ctx.policy->skew);
  st.issued.mark_answered(rand);
  AucRecord rec{*peer_of(m), *m.IPc, *m.suite, m.flow, ctx.now};
  st.registered[*m.IDc] = rec;
  Output o;
  o.events.push_back(event_for("registration-recorded", m, "", rec.ipc));
  return o;
}

}  // namespace

// Changes st only when it accepts the message (the engine does not copy the AuC's state).
Output auc_handle(AucState& st, const msg::Message& m, Context& ctx) {
  if (auto s = check_recipient(m, msg::Role::auc); !s) return Output::fail(s.error());
  if (m.Rand) return on_report(st, m, ctx);
  return on_request(st, m, ctx);
}

}  // namespace kd::flow
