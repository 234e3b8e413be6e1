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

// The detail of a text that is not JSON (kd-protocol(7), ERROR CODES): "not valid JSON at line L,
// column C" of the byte nlohmann's parser stopped at (position: the characters it read, that one
// included; lines and columns from 1, columns in bytes), with " (the text ends)" when it ran out.
std::string not_json_at(std::string_view text, std::size_t position);

// Decodes and validates one message line. On failure, *step_name gets the "step" the line claimed,
// when it could be read, so that the error can name it. sizes: msg::validate()'s (loose for a
// message to be encoded as it is, tampered sizes included).
Result<msg::Message> decode_message(std::string_view line, std::string* step_name = nullptr,
                                    msg::Sizes sizes = msg::Sizes::exact);
// txn, when not empty: the line's transaction member (kTxnMember), last.
std::string encode_message(const msg::Message& m, std::string_view txn = {});

// The transaction member of a message line (kd-protocol(7), JSON; kd-live(7), TRANSACTIONS): not
// a field of the message but the identity of the transaction it travels in, which a live role sets
// on each request it sends and echoes in its answer. decode_message() accepts it when
// valid_txn() (1 to 64 of A-Z a-z 0-9 . _ -) and leaves it out of the message; read it with
// json::string_field (json/line.hpp).
inline constexpr std::string_view kTxnMember = "txn";
inline constexpr std::size_t kMaxTxn = 64;
bool valid_txn(std::string_view txn) noexcept;

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
