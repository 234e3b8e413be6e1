// kd-decode's output lines (kd-decode(1), OUTPUT): one per message, one per registration, the
// summary; and a message read back from its line. What they report is declared in decoded.hpp.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "json/decoded.hpp"
#include "msg/message.hpp"

namespace kd::json {

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
// A provisional answer (kd-live(7), TRANSACTIONS): a transport message of its binding, no step.
// Its line has r's frame, time, src, dst, transport and binding (r has no message or error).
struct ProvisionalAnswer {
  std::string_view element;       // "100", "101", "TransactionPending", "RequestInProgress"
  std::uint32_t transaction = 0;  // the id of the request it answers
  std::string_view answers;       // that request's step, when the input showed it before; else empty
  std::uint32_t delay_ms = 0;     // RequestInProgress's delay; 0: none (the other bindings)
};
void encode_provisional(const DecodedRecord& r, const ProvisionalAnswer& p, std::string& out);
// A retransmission (kd-live(7), TRANSACTIONS): the same bytes again, from the same source to the
// same destination, as the datagram of frame `of`, whose step was `step` (empty: no KD message).
// Its line has r's frame, time, src, dst, transport and binding (r has no message or error).
void encode_retransmission(const DecodedRecord& r, std::uint64_t of, std::string_view step, std::string& out);
struct DecodeSummary {
  std::uint64_t frames = 0, messages = 0, errors = 0, skipped = 0, truncated = 0;
  std::uint64_t provisional = 0;  // provisional answers (not skipped)
  std::uint64_t retransmissions = 0;  // datagrams that repeat an earlier one (not messages, not skipped)
  std::uint64_t registrations = 0, completed = 0, failed_checks = 0;
  std::uint64_t unverified = 0;  // messages with something that could not be verified
};
std::string encode_summary(const DecodeSummary& s);

// A message from one of kd-decode's message lines: step, flow and to, and the fields under
// "fields"; the capture details and checks are ignored. As decode_message (message.hpp) otherwise.
Result<msg::Message> decode_record(std::string_view line, std::string* step_name = nullptr,
                                   msg::Sizes sizes = msg::Sizes::exact);

}  // namespace kd::json
