// The response journal's bytes (lib/net/journal) and the transaction layer's persistence hooks:
// what a crash can leave in the file, read back against the state file's digest.
#include <gtest/gtest.h>

#include <sys/resource.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <filesystem>

#include "crypto/suite.hpp"
#include "files/files.hpp"
#include "net/journal.hpp"
#include "net/response_journal.hpp"
#include "net/service.hpp"
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

constexpr std::size_t kRecordHeaderSize = 8;  // a record's length and CRC-32
const Bytes kD1 = b("digest of the state file first");
const Bytes kD2 = b("digest of the state file at the snapshot");
const std::string kC1 = R"({"registrations":{"alice":{"phase":1}}})";
const std::string kC2 = R"({"registrations":{"alice":null}})";
const std::string kC3 = R"({"seen_n1":{"00":5}})";

// On the state file of digest kD1: a batch with two answers (one of them IPv6) and changes, one
// with one answer, a snapshot (kD2), then a batch with changes only.
std::string three_batches() {
  std::string j(kJournalMagic);
  encode_base(j, kD1);
  auto v6 = answer(2, "REGISTER 2", "407 two", 1700000000123);
  v6.from.v6 = true;
  v6.from.ip = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  encode_batch(j, {answer(1, "REGISTER 1", "407 one", 1700000000000), v6}, &kC1);
  encode_batch(j, {answer(3, "REGISTER 3", "200 three", 1700000001000)}, &kC2);
  encode_snapshot(j, kD2);
  encode_batch(j, {}, &kC3);
  return j;
}

TEST(Journal, Crc32OfTheCheckString) {
  // The standard check value of CRC-32/ISO-HDLC.
  EXPECT_EQ(crc32(b("123456789")), 0xCBF43926u);
  // Every length and alignment against the bit-at-a-time definition (the code goes 8 bytes at a
  // time, and from 64 bytes on by carry-less multiplication, 64 and 16 bytes at a time).
  Bytes data(600);
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<std::uint8_t>(i * 131 + 7);
  for (std::size_t from = 0; from < 8; ++from)
    for (std::size_t n = 0; from + n <= data.size(); ++n) {
      std::uint32_t c = 0xFFFFFFFFu;
      for (std::size_t i = from; i < from + n; ++i) {
        c ^= data[i];
        for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      }
      ASSERT_EQ(crc32(ByteView(data).subspan(from, n)), c ^ 0xFFFFFFFFu) << from << "+" << n;
    }
}

TEST(Journal, ReadsBackEveryAnswerAndTheChangesTheStateFileLacks) {
  const std::string j = three_batches();
  JournalContents c;
  ASSERT_FALSE(decode_journal(j, kD1, c));
  ASSERT_EQ(c.answers.size(), 3u);
  expect_same(c.answers[0], answer(1, "REGISTER 1", "407 one", 1700000000000));
  EXPECT_TRUE(c.answers[1].from.v6);
  EXPECT_EQ(c.answers[1].from.ip[0], 0x20);
  EXPECT_EQ(c.answers[1].response, b("407 two"));
  expect_same(c.answers[2], answer(3, "REGISTER 3", "200 three", 1700000001000));
  EXPECT_EQ(c.changes, (std::vector<std::string>{kC1, kC2, kC3}));  // the snapshot was never written
  EXPECT_EQ(c.batches_kept, 3u);
  EXPECT_TRUE(c.state_matched);
  EXPECT_FALSE(c.torn_at);
}

TEST(Journal, AStateFileWrittenAtASnapshotHasTheChangesBeforeIt) {
  JournalContents c;
  ASSERT_FALSE(decode_journal(three_batches(), kD2, c));
  EXPECT_EQ(c.answers.size(), 3u);  // answers stay: their state is in the file
  EXPECT_EQ(c.changes, std::vector<std::string>{kC3});
}

TEST(Journal, AStateFileOfNoBaseOrSnapshotIsNotMatched) {
  JournalContents c;
  ASSERT_FALSE(decode_journal(three_batches(), b("another state"), c));
  EXPECT_FALSE(c.state_matched);
  EXPECT_TRUE(c.answers.empty());
  EXPECT_TRUE(c.changes.empty());
  EXPECT_EQ(c.changes_unmatched, 3u);  // the tool refuses to start rather than lose them
  std::string only_answers(kJournalMagic);
  encode_base(only_answers, kD1);
  encode_batch(only_answers, {answer(1, "R", "A", 1)}, nullptr);
  ASSERT_FALSE(decode_journal(only_answers, b("another state"), c));
  EXPECT_FALSE(c.state_matched);
  EXPECT_EQ(c.changes_unmatched, 0u);  // answers only: dropped with a warning
}

