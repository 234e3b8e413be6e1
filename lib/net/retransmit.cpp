#include "net/retransmit.hpp"

#include "core/number.hpp"

#include <algorithm>
#include <array>
#include <limits>

namespace kd::net {

namespace {

constexpr std::uint64_t kMax64 = std::numeric_limits<std::uint64_t>::max();

std::uint64_t sat_add(std::uint64_t a, std::uint64_t b) noexcept { return a > kMax64 - b ? kMax64 : a + b; }
std::uint64_t sat_double(std::uint64_t a) noexcept { return sat_add(a, a); }

// splitmix64: a whole generator in three lines, so that a seed alone fixes every draw (the
// schedule of a seeded run is reproducible) and no global random source is touched.
std::uint64_t next_random(std::uint64_t& state) noexcept {
  std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// The bounds of --retransmit's values: an hour of milliseconds is longer than any standard's
// transaction, and keeps every sum of the schedule far from wrapping.
constexpr std::uint64_t kMaxMs = 3'600'000;
constexpr std::uint64_t kMaxCount = 1000;
// A service's provisional answer to a request it has not answered in this time (kd-live(7),
// TIMERS): above a round trip through roles whose peers answer at once, below H.225.0's 3 s RAS
// timeout, so that the requester hears of it before its first retry there.
constexpr std::uint64_t kProvisionalMs = 1000;

}  // namespace

Timers default_timers(wire::Binding b) noexcept {
  Timers t;
  switch (b) {
    case wire::Binding::json:  // no standard of its own: SIP's, the binding it is the model of
    case wire::Binding::sip:
      t.initial_ms = 500;         // RFC 3261 17.1.2.2: Timer E starts at T1; 17.1.1.1: T1 = 500 ms
      t.max_interval_ms = 4000;   // RFC 3261 17.1.2.2: Timer E doubles up to T2 = 4 s
      t.max_sends = 0;            // RFC 3261 17.1.2.2: no count, Timer F alone ends the transaction
      t.timeout_ms = 64 * 500;    // RFC 3261 17.1.2.2: Timer F = 64*T1
      t.jitter_permille = 0;
      t.keep_response_ms = 64 * 500;  // RFC 3261 17.2.2: Timer J = 64*T1 over UDP
      break;
    case wire::Binding::mgcp:
      t.initial_ms = 200;         // RFC 3435 3.5 (computing retransmission timers): initial 200 ms
      t.max_interval_ms = 4000;   // RFC 3435 3.5: doubled per retransmission, up to RTO-MAX = 4 s
      t.max_sends = 1 + 7;        // RFC 3435 4.3: Max2 = 7 retransmissions, then the peer is lost
      t.timeout_ms = 20000;       // RFC 3435 3.5.1, 4.3: T-MAX = 20 s of retransmitting at most
      t.jitter_permille = 0;
      t.keep_response_ms = 30000; // RFC 3435 3.5.1: T-HIST = 30 s, the transaction-id history
      t.provisional_ms = kProvisionalMs;  // RFC 3435 sets no delay for "100": kd's
      break;
    case wire::Binding::h248:
      // H.248.1 Annex D.1.3 leaves the timer's values to the implementation and asks for MGCP's
      // scheme (an estimate, doubled on each retransmission): RFC 3435's values, the lineage of
      // Annex D.1.
      t.initial_ms = 200;
      t.max_interval_ms = 4000;
      t.max_sends = 0;            // Annex D.1.3: no count; the transaction's lifetime ends it
      t.timeout_ms = 20000;       // below LONG-TIMER, as Annex D.1.2 requires of a transaction
      t.jitter_permille = 0;
      t.keep_response_ms = 30000; // H.248.1 Annex D.1.2: LONG-TIMER, suggested value 30 s
      // Annex E.2.1: MGProvisionalResponseTimerValue starts at normalMGExecutionTime plus the
      // network delay, neither of which it gives a value: kd's.
      t.provisional_ms = kProvisionalMs;
      break;
    case wire::Binding::h323:
      t.initial_ms = 3000;        // H.225.0 RAS timers: a request times out after 3 s ...
      t.max_interval_ms = 3000;   // ... every time: H.225.0 retries at a fixed interval
      t.max_sends = 1 + 2;        // H.225.0 RAS timers: retry count 2
      t.timeout_ms = 3 * 3000;    // the three timeouts of the sends; RequestInProgress extends it
      t.jitter_permille = 0;
      t.keep_response_ms = 3 * 3000;  // kd: as long as a requester may retransmit (H.225.0 has no value)
      t.provisional_ms = kProvisionalMs;  // kd: RequestInProgress well within the requester's 3 s
      break;
    case wire::Binding::radius:
      t.initial_ms = 2000;        // RFC 5080 2.2.1: IRT = 2 s
      t.max_interval_ms = 16000;  // RFC 5080 2.2.1: MRT = 16 s
      t.max_sends = 1 + 5;        // RFC 5080 2.2.1: MRC = 5 retransmissions
      t.timeout_ms = 30000;       // RFC 5080 2.2.1: MRD = 30 s
      t.jitter_permille = 100;    // RFC 5080 2.2.1: RAND uniform in [-0.1, +0.1]
      t.keep_response_ms = 30000; // kd: MRD, after which no client retransmits (RFC 5080 2.2.2)
      break;
  }
  return t;
}

std::optional<std::string> parse_timers(std::string_view spec, Timers& t) {
  if (spec.empty()) return "no value: expected initial=MS,max=MS,count=N,timeout=MS,keep=MS,provisional=MS (any of them)";
  Timers out = t;
  struct Key {
    std::string_view name;
    std::uint64_t lo, hi;
  };
  // count=0 is meaningful (a single send); a zero interval, timeout or keep is not: the first two
  // would spin, and without a kept response a retransmission would run the role again.
  // provisional=0 is meaningful too: no provisional answer until a retransmission asks for one.
  static constexpr std::array<Key, 6> kKeys{{{"initial", 1, kMaxMs},
                                            {"max", 1, kMaxMs},
                                            {"count", 0, kMaxCount},
                                            {"timeout", 1, kMaxMs},
                                            {"keep", 1, kMaxMs},
                                            {"provisional", 0, kMaxMs}}};
  std::array<bool, kKeys.size()> seen{};
  while (true) {
    const auto comma = spec.find(',');
    const std::string_view item = spec.substr(0, comma);
    const auto eq = item.find('=');
    const std::string_view name = item.substr(0, eq);
    std::size_t k = 0;
    while (k < kKeys.size() && kKeys[k].name != name) ++k;
    if (item.empty()) return std::string("an empty item (items are separated by one comma)");
    if (k == kKeys.size())
      return "unknown key \"" + std::string(name) + "\" (keys: initial, max, count, timeout, keep, provisional)";
    if (seen[k]) return std::string(name) + " is given twice";
    seen[k] = true;
    const Key& key = kKeys[k];
    const std::string want = std::string(name) + " must be a whole number from " + std::to_string(key.lo) +
                             " to " + std::to_string(key.hi);
    if (eq == std::string_view::npos || eq + 1 == item.size()) return "no value: " + want;
    const std::string_view text = item.substr(eq + 1);
    const Decimal d = parse_decimal(text, key.lo, key.hi);
    if (d.fault == NumberFault::not_digits) return "\"" + std::string(text) + "\": " + want + " (decimal digits only)";
    if (d.fault == NumberFault::too_large) return std::string(text) + " is too large: " + want;
    if (d.fault == NumberFault::too_small) return std::string(text) + " is too small: " + want;
    const std::uint64_t v = d.value;
    switch (k) {
      case 0: out.initial_ms = v; break;
      case 1: out.max_interval_ms = v; break;
      case 2: out.max_sends = static_cast<std::uint32_t>(v + 1); break;
      case 3: out.timeout_ms = v; break;
      case 4: out.keep_response_ms = v; break;
      default: out.provisional_ms = v; break;
    }
    if (comma == std::string_view::npos) break;
    spec.remove_prefix(comma + 1);
  }
  if (out.max_interval_ms < out.initial_ms)
    return "max (" + std::to_string(out.max_interval_ms) + ") is below initial (" + std::to_string(out.initial_ms) + ")";
  t = out;
  return std::nullopt;
}

Retransmission::Retransmission(const Timers& t, std::uint64_t first_send_ms, std::uint64_t jitter_seed)
    : timers_(t), give_up_at_(sat_add(first_send_ms, t.timeout_ms)), rng_(jitter_seed) {
  deadline_ = std::min(sat_add(first_send_ms, next_interval()), give_up_at_);
}

std::uint64_t Retransmission::deadline() const noexcept { return deadline_; }

std::uint32_t Retransmission::sends() const noexcept { return sends_; }

// RFC 5080 2.2.1 (after RFC 3315 section 14): RT = IRT + RAND*IRT first, then
// RT = 2*RTprev + RAND*RTprev, and RT = MRT + RAND*MRT when that is above MRT. Without jitter
// (RAND = 0) this is every other binding's doubling up to its cap.
std::uint64_t Retransmission::next_interval() noexcept {
  const bool first = interval_ == 0;
  // value + RAND*of: RAND's share is of `of`, which for the doubling is RTprev, not 2*RTprev.
  auto jittered = [this](std::uint64_t value, std::uint64_t of) {
    const std::uint64_t j = timers_.jitter_permille;
    if (j == 0) return value;
    const std::uint64_t draw = next_random(rng_) % (2 * j + 1);  // 0..2j: RAND = draw/1000 - j/1000
    const std::uint64_t r = draw >= j ? draw - j : j - draw;
    const std::uint64_t delta = std::min(of / 1000 * r + of % 1000 * r / 1000, value);
    return draw >= j ? sat_add(value, delta) : value - delta;
  };
  std::uint64_t rt = first ? jittered(timers_.initial_ms, timers_.initial_ms)
                           : jittered(sat_double(interval_), interval_);
  if (rt > timers_.max_interval_ms) rt = jittered(timers_.max_interval_ms, timers_.max_interval_ms);
  // A zero interval would have the loop resend at once, forever.
  interval_ = std::max<std::uint64_t>(rt, 1);
  return interval_;
}

Retransmission::Action Retransmission::on_deadline(std::uint64_t now_ms) noexcept {
  // Late calls (a busy loop) count from now, as a timer restarted at the send would; early ones
  // from the deadline, which they must not move backwards.
  const std::uint64_t at = std::max(now_ms, deadline_);
  if (held_) {
    if (resent_in_hold_) return Action::give_up;
    resent_in_hold_ = true;
    ++sends_;
    deadline_ = give_up_at_ = sat_add(at, hold_ms_);
    return Action::resend;
  }
  if (at >= give_up_at_ || (timers_.max_sends != 0 && sends_ >= timers_.max_sends))
    return Action::give_up;
  ++sends_;
  deadline_ = std::min(sat_add(at, next_interval()), give_up_at_);
  return Action::resend;
}

void Retransmission::on_provisional(std::uint64_t now_ms, std::uint64_t wait_ms) noexcept {
  if (provisionals_ == kMaxProvisionals) return;
  ++provisionals_;
  held_ = true;
  resent_in_hold_ = false;
  hold_ms_ = wait_ms;
  give_up_at_ = sat_add(now_ms, wait_ms);
  deadline_ = give_up_at_;
}

}  // namespace kd::net
