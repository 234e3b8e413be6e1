// Conformance test vectors: the model of the files in testvectors/, a generic runner that checks
// them against a Driver (the library in process, or the tools), and the generator behind
// scripts/mkvectors. Formats: kd-vectors(5).
#pragma once

#include <array>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/bytes.hpp"
#include "core/error.hpp"
#include "flow/roles.hpp"
#include "flow/state.hpp"
#include "msg/message.hpp"

namespace kd::vectors {

// Everything a registration needs; shared by a positive vector and by a negative group.
struct Setup {
  std::string suite;
  msg::Flow flow = msg::Flow::proxied;
  Bytes seed;
  std::uint64_t now = 0;
  std::string term = "alice", proxy = "sbc1", sw = "ss1", auc = "auc";
  std::string mechs = "tls:0.9,ipsec-3gpp:0.5,kd-app:0.1";
  std::string contact = "192.0.2.10:5060";
  flow::Keystore keys;
  // The signaling binding messages travel in ("json", "sip", "mgcp", "h248", "h323"); with a wire
  // binding the AuC link speaks RADIUS under radius_secret (kd-protocol(7), BINDINGS).
  std::string binding = "json";
  std::string radius_secret;
};

// The RADIUS shared secret of every wire vector (documented in kd-vectors(5)).
inline constexpr const char* kRadiusSecret = "kd-vectors-secret";
// The wire bindings vectors exist for, besides json.
std::vector<std::string> wire_bindings();
// The binding a message of this setup travels in: RADIUS for the AuC link, else the setup's
// signaling binding when it carries the step, else "json".
std::string binding_of_step(const Setup& s, const msg::StepSpec& step);
// The message's bytes in the binding the setup gives its step (for json: the JSON line).
// previous: the wire message m answers or forwards (engine::Outcome::previous), if any.
Result<Bytes> encode_wire(const Setup& s, const msg::Message& m, std::string* binding = nullptr,
                          ByteView previous = {});
// Decodes bytes of the named binding ("json" included) with the setup's RADIUS secret.
Result<msg::Message> decode_wire(const Setup& s, const std::string& binding, ByteView wire);

struct Record {  // one line of a transcript
  std::string step;  // message step, or "" for an event
  msg::Role from = msg::Role::term;
  std::optional<msg::Role> to;  // absent for events
  std::string line;         // the logical JSON line (message or event)
  std::string wire_binding; // messages: the binding of wire ("json", a signaling binding, "radius")
  Bytes wire;               // messages: the bytes in that binding
};

struct Positive {
  Setup setup;
  std::vector<Record> records;  // messages and events in delivery order
  std::string session_key;      // hex
  std::string pcap;             // file name of the capture (testvectors/pcap/), wire bindings only
};

struct Overrides {
  std::optional<std::uint64_t> now{}, skew{}, challenge_ttl{}, lockout{};
  std::optional<std::uint32_t> max_attempts{};
  std::optional<std::string> support{};
  bool operator==(const Overrides&) const = default;
};

struct Delivery {
  msg::Role target = msg::Role::term;
  std::string line;
};

struct Case {
  int tc_id = 0;
  std::string comment;
  std::vector<std::string> flags;
  std::string before;            // state as it was just before this step was delivered; "end" = after the run
  std::vector<Delivery> extra;   // delivered first, outcome ignored
  Delivery input;
  Overrides overrides;           // for the input (and the extras)
  std::string result;            // "valid", "invalid" or "acceptable"
  std::string error;             // the reason code, for "invalid"
  bool state_change = false;     // an invalid input whose rejection the protocol records
  // A malformed encoding (wire-*.json): input.line is then the wire line of these bytes.
  std::string step, wire_binding;
  Bytes wire;
  bool is_wire() const { return !wire_binding.empty(); }
};

struct Group {
  Setup setup;
  std::vector<Case> tests;
};

struct Note {
  std::string bug_type, description;
};

struct Negative {
  std::map<std::string, Note> notes;
  std::vector<Group> groups;
  std::size_t count() const {
    std::size_t n = 0;
    for (const auto& g : groups) n += g.tests.size();
    return n;
  }
};

// ---- running --------------------------------------------------------------------------------

using Snapshot = std::array<std::optional<std::string>, 4>;  // state of term, proxy, switch, auc

struct Outcome {
  std::vector<std::string> lines;
  std::string code;  // the error code, empty when accepted
  int status = 0;    // the exit status a tool gave (0 or 1), or what it would give
};

// Something that plays the four roles: the library in process, or the binaries.
class Driver {
public:
  virtual ~Driver() = default;
  virtual void reset(const Setup& s) = 0;
  virtual Outcome start(const Setup& s) = 0;
  virtual Outcome deliver(const Setup& s, const Delivery& d, const Overrides& o) = 0;
  virtual Snapshot snapshot() = 0;
  virtual void restore(const Snapshot& s) = 0;
};

class InProcessDriver final : public Driver {
public:
  void reset(const Setup& s) override;
  Outcome start(const Setup& s) override;
  Outcome deliver(const Setup& s, const Delivery& d, const Overrides& o) override;
  Snapshot snapshot() override { return states_; }
  void restore(const Snapshot& s) override { states_ = s; }

private:
  Snapshot states_;
};

// The arguments of `kd-term start` for this setup.
flow::StartParams start_params(const Setup& s);

// A live run of the setup: the records, and a snapshot of every state before each step.
struct Run {
  std::vector<Record> records;
  std::map<std::string, Snapshot> before;  // by step name, plus "end"
  std::string term_key, edge_key;
  std::vector<std::string> errors;
};
Run run_registration(const Setup& s, Driver& d);

struct Report {
  std::size_t cases = 0, failed = 0;  // a positive vector is one case
  std::vector<std::string> lines;     // what failed, and why
};
Report check(const Positive& v, Driver& d);
Report check(const Negative& v, Driver& d);

// The roles an override reaches, the same in process and through the tools: skew and now reach
// every role; challenge_ttl the switch and the AuC; max_attempts and lockout the switch; support
// the proxy and the switch.
bool override_applies(std::string_view option, msg::Role r);

// ---- generating -----------------------------------------------------------------------------

// Keys as `kd-auc keys add --seed` derives them.
flow::Keystore seeded_keys(const Setup& s);
Positive make_positive(const std::string& suite, msg::Flow flow);
// The negative cases of one suite, both flows; tcIds start at 1 (proxied) and 1001 (direct).
Negative make_negative(const std::string& suite);
// A positive vector in a wire binding: the JSON vector's transcript with each message's bytes.
Positive make_wire_positive(const std::string& suite, msg::Flow flow, const std::string& binding);
// The capture of a wire vector: every message as an Ethernet/IPv4/UDP frame (classic pcap).
// Writes path afresh.
Status write_pcap(const Positive& v, const std::string& path);
// Malformed encodings of one binding (a signaling binding or "radius"), both flows; tcIds start
// at 1 (proxied) and 1001 (direct).
Negative make_wire_negative(const std::string& binding);

}  // namespace kd::vectors