TEST(Journal, ATornTailIsIgnoredAtEveryCut) {
  std::string first(kJournalMagic);
  encode_base(first, kD1);
  encode_batch(first, {answer(1, "REGISTER 1", "407 one", 1700000000000), answer(2, "REGISTER 2", "407 two", 1)}, &kC1);
  std::string full = first;
  encode_batch(full, {answer(3, "REGISTER 3", "200 three", 1700000001000)}, &kC2);
  // Every cut inside the second batch: its records are torn or lack their commit.
  for (std::size_t cut = first.size() + 1; cut < full.size(); ++cut) {
    JournalContents c;
    auto why = decode_journal(std::string_view(full).substr(0, cut), kD1, c);
    ASSERT_FALSE(why) << cut << ": " << *why;
    EXPECT_EQ(c.answers.size(), 2u) << cut;
    EXPECT_EQ(c.changes, std::vector<std::string>{kC1}) << cut;
    EXPECT_EQ(c.batches_kept, 1u) << cut;
    ASSERT_TRUE(c.torn_at) << cut;
    EXPECT_EQ(*c.torn_at, first.size()) << cut;
  }
  // Zeros after the last record (a file extended before its data reached the disk).
  JournalContents c;
  ASSERT_FALSE(decode_journal(full + std::string(40, '\0'), kD1, c));
  ASSERT_TRUE(c.torn_at);
  EXPECT_EQ(*c.torn_at, full.size());
  EXPECT_EQ(c.answers.size(), 3u);
  EXPECT_EQ(c.changes.size(), 2u);
}

// A journal is written in place over zeros it was extended by (kd-live(7), DURABILITY): a batch
// the crash cut short is followed by zeros, not by the end of the file, and is a torn tail all
// the same, at every cut; damage with committed batches after it is still damage.
TEST(Journal, AWriteCutShortOverZerosIsATornTail) {
  std::string first(kJournalMagic);
  encode_base(first, kD1);
  encode_batch(first, {answer(1, "REGISTER 1", "407 one", 1700000000000)}, &kC1);
  std::string full = first;
  encode_batch(full, {answer(3, "REGISTER 3", "200 three", 1700000001000)}, &kC2);
  for (std::size_t cut = first.size() + 1; cut < full.size(); ++cut) {
    std::string over_zeros = full.substr(0, cut);
    over_zeros.append(full.size() - cut + 4096, '\0');
    JournalContents c;
    auto why = decode_journal(over_zeros, kD1, c);
    ASSERT_FALSE(why) << cut << ": " << *why;
    EXPECT_EQ(c.answers.size(), 1u) << cut;
    EXPECT_EQ(c.changes, std::vector<std::string>{kC1}) << cut;
    ASSERT_TRUE(c.torn_at) << cut;
    EXPECT_EQ(*c.torn_at, first.size()) << cut;
  }
  std::string damaged = full + std::string(4096, '\0');
  damaged[first.size() - 3] ^= 0x01;  // the first batch's commit record, the second batch after it
  JournalContents c;
  const auto why = decode_journal(damaged, kD1, c);
  ASSERT_TRUE(why);
  EXPECT_NE(why->find("damaged at byte"), std::string::npos) << *why;
}

