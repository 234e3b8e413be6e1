#include "flow/edge.hpp"

#include "crypto/protocol.hpp"

namespace kd::flow {

Status check_timestamp(std::uint64_t ts, std::uint64_t now, std::uint64_t skew,
                       std::string_view field) {
  if (sat_add(ts, skew) < now)
    return err(Code::stale_timestamp, std::string(field) + " is " + std::to_string(now - ts) +
                                          " s old; the window is " + std::to_string(skew) + " s");
  if (ts > sat_add(now, skew))
    return err(Code::future_timestamp, std::string(field) + " is " + std::to_string(ts - now) +
                                           " s ahead; the window is " + std::to_string(skew) + " s");
  return Ok{};
}

Status check_recipient(const msg::Message& m, msg::Role self) {
  const auto& spec = msg::spec_of(m);
  if (spec.to != self)
    return err(Code::wrong_recipient, std::string(spec.name) + " is for the " +
                                          std::string(msg::role_name(spec.to)) + ", not the " +
                                          std::string(msg::role_name(self)));
  return Ok{};
}

namespace {

ByteView entity_key(Context& ctx, const Entity& e, const msg::Suite& s, crypto::KeyUse use, Secret& scratch) {
  if (ctx.derived) return ctx.derived->get(e.id, e.key.view(), s, use);
  scratch = crypto::derive_key(s, e.key.view(), use);
  return scratch.view();
}

// e's seal key keyed, from ctx.derived (not null): kept keyed for a proxy or a switch, rekeyed into
// the cache's one object for a terminal (edge.hpp).
crypto::AeadKey& keyed_seal_key(Context& ctx, const Entity& e, const msg::Suite& s) {
  if (e.role != msg::Role::term) return ctx.derived->seal_key(e.id, e.key.view(), s);
  return ctx.derived->rekeyed(s, ctx.derived->get(e.id, e.key.view(), s, crypto::KeyUse::seal));
}

}  // namespace

Bytes entity_authenticator(Context& ctx, const Entity& e, const msg::Suite& s, ByteView rand, std::string_view idc) {
  Secret scratch;
  return crypto::authenticator_derived(s, entity_key(ctx, e, s, crypto::KeyUse::auth, scratch), rand, idc);
}

Bytes entity_seal(Context& ctx, const Entity& e, const msg::Suite& s, const crypto::SealBinding& b,
                  ByteView session_key) {
  if (ctx.derived) return crypto::seal_key_derived(s, keyed_seal_key(ctx, e, s), b, session_key, *ctx.rng);
  Secret scratch;
  return crypto::seal_key_derived(s, entity_key(ctx, e, s, crypto::KeyUse::seal, scratch), b, session_key, *ctx.rng);
}

std::optional<Secret> entity_open(Context& ctx, const Entity& e, const msg::Suite& s, const crypto::SealBinding& b,
                                  ByteView sealed) {
  if (ctx.derived) return crypto::open_key_derived(s, keyed_seal_key(ctx, e, s), b, sealed);
  Secret scratch;
  return crypto::open_key_derived(s, entity_key(ctx, e, s, crypto::KeyUse::seal, scratch), b, sealed);
}

const std::optional<std::string>& peer_of(const msg::Message& m) {
  return m.flow == msg::Flow::proxied ? m.IDsp : m.IDss;
}

void set_peer(msg::Message& m, std::string peer) {
  (m.flow == msg::Flow::proxied ? m.IDsp : m.IDss) = std::move(peer);
}

msg::Message make_message(msg::Flow flow, std::uint8_t step, const std::string& suite,
                  const std::string& idc, const std::string& peer) {
  msg::Message m;
  m.flow = flow;
  m.step = step;
  m.suite = suite;
  m.IDc = idc;
  set_peer(m, peer);
  return m;
}

Result<msg::Message> start_template(const StartParams& p, std::uint64_t now) {
  auto flow = p.via ? msg::Flow::proxied : msg::Flow::direct;
  msg::Message m = make_message(flow, 1, p.suite, p.idc, p.via ? *p.via : p.sw);
  m.N1 = Bytes(msg::kNonceLen, 0);  // placeholder so validation sees the full shape
  m.TS1 = now;
  m.IPc = p.contact;
  if (auto st = msg::validate(m); !st) return st.error();
  if (auto st = msg::check_identity("switch", p.sw); !st) return st.error();
  if (auto st = msg::check_mech_list(p.mechs); !st) return st.error();
  m.N1.reset();
  return m;
}

Status edge_accept_register(EdgeExchange& ex, ReplayCache& seen, const msg::Message& m,
                            const Context& ctx) {
  if (auto st = check_timestamp(*m.TS1, ctx.now, ctx.policy->skew, "TS1"); !st) return st;
  if (seen.seen(*m.N1, ctx.now)) return err(Code::replayed_nonce, "N1 of this request was seen before");
  seen.add(*m.N1, sat_add(*m.TS1, ctx.policy->skew));
  ex = EdgeExchange{};
  ex.suite = *m.suite;
  ex.ipc = ctx.observed_source.empty() ? *m.IPc : ctx.observed_source;
  ex.term_n1 = *m.N1;
  return Ok{};
}

msg::Message edge_challenge(EdgeExchange& ex, const msg::Message& m, const Bytes& rand,
                            Context& ctx) {
  msg::Message out = make_message(m.flow, m.flow == msg::Flow::proxied ? 6 : 4, ex.suite, *m.IDc,
                          *peer_of(m));
  out.N1 = ex.term_n1;
  out.N2 = ctx.rng->draw(Purpose::nonce, msg::kNonceLen);
  out.TS2 = ctx.now;
  out.Rand = rand;
  out.SecMechReq = true;
  ex.n2 = out.N2;
  ex.rand = rand;
  ex.phase = EdgeExchange::Phase::awaiting_answer;
  return out;
}

Status edge_accept_answer(EdgeExchange& ex, ReplayCache& seen, const msg::Message& m,
                          const Context& ctx) {
  auto chosen = edge_check_answer(ex, seen, m, ctx);
  if (!chosen) return chosen.error();
  edge_take_answer(ex, seen, m, ctx, std::move(*chosen));
  return Ok{};
}

Result<std::string> edge_check_answer(const EdgeExchange& ex, const ReplayCache& seen,
                                      const msg::Message& m, const Context& ctx) {
  if (*m.suite != ex.suite) return err(Code::suite_mismatch, "the exchange uses " + ex.suite);
  if (seen.seen(*m.N1, ctx.now)) return err(Code::replayed_nonce, "N1 of this re-registration was seen before");
  if (ex.phase != EdgeExchange::Phase::awaiting_answer)
    return err(Code::unexpected_message, "no challenge is waiting for an answer from " + *m.IDc);
  if (auto st = check_timestamp(*m.TS3, ctx.now, ctx.policy->skew, "TS3"); !st) return st.error();
  if (!ex.n2 || *m.N2 != *ex.n2)
    return err(Code::nonce_mismatch, "N2 does not echo the challenge's N2");
  if (!ex.rand || *m.Rand != *ex.rand)
    return err(Code::unknown_challenge, "Rand is not the challenge sent to this terminal");
  return choose_mechanism(*m.SecMechList, *ctx.policy);
}

void edge_take_answer(EdgeExchange& ex, ReplayCache& seen, const msg::Message& m, const Context& ctx,
                      std::string chosen) {
  seen.add(*m.N1, sat_add(*m.TS3, ctx.policy->skew));
  ex.term_n1 = *m.N1;
  ex.mechs = *m.SecMechList;
  ex.chosen = std::move(chosen);
  ex.ipc = ctx.observed_source.empty() ? *m.IPc : ctx.observed_source;
  ex.phase = EdgeExchange::Phase::awaiting_result;
}

msg::Message edge_success(const EdgeExchange& ex, const msg::Message& m, const Bytes& ekc,
                          const Secret& session_key, Context& ctx) {
  const auto& suite = *crypto::find_suite(ex.suite);
  msg::Message out = make_message(m.flow, m.flow == msg::Flow::proxied ? 10 : 6, ex.suite, *m.IDc,
                          *peer_of(m));
  out.N1 = ex.term_n1;
  out.N2 = ctx.rng->draw(Purpose::nonce, msg::kNonceLen);
  out.TS4 = ctx.now;
  out.EKc = ekc;
  out.SecMechList = ex.mechs;
  out.SecMech = ex.chosen;
  out.MAC = crypto::message_mac(suite, session_key.view(), out);
  return out;
}

Event event_for(std::string name, const msg::Message& m, std::string mech, std::string ipc, Secret key) {
  Event e;
  e.name = std::move(name);
  e.step = &msg::spec_of(m);
  e.idc = *m.IDc;
  e.peer = *peer_of(m);
  e.suite = *m.suite;
  e.mech = std::move(mech);
  e.ipc = std::move(ipc);
  e.session_key = std::move(key);
  return e;
}

Event key_established(const msg::Message& sent, const EdgeExchange& ex, Secret key) {
  return event_for("key-established", sent, ex.chosen, ex.ipc, std::move(key));
}

}  // namespace kd::flow
