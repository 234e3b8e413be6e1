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
  std::uint64_t provisional_ms = 0;  // a server's: a pending request still unanswered this long
                                     // after it came gets a provisional answer (H.248.1 Annex
                                     // D.1.4 and E.2.1); 0: only when a retransmission comes
};
// max_sends counts every send, the first included: a standard's limit on retransmissions (RADIUS
// MRC, MGCP Max2, H.225.0's retry count) is max_sends - 1, and so is "count=" of parse_timers.

// The defaults of the binding's standard over UDP (kd-live(7), TIMERS).
Timers default_timers(wire::Binding b) noexcept;
// "--retransmit initial=MS,max=MS,count=N,timeout=MS,keep=MS,provisional=MS" (any subset) applied over t;
// a message on failure (strict numbers; unknown key; zero where zero is meaningless).
std::optional<std::string> parse_timers(std::string_view spec, Timers& t);

// How many provisional answers may extend one transaction's wait (kd-live(7), TIMERS): a peer that
// keeps saying it is working on a request cannot hold the requester for ever.
inline constexpr std::uint32_t kMaxProvisionals = 8;

class Retransmission {
public:
  Retransmission(const Timers& t, std::uint64_t first_send_ms, std::uint64_t jitter_seed);
  // When on_deadline() must be called next.
  std::uint64_t deadline() const noexcept;
  enum class Action : std::uint8_t { resend, give_up };
  // resend: send the same bytes again, deadline() has moved on; give_up: the transaction timed out.
  Action on_deadline(std::uint64_t now_ms) noexcept;
  std::uint32_t sends() const noexcept;  // 1 after construction

  // The peer said it is working on the request (H.248 TransactionPending, H.225.0
  // RequestInProgress with its delay, an MGCP provisional response): no more retransmissions
  // while it works; the next deadline is wait_ms from now. When it passes with no answer, the
  // request goes once more (its final answer may have been lost: a peer that answered meanwhile
  // answers the copy from its cache, one still at work says so again) and the deadline after
  // that, as long again, gives up. The transaction timeout no longer applies: the peer set the
  // wait. Past kMaxProvisionals calls, a call changes nothing.
  void on_provisional(std::uint64_t now_ms, std::uint64_t wait_ms) noexcept;

private:
  std::uint64_t next_interval() noexcept;

  Timers timers_;
  std::uint64_t give_up_at_;     // first send + timeout (saturated)
  std::uint64_t interval_ = 0;   // the interval that led to deadline_ (RFC 5080's RTprev)
  std::uint64_t deadline_ = 0;
  std::uint64_t rng_;            // splitmix64 state, from the seed
  std::uint32_t sends_ = 1;
  bool held_ = false;            // after on_provisional(): the deadline ends a wait the peer asked for
  bool resent_in_hold_ = false;  // the wait ended once and the request went again: next, give up
  std::uint64_t hold_ms_ = 0;    // the last provisional answer's wait
  std::uint32_t provisionals_ = 0;
};

}  // namespace kd::net