// A record whose length field was damaged so that it runs past the end of the file looks like the
// last record cut short; but the whole, committed batches after it say it was not the last: refused,
// not dropped as a torn tail with every committed batch after it (their state changes lost).
TEST(Journal, ALengthRunningPastTheEndWithCommittedBatchesAfterItIsRefused) {
  const std::string j = three_batches();
  const std::size_t first = kJournalMagic.size() + kRecordHeaderSize + 1 + 1 + kD1.size();  // after the base
  // Also with the zeros a running service's journal ends in: the length then runs into them, not
  // past the end of the file, and is damage all the same.
  for (const std::size_t zeros : {std::size_t{0}, std::size_t{1} << 18}) {
    std::string d = j + std::string(zeros, '\0');
    d[first + 1] ^= 0x01;  // the first batch's first record: 65536 bytes longer than it is
    JournalContents c;
    auto why = decode_journal(d, kD1, c);
    ASSERT_TRUE(why) << zeros << ": taken as a torn tail at " << c.torn_at.value_or(0);
    EXPECT_NE(why->find("damaged at byte " + std::to_string(first)), std::string::npos) << *why;
    EXPECT_NE(why->find("whole records after it"), std::string::npos) << *why;
  }
  // And with a torn last batch after the committed ones, over the zeros (a record failing its
  // checksum, zeros after it): the whole records still tell the damaged length apart.
  {
    std::string d = j;
    encode_batch(d, {answer(4, "REGISTER 4", "407 four", 1)}, &kC1);
    d.back() ^= 0x01;  // its commit record fails its checksum
    d += std::string(std::size_t{1} << 18, '\0');
    d[first + 1] ^= 0x01;
    JournalContents c;
    const auto why = decode_journal(d, kD1, c);
    ASSERT_TRUE(why) << "taken as a torn tail at " << c.torn_at.value_or(0);
    EXPECT_NE(why->find("damaged at byte " + std::to_string(first)), std::string::npos) << *why;
  }
  // The last batch's first record so damaged: the whole records after it hold no commit, so it
  // may be a torn write (that batch was never acted on).
  std::string last(kJournalMagic);
  encode_base(last, kD1);
  encode_batch(last, {answer(1, "REGISTER 1", "407 one", 1700000000000)}, &kC1);
  const std::size_t at = last.size();
  encode_batch(last, {answer(2, "REGISTER 2", "407 two", 1)}, &kC2);
  last.pop_back();  // its commit record cut short
  last[at + 1] ^= 0x01;
  for (const std::size_t zeros : {std::size_t{0}, std::size_t{1} << 18}) {
    JournalContents c;
    ASSERT_FALSE(decode_journal(last + std::string(zeros, '\0'), kD1, c)) << zeros;
    ASSERT_TRUE(c.torn_at) << zeros;
    EXPECT_EQ(*c.torn_at, at) << zeros;
    EXPECT_EQ(c.changes, std::vector<std::string>{kC1}) << zeros;
  }
}

TEST(Journal, DamageBeforeTheTailIsRefused) {
  JournalContents c;
  std::string j = three_batches();
  j[kJournalMagic.size() + 12] ^= 0x01;  // inside the first record's payload
  auto why = decode_journal(j, kD2, c);
  ASSERT_TRUE(why);
  EXPECT_NE(why->find("damaged at byte 8"), std::string::npos) << *why;
  EXPECT_NE(why->find("checksum"), std::string::npos) << *why;
  why = decode_journal("KDJRNL1\n" + j.substr(8), kD2, c);  // the first journal format
  ASSERT_TRUE(why);
  EXPECT_NE(why->find("another version of kd (KDJRNL1"), std::string::npos) << *why;
  why = decode_journal("{\"not\":\"a journal\"}", kD2, c);
  ASSERT_TRUE(why);
  EXPECT_NE(why->find("not a kd journal"), std::string::npos) << *why;
  EXPECT_FALSE(decode_journal("", kD2, c));  // empty: no journal yet
  EXPECT_TRUE(c.answers.empty());
  // Cut within its header (never by kd, which replaces a journal whole): said as such, not as a
  // journal of another version.
  for (std::size_t n = 1; n < kJournalMagic.size(); ++n) {
    why = decode_journal(std::string(kJournalMagic.substr(0, n)), kD2, c);
    ASSERT_TRUE(why) << n;
    EXPECT_NE(why->find("cut short in its header"), std::string::npos) << *why;
    EXPECT_EQ(why->find("another version"), std::string::npos) << *why;
  }
}

// A length kd never writes (0, or above the largest record) is damage, not a write the crash cut
// short, wherever it is: read as "the last record", a length of 2^32-1 hid every committed batch
// after it (a replay those batches recorded would then be accepted). So is any damage to the base
// record, which kd writes only whole (a new journal replaces the old one atomically).
TEST(Journal, ALengthKdNeverWritesIsDamageNotATornTail) {
  const std::string j = three_batches();
  std::string base_only(kJournalMagic);
  encode_base(base_only, kD1);
  for (const std::uint32_t len : {0u, (1u << 20) + 1, 0xffffffffu}) {
    for (const std::size_t at : {kJournalMagic.size(), base_only.size()}) {  // the base; the first batch
      std::string d = j;
      for (int i = 0; i < 4; ++i) d[at + static_cast<std::size_t>(i)] = static_cast<char>(len >> (24 - 8 * i));
      JournalContents c;
      const auto why = decode_journal(d, kD2, c);
      ASSERT_TRUE(why) << "length " << len << " at byte " << at;
      EXPECT_NE(why->find("damaged at byte " + std::to_string(at)), std::string::npos) << *why;
    }
  }
  // The base record cut short or failing its checksum, even as the journal's last bytes.
  for (std::size_t cut = kJournalMagic.size() + 1; cut < base_only.size(); ++cut) {
    JournalContents c;
    const auto why = decode_journal(std::string_view(base_only).substr(0, cut), kD1, c);
    ASSERT_TRUE(why) << cut;
    EXPECT_NE(why->find("damaged at byte 8"), std::string::npos) << *why;
  }
}

