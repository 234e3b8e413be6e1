// Policy of a role: freshness windows, challenge limits, and which security mechanisms it accepts.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "msg/message.hpp"

namespace kd::flow {

// now + a limit, capped: a limit meant as "for ever" must not wrap to the past.
inline std::uint64_t sat_add(std::uint64_t a, std::uint64_t b) noexcept {
  return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

struct Policy {
  std::uint64_t skew = 300;          // timestamp window, seconds either side of now
  std::uint64_t challenge_ttl = 60;  // lifetime of a Rand at the switch, seconds
  std::uint32_t max_attempts = 3;    // wrong verification words before a terminal is locked out
  std::uint64_t lockout = 300;       // seconds a terminal stays locked out; failures are forgotten after
  std::vector<std::string> supported{"tls", "ipsec-3gpp", "ipsec-ike", "ipsec-man", "kd-app"};
};

// Mechanisms no chooser ever picks and no terminal ever accepts, whatever it is configured with:
// they give no confidentiality.
bool is_forbidden(std::string_view mech) noexcept;

// Parses "name[:q],..." with q a decimal from 0 to 1 (three places at most; default 1).
Result<msg::MechList> parse_mech_arg(std::string_view arg);
// Parses a plain comma-separated list of names.
Result<std::vector<std::string>> parse_name_list(std::string_view arg);

// The highest-q mechanism of the terminal's list that the policy supports and does not forbid
// (q = 0 means "not acceptable"); ties go to the earlier entry.
Result<std::string> choose_mechanism(const msg::MechList& offered, const Policy& p);

}  // namespace kd::flow
