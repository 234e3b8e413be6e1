// The four roles as pure state machines: a message and a state in, messages, events and the new
// state out. Time and randomness come in through Context.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/random.hpp"
#include "flow/policy.hpp"
#include "flow/state.hpp"
#include "msg/message.hpp"

namespace kd::crypto {
class DerivedKeys;
}

namespace kd::flow {

struct Context {
  std::uint64_t now = 0;
  RandomSource* rng = nullptr;
  const Keystore* keys = nullptr;
  // What the entities of keys derive, kept by the caller across inputs (the engine holds one per
  // role); null: every input derives afresh. It changes nothing a role sends, only its cost.
  crypto::DerivedKeys* derived = nullptr;
  const Policy* policy = nullptr;
  std::string self_id;          // this role's identity (IDsp, IDss, AuC name)
  std::string observed_source;  // proxy: where the terminal's message came from (NAT), may be empty
};

// Something a role reports that is not a message to another role.
struct Event {
  std::string name;  // "registered", "key-established", "registration-recorded"
  const msg::StepSpec* step = nullptr;
  std::string idc, peer, suite, mech, ipc;
  Secret session_key;  // printed only with --show-key
};

struct Output {
  std::vector<msg::Message> messages;
  std::vector<Event> events;
  std::optional<Error> error;
  // With an error: true when the rejection itself changes state (a failed verification word is
  // counted and its challenge retired); otherwise the handler left its state as it was.
  bool keep_state_on_error = false;

  static Output fail(Error e) {
    Output o;
    o.error = std::move(e);
    return o;
  }
};

struct StartParams {
  std::string idc;
  std::optional<std::string> via;  // proxy; absent for the direct flow
  std::string sw;
  std::string suite;
  msg::MechList mechs;
  std::string contact;
};

// Every handler expects a message that passed msg::validate(). Each changes st only when it accepts
// m or counts its refusal (Output::keep_state_on_error): the engine hands it its state itself, with
// no copy per input to fall back on.
Output term_start(TermState& st, const StartParams& p, Context& ctx);
Output term_handle(TermState& st, const msg::Message& m, Context& ctx);
Output proxy_handle(ProxyState& st, const msg::Message& m, Context& ctx);
Output switch_handle(SwitchState& st, const msg::Message& m, Context& ctx);
Output auc_handle(AucState& st, const msg::Message& m, Context& ctx);

// The message a start would send, without the nonce: the input that seeds --seed randomness for
// term_start (kd-protocol(7), "Deterministic randomness").
Result<msg::Message> start_template(const StartParams& p, std::uint64_t now);

// Shared checks.
Status check_timestamp(std::uint64_t ts, std::uint64_t now, std::uint64_t skew,
                       std::string_view field);
Status check_recipient(const msg::Message& m, msg::Role self);

}  // namespace kd::flow