TEST(ServerTransactions, AnswersGivenAreRecordedAndRestoredByteForByte) {
  ServerTransactions st(2);
  const auto a = answer(1, "REGISTER 1", "", 0);
  st.open(a.from, a.request, 7, 0, 1000, "alice/s1");
  std::vector<Answered> got;
  st.record_answers([&got](const AnswerRef& r) {
    got.push_back(Answered{r.from, Bytes(r.request.begin(), r.request.end()), r.socket,
                           Bytes(r.response.begin(), r.response.end()), r.expires_ms});
  });
  ASSERT_TRUE(st.answer("alice/s1", b("407 one"), 10, 500));
  ASSERT_EQ(got.size(), 1u);  // as it is given
  auto want = answer(1, "REGISTER 1", "407 one", 510);
  want.socket = 7;  // where the request came in
  expect_same(got[0], want);
  st.record_answers({});
  st.open(a.from, b("REGISTER 1 again"), 7, 20, 1000, "alice/s1");
  ASSERT_TRUE(st.answer("alice/s1", b("407 again"), 30, 500));
  EXPECT_EQ(got.size(), 1u);  // no longer recording

  // Another cache (the restarted service) answers the retransmission from the restored entry.
  ServerTransactions after(2);
  after.restore(got[0]);
  const Bytes* cached = nullptr;
  EXPECT_EQ(after.lookup(7, a.from, a.request, 100, &cached), ServerTransactions::Seen::answered);
  EXPECT_EQ(*cached, b("407 one"));
  EXPECT_EQ(after.lookup(7, a.from, a.request, 510), ServerTransactions::Seen::fresh);  // expiry kept
  // answered(now): what is not expired; the bound holds (the one that expires first goes).
  after.restore(answer(2, "R2", "x", 900));
  after.restore(answer(3, "R3", "y", 800));
  EXPECT_EQ(after.size(), 2u);
  const auto live = after.answered(850);
  ASSERT_EQ(live.size(), 1u);
  EXPECT_EQ(live[0].request, b("R2"));
}

// The journal's compaction encodes the cache's answers in place: every answer not expired, in the
// order they expire, with the request and answer the cache holds.
TEST(ServerTransactions, EachAnsweredTransactionIsVisitedInTheOrderTheyExpire) {
  ServerTransactions st(8);
  st.restore(answer(1, "R1", "a1", 900));
  st.restore(answer(2, "R2", "a2", 700));
  st.restore(answer(3, "R3", "a3", 800));
  st.open(answer(4, "R4", "", 0).from, b("R4"), 4, 0, 1000, "pending/s1");  // not answered: not visited
  std::vector<std::string> seen;
  st.for_each_answered(750, [&seen](const AnswerRef& r) {
    seen.push_back(std::string(r.request.begin(), r.request.end()) + "=" + std::string(r.response.begin(), r.response.end()) +
                   "@" + std::to_string(r.expires_ms) + "/" + std::to_string(r.socket));
  });
  EXPECT_EQ(seen, (std::vector<std::string>{"R3=a3@800/3", "R1=a1@900/1"}));
}

