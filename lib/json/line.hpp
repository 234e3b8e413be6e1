// A look at a line of JSON Lines without decoding it: what it holds, and a string member.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace kd::json {

// What a line of JSON Lines holds, for a reader of the tools' and kd-decode's output: a wire line
// (a "wire" member), one of kd-decode's message lines ("fields", or "error" beside "frame"), a
// report (a tool's "event", kd-decode's "registration" or "summary"), or else, also when it is not
// JSON at all, a message.
enum class LineKind : std::uint8_t { message, wire, record, report };
LineKind line_kind(std::string_view line);

// The string value of a top-level key of a JSON object line, if it has one (for routing and for
// reading events without a full decode).
std::optional<std::string> string_field(std::string_view line, std::string_view key);

}  // namespace kd::json
