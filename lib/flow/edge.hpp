// The terminal-facing half of the protocol, shared by the proxy (proxied flow) and by the switch
// (direct flow, where it faces the terminal itself): freshness, nonces, mechanism choice, the MAC.
#pragma once

#include "flow/roles.hpp"
#include "msg/suite.hpp"

namespace kd::crypto {
struct SealBinding;
}

namespace kd::flow {

// crypto's authenticator, seal_key and open_key under entity e's long-term key, with the "auth" and
// "seal" keys it derives from ctx.derived when the caller keeps one (else derived now). A proxy's or
// a switch's seal key, used on every registration, is also kept keyed (GCM key schedule done); a
// terminal's, one of many, is only derived: fetching a cold keyed object for it from memory costs
// more than keying it again (kd-bench with 1000 terminals ran slower with every key kept keyed);
// it is keyed in the one object the cache rekeys (DerivedKeys::rekeyed), not in a new one.
Bytes entity_authenticator(Context& ctx, const Entity& e, const msg::Suite& s, ByteView rand, std::string_view idc);
Bytes entity_seal(Context& ctx, const Entity& e, const msg::Suite& s, const crypto::SealBinding& b,
                  ByteView session_key);
std::optional<Secret> entity_open(Context& ctx, const Entity& e, const msg::Suite& s, const crypto::SealBinding& b,
                                  ByteView sealed);

const std::optional<std::string>& peer_of(const msg::Message& m);
void set_peer(msg::Message& m, std::string peer);
// A message of the given step with the fields every step carries: suite, IDc and the peer (IDsp in
// the proxied flow, IDss in the direct one).
msg::Message make_message(msg::Flow flow, std::uint8_t step, const std::string& suite,
                  const std::string& idc, const std::string& peer);

// s1 / d1: a fresh registration request. Starts a new exchange in ex.
Status edge_accept_register(EdgeExchange& ex, ReplayCache& seen, const msg::Message& m,
                            const Context& ctx);
// s6 / d4: the failure response carrying Rand, built from the exchange.
msg::Message edge_challenge(EdgeExchange& ex, const msg::Message& m, const Bytes& rand,
                            Context& ctx);
// s7 / d5: the re-registration; checks freshness, nonces and the challenge, chooses the mechanism.
Status edge_accept_answer(EdgeExchange& ex, ReplayCache& seen, const msg::Message& m,
                          const Context& ctx);
// Its two halves, for a caller with checks of its own between them (the direct switch): the
// checks, which change nothing and give the chosen mechanism; then what an accepted answer changes.
Result<std::string> edge_check_answer(const EdgeExchange& ex, const ReplayCache& seen,
                                      const msg::Message& m, const Context& ctx);
void edge_take_answer(EdgeExchange& ex, ReplayCache& seen, const msg::Message& m, const Context& ctx,
                      std::string chosen);
// s10 / d6: the success response with the chosen mechanism, the echoed list and the MAC under K.
msg::Message edge_success(const EdgeExchange& ex, const msg::Message& m, const Bytes& ekc,
                          const Secret& session_key, Context& ctx);

// An event about message m (its step, IDc, peer and suite).
Event event_for(std::string name, const msg::Message& m, std::string mech, std::string ipc, Secret key = {});
// The success event shared by the proxy and the direct switch.
Event key_established(const msg::Message& sent, const EdgeExchange& ex, Secret key);

}  // namespace kd::flow