// An answer record, byte for byte as kd-live(7) DURABILITY gives it (written by hand here), and the
// same bytes whether a batch is encoded whole or its answers one by one as they are given.
TEST(Journal, AnAnswerRecordIsItsFieldsInOrder) {
  const Answered a = answer(9, "REQ", "ANS", 0x0102030405060708u);
  std::string payload = "A";
  payload += std::string("\x01\x02\x03\x04\x05\x06\x07\x08", 8);     // expiry
  payload += std::string("\x00\x00\x00\x09", 4);                     // socket
  payload += std::string("\x04\x7f\x00\x00\x09", 5) + std::string(12, '\0');  // family, address
  payload += std::string("\x13\x91", 2);                             // port 5009
  payload += std::string("\x00\x00\x00\x03", 4) + "REQ" + std::string("\x00\x00\x00\x03", 4) + "ANS";
  const std::uint32_t crc = crc32(b(payload));
  std::string want(8, '\0');
  for (int i = 0; i < 4; ++i) {
    want[static_cast<std::size_t>(i)] = static_cast<char>((payload.size() >> (8 * (3 - i))) & 0xff);
    want[static_cast<std::size_t>(4 + i)] = static_cast<char>((crc >> (8 * (3 - i))) & 0xff);
  }
  want += payload;
  std::string got;
  encode_answer(got, AnswerRef{a.from, a.request, a.socket, a.response, a.expires_ms});
  EXPECT_EQ(got, want);

  const std::string changes = R"({"seen_n1":{"00":5}})";
  Batch rest;
  rest.changes = &changes;
  rest.settled = {{'P', "alice/s1"}};
  std::string one_by_one = got;
  encode_answer(one_by_one, AnswerRef{a.from, b("REQ2"), 2, b("ANS2"), 7});
  end_batch(one_by_one, rest);
  Batch whole = rest;
  whole.answers = {a, answer(9, "REQ2", "ANS2", 7)};
  whole.answers[1].socket = 2;
  std::string at_once;
  encode_batch(at_once, whole);
  EXPECT_EQ(one_by_one, at_once);
  // The commit record last: length 1, CRC-32 of "C", "C".
  const std::string commit = std::string("\x00\x00\x00\x01", 4) + std::string("\x3d\xd7\xff\xa7", 4) + "C";
  EXPECT_TRUE(at_once.ends_with(commit));
}

// A service writes its state's changes in place after its answers (encode_changes), then ends the
// batch without them: the same bytes as a batch that carries them. A writer that throws leaves
// the batch as it was, with no record begun in it.
TEST(Journal, ChangesWrittenInPlaceAreTheRecordOfTheBatchThatCarriesThem) {
  const std::string changes = R"({"registrations":{"alice":null},"seen_n1":{"00":5}})";
  Batch rest;
  rest.settled = {{'Q', "alice/s3"}};
  std::string in_place;
  encode_answer(in_place, AnswerRef{answer(1, "REQ", "ANS", 9).from, b("REQ"), 1, b("ANS"), 9});
  encode_changes(in_place, [&changes](std::string& out) {
    out += changes.substr(0, 20);
    out += changes.substr(20);
  });
  end_batch(in_place, rest);
  Batch whole = rest;
  whole.answers = {answer(1, "REQ", "ANS", 9)};
  whole.changes = &changes;
  std::string carried;
  encode_batch(carried, whole);
  EXPECT_EQ(in_place, carried);
  JournalContents read;
  const std::string journal = std::string(kJournalMagic) + [] {
    std::string base;
    encode_base(base, Bytes(32, 1));
    return base;
  }() + in_place;
  ASSERT_FALSE(decode_journal(journal, Bytes(32, 1), read));
  ASSERT_EQ(read.changes.size(), 1u);
  EXPECT_EQ(read.changes[0], changes);

  std::string batch = in_place;
  EXPECT_THROW(encode_changes(batch, [](std::string& out) {
                 out += "{\"regis";
                 throw std::runtime_error("not UTF-8");
               }),
               std::runtime_error);
  EXPECT_EQ(batch, in_place);
}

}  // namespace
}  // namespace kd::net

namespace kd::net {
namespace {

// Requests under way: those opened and not settled by the last committed batch come back, in the
// order they were opened, with every field; a torn batch opens or settles nothing.
TEST(Journal, RequestsUnderWaySurviveUntilSettled) {
  PendingRequest p1{"alice/s1", {}, 3, b("REGISTER alice"), 1700000009000, "t1"};
  p1.from.ip = {127, 0, 0, 9};
  p1.from.port = 5060;
  PendingRequest p2{"bob/s1", {}, 3, b("REGISTER bob"), 1700000009500, ""};
  SentRequest q1{"alice/s2", "s2", "switch", b("REGISTER alice, forwarded")};
  SentRequest q2{"radius/00ff", "s11", "auc-acct", b("\x04\x07 accounting")};
  std::string j(kJournalMagic);
  encode_base(j, kD1);
  Batch first;
  first.pending = {p1, p2};
  first.sent = {q1, q2};
  first.ports = {{"switch", 40001}};
  encode_batch(j, first);
  Batch second;
  second.settled = {{'P', "bob/s1"}, {'Q', "alice/s2"}};
  second.ports = {{"switch", 40002}, {"auc-acct", 40003}};
  encode_batch(j, second);
  JournalContents c;
  ASSERT_FALSE(decode_journal(j, kD1, c));
  ASSERT_EQ(c.pending.size(), 1u);
  EXPECT_EQ(c.pending[0].name, "alice/s1");
  EXPECT_EQ(c.pending[0].from, p1.from);
  EXPECT_EQ(c.pending[0].socket, 3u);
  EXPECT_EQ(c.pending[0].request, b("REGISTER alice"));
  EXPECT_EQ(c.pending[0].expires_ms, 1700000009000u);
  EXPECT_EQ(c.pending[0].txn, "t1");
  ASSERT_EQ(c.sent.size(), 1u);
  EXPECT_EQ(c.sent[0].key, "radius/00ff");
  EXPECT_EQ(c.sent[0].label, "s11");
  EXPECT_EQ(c.sent[0].peer, "auc-acct");
  EXPECT_EQ(c.sent[0].request, b("\x04\x07 accounting"));
  EXPECT_EQ(c.ports, (std::map<std::string, std::uint16_t>{{"switch", 40002}, {"auc-acct", 40003}}));
  // The second batch torn (no commit): nothing it settled is settled.
  ASSERT_FALSE(decode_journal(std::string_view(j).substr(0, j.size() - 3), kD1, c));
  EXPECT_EQ(c.pending.size(), 2u);
  EXPECT_EQ(c.sent.size(), 2u);
  EXPECT_EQ(c.sent[0].key, "alice/s2");
}

}  // namespace
}  // namespace kd::net

