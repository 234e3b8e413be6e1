// A message as one JSON line (kd-protocol(7), JSON): the logical form, and the wire line that
// carries it in a signaling binding.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "core/bytes.hpp"
#include "core/error.hpp"
#include "msg/message.hpp"

namespace kd::json {

inline constexpr std::size_t kMaxLine = 65536;

// Decodes and validates one message line. On failure, *step_name gets the "step" the line claimed,
// when it could be read, so that the error can name it. sizes: msg::validate()'s (loose for a
// message to be encoded as it is, tampered sizes included).
Result<msg::Message> decode_message(std::string_view line, std::string* step_name = nullptr,
                                    msg::Sizes sizes = msg::Sizes::exact);
std::string encode_message(const msg::Message& m);

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

}  // namespace kd::json
