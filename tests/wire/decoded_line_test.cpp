// kd-decode's output lines: the fast writer must print exactly what nlohmann's dump() prints for the
// same JSON (checked by parsing each line and dumping it again), for every message of both flows,
// for registration lines, and when a string sends it to the general path. And the verifier behind
// the checks: its memory of nonces forgets the oldest first; open registrations end in key order. And
// the retransmissions it is not given: a copy within its window names its original, nothing else does.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <deque>
#include <random>
#include <tuple>
#include <vector>

#include "verify/retransmission.hpp"
#include "verify/verifier.hpp"
#include "flows.hpp"
#include "json/message.hpp"
#include "json/record.hpp"

namespace {

TEST(DecodedLine, EqualsTheCanonicalDumpForEveryStep) {
  for (auto flow : {kd::msg::Flow::proxied, kd::msg::Flow::direct}) {
    for (const auto& suite : kd::crypto::all_suites()) {
      auto msgs = kd::wiretest::run_flow(suite, flow);
      ASSERT_FALSE(msgs.empty());
      for (const auto& m : msgs) {
        std::vector<kd::verify::Check> checks{{"nonce_echo", true, ""},
                                              {"mac", false, "the MAC does not \"verify\" \\ here"}};
        kd::json::DecodedRecord r;
        r.frame = 7;
        r.time = "1700000000.000001000";
        r.src = "[2001:db8::1]:5060";
        r.dst = "192.0.2.20:5060";
        r.transport = "udp";
        r.binding = "sip";
        r.message = &m;
        r.checks = &checks;
        const std::string line = kd::json::encode_decoded(r);
        const auto parsed = nlohmann::ordered_json::parse(line);
        EXPECT_EQ(parsed.dump(), line);
        EXPECT_EQ(parsed["step"], std::string(kd::msg::spec_of(m).name));
        EXPECT_EQ(parsed["checks"][1]["detail"], "the MAC does not \"verify\" \\ here");
        // The fields are the message's JSON form without its envelope.
        auto logical = nlohmann::ordered_json::parse(kd::json::encode_message(m));
        logical.erase("step");
        logical.erase("flow");
        logical.erase("to");
        EXPECT_EQ(parsed["fields"], logical);
      }
    }
  }
}

TEST(DecodedLine, AnErrorQuotingBadBytesIsStillOneValidLine) {
  kd::json::DecodedRecord r;
  r.frame = 1;
  r.binding = "unknown";
  r.error = kd::Error{kd::Code::malformed, std::string("bad \xff\x01 byte")};
  const std::string line = kd::json::encode_decoded(r);
  const auto parsed = nlohmann::json::parse(line);
  EXPECT_EQ(parsed["error"]["code"], "malformed");
}

// A record of the default suite's s7 (it has every kind of field: strings, hex, numbers, a list).
kd::json::DecodedRecord s7_record(const std::vector<kd::verify::Check>* checks) {
  kd::json::DecodedRecord r;
  r.frame = 18446744073709551615u;
  r.time = "1700000000.000001000";
  r.src = "192.0.2.10:5060";
  r.dst = "192.0.2.20:5060";
  r.transport = "tcp";
  r.binding = "sip";
  r.message = &kd::wiretest::step_message("s7");
  r.checks = checks;
  return r;
}

TEST(DecodedLine, TheAppendingFormAppendsTheSameLineWithoutANewline) {
  const std::vector<kd::verify::Check> checks{{"nonce_fresh", true, ""}, {"nonce_echo", false, "N2 \"differs\""}};
  const auto r = s7_record(&checks);
  const std::string line = kd::json::encode_decoded(r);
  std::string out = "before\n";
  kd::json::encode_decoded(r, out);
  EXPECT_EQ(out, "before\n" + line);
  kd::json::encode_decoded(r, out);  // a second line right after the first: the caller adds newlines
  EXPECT_EQ(out, "before\n" + line + line);
  EXPECT_EQ(nlohmann::ordered_json::parse(line).dump(), line);
}

TEST(DecodedLine, StringsThatNeedEscapesTakeTheGeneralPathAndKeepWhatWasBefore) {
  // A control character (\u0001), UTF-8 (kept as it is), a byte that is not UTF-8 (replaced), DEL.
  for (const std::string odd : {"a\x01b", "caf\xc3\xa9", "bad \xff byte", "del\x7f", "tab\there"}) {
    for (int where = 0; where < 4; ++where) {
      std::vector<kd::verify::Check> checks{{"mac", false, "plain"}};
      auto r = s7_record(&checks);
      kd::msg::Message m = *r.message;
      if (where == 0) checks[0].detail = odd;
      if (where == 1) r.src = odd;
      if (where == 2) m.IPc = odd;
      if (where == 3) m.SecMechList->front().name = odd;
      r.message = &m;
      std::string out = "kept";
      kd::json::encode_decoded(r, out);
      ASSERT_EQ(out.rfind("kept", 0), 0u);
      const std::string line = out.substr(4);
      EXPECT_EQ(line, kd::json::encode_decoded(r));
      EXPECT_EQ(line.find('\n'), std::string::npos);
      const auto parsed = nlohmann::ordered_json::parse(line);  // one valid line
      EXPECT_EQ(parsed.dump(-1, ' ', true, nlohmann::ordered_json::error_handler_t::replace), line);
    }
  }
}

TEST(DecodedLine, EveryByteAtEveryPlaceOfShortStringsIsWrittenAsDumpWritesIt) {
  // The writer tests strings several bytes at a time: each byte value, at each place of strings of
  // 1 to 24 bytes, must come out as dump() writes it (escaped, or the line sent to the general path).
  // dump() writes each byte among plain ASCII ones alike wherever it stands, so it is asked once per
  // byte value (76800 dumps at -O0 under the sanitizers were most of the test's time), and the
  // expected string is made of that piece between the 'a's.
  // s3's record, the message of fewest fields: a byte that is not plain sends the whole line to
  // the general path, which takes longer the more the line holds.
  auto r = s7_record(nullptr);
  r.message = &kd::wiretest::step_message("s3");
  std::vector<std::string> piece(256);
  for (int b = 0; b < 256; ++b) {
    const std::string quoted = nlohmann::ordered_json(std::string(1, static_cast<char>(b)))
                                   .dump(-1, ' ', true, nlohmann::ordered_json::error_handler_t::replace);
    piece[static_cast<std::size_t>(b)] = quoted.substr(1, quoted.size() - 2);
  }
  for (std::size_t len = 1; len <= 24; ++len) {
    for (std::size_t at = 0; at < len; ++at) {
      for (int b = 0; b < 256; ++b) {
        std::string s(len, 'a');
        s[at] = static_cast<char>(b);
        r.src = s;
        const std::string line = kd::json::encode_decoded(r);
        const std::string want = "\"src\":\"" + std::string(at, 'a') + piece[static_cast<std::size_t>(b)] +
                                 std::string(len - at - 1, 'a') + "\"";
        ASSERT_NE(line.find(want), std::string::npos) << "byte " << b << " at " << at << " of " << len << ": " << line;
        ASSERT_EQ(line.find('\n'), std::string::npos);
      }
    }
  }
}

TEST(DecodedLine, LongStringsAreWrittenWhole) {
  // Longer than the writer's buffer, with escapes spread over it.
  std::string detail;
  for (int i = 0; i < 1000; ++i) detail += i % 7 ? "ab" : "\"\\";
  const std::vector<kd::verify::Check> checks{{"seal", false, detail}, {"mac", false, detail + detail}};
  const auto r = s7_record(&checks);
  std::string out;
  kd::json::encode_decoded(r, out);
  const auto parsed = nlohmann::ordered_json::parse(out);
  EXPECT_EQ(parsed.dump(), out);
  EXPECT_EQ(parsed["checks"][1]["detail"], detail + detail);
}

TEST(RegistrationLine, EqualsTheCanonicalDump) {
  kd::verify::RegistrationReport done;
  done.flow = kd::msg::Flow::proxied;
  done.idc = "term00001@kd.example";
  done.peer = "sp.kd.example";
  done.suite = "KD-AES128GCM-SHA256";
  done.steps = {"s1", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9", "s10", "s11"};
  done.completed = true;
  done.mech = "tls";
  done.session_key = kd::Secret(kd::Bytes{0x00, 0x01, 0xab, 0xff});
  auto stopped = done;
  stopped.flow = kd::msg::Flow::direct;
  stopped.steps = {"d1"};
  stopped.completed = false;
  stopped.mech.clear();
  stopped.stopped_at = "d1";
  stopped.reason = "nonce_fresh: N1 \"was\" seen before \\ a replay";
  auto empty = stopped;
  empty.steps.clear();
  empty.stopped_at.clear();
  empty.session_key = kd::Secret();
  auto odd = stopped;
  odd.reason = "keys: b\xc3\xa9\x01\xff is not in the keystore";  // the general path
  for (const auto* r : {&done, &stopped, &empty, &odd}) {
    for (bool show_key : {false, true}) {
      const std::string line = kd::json::encode_registration(*r, show_key);
      const auto parsed = nlohmann::ordered_json::parse(line);
      EXPECT_EQ(parsed.dump(-1, ' ', true, nlohmann::ordered_json::error_handler_t::replace), line);
      EXPECT_EQ(parsed["registration"]["IDc"], r->idc);
      EXPECT_EQ(parsed["registration"].contains("session_key"), show_key && !r->session_key.empty());
      if (show_key && !r->session_key.empty()) {
        EXPECT_EQ(parsed["registration"]["session_key"], "0001abff");
      }
      std::string out = "x";
      kd::json::encode_registration(*r, show_key, out);
      EXPECT_EQ(out, "x" + line);
    }
  }
  EXPECT_EQ(kd::json::encode_registration(done, false),
            "{\"registration\":{\"flow\":\"proxied\",\"IDc\":\"term00001@kd.example\",\"IDsp\":\"sp.kd.example\","
            "\"suite\":\"KD-AES128GCM-SHA256\",\"steps\":[\"s1\",\"s2\",\"s3\",\"s4\",\"s5\",\"s6\",\"s7\",\"s8\","
            "\"s9\",\"s10\",\"s11\"],\"completed\":true,\"SecMech\":\"tls\"}}");
}

// An s1 whose N1 is 16 bytes made from n (zero: all zero bytes).
kd::msg::Message start_with(std::uint64_t n) {
  kd::msg::Message m = kd::wiretest::step_message("s1");
  kd::Bytes n1(16, 0);
  for (int i = 0; i < 8; ++i) n1[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(n >> (8 * i));
  m.N1 = n1;
  return m;
}

// True when the verifier finds s1's N1 fresh.
bool fresh(kd::verify::Verifier& v, std::uint64_t n) {
  std::vector<kd::verify::Check> checks{{"stale", false, "left over"}};  // observe clears it
  std::vector<kd::verify::RegistrationReport> done;
  v.observe(start_with(n), std::nullopt, checks, done);
  for (const auto& c : checks)
    if (c.name == "nonce_fresh") return c.ok;
  ADD_FAILURE() << "no nonce_fresh check";
  return false;
}

TEST(Verifier, RemembersTheLastNoncesAndForgetsTheOldestFirst) {
  constexpr std::uint64_t kMemory = 1 << 17;  // kd::Recent::kMemory, the Verifier's memory
  kd::verify::Verifier v(nullptr, 300);
  for (std::uint64_t n = 0; n < kMemory; ++n) ASSERT_TRUE(fresh(v, n)) << n;  // 0 is the all-zero N1
  EXPECT_FALSE(fresh(v, 0));
  EXPECT_FALSE(fresh(v, kMemory - 1));
  EXPECT_FALSE(fresh(v, kMemory / 2));
  EXPECT_TRUE(fresh(v, kMemory));  // one more: 0, the oldest, is forgotten
  EXPECT_TRUE(fresh(v, 0));        // remembered again, forgetting 1
  EXPECT_FALSE(fresh(v, 2));
  EXPECT_TRUE(fresh(v, 1));
  EXPECT_FALSE(fresh(v, kMemory));
  EXPECT_FALSE(fresh(v, 0));
  for (std::uint64_t n = kMemory + 1; n < 2 * kMemory; ++n) ASSERT_TRUE(fresh(v, n)) << n;
  EXPECT_TRUE(fresh(v, 3));   // long forgotten
  EXPECT_FALSE(fresh(v, 2 * kMemory - 1));
}

TEST(Verifier, AnswersAsAMemoryOfTheLastValuesWould) {
  // Against the plain model (the last kMemory values, the oldest forgotten first), with values
  // drawn so that many repeat, some within the memory and some after they are forgotten.
  constexpr std::uint64_t kMemory = 1 << 17;  // kd::Recent::kMemory, the Verifier's memory
  kd::verify::Verifier v(nullptr, 300);
  // The model holds a flag per possible value (a std::multiset, at -O0 under the sanitizers, was
  // most of the test's time).
  std::deque<std::uint64_t> order;
  std::vector<bool> held(3 * kMemory + 1);
  std::mt19937_64 rng(7);
  std::uniform_int_distribution<std::uint64_t> pick(0, 3 * kMemory);
  for (std::uint64_t i = 0; i < 2 * kMemory + kMemory / 2; ++i) {
    const std::uint64_t n = pick(rng);
    const bool want = !held[n];
    ASSERT_EQ(fresh(v, n), want) << "value " << n << " at " << i;
    if (!want) continue;
    order.push_back(n);
    held[n] = true;
    if (order.size() > kMemory) {
      held[order.front()] = false;
      order.pop_front();
    }
  }
}

TEST(Verifier, FindsEachRegistrationWhateverTheLengthsOfItsNames) {
  // Names of 0 to 40 bytes, cut at every place between IDc and peer: each one its own registration,
  // found again by its next message.
  kd::verify::Verifier v(nullptr, 300);
  std::vector<kd::verify::Check> checks;
  std::vector<kd::verify::RegistrationReport> done;
  const std::string text = "abcdefghijklmnopqrstuvwxyz0123456789ABCD";
  std::uint64_t n = 1;
  std::size_t opened = 0;
  for (std::size_t len = 0; len <= text.size(); ++len) {
    for (std::size_t cut = 0; cut <= len; ++cut) {
      kd::msg::Message m = kd::wiretest::step_message("s1");
      m.IDc = text.substr(0, cut);
      m.IDsp = text.substr(cut, len - cut);
      m.N1 = kd::Bytes(16, 0);
      for (int i = 0; i < 8; ++i) (*m.N1)[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(n >> (8 * i));
      ++n;
      v.observe(m, std::nullopt, checks, done);
      ++opened;
      kd::msg::Message next = kd::wiretest::step_message("s2");
      next.IDc = m.IDc;
      next.IDsp = m.IDsp;
      v.observe(next, std::nullopt, checks, done);
    }
  }
  EXPECT_TRUE(done.empty());  // no s2 was taken for the start of another registration
  const auto open = v.finish();
  ASSERT_EQ(open.size(), opened);
  for (const auto& r : open) {
    ASSERT_EQ(r.steps, (std::vector<std::string>{"s1", "s2"})) << r.idc << " / " << r.peer;
    EXPECT_EQ(r.reason, "the input ends before the registration completes");
  }
}

TEST(Verifier, TheVectorFormAndTheReturningFormAgree) {
  kd::verify::Verifier a(nullptr, 300), b(nullptr, 300);
  std::vector<kd::verify::Check> checks;
  std::vector<kd::verify::RegistrationReport> done_a, done_b;
  for (const auto& m : kd::wiretest::run_flow(kd::crypto::all_suites().front(), kd::msg::Flow::proxied)) {
    a.observe(m, std::nullopt, checks, done_a);
    const auto want = b.observe(m, std::nullopt, done_b);
    ASSERT_EQ(checks.size(), want.size());
    for (std::size_t i = 0; i < want.size(); ++i) {
      EXPECT_EQ(checks[i].name, want[i].name);
      EXPECT_EQ(checks[i].ok, want[i].ok);
    }
  }
  ASSERT_EQ(done_a.size(), 1u);
  ASSERT_EQ(done_b.size(), 1u);
  EXPECT_TRUE(done_a[0].completed);
}

TEST(Verifier, OpenRegistrationsEndInTheOrderOfFlowIdcAndPeer) {
  kd::verify::Verifier v(nullptr, 300);
  std::vector<kd::verify::Check> checks;
  std::vector<kd::verify::RegistrationReport> done;
  std::uint64_t n = 1;
  for (const char* idc : {"carol", "alice", "bob", "alice2", "Zed"}) {
    for (const char* step : {"s1", "d1"}) {
      kd::msg::Message m = kd::wiretest::step_message(step);
      m.IDc = idc;
      m.N1 = kd::Bytes(16, static_cast<std::uint8_t>(n++));
      v.observe(m, std::nullopt, checks, done);
      if (std::string(idc) == "bob") {  // a second peer for the same IDc
        (m.IDsp ? m.IDsp : m.IDss) = "a-peer";
        m.N1 = kd::Bytes(16, static_cast<std::uint8_t>(n++));
        v.observe(m, std::nullopt, checks, done);
      }
    }
  }
  EXPECT_TRUE(done.empty());
  const auto open = v.finish();
  ASSERT_EQ(open.size(), 12u);
  auto sorted = open;
  std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) {
    return std::tie(a.flow, a.idc, a.peer) < std::tie(b.flow, b.idc, b.peer);
  });
  for (std::size_t i = 0; i < open.size(); ++i) {
    EXPECT_EQ(open[i].flow, sorted[i].flow);
    EXPECT_EQ(open[i].idc, sorted[i].idc);
    EXPECT_EQ(open[i].peer, sorted[i].peer);
    EXPECT_EQ(open[i].reason, "the input ends before the registration completes");
  }
  EXPECT_TRUE(v.finish().empty());
}

// The timestamp check of the verifier is the roles' window (issue 10 item 12): a window of 2^64-1
// seconds holds every timestamp, it does not wrap around to mark them stale.
TEST(Verifier, TheWidestWindowHoldsEveryTimestamp) {
  kd::verify::Verifier v(nullptr, UINT64_MAX);
  std::vector<kd::verify::Check> checks;
  std::vector<kd::verify::RegistrationReport> done;
  kd::msg::Message m = start_with(42);
  ASSERT_TRUE(m.TS1);
  for (const std::uint64_t now : {*m.TS1, *m.TS1 + 1000, std::uint64_t{0}, UINT64_MAX}) {
    m.N1 = start_with(now ^ 0x5a5a).N1;  // a fresh nonce each time
    v.observe(m, now, checks, done);
    int seen = 0;
    for (const auto& c : checks)
      if (c.name == "timestamp") {
        ++seen;
        EXPECT_TRUE(c.ok) << "now " << now << ": " << c.detail;
      }
    EXPECT_EQ(seen, 1) << "now " << now;
  }
}

// The same window as the roles, edge for edge: a timestamp exactly skew seconds old or ahead is in.
TEST(Verifier, TheWindowIsTheRolesWindow) {
  kd::verify::Verifier v(nullptr, 300);
  std::vector<kd::verify::Check> checks;
  std::vector<kd::verify::RegistrationReport> done;
  kd::msg::Message m = start_with(43);
  const std::uint64_t ts = *m.TS1;
  const std::pair<std::uint64_t, bool> cases[] = {{ts + 300, true}, {ts + 301, false}, {ts - 300, true}, {ts - 301, false}};
  std::uint64_t n = 100;
  for (const auto& [now, ok] : cases) {
    m.N1 = start_with(++n).N1;
    v.observe(m, now, checks, done);
    bool found = false;
    for (const auto& c : checks)
      if (c.name == "timestamp") {
        found = true;
        EXPECT_EQ(c.ok, ok) << "now " << now << ": " << c.detail;
      }
    EXPECT_TRUE(found);
  }
}

// kd-decode's retransmissions (kd-decode(1), OUTPUT): a datagram's copy within its window names the
// original; after the window, from elsewhere, or with other bytes it is an original of its own.
kd::verify::FrameDigest digest_of(std::string_view src, std::string_view dst, std::string_view bytes) {
  kd::Bytes scratch;
  const kd::Bytes b(bytes.begin(), bytes.end());
  return kd::verify::frame_digest(src, dst, b, scratch);
}

TEST(Retransmissions, ACopyWithinTheWindowNamesTheOriginalThenTheWindowCloses) {
  kd::verify::Retransmissions r;
  const auto d = digest_of("192.0.2.10:5060", "192.0.2.20:5060", "REGISTER");
  EXPECT_FALSE(r.see(d, 1, 1000, 64000, "s1"));
  for (std::uint64_t t : {1000u, 1500u, 65000u}) {  // the window's end is inside
    auto o = r.see(d, 2, t, 64000, "");
    ASSERT_TRUE(o) << t;
    EXPECT_EQ(o->frame, 1u);
    EXPECT_EQ(o->step, "s1");
  }
  EXPECT_FALSE(r.see(d, 9, 65001, 64000, "s1"));  // a replay: a new original, with a window of its own
  auto o = r.see(d, 10, 65002, 64000, "");
  ASSERT_TRUE(o);
  EXPECT_EQ(o->frame, 9u);
}

TEST(Retransmissions, OtherEndpointsOrOtherBytesAreNotCopies) {
  const auto d = digest_of("192.0.2.10:5060", "192.0.2.20:5060", "REGISTER");
  EXPECT_EQ(d, digest_of("192.0.2.10:5060", "192.0.2.20:5060", "REGISTER"));
  EXPECT_NE(d, digest_of("192.0.2.10:5061", "192.0.2.20:5060", "REGISTER"));
  EXPECT_NE(d, digest_of("192.0.2.20:5060", "192.0.2.10:5060", "REGISTER"));
  EXPECT_NE(d, digest_of("192.0.2.10:5060", "192.0.2.20:5060", "REGISTES"));
  // The endpoints are delimited: moving a byte from one into the other is another datagram.
  EXPECT_NE(digest_of("192.0.2.1:5060", "0192.0.2.20:5060", "x"), digest_of("192.0.2.1:50600", "192.0.2.20:5060", "x"));
  kd::verify::Retransmissions r;
  EXPECT_FALSE(r.see(d, 1, 0, 64000, "s1"));
  EXPECT_FALSE(r.see(digest_of("192.0.2.10:5061", "192.0.2.20:5060", "REGISTER"), 2, 0, 64000, "s1"));
  EXPECT_TRUE(r.see(d, 3, 0, 64000, "s1"));
}

TEST(Retransmissions, RemembersTheLastOriginalsAndForgetsTheOldestFirst) {
  kd::verify::Retransmissions r;
  constexpr std::size_t n = kd::verify::Retransmissions::kMax;
  auto d = [](std::size_t i) { return kd::verify::FrameDigest{i, ~i}; };
  for (std::size_t i = 0; i <= n; ++i) ASSERT_FALSE(r.see(d(i), i + 1, 0, 64000, "s1"));
  EXPECT_FALSE(r.see(d(0), n + 2, 0, 64000, "s1"));  // forgotten: an original again (and 1 goes)
  auto o = r.see(d(2), n + 3, 0, 64000, "s1");
  ASSERT_TRUE(o);
  EXPECT_EQ(o->frame, 3u);
  EXPECT_FALSE(r.see(d(1), n + 4, 0, 64000, "s1"));
  o = r.see(d(0), n + 5, 0, 64000, "");
  ASSERT_TRUE(o);
  EXPECT_EQ(o->frame, n + 2);
}

TEST(Retransmissions, AnOriginalAgainAfterItsWindowIsNotForgottenWithItsOldPlace) {
  kd::verify::Retransmissions r;
  const kd::verify::FrameDigest a{1, 1}, b{2, 2};
  EXPECT_FALSE(r.see(a, 1, 0, 10, "s1"));
  EXPECT_FALSE(r.see(a, 2, 100, 1000, "s1"));  // a's window passed: a new original
  EXPECT_FALSE(r.see(b, 3, 200, 1000, "s2"));  // clears a's old place, not its new entry
  auto o = r.see(a, 4, 300, 1000, "");
  ASSERT_TRUE(o);
  EXPECT_EQ(o->frame, 2u);
}

TEST(RetransmissionLine, NamesTheOriginalAndItsStepAfterTheCaptureDetails) {
  kd::json::DecodedRecord r;
  r.frame = 2;
  r.time = "1700000000.400001000";
  r.src = "192.0.2.10:5060";
  r.dst = "192.0.2.20:5060";
  r.transport = "udp";
  r.binding = "sip";
  std::string out = "x";
  kd::json::encode_retransmission(r, 1, "s1", out);
  EXPECT_EQ(out, "x{\"frame\":2,\"time\":\"1700000000.400001000\",\"src\":\"192.0.2.10:5060\",\"dst\":\"192.0.2.20:5060\","
                 "\"transport\":\"udp\",\"binding\":\"sip\",\"retransmission\":1,\"repeats\":\"s1\"}");
  out.clear();
  kd::json::encode_retransmission(r, 1, "", out);
  EXPECT_EQ(out.find("repeats"), std::string::npos);
}

}  // namespace
