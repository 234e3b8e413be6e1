// Numeric command-line options, parsed strictly and the same way in every tool.
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"

namespace CLI {
class App;
class Option;
}  // namespace CLI

namespace kd::cli {

// The values a numeric option accepts, both ends included.
struct NumberRange {
  std::uint64_t lo = 0, hi = std::numeric_limits<std::uint64_t>::max();
};

// The largest UNIX time a tool may be set to: the largest timestamp a message may carry
// (kd-protocol(7), TS1..TS4).
inline constexpr std::uint64_t kMaxNow = std::numeric_limits<std::int64_t>::max();

// A decimal number of the range: digits only (no sign, space, "0x" or exponent, which CLI11 would
// take, wrapping "-1" to 2^64-1 and capping what is above 2^64-1), and no overflow. The error says
// what was wrong and the range, quoting text as it is (the printer escapes it).
Result<std::uint64_t> parse_number(std::string_view text, NumberRange range);

// Adds a numeric option to app whose value goes through parse_number. A bad value throws
// UsageError("NAME: ...", naming the range) from within the parse.
CLI::Option* add_number(CLI::App& app, const std::string& name, std::uint64_t& into,
                        NumberRange range, const std::string& help);
CLI::Option* add_number(CLI::App& app, const std::string& name, std::uint32_t& into,
                        NumberRange range, const std::string& help);
CLI::Option* add_number(CLI::App& app, const std::string& name,
                        std::optional<std::uint64_t>& into, NumberRange range, const std::string& help);

// --id with --count (kd-auc keys add and export, kd-term load): a pattern holding %d exactly once,
// which stands for the numbers 0..count-1, and %% for a literal %; any other % is refused. The ids
// are made one at a time (at()), so a load of a million terminals never holds a million names.
class IdPattern {
public:
  // Throws UsageError naming the pattern's fault, or the first id of 0..count-1 that is not a valid
  // identity (msg::check_identity).
  IdPattern(const std::string& pattern, std::uint64_t count);
  std::string at(std::uint64_t n) const { return before_ + std::to_string(n) + after_; }
  std::uint64_t count() const noexcept { return count_; }

private:
  std::string before_, after_;
  std::uint64_t count_ = 0;
};

// Makes an empty value of opt a bad command line ("NAME: must not be empty (give WHAT)"), for the
// options whose absence means something (no state, no keys, no capture): a script's unset variable
// (--state "$ST") must not pass for leaving the option out. Returns opt.
CLI::Option* refuse_empty(CLI::Option* opt, const std::string& what);

// --decode-as, declared the same in every tool that reads captures (parse_decode_as reads it).
CLI::Option* add_decode_as(CLI::App& app, std::vector<std::string>& into);

// The options the role tools and kd-decode share, each declared here once (its name, how it is
// parsed and checked); help says what it does in the tool that adds it.
CLI::Option* add_keys(CLI::App& app, std::string& into, const std::string& help);           // --keys FILE
CLI::Option* add_skew(CLI::App& app, std::uint64_t& into, const std::string& help);         // --skew UINT
CLI::Option* add_binding(CLI::App& app, std::string& into, const std::string& help);        // --binding NAME
CLI::Option* add_radius_secret_file(CLI::App& app, std::string& into, const std::string& help);
// --retransmit SPEC (serve, register, load): an empty SPEC is refused, not taken for no SPEC.
CLI::Option* add_retransmit(CLI::App& app, std::string& into, const std::string& help);
// --addr ROLE=IP, repeatable (parse_addr reads it).
CLI::Option* add_addr(CLI::App& app, std::vector<std::string>& into, const std::string& help);

}  // namespace kd::cli