namespace kd::net {
namespace {

using files::read_file;
using files::write_file_atomic;

struct TempDir {
  std::string path;
  TempDir() {
    std::string t = (std::filesystem::temp_directory_path() / "kd-journal-test.XXXXXX").string();
    path = ::mkdtemp(t.data()) ? t : std::string();
  }
  ~TempDir() { std::filesystem::remove_all(path); }
};

// The lines a ResponseJournal gives the Report cli would print (net/service.hpp).
class Lines final : public Report {
public:
  void out(std::string_view) override {}
  void diagnostic(std::string_view line) override { lines.emplace_back(line); }
  void progress(std::string_view) override {}
  void progress_done() override {}
  std::vector<std::string> lines;
};

// A journal rewritten from the cache, larger than the pieces it is written by: every answer and
// request under way reads back, on the state file written at the snapshot.
TEST(ResponseJournal, ARewriteReadsBackWhole) {
  TempDir dir;
  ASSERT_FALSE(dir.path.empty());
  const std::string state = dir.path + "/s.st";
  Lines report;
  ResponseJournal j(state, "test", report);
  j.snapshot("{\"state\":1}\n");
  std::vector<net::Answered> cache;
  for (std::uint8_t i = 0; i < 12; ++i) {  // 12 x 100 KB: several pieces
    net::Answered a;
    a.from.ip = {127, 0, 0, i};
    a.from.port = 5060;
    a.socket = i;
    a.request = Bytes(100000, static_cast<std::uint8_t>('a' + i));
    a.response = b("answer " + std::to_string(i));
    a.expires_ms = 1700000000000u + i;
    cache.push_back(std::move(a));
  }
  net::Batch now;
  now.sent = {{"alice/s2", "s2", "switch", b("REGISTER alice")}};
  j.rewrite(now, [&](const std::function<void(const net::AnswerRef&)>& add) {
    for (const auto& a : cache) add(net::AnswerRef{a.from, a.request, a.socket, a.response, a.expires_ms});
  });
  const auto text = read_file(state + ".journal");
  ASSERT_TRUE(text);
  net::JournalContents c;
  const std::string_view st = "{\"state\":1}\n";
  const Bytes digest = crypto::hash(crypto::HashId::sha256, ByteView(reinterpret_cast<const std::uint8_t*>(st.data()), st.size()));
  ASSERT_FALSE(net::decode_journal(*text, digest, c));
  EXPECT_FALSE(c.torn_at);
  ASSERT_EQ(c.answers.size(), cache.size());
  for (std::size_t i = 0; i < cache.size(); ++i) {
    EXPECT_EQ(c.answers[i].from, cache[i].from) << i;
    EXPECT_EQ(c.answers[i].request, cache[i].request) << i;
    EXPECT_EQ(c.answers[i].response, cache[i].response) << i;
    EXPECT_EQ(c.answers[i].expires_ms, cache[i].expires_ms) << i;
  }
  ASSERT_EQ(c.sent.size(), 1u);
  EXPECT_EQ(c.sent[0].key, "alice/s2");
  EXPECT_FALSE(j.compacting());  // the size it counts is the file's
}

// Compaction waits until the journal has grown by three times what the last rewrite wrote plus the
// state file (kd-live(7), DURABILITY): each byte appended costs at most a third of a byte written
// again, which the services' CPU per registration pays for (scripts/bench-live).
TEST(ResponseJournal, CompactsOnceGrownByThreeTimesTheRewriteAndState) {
  TempDir dir;
  ASSERT_FALSE(dir.path.empty());
  const std::string state = dir.path + "/s.st";
  const std::string state_text(100000, 's');
  Lines report;
  ResponseJournal j(state, "test", report);
  j.snapshot(state_text);
  auto answer = [](std::uint8_t i) {
    return net::Answered{net::Address{}, Bytes(200000, i), 0, b("ok"), 1700000000000u};
  };
  std::vector<net::Answered> cache;
  for (std::uint8_t i = 0; i < 25; ++i) cache.push_back(answer(i));  // 5 MB: past the 4 MiB floor
  j.rewrite(net::Batch{}, [&](const std::function<void(const net::AnswerRef&)>& add) {
    for (const auto& a : cache) add(net::AnswerRef{a.from, a.request, a.socket, a.response, a.expires_ms});
  });
  const std::string path = state + ".journal";
  const std::size_t rewritten = std::filesystem::file_size(path), base = rewritten + state_text.size();
  ASSERT_EQ(j.size(), rewritten);
  ASSERT_FALSE(j.compacting());
  auto grow_past = [&](std::size_t size) {  // what the journal holds, not the zeros after it
    while (j.size() <= size) {
      const auto a = answer(1);
      net::encode_answer(j.batch(), net::AnswerRef{a.from, a.request, a.socket, a.response, a.expires_ms});
      j.append(net::Batch{});
    }
  };
  grow_past(rewritten + 2 * base);  // twice: not yet
  EXPECT_FALSE(j.compacting());
  grow_past(rewritten + 3 * base - 250000);
  EXPECT_FALSE(j.compacting());
  grow_past(rewritten + 3 * base);
  EXPECT_TRUE(j.compacting());
  EXPECT_GE(std::filesystem::file_size(path), j.size());
}

// The journal's warnings go through the Report (Lines, above), as every other line of live mode's
// does: none is written to standard error directly (trial 4).

TEST(ResponseJournal, WarningsGoThroughTheReport) {
  TempDir dir;
  ASSERT_FALSE(dir.path.empty());
  const std::string state = dir.path + "/s.st", path = state + ".journal";
  {
    Lines none;
    ResponseJournal j(state, "test", none);
    j.snapshot("{\"state\":1}\n");
    j.rewrite(net::Batch{});
    const auto a = answer(1, "REGISTER", "401", 1700000000000u);
    net::encode_answer(j.batch(), net::AnswerRef{a.from, a.request, a.socket, a.response, a.expires_ms});
    j.append(net::Batch{});
    EXPECT_TRUE(none.lines.empty());
  }
  std::filesystem::resize_file(path, std::filesystem::file_size(path) - 3);  // a write cut short
  Lines torn;
  testing::internal::CaptureStderr();
  { ResponseJournal j(state, "test", torn); }
  EXPECT_EQ(testing::internal::GetCapturedStderr(), "");
  ASSERT_EQ(torn.lines.size(), 1u);
  EXPECT_EQ(torn.lines[0].rfind("warning: journal " + path + ": a torn tail (", 0), 0u) << torn.lines[0];

  // The state file changed behind the journal's back: its answers are dropped, with a warning.
  write_file_atomic(state, "{\"state\":2}\n");
  Lines other;
  testing::internal::CaptureStderr();
  { ResponseJournal j(state, "test", other); }
  EXPECT_EQ(testing::internal::GetCapturedStderr(), "");
  ASSERT_EQ(other.lines.size(), 2u);
  EXPECT_EQ(other.lines[1], "warning: journal " + path +
                                ": neither its base nor a snapshot is the state file as it is (was it changed by "
                                "another run?): its answers are dropped");

  // fold_journal (a filter's start) warns the same way.
  Lines fold;
  testing::internal::CaptureStderr();
  fold_journal(state, "test", fold);
  EXPECT_EQ(testing::internal::GetCapturedStderr(), "");
  ASSERT_EQ(fold.lines.size(), 1u);
  EXPECT_EQ(fold.lines[0].rfind("warning: journal " + path + ": a torn tail (", 0), 0u) << fold.lines[0];
}

// Batches are written in place over zeros the journal is extended by, so that a sync writes no
// inode (kd-live(7), DURABILITY): while a service runs its journal is larger than what it holds;
// a start after a crash (the file as it was then) reads the zeros as room, with no warning and
// every batch kept; a stop trims them.
TEST(ResponseJournal, BatchesGoInPlaceOverZerosThatAStartDoesNotWarnOf) {
  TempDir dir;
  ASSERT_FALSE(dir.path.empty());
  const std::string state = dir.path + "/s.st", path = state + ".journal";
  const std::string crashed = dir.path + "/c.st";
  std::uintmax_t held = 0;
  {
    Lines none;
    ResponseJournal j(state, "test", none);
    j.snapshot("{\"state\":1}\n");
    j.rewrite(net::Batch{});
    held = std::filesystem::file_size(path);
    for (std::uint8_t i = 1; i <= 3; ++i) {
      const auto a = answer(i, "REGISTER " + std::to_string(i), "401", 1700000000000u + i);
      net::encode_answer(j.batch(), net::AnswerRef{a.from, a.request, a.socket, a.response, a.expires_ms});
      j.append(net::Batch{});
    }
    EXPECT_GE(std::filesystem::file_size(path), std::uintmax_t{4} << 20);  // extended
    std::filesystem::copy_file(state, crashed);
    std::filesystem::copy_file(path, crashed + ".journal");  // as a kill -9 leaves it
    EXPECT_TRUE(none.lines.empty());
  }
  const auto trimmed = std::filesystem::file_size(path);
  EXPECT_GT(trimmed, held);
  EXPECT_LT(trimmed, held + 1000);  // what the three batches hold, no zeros
  EXPECT_EQ(read_file(crashed + ".journal")->substr(0, trimmed), read_file(path));
  Lines after;
  ResponseJournal j(crashed, "test", after);
  EXPECT_TRUE(after.lines.empty()) << after.lines[0];
  const auto loaded = j.take_loaded();
  ASSERT_EQ(loaded.size(), 3u);
  EXPECT_EQ(loaded[2].request, b("REGISTER 3"));
}

// No room for the zeros (here a file size limit, as a nearly full disk): the batch is written and
// synced all the same and the journal grows by its batches, with no zeros after them.
TEST(ResponseJournal, WithNoRoomForTheZerosTheJournalGrowsByItsBatches) {
  TempDir dir;
  ASSERT_FALSE(dir.path.empty());
  const std::string state = dir.path + "/s.st", path = state + ".journal";
  struct rlimit was {};
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &was), 0);
  const auto sigxfsz = std::signal(SIGXFSZ, SIG_IGN);  // EFBIG instead of the signal
  {
    Lines none;
    ResponseJournal j(state, "test", none);
    j.snapshot("{\"state\":1}\n");
    j.rewrite(net::Batch{});
    struct rlimit small = was;
    small.rlim_cur = rlim_t{1} << 20;
    ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &small), 0);
    for (std::uint8_t i = 1; i <= 3; ++i) {
      const auto a = answer(i, "REGISTER " + std::to_string(i), "401", 1700000000000u + i);
      net::encode_answer(j.batch(), net::AnswerRef{a.from, a.request, a.socket, a.response, a.expires_ms});
      ASSERT_NO_THROW(j.append(net::Batch{})) << i;
      EXPECT_LT(std::filesystem::file_size(path), 4096u) << i;  // the batches alone
    }
    EXPECT_TRUE(none.lines.empty());
  }
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &was), 0);
  std::signal(SIGXFSZ, sigxfsz);
  Lines after;
  ResponseJournal j(state, "test", after);
  EXPECT_TRUE(after.lines.empty()) << after.lines[0];
  EXPECT_EQ(j.take_loaded().size(), 3u);
}

// A file written by pieces: what the pieces hold, in order; a failure while producing them leaves
// the file as it was and no temporary file beside it.
TEST(WriteFileAtomic, ByPiecesOrNotAtAll) {
  TempDir dir;
  ASSERT_FALSE(dir.path.empty());
  const std::string path = dir.path + "/f";
  write_file_atomic(path, [](const std::function<void(std::string_view)>& write) {
    write("one ");
    write("");
    write("two");
  });
  EXPECT_EQ(read_file(path), std::optional<std::string>("one two"));
  EXPECT_THROW(write_file_atomic(path,
                                 [](const std::function<void(std::string_view)>& write) {
                                   write("half");
                                   throw IoError{"the producer failed"};
                                 }),
               IoError);
  EXPECT_EQ(read_file(path), std::optional<std::string>("one two"));
  std::size_t files = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir.path)) ++files;
  EXPECT_EQ(files, 1u);
}

}  // namespace
}  // namespace kd::net
