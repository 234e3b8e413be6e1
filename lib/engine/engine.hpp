// One role fed one message at a time, exactly as the tools do it: bind the randomness to the input,
// run the role's state machine, keep or discard its state change, and say what it did as values
// (Outcome). Decoding what comes in and encoding what goes out is the edge's, through the codecs.
// The tools and the conformance-vector runner share it, so both see the same bytes.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/bytes.hpp"
#include "core/error.hpp"
#include "flow/policy.hpp"
#include "flow/roles.hpp"
#include "flow/state.hpp"
#include "msg/message.hpp"

namespace kd::engine {

struct Settings {
  Bytes seed;                   // empty: the operating system's randomness
  std::uint64_t now = 0;
  flow::Policy policy;
  std::string self_id;          // --id (proxy, switch, AuC); the terminal uses each message's IDc
  std::string observed_source;  // kd-proxy --source
};

// A message the role sends, with the wire message it answers or forwards (msg::previous_step; for
// the AuC, the s3/d2 its s4/d3 answers), as the role received it, or empty: the proxy's and the
// AuC's come from their input; the switch keeps each terminal's last request until it answers it.
// A binding that echoes transactions (SIP, RADIUS) encodes after it.
struct Sent {
  msg::Message message;
  Bytes previous;
};

// What one input did, as values: the edge encodes them (JSON lines, a wire binding, a capture).
struct Outcome {
  std::vector<Sent> sent;           // in the order they go out
  std::vector<flow::Event> events;  // after the messages
  std::optional<Error> error;       // last, when the input was refused
  std::string step;                 // the step the input named, when known
};

// The outcome as the JSON-lines tools print it: each message, then each event (session_key only
// with show_key), then the error; one compact JSON object per line.
std::vector<std::string> json_lines(const Outcome& o, bool show_key);

class RoleEngine {
public:
  virtual ~RoleEngine() = default;
  // A message the edge decoded; wire: its bytes as received, when it came in a wire binding
  // (empty otherwise).
  virtual Outcome feed_message(const msg::Message& m, ByteView wire = {}) = 0;
  // An input refused before it reached the role (a decode error), reported as a refusal of the role
  // is. step: the step the input named, when known.
  virtual Outcome reject(Error e, std::string_view step) = 0;
  // The terminal's first message; refused by the other roles.
  virtual Outcome start(const flow::StartParams& p) = 0;
  // The state as its file holds it.
  virtual std::string state_text() const = 0;
  // The entries changed since the state was loaded or last marked saved
  // (json::encode_state_changes), appended to out: json::apply_state_changes of it to the file as
  // it was saved gives state_text().
  virtual void write_state_changes(std::string& out) const = 0;
  std::string state_changes() const {
    std::string out;
    write_state_changes(out);
    return out;
  }
  // True once an accepted input (or a rejection that the protocol counts) changed the state since
  // it was loaded or last marked saved.
  virtual bool changed() const = 0;
  // The state as it is now has been made durable: changed() is false until the next change.
  virtual void mark_saved() = 0;
  // Whether the state remembers what changed since the last save (the default). A caller that
  // never saves the state (a service without --state) turns it off: each change then costs no
  // copy of the entry it changes, and nothing grows with them; changed() stays false.
  virtual void set_tracking(bool on) = 0;
  Settings& settings() { return settings_; }

protected:
  Settings settings_;
};

// state_text: the state file's content, or empty for a fresh state. Fails (Code::malformed) on a
// damaged or foreign state file.
Result<std::unique_ptr<RoleEngine>> make_engine(msg::Role role, const flow::Keystore& keys,
                                                Settings settings, std::string_view state_text);

}  // namespace kd::engine
