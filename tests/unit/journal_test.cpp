// The response journal's bytes (lib/net/journal) and the transaction layer's persistence hooks:
// what a crash can leave in the file, read back against the state file's digest.
#include <gtest/gtest.h>

#include "net/journal.hpp"
#include "net/transactions.hpp"

namespace kd::net {
namespace {

Bytes b(std::string_view s) { return Bytes(s.begin(), s.end()); }

Answered answer(std::uint8_t last, std::string_view req, std::string_view resp, std::uint64_t expires) {
  Answered a;
  a.from.ip = {127, 0, 0, last};
  a.from.port = static_cast<std::uint16_t>(5000 + last);
  a.request = b(req);
  a.socket = last;
  a.response = b(resp);
  a.expires_ms = expires;
  return a;
}

void expect_same(const Answered& x, const Answered& y) {
  EXPECT_EQ(x.from, y.from);
  EXPECT_EQ(x.request, y.request);
  EXPECT_EQ(x.socket, y.socket);
  EXPECT_EQ(x.response, y.response);
  EXPECT_EQ(x.expires_ms, y.expires_ms);
}

const Bytes kD1 = b("digest of the state after batch 1");
const Bytes kD2 = b("digest of the state after batch 2");

// Two batches: the first with two answers (one of them IPv6), the second with one.
std::string two_batches() {
  std::string j(kJournalMagic);
  auto v6 = answer(2, "REGISTER 2", "407 two", 1700000000123);
  v6.from.v6 = true;
  v6.from.ip = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  encode_batch(j, {answer(1, "REGISTER 1", "407 one", 1700000000000), v6}, kD1);
  encode_batch(j, {answer(3, "REGISTER 3", "200 three", 1700000001000)}, kD2);
  return j;
}

TEST(Journal, Crc32OfTheCheckString) {
  // The standard check value of CRC-32/ISO-HDLC.
  EXPECT_EQ(crc32(b("123456789")), 0xCBF43926u);
}

TEST(Journal, ReadsBackEveryAnswerOfTheBatchesUpToTheState) {
  const std::string j = two_batches();
  JournalContents c;
  ASSERT_FALSE(decode_journal(j, kD2, c));
  ASSERT_EQ(c.answers.size(), 3u);
  expect_same(c.answers[0], answer(1, "REGISTER 1", "407 one", 1700000000000));
  EXPECT_TRUE(c.answers[1].from.v6);
  EXPECT_EQ(c.answers[1].from.ip[0], 0x20);
  EXPECT_EQ(c.answers[1].response, b("407 two"));
  expect_same(c.answers[2], answer(3, "REGISTER 3", "200 three", 1700000001000));
  EXPECT_EQ(c.batches_kept, 2u);
  EXPECT_EQ(c.batches_dropped, 0u);
  EXPECT_FALSE(c.torn_at);
}

TEST(Journal, ABatchWhoseStateWasNeverSavedIsDropped) {
  JournalContents c;
  ASSERT_FALSE(decode_journal(two_batches(), kD1, c));
  ASSERT_EQ(c.answers.size(), 2u);
  EXPECT_EQ(c.batches_dropped, 1u);
  EXPECT_TRUE(c.state_matched);
  // No batch names the state: nothing is kept.
  ASSERT_FALSE(decode_journal(two_batches(), b("another state"), c));
  EXPECT_FALSE(c.state_matched);
  EXPECT_TRUE(c.answers.empty());
  EXPECT_EQ(c.batches_dropped, 2u);
}

TEST(Journal, ATornTailIsIgnoredAtEveryCut) {
  const std::string full = two_batches();
  std::string first(kJournalMagic);
  encode_batch(first, {answer(1, "REGISTER 1", "407 one", 1700000000000), answer(2, "REGISTER 2", "407 two", 1)}, kD1);
  // Every cut inside the second batch: its records are torn or lack their commit.
  for (std::size_t cut = first.size() + 1; cut < full.size(); ++cut) {
    JournalContents c;
    auto why = decode_journal(std::string_view(full).substr(0, cut), kD1, c);
    ASSERT_FALSE(why) << cut << ": " << *why;
    EXPECT_EQ(c.answers.size(), 2u) << cut;
    EXPECT_EQ(c.batches_kept, 1u) << cut;
  }
  // Zeros after the last record (a file extended before its data reached the disk).
  JournalContents c;
  ASSERT_FALSE(decode_journal(full + std::string(40, '\0'), kD2, c));
  ASSERT_TRUE(c.torn_at);
  EXPECT_EQ(*c.torn_at, full.size());
  EXPECT_EQ(c.answers.size(), 3u);
}

TEST(Journal, DamageBeforeTheTailIsRefused) {
  JournalContents c;
  std::string j = two_batches();
  j[kJournalMagic.size() + 12] ^= 0x01;  // inside the first record's payload
  auto why = decode_journal(j, kD2, c);
  ASSERT_TRUE(why);
  EXPECT_NE(why->find("damaged at byte 8"), std::string::npos) << *why;
  EXPECT_NE(why->find("checksum"), std::string::npos) << *why;
  why = decode_journal("{\"not\":\"a journal\"}", kD2, c);
  ASSERT_TRUE(why);
  EXPECT_NE(why->find("not a kd journal"), std::string::npos) << *why;
  EXPECT_FALSE(decode_journal("", kD2, c));  // empty: no journal yet
  EXPECT_TRUE(c.answers.empty());
}

TEST(ServerTransactions, AnswersGivenAreRecordedAndRestoredByteForByte) {
  ServerTransactions st(2);
  const auto a = answer(1, "REGISTER 1", "", 0);
  st.open(a.from, a.request, 7, 0, 1000, "alice/s1");
  EXPECT_TRUE(st.take_answered().empty());  // not recording
  st.record_answers(true);
  ASSERT_TRUE(st.answer("alice/s1", b("407 one"), 10, 500));
  auto got = st.take_answered();
  ASSERT_EQ(got.size(), 1u);
  auto want = answer(1, "REGISTER 1", "407 one", 510);
  want.socket = 7;  // where the request came in
  expect_same(got[0], want);
  EXPECT_TRUE(st.take_answered().empty());  // handed over once

  // Another cache (the restarted service) answers the retransmission from the restored entry.
  ServerTransactions after(2);
  after.restore(got[0]);
  const Bytes* cached = nullptr;
  SocketId socket = 0;
  EXPECT_EQ(after.lookup(a.from, a.request, 100, &cached, &socket), ServerTransactions::Seen::answered);
  EXPECT_EQ(*cached, b("407 one"));
  EXPECT_EQ(socket, 7u);
  EXPECT_EQ(after.lookup(a.from, a.request, 510), ServerTransactions::Seen::fresh);  // expiry kept
  // answered(now): what is not expired; the bound holds (the one that expires first goes).
  after.restore(answer(2, "R2", "x", 900));
  after.restore(answer(3, "R3", "y", 800));
  EXPECT_EQ(after.size(), 2u);
  const auto live = after.answered(850);
  ASSERT_EQ(live.size(), 1u);
  EXPECT_EQ(live[0].request, b("R2"));
}

}  // namespace
}  // namespace kd::net
