// lib/net/retransmit.hpp — a client transaction's retransmission schedule, pure (no clock, no
// randomness source of its own: `now` and a jitter seed come in). Times in milliseconds.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include "wire/codec.hpp"   // wire::Binding (json counts as a binding: use SIP's timers for it)

namespace kd::net {

struct Timers {
  std::uint64_t initial_ms = 500;    // first retransmission interval (SIP T1, RADIUS IRT, ...)
  std::uint64_t max_interval_ms = 4000;  // cap of the doubling (SIP T2, RADIUS MRT, ...)
  std::uint32_t max_sends = 0;       // 0: no count limit (SIP); RADIUS MRC counts retransmissions
  std::uint64_t timeout_ms = 32000;  // give up this long after the first send (SIP Timer F, RADIUS MRD)
  std::uint32_t jitter_permille = 0; // RADIUS RFC 5080: +-100 (RAND); 0 for the others
  std::uint64_t keep_response_ms = 32000;  // how long a server keeps a response for retransmitted
                                           // requests (SIP Timer J = 64*T1, ...)
};

// The defaults of the binding's standard over UDP (kd-live(7), TIMERS).
Timers default_timers(wire::Binding b) noexcept;
// "--retransmit initial=MS,max=MS,count=N,timeout=MS,keep=MS" (any subset) applied over t;
// a message on failure (strict numbers; unknown key; zero where zero is meaningless).
std::optional<std::string> parse_timers(std::string_view spec, Timers& t);

class Retransmission {
public:
  Retransmission(const Timers& t, std::uint64_t first_send_ms, std::uint64_t jitter_seed);
  // When on_deadline() must be called next.
  std::uint64_t deadline() const noexcept;
  enum class Action : std::uint8_t { resend, give_up };
  // resend: send the same bytes again, deadline() has moved on; give_up: the transaction timed out.
  Action on_deadline(std::uint64_t now_ms) noexcept;
  std::uint32_t sends() const noexcept;  // 1 after construction

private:
  Timers t_;
  std::uint64_t first_ = 0, interval_ = 0, deadline_ = 0;
  std::uint32_t sends_ = 1;
};

}  // namespace kd::net
