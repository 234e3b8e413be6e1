// Decimal numbers as kd's command lines take them: digits only (no sign, space, "0x" or exponent),
// within a range, without overflow whatever their length. The callers word the errors (cli's
// parse_number for options, net's parse_timers for --retransmit's items).
#pragma once

#include <cstdint>
#include <string_view>

namespace kd {

enum class NumberFault : std::uint8_t { none, empty, not_digits, too_large, too_small };

struct Decimal {
  std::uint64_t value = 0;
  NumberFault fault = NumberFault::none;
};

constexpr Decimal parse_decimal(std::string_view text, std::uint64_t lo, std::uint64_t hi) {
  if (text.empty()) return {0, NumberFault::empty};
  std::uint64_t v = 0;
  bool over = false;
  for (char ch : text) {
    if (ch < '0' || ch > '9') return {0, NumberFault::not_digits};
    const auto d = static_cast<std::uint64_t>(ch - '0');
    // Once past hi the digits only need reading, not adding: no wrap whatever their number.
    if (over || v > hi / 10 || (v == hi / 10 && d > hi % 10)) over = true;
    else v = v * 10 + d;
  }
  if (over || v > hi) return {0, NumberFault::too_large};
  if (v < lo) return {v, NumberFault::too_small};
  return {v, NumberFault::none};
}

}  // namespace kd
