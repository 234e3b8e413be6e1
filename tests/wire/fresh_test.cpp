// Live mode's requests as new transactions (Codec::encode_fresh, kd-live(7) TRANSACTIONS): the
// identifiers a sender may choose come from the random bytes given, nothing else changes (the
// message decodes the same), a retransmission (the same bytes given) is the same bytes, and the
// answer encoded after such a request carries its identity where the protocol echoes it.
#include <gtest/gtest.h>

#include <array>
#include <memory>
#include <string>

#include "flows.hpp"
#include "wire/codec.hpp"
#include "wire/radius.hpp"

namespace {

using kd::Bytes;
using kd::Code;
using kd::msg::Message;
using kd::wire::Binding;
namespace radius = kd::wire::radius;

const std::string kSecret = "kd-test-secret";

const Message& msg_of(std::string_view step) { return kd::wiretest::step_message(step); }

Bytes txn(std::uint8_t start) {
  Bytes b(kd::wire::kTxnBytes);
  for (std::size_t i = 0; i < b.size(); ++i) b[i] = static_cast<std::uint8_t>(start + 37 * i);
  return b;
}

std::string text(const Bytes& b) { return std::string(b.begin(), b.end()); }

struct Fresh {
  std::unique_ptr<kd::wire::Codec> codec;
  Bytes derived, a, a_again, b;
};
Fresh fresh(Binding binding, std::string_view step, const Bytes& previous = {}) {
  Fresh f;
  f.codec = kd::wire::make_codec(binding, {kSecret});
  const Message& m = msg_of(step);
  auto enc = [&](const Bytes& t) {
    auto r = t.empty() ? f.codec->encode_after(m, previous) : f.codec->encode_fresh(m, previous, t);
    EXPECT_TRUE(r.ok()) << step << ": " << (r ? "" : r.error().detail);
    return r ? *r : Bytes{};
  };
  f.derived = enc({});
  f.a = enc(txn(1));
  f.a_again = enc(txn(1));
  f.b = enc(txn(2));
  for (const Bytes* w : {&f.a, &f.b}) {
    auto d = f.codec->decode(*w);
    if (!d) {
      ADD_FAILURE() << step << ": " << d.error().detail;
      continue;
    }
    EXPECT_EQ(*d, m) << step;
  }
  EXPECT_EQ(f.a, f.a_again) << step << ": a retransmission is the same bytes";
  EXPECT_NE(f.a, f.derived) << step;
  EXPECT_NE(f.a, f.b) << step;
  return f;
}

TEST(FreshTxn, SipProxyBranchOnlyIsNew) {
  const auto s1 = kd::wire::make_codec(Binding::sip)->encode(msg_of("s1"));
  ASSERT_TRUE(s1.ok());
  const Fresh f = fresh(Binding::sip, "s2", *s1);
  // The proxy's own (first) Via takes the branch; the terminal's Via, Call-ID and CSeq are forwarded.
  const std::string a = text(f.a), d = text(f.derived);
  const std::string branch = "z9hG4bK" + kd::to_hex(kd::ByteView(txn(1)).first(12));
  auto first_via = [](const std::string& s) {
    const auto at = s.find("\r\nVia: ") + 2;
    return s.substr(at, s.find("\r\n", at) - at);
  };
  auto after_first_via = [](const std::string& s) { return s.substr(s.find("\r\n", s.find("\r\nVia: ") + 2)); };
  EXPECT_TRUE(first_via(a).ends_with(";branch=" + branch)) << a;
  EXPECT_EQ(first_via(a).substr(0, first_via(a).find(";branch=")), first_via(d).substr(0, first_via(d).find(";branch=")));
  EXPECT_EQ(text(f.a).substr(0, text(f.a).find("\r\nVia: ")), d.substr(0, d.find("\r\nVia: ")));
  EXPECT_EQ(after_first_via(a), after_first_via(d)) << "the terminal's Via, From, To, Call-ID, CSeq as forwarded";
  // The switch's answer echoes the Via of the request it answers.
  auto s5 = f.codec->encode_after(msg_of("s5"), f.a);
  ASSERT_TRUE(s5.ok());
  EXPECT_NE(text(*s5).find(branch), std::string::npos);
  // An answer is never fresh.
  auto s5f = f.codec->encode_fresh(msg_of("s5"), f.a, txn(3));
  ASSERT_TRUE(s5f.ok());
  EXPECT_EQ(*s5f, *s5);
}

// A terminal's requests: each a new transaction (its branch), under the Call-ID and From tag of
// its registration (the kRegistrationBytes after each request's own), CSeq 1 then 2
// (RFC 3261 8.1.1.3, 8.1.1.4, 10.2, 10.3 step 7).
TEST(FreshTxn, SipTerminalKeepsItsRegistrationsCallIdAndFromTag) {
  const auto sip = kd::wire::make_codec(Binding::sip);
  auto with = [](std::uint8_t start, std::uint8_t registration) {
    Bytes b = txn(start);
    for (std::size_t i = 0; i < kd::wire::kRegistrationBytes; ++i) b.push_back(static_cast<std::uint8_t>(registration + i));
    return b;
  };
  auto header = [](const Bytes& wire, std::string_view name) {
    const std::string s = text(wire), key = "\r\n" + std::string(name) + ": ";
    const auto at = s.find(key);
    if (at == std::string::npos) return std::string("(none)");
    const auto from = at + key.size();
    return s.substr(from, s.find("\r\n", from) - from);
  };
  // Written out from the bytes given: 16 for the Call-ID, then 8 for the tag.
  std::string want_call_id, want_tag;
  for (int i = 0; i < 16; ++i) want_call_id += kd::to_hex(Bytes{static_cast<std::uint8_t>(0x40 + i)});
  for (int i = 16; i < 24; ++i) want_tag += kd::to_hex(Bytes{static_cast<std::uint8_t>(0x40 + i)});
  for (auto [first, second] : {std::pair{"s1", "s7"}, std::pair{"d1", "d5"}}) {
    const auto a = sip->encode_fresh(msg_of(first), {}, with(1, 0x40));
    const auto b = sip->encode_fresh(msg_of(second), {}, with(2, 0x40));
    const auto next = sip->encode_fresh(msg_of(first), {}, with(3, 0x80));
    ASSERT_TRUE(a.ok() && b.ok() && next.ok()) << first;
    EXPECT_EQ(header(*a, "Call-ID"), want_call_id) << first;
    EXPECT_EQ(header(*b, "Call-ID"), want_call_id) << second;
    EXPECT_EQ(header(*a, "CSeq"), "1 REGISTER") << first;
    EXPECT_EQ(header(*b, "CSeq"), "2 REGISTER") << second;
    EXPECT_TRUE(header(*a, "From").ends_with(";tag=" + want_tag)) << header(*a, "From");
    EXPECT_EQ(header(*b, "From"), header(*a, "From")) << second;
    EXPECT_NE(header(*a, "Via"), header(*b, "Via")) << "each request its own branch";
    EXPECT_NE(header(*next, "Call-ID"), want_call_id) << "another registration, another Call-ID";
    EXPECT_NE(header(*next, "From"), header(*a, "From"));
    for (const auto& [w, step] : {std::pair{&*a, first}, std::pair{&*b, second}}) {
      auto d = sip->decode(*w);
      ASSERT_TRUE(d.ok()) << step << ": " << d.error().detail;
      EXPECT_EQ(*d, msg_of(step)) << step;
    }
  }
  // A proxy forwards the terminal's Call-ID, From and CSeq whatever registration bytes it is given.
  const Bytes s1 = *sip->encode_fresh(msg_of("s1"), {}, with(1, 0x40));
  const Bytes s2 = *sip->encode_fresh(msg_of("s2"), s1, with(4, 0x90));
  for (std::string_view h : {"Call-ID", "From", "CSeq"}) EXPECT_EQ(header(s2, h), header(s1, h)) << h;
}

TEST(FreshTxn, MgcpTransactionId) {
  const Fresh f = fresh(Binding::mgcp, "s2");
  EXPECT_EQ(text(f.a).substr(0, 5), "RSIP ");
  fresh(Binding::mgcp, "s8");
  EXPECT_EQ(*f.codec->encode_fresh(msg_of("s5"), {}, txn(1)), *f.codec->encode(msg_of("s5")));
}

TEST(FreshTxn, H248TransactionId) {
  const Fresh f = fresh(Binding::h248, "s2");
  EXPECT_NE(text(f.a).find("Transaction = "), std::string::npos);
  fresh(Binding::h248, "s8");
  EXPECT_EQ(*f.codec->encode_fresh(msg_of("s5"), {}, txn(1)), *f.codec->encode(msg_of("s5")));
}

TEST(FreshTxn, H323RequestSeqNumIsEchoedByTheAnswer) {
  for (auto [req, ans] : {std::pair{"s2", "s5"}, std::pair{"s8", "s9"}}) {
    const Fresh f = fresh(Binding::h323, req);
    // requestSeqNum: the two octets after the first two (aligned PER), in the request and its answer.
    const std::uint16_t want = static_cast<std::uint16_t>(txn(1)[0] << 8 | txn(1)[1]) % 65535;
    EXPECT_EQ(f.a[2] << 8 | f.a[3], want) << req;
    auto a = f.codec->encode_after(msg_of(ans), f.a);
    ASSERT_TRUE(a.ok());
    EXPECT_EQ((*a)[2] << 8 | (*a)[3], want) << ans;
    EXPECT_EQ(*f.codec->decode(*a), msg_of(ans));
    // After kd's own (derived) request the answer is the derived one, byte for byte.
    EXPECT_EQ(*f.codec->encode_after(msg_of(ans), f.derived), *f.codec->encode(msg_of(ans))) << ans;
  }
}

// The proxy's s6 and s10 answer the terminal's s1 and s7, not the s2 and s8 the switch's s5 and s9
// (their previous) answered: they take the terminal's requestSeqNum (Codec::encode_answer).
TEST(FreshTxn, H323ProxyAnswerEchoesTheTerminalsRequestSeqNum) {
  const auto h323 = kd::wire::make_codec(Binding::h323);
  for (auto [term_req, core_req, core_ans, ans] :
       {std::array{"s1", "s2", "s5", "s6"}, std::array{"s7", "s8", "s9", "s10"}}) {
    const Bytes request = *h323->encode_fresh(msg_of(term_req), {}, txn(5));
    const Bytes forwarded = *h323->encode_fresh(msg_of(core_req), request, txn(9));
    const Bytes previous = *h323->encode_after(msg_of(core_ans), forwarded);
    ASSERT_NE(Bytes(request.begin() + 2, request.begin() + 4), Bytes(previous.begin() + 2, previous.begin() + 4));
    auto a = h323->encode_answer(msg_of(ans), previous, request);
    ASSERT_TRUE(a.ok()) << ans << ": " << a.error().detail;
    EXPECT_EQ(Bytes(a->begin() + 2, a->begin() + 4), Bytes(request.begin() + 2, request.begin() + 4)) << ans;
    EXPECT_EQ(*h323->decode(*a), msg_of(ans));
    // Without a request of the kind it answers: as encode_after.
    EXPECT_EQ(*h323->encode_answer(msg_of(ans), previous, previous), *h323->encode_after(msg_of(ans), previous)) << ans;
    EXPECT_EQ(*h323->encode_answer(msg_of(ans), previous, {}), *h323->encode_after(msg_of(ans), previous)) << ans;
  }
  // Another binding's answer: as encode_after.
  const auto sip = kd::wire::make_codec(Binding::sip);
  const Bytes s2 = *sip->encode(msg_of("s2"));
  EXPECT_EQ(*sip->encode_answer(msg_of("s5"), s2, *sip->encode(msg_of("s1"))), *sip->encode_after(msg_of("s5"), s2));
}

TEST(FreshTxn, RadiusIdentifierAndRequestAuthenticator) {
  for (auto [req, chal] : {std::pair{"s3", "s4"}, std::pair{"d2", "d3"}}) {
    const Fresh f = fresh(Binding::radius, req);
    const Bytes t = txn(1);
    EXPECT_EQ(f.a[1], t[0]) << req;
    EXPECT_EQ(Bytes(f.a.begin() + 4, f.a.begin() + 20), Bytes(t.begin() + 1, t.end())) << req;
    EXPECT_TRUE(radius::authentic_request(kSecret, f.a));
    // The AuC answers that request; its requester verifies the answer against it, and only it.
    auto a = f.codec->encode_after(msg_of(chal), f.a);
    ASSERT_TRUE(a.ok());
    EXPECT_TRUE(radius::answers(kSecret, *a, f.a));
    auto d = f.codec->decode_after(*a, f.a);
    ASSERT_TRUE(d.ok()) << d.error().detail;
    EXPECT_EQ(*d, msg_of(chal));
    EXPECT_EQ(f.codec->decode(*a).error().code, Code::bad_mac) << "the derived values do not verify it";
    EXPECT_EQ(f.codec->decode_after(*a, f.b).error().code, Code::bad_mac) << "another request's answer";
    // kd's own derived pair still verifies either way.
    const Bytes derived_answer = *f.codec->encode(msg_of(chal));
    EXPECT_EQ(*f.codec->decode_after(derived_answer, f.derived), msg_of(chal));
  }
  const Fresh acct = fresh(Binding::radius, "s11");
  EXPECT_EQ(acct.a[1], txn(1)[0]);
  EXPECT_TRUE(radius::authentic_request(kSecret, acct.a));
}

}  // namespace
