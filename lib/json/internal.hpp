// Internal to json/ (no file outside json/ includes it): the strict reading that every JSON form
// of kd shares, and a message's fields as JSON members, which the message line (message.cpp) and
// kd-decode's lines (record.cpp) both read and write. nlohmann/json stays inside json/.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/bytes.hpp"
#include "core/error.hpp"
#include "msg/message.hpp"

namespace kd::json {

using nlohmann::json;
using ojson = nlohmann::ordered_json;

// Parses text into j, refusing duplicate keys. saturate: an integer written beyond 2^64-1 is kept
// as 2^64-1, so that it reads as an integer above its range (bad_length), not as a fraction
// (malformed); for message lines only: a state file or a keystore holding such a number is
// damaged, and refused as a float is.
Status parse_strict(std::string_view text, json& j, bool saturate = false);
// For a quick look at a line's kind: a discarded value when it is not JSON (a NUL byte included).
json parse_or_discard(std::string_view text);
// Whether v is the integer 1, as a file's format version must be: not 1.0, 1e0 or "1".
inline bool is_version_one(const json& v) { return v.is_number_unsigned() && v.get<std::uint64_t>() == 1; }
// "WHAT format version N: this kd reads version 1 only" when v is an integer other than 1 (a file of
// another version of kd's format), else nullopt (not kd's format at all, or version 1).
inline std::optional<std::string> other_version(const json& v, std::string_view what) {
  if (!v.is_number_unsigned() || v.get<std::uint64_t>() == 1) return std::nullopt;
  return std::string(what) + " format version " + std::to_string(v.get<std::uint64_t>()) + ": this kd reads version 1 only";
}
// A byte string as lowercase hex of even length; field names it in the error.
Result<Bytes> hex_field(const json& v, std::string_view field);

// A message from the JSON object j of the message line form (kd-protocol(7)); *step_name gets the
// "step" it claims when it could be read.
Result<msg::Message> message_of(const json& j, std::string* step_name, msg::Sizes sizes);
// Sets a member of j for each field m holds, in the canonical order.
void write_fields(ojson& j, const msg::Message& m);

}  // namespace kd::json
