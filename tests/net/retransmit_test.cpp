// Retransmission schedules against the numbers of each standard, worked out by hand from its text
// (not from the code): the clock is a number the test moves to each deadline.
#include "net/retransmit.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <set>
#include <string>
#include <vector>

namespace kd::net {
namespace {

using wire::Binding;

struct Schedule {
  std::vector<std::uint64_t> resends;  // when each retransmission went, relative to the first send
  std::uint64_t give_up = 0;           // when the transaction gave up, likewise
  std::uint32_t sends = 0;
};

// Drives a transaction that never gets an answer, calling on_deadline exactly at each deadline.
Schedule run(const Timers& t, std::uint64_t first = 1'000'000, std::uint64_t seed = 1) {
  Retransmission r(t, first, seed);
  Schedule out;
  EXPECT_EQ(r.sends(), 1u);
  for (int guard = 0; guard < 1000; ++guard) {
    const std::uint64_t now = r.deadline();
    EXPECT_GT(now, first);
    if (r.on_deadline(now) == Retransmission::Action::give_up) {
      out.give_up = now - first;
      out.sends = r.sends();
      return out;
    }
    out.resends.push_back(now - first);
  }
  ADD_FAILURE() << "no give_up after 1000 deadlines";
  return out;
}

using Ms = std::vector<std::uint64_t>;

// RFC 3261 17.1.2.2: Timer E fires at T1, then doubles up to T2 (0.5, 1, 2, 4, 4, ... s between
// sends); Timer F, 64*T1 = 32 s after the first send, ends it.
TEST(RetransmitSchedule, SipNonInviteClientTimerEAndF) {
  const Schedule r = run(default_timers(Binding::sip));
  EXPECT_EQ(r.resends, (Ms{500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500}));
  EXPECT_EQ(r.give_up, 32000u);
  EXPECT_EQ(r.sends, 11u);
  EXPECT_EQ(default_timers(Binding::sip).keep_response_ms, 32000u);  // Timer J = 64*T1
}

TEST(RetransmitSchedule, JsonUsesSipTimers) {
  const Timers s = default_timers(Binding::sip), j = default_timers(Binding::json);
  EXPECT_EQ(j.initial_ms, s.initial_ms);
  EXPECT_EQ(j.max_interval_ms, s.max_interval_ms);
  EXPECT_EQ(j.max_sends, s.max_sends);
  EXPECT_EQ(j.timeout_ms, s.timeout_ms);
  EXPECT_EQ(j.jitter_permille, s.jitter_permille);
  EXPECT_EQ(j.keep_response_ms, s.keep_response_ms);
}

// RFC 3435: 200 ms doubling to RTO-MAX 4 s (0.2, 0.4, 0.8, 1.6, 3.2, 4, 4 s between sends);
// Max2 = 7 retransmissions, then the wait for the last one's answer; T-HIST 30 s.
TEST(RetransmitSchedule, MgcpMax2Retransmissions) {
  const Schedule r = run(default_timers(Binding::mgcp));
  EXPECT_EQ(r.resends, (Ms{200, 600, 1400, 3000, 6200, 10200, 14200}));
  EXPECT_EQ(r.give_up, 18200u);
  EXPECT_EQ(r.sends, 8u);
  EXPECT_EQ(default_timers(Binding::mgcp).keep_response_ms, 30000u);
}

// H.248.1 Annex D.1: MGCP's doubling, no count, a 20 s lifetime under LONG-TIMER (30 s).
TEST(RetransmitSchedule, H248UntilTheTransactionLifetime) {
  const Schedule r = run(default_timers(Binding::h248));
  EXPECT_EQ(r.resends, (Ms{200, 600, 1400, 3000, 6200, 10200, 14200, 18200}));
  EXPECT_EQ(r.give_up, 20000u);
  EXPECT_EQ(r.sends, 9u);
  EXPECT_EQ(default_timers(Binding::h248).keep_response_ms, 30000u);
}

// H.225.0 RAS: 3 s timeout, 2 retries, no backoff.
TEST(RetransmitSchedule, H225RasTimeoutAndRetryCount) {
  const Schedule r = run(default_timers(Binding::h323));
  EXPECT_EQ(r.resends, (Ms{3000, 6000}));
  EXPECT_EQ(r.give_up, 9000u);
  EXPECT_EQ(r.sends, 3u);
}

// RFC 5080 2.2.1 without RAND: RT 2, 4, 8, 16 s; MRD 30 s comes before MRC's fifth retransmission.
TEST(RetransmitSchedule, RadiusWithoutJitterEndsAtMrd) {
  Timers t = default_timers(Binding::radius);
  EXPECT_EQ(t.jitter_permille, 100u);
  t.jitter_permille = 0;
  const Schedule r = run(t);
  EXPECT_EQ(r.resends, (Ms{2000, 6000, 14000}));
  EXPECT_EQ(r.give_up, 30000u);
  EXPECT_EQ(r.sends, 4u);
}

// With MRD out of the way, MRC = 5 retransmissions (RT capped at MRT = 16 s) ends it.
TEST(RetransmitSchedule, RadiusMrcEndsALongerExchange) {
  Timers t = default_timers(Binding::radius);
  t.jitter_permille = 0;
  t.timeout_ms = 3'600'000;
  const Schedule r = run(t);
  EXPECT_EQ(r.resends, (Ms{2000, 6000, 14000, 30000, 46000}));
  EXPECT_EQ(r.give_up, 62000u);
  EXPECT_EQ(r.sends, 6u);
}

// RT = IRT + RAND*IRT, then 2*RTprev + RAND*RTprev, or MRT + RAND*MRT above MRT, RAND in
// [-0.1, 0.1] (RFC 5080 2.2.1): every interval within those bounds, for many seeds.
TEST(RetransmitJitter, RadiusIntervalsWithinRand) {
  Timers t = default_timers(Binding::radius);
  t.timeout_ms = 3'600'000;  // let MRC end it, to see every interval
  for (std::uint64_t seed = 0; seed < 200; ++seed) {
    const Schedule r = run(t, 5000, seed);
    ASSERT_EQ(r.resends.size(), 5u) << "seed " << seed;
    std::vector<std::uint64_t> at = r.resends;
    at.push_back(r.give_up);
    std::uint64_t prev_send = 0, prev_rt = 0;
    for (std::size_t i = 0; i < at.size(); ++i) {
      const std::uint64_t rt = at[i] - prev_send;
      if (i == 0) {
        EXPECT_GE(rt, 1800u) << "seed " << seed;
        EXPECT_LE(rt, 2200u) << "seed " << seed;
      } else {
        // Either the doubled previous one with RAND, or MRT with RAND when that was above MRT.
        const bool doubled = rt * 1000 >= prev_rt * 1900 && rt * 1000 <= prev_rt * 2100 && rt <= 16000;
        const bool capped = rt >= 14400 && rt <= 17600;
        EXPECT_TRUE(doubled || capped) << "seed " << seed << " interval " << i << ": " << rt << " after " << prev_rt;
      }
      prev_send = at[i];
      prev_rt = rt;
    }
  }
}

TEST(RetransmitJitter, SameSeedSameScheduleOtherSeedsDiffer) {
  const Timers t = default_timers(Binding::radius);
  const Schedule a = run(t, 0, 42), b = run(t, 0, 42);
  EXPECT_EQ(a.resends, b.resends);
  EXPECT_EQ(a.give_up, b.give_up);
  std::set<std::vector<std::uint64_t>> seen;
  for (std::uint64_t seed = 0; seed < 20; ++seed) seen.insert(run(t, 0, seed).resends);
  EXPECT_GT(seen.size(), 10u);
  // The jitter is the only randomness: without it the seed changes nothing.
  Timers flat = t;
  flat.jitter_permille = 0;
  EXPECT_EQ(run(flat, 0, 1).resends, run(flat, 0, 2).resends);
}

// A loop that wakes late counts the next interval from when it actually resent.
TEST(RetransmitClock, LateCallCountsFromNow) {
  Retransmission r(default_timers(Binding::sip), 0, 1);
  EXPECT_EQ(r.deadline(), 500u);
  EXPECT_EQ(r.on_deadline(700), Retransmission::Action::resend);
  EXPECT_EQ(r.deadline(), 1700u);
  EXPECT_EQ(r.sends(), 2u);
}

TEST(RetransmitClock, GiveUpIsFinal) {
  Retransmission r(default_timers(Binding::h323), 0, 1);
  EXPECT_EQ(r.on_deadline(9000), Retransmission::Action::give_up);
  EXPECT_EQ(r.on_deadline(20000), Retransmission::Action::give_up);
  EXPECT_EQ(r.sends(), 1u);
}

// H.225.0 RequestInProgress: no more retries, and the wait is the delay it carries, even past
// the 9 s the retries alone would have allowed. When it ends with no answer, one resend (the final
// answer may have been lost: a peer that answered meanwhile answers it from its cache), and one
// more wait as long before giving up.
TEST(RetransmitProvisional, RequestInProgressExtendsTheWait) {
  Retransmission r(default_timers(Binding::h323), 0, 1);
  EXPECT_EQ(r.on_deadline(3000), Retransmission::Action::resend);
  r.on_provisional(4000, 10000);
  EXPECT_EQ(r.deadline(), 14000u);
  EXPECT_EQ(r.on_deadline(14000), Retransmission::Action::resend);
  EXPECT_EQ(r.deadline(), 24000u);
  EXPECT_EQ(r.on_deadline(24000), Retransmission::Action::give_up);
  EXPECT_EQ(r.sends(), 3u);
}

TEST(RetransmitProvisional, EachPendingRestartsTheWait) {
  Retransmission r(default_timers(Binding::h248), 0, 1);
  r.on_provisional(100, 5000);
  r.on_provisional(4000, 5000);
  EXPECT_EQ(r.deadline(), 9000u);
  EXPECT_EQ(r.on_deadline(9000), Retransmission::Action::resend);
  // The resend gets another provisional answer: the peer is still at work; a new wait, a new resend.
  r.on_provisional(9001, 5000);
  EXPECT_EQ(r.deadline(), 14001u);
  EXPECT_EQ(r.on_deadline(14001), Retransmission::Action::resend);
  EXPECT_EQ(r.on_deadline(19001), Retransmission::Action::give_up);
  EXPECT_EQ(r.sends(), 3u);
}

// Provisional answers extend the wait, but not for ever: past kMaxProvisionals of them, another one
// leaves the deadline where it is.
TEST(RetransmitProvisional, AtMostSoManyExtendTheWait) {
  Retransmission r(default_timers(Binding::h248), 0, 1);
  std::uint64_t now = 0;
  for (std::uint32_t i = 0; i < kMaxProvisionals; ++i) {
    now += 1000;
    r.on_provisional(now, 5000);
    EXPECT_EQ(r.deadline(), now + 5000);
  }
  r.on_provisional(now + 1000, 5000);
  EXPECT_EQ(r.deadline(), now + 5000);
  EXPECT_EQ(r.on_deadline(now + 5000), Retransmission::Action::resend);
  r.on_provisional(now + 5001, 5000);  // past the bound: changes nothing
  EXPECT_EQ(r.deadline(), now + 10000);
  EXPECT_EQ(r.on_deadline(now + 10000), Retransmission::Action::give_up);
}

// ---- parse_timers ----------------------------------------------------------------------------

bool same(const Timers& a, const Timers& b) {
  return a.initial_ms == b.initial_ms && a.max_interval_ms == b.max_interval_ms && a.max_sends == b.max_sends &&
         a.timeout_ms == b.timeout_ms && a.jitter_permille == b.jitter_permille &&
         a.keep_response_ms == b.keep_response_ms && a.provisional_ms == b.provisional_ms;
}

TEST(ParseTimers, AllKeys) {
  Timers t = default_timers(Binding::radius);
  EXPECT_EQ(parse_timers("initial=100,max=800,count=3,timeout=5000,keep=6000", t), std::nullopt);
  EXPECT_EQ(t.initial_ms, 100u);
  EXPECT_EQ(t.max_interval_ms, 800u);
  EXPECT_EQ(t.max_sends, 4u);  // 3 retransmissions after the first send
  EXPECT_EQ(t.timeout_ms, 5000u);
  EXPECT_EQ(t.keep_response_ms, 6000u);
  EXPECT_EQ(t.jitter_permille, 100u);  // not a key: left as it was
}

// The delay of a service's unprompted provisional answer (kd-live(7), TIMERS): kd's 1 s in the
// bindings that have provisional answers, none in the others; provisional=MS sets it, 0 none.
TEST(ParseTimers, ProvisionalDelay) {
  for (const Binding b : {Binding::mgcp, Binding::h248, Binding::h323})
    EXPECT_EQ(default_timers(b).provisional_ms, 1000u) << static_cast<int>(b);
  for (const Binding b : {Binding::json, Binding::sip, Binding::radius})
    EXPECT_EQ(default_timers(b).provisional_ms, 0u) << static_cast<int>(b);
  Timers t = default_timers(Binding::h248);
  EXPECT_EQ(parse_timers("provisional=250", t), std::nullopt);
  EXPECT_EQ(t.provisional_ms, 250u);
  EXPECT_EQ(t.keep_response_ms, default_timers(Binding::h248).keep_response_ms);
  EXPECT_EQ(parse_timers("provisional=0", t), std::nullopt);
  EXPECT_EQ(t.provisional_ms, 0u);
  const auto err = parse_timers("provisional=3600001", t);
  ASSERT_TRUE(err);
  EXPECT_NE(err->find("provisional must be a whole number from 0 to 3600000"), std::string::npos) << *err;
  EXPECT_EQ(t.provisional_ms, 0u);
}

TEST(ParseTimers, ASubsetLeavesTheRest) {
  Timers t = default_timers(Binding::sip);
  EXPECT_EQ(parse_timers("timeout=1000", t), std::nullopt);
  Timers want = default_timers(Binding::sip);
  want.timeout_ms = 1000;
  EXPECT_TRUE(same(t, want));
  EXPECT_EQ(parse_timers("keep=7,count=2", t), std::nullopt);
  want.keep_response_ms = 7;
  want.max_sends = 3;
  EXPECT_TRUE(same(t, want));
}

TEST(ParseTimers, CountZeroIsOneSend) {
  Timers t = default_timers(Binding::sip);
  ASSERT_EQ(parse_timers("count=0", t), std::nullopt);
  const Schedule r = run(t);
  EXPECT_TRUE(r.resends.empty());
  EXPECT_EQ(r.give_up, 500u);
  EXPECT_EQ(r.sends, 1u);
}

TEST(ParseTimers, Refused) {
  const struct {
    const char* spec;
    const char* says;  // a part of the message that names the fault
  } cases[] = {
      {"", "no value"},
      {"initial", "no value"},
      {"initial=", "no value"},
      {"initial=-1", "digits only"},
      {"initial=+1", "digits only"},
      {"initial= 1", "digits only"},
      {"initial=1 ", "digits only"},
      {"initial=0x10", "digits only"},
      {"initial=1e3", "digits only"},
      {"initial=1.5", "digits only"},
      {"initial=18446744073709551616", "too large"},  // 2^64: would wrap to 0
      {"timeout=18446744073709552616", "too large"},  // 2^64 + 1000: would wrap to 1000
      {"count=4294967296", "too large"},              // 2^32: would wrap a 32-bit count
      {"count=1001", "too large"},
      {"initial=3600001", "too large"},
      {"bogus=1", "unknown key"},
      {"INITIAL=1", "unknown key"},
      {"=5", "unknown key"},
      {"initial=1,,max=2", "empty item"},
      {"initial=1,", "empty item"},
      {",initial=1", "empty item"},
      {"initial=0", "too small"},
      {"max=0", "too small"},
      {"timeout=0", "too small"},
      {"keep=0", "too small"},
      {"initial=1,initial=2", "twice"},
      {"initial=5000", "below initial"},  // over SIP's max of 4000
      {"initial=100,max=50", "below initial"},
  };
  for (const auto& c : cases) {
    Timers t = default_timers(Binding::mgcp);
    const auto err = parse_timers(c.spec, t);
    ASSERT_TRUE(err.has_value()) << "accepted \"" << c.spec << "\"";
    EXPECT_NE(err->find(c.says), std::string::npos) << "\"" << c.spec << "\": " << *err;
    EXPECT_TRUE(same(t, default_timers(Binding::mgcp))) << "\"" << c.spec << "\" changed the timers";
  }
}

}  // namespace
}  // namespace kd::net
