// The JSON forms: messages and events (one line each), the keystore and the role state files.
// nlohmann/json stays inside json/.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "core/error.hpp"
#include "flow/roles.hpp"
#include "flow/state.hpp"
#include "json/decoded.hpp"
#include "msg/message.hpp"

namespace kd::json {

inline constexpr std::size_t kMaxLine = 65536;

// Decodes and validates one message line. On failure, *step_name gets the "step" the line claimed,
// when it could be read, so that the error can name it. sizes: msg::validate()'s (loose for a
// message to be encoded as it is, tampered sizes included).
Result<msg::Message> decode_message(std::string_view line, std::string* step_name = nullptr,
                                    msg::Sizes sizes = msg::Sizes::exact);
// The same from one of kd-decode's message lines (kd-decode(1), OUTPUT): step, flow and to, and the
// fields under "fields"; the capture details and checks are ignored.
Result<msg::Message> decode_record(std::string_view line, std::string* step_name = nullptr,
                                   msg::Sizes sizes = msg::Sizes::exact);
// What a line of JSON Lines holds, for a reader of the tools' and kd-decode's output: a wire line
// (a "wire" member), one of kd-decode's message lines ("fields", or "error" beside "frame"), a
// report (a tool's "event", kd-decode's "registration" or "summary"), or else, also when it is not
// JSON at all, a message.
enum class LineKind : std::uint8_t { message, wire, record, report };
LineKind line_kind(std::string_view line);
std::string encode_message(const msg::Message& m);
std::string encode_event(const flow::Event& e, bool show_key);
std::string encode_error(const Error& e, std::string_view step);

// The string value of a top-level key of a JSON object line, if it has one (for routing and for
// reading events without a full decode).
std::optional<std::string> string_field(std::string_view line, std::string_view key);

// A message in a signaling binding, as the tools print it when --binding is not json:
// {"binding":"sip","step":"s1","flow":"proxied","to":"proxy","wire":"<hex>"}. step, flow and to are
// routing hints; the receiver decodes the wire bytes and checks that they name the same step.
struct WireLine {
  std::string binding, step, to;
  Bytes wire;
};
bool is_wire_line(std::string_view line);  // an object with a "wire" key
Result<WireLine> decode_wire_line(std::string_view line);
std::string encode_wire_line(std::string_view binding, const msg::StepSpec& spec, ByteView wire);

// kd-decode's output lines (kd-decode(1), OUTPUT).
struct DecodedRecord {
  std::uint64_t frame = 0;                 // capture frame number, or input line number
  std::optional<std::string> time;         // "seconds.nanoseconds" of the frame, when captured
  std::string src, dst, transport;         // "ip:port", "udp"/"tcp"; empty when not captured
  std::string binding;                     // "json", "sip", ...
  const msg::Message* message = nullptr;   // the decoded message, or
  std::optional<Error> error;              // why it did not decode
  const std::vector<Check>* checks = nullptr;
  std::span<const std::string_view> unverified;  // what could not be verified (RADIUS without the secret)
};
// One line each, without the newline. The forms taking out append to it, so that a caller can
// reuse one buffer for many lines.
std::string encode_decoded(const DecodedRecord& r);
void encode_decoded(const DecodedRecord& r, std::string& out);
std::string encode_registration(const RegistrationReport& r, bool show_key);
void encode_registration(const RegistrationReport& r, bool show_key, std::string& out);
struct DecodeSummary {
  std::uint64_t frames = 0, messages = 0, errors = 0, skipped = 0, truncated = 0;
  std::uint64_t registrations = 0, completed = 0, failed_checks = 0;
  std::uint64_t unverified = 0;  // messages with something that could not be verified
};
std::string encode_summary(const DecodeSummary& s);

Result<flow::Keystore> decode_keystore(std::string_view text);
std::string encode_keystore(const flow::Keystore& ks);

// State files: {"kd_state":1,"role":"<role>",...}. Errors name what is wrong (Code::malformed).
Result<flow::TermState> decode_term_state(std::string_view text);
Result<flow::ProxyState> decode_proxy_state(std::string_view text);
Result<flow::SwitchState> decode_switch_state(std::string_view text);
Result<flow::AucState> decode_auc_state(std::string_view text);
std::string encode_state(const flow::TermState& s);
std::string encode_state(const flow::ProxyState& s);
std::string encode_state(const flow::SwitchState& s);
std::string encode_state(const flow::AucState& s);

}  // namespace kd::json
