// The envelope values a logical message does not carry (Call-ID, tags, branch, transaction and
// request ids, sequence numbers) are hashes of its fields, so that encoding is a pure function of
// the message (wire/codec.hpp). Every binding hashes the same way, under its own prefix.
#pragma once

#include <cstddef>
#include <initializer_list>
#include <string>
#include <string_view>

#include "core/bytes.hpp"

namespace kd::wire {

// SHA-256(prefix || label || (0x00 || part)...), prefix being "kd-sip ", "kd-mgcp ", ...
Bytes envelope_digest(std::string_view prefix, std::string_view label, std::initializer_list<std::string_view> parts);
// Its lowercase hex, cut to n digits.
std::string envelope_hex(std::string_view prefix, std::string_view label, std::initializer_list<std::string_view> parts,
                         std::size_t n);

}  // namespace kd::wire
