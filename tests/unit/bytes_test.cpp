#include <gtest/gtest.h>

#include <string>

#include "core/bytes.hpp"

using kd::Bytes;
using kd::ByteView;
using kd::printable;
using kd::to_hex;

// Every byte value, both digits lowercase, into a string or a buffer of twice the size.
TEST(Hex, EveryByteBothDigits) {
  Bytes all(256);
  for (std::size_t b = 0; b < all.size(); ++b) all[b] = static_cast<std::uint8_t>(b);
  const std::string h = to_hex(all);
  ASSERT_EQ(h.size(), 512u);
  const char* digits = "0123456789abcdef";
  for (std::size_t b = 0; b < 256; ++b) {
    EXPECT_EQ(h[2 * b], digits[b >> 4]) << b;
    EXPECT_EQ(h[2 * b + 1], digits[b & 15]) << b;
  }
  std::string buf(8, 'x');
  EXPECT_EQ(to_hex(ByteView(all).subspan(0xfd, 3), buf), "fdfeff");
  EXPECT_EQ(buf, "fdfeffxx");  // nothing written past the digits
  EXPECT_EQ(to_hex(ByteView{}), "");
}

TEST(Printable, PlainTextAndUtf8PassUnchanged) {
  EXPECT_EQ(printable("alice@example.com s1"), "alice@example.com s1");
  EXPECT_EQ(printable("\xc3\xa9t\xc3\xa9 \xe4\xb8\xad \xf0\x9f\x94\x91"), "\xc3\xa9t\xc3\xa9 \xe4\xb8\xad \xf0\x9f\x94\x91");
}

TEST(Printable, LineEndsAndEscapeAreEscaped) {
  EXPECT_EQ(printable("s1\nkd-term: error"), "s1\\nkd-term: error");
  EXPECT_EQ(printable("a\r\tb"), "a\\r\\tb");
  EXPECT_EQ(printable("\x1b[31mred"), "\\x1b[31mred");
  EXPECT_EQ(printable(std::string("a\0b", 3)), "a\\x00b");
  EXPECT_EQ(printable("\x7f"), "\\x7f");
  EXPECT_EQ(printable("back\\slash"), "back\\\\slash");  // so an escape in the input cannot pass for ours
}

TEST(Printable, C1ControlsAndBadUtf8AreEscaped) {
  EXPECT_EQ(printable("\xc2\x9b" "31m"), "\\u009b31m");  // CSI as a C1 character
  EXPECT_EQ(printable("\x9b"), "\\x9b");                 // a lone continuation byte
  EXPECT_EQ(printable("\xc3"), "\\xc3");                 // a cut sequence
  EXPECT_EQ(printable("\xc0\xaf"), "\\xc0\\xaf");        // overlong '/'
  EXPECT_EQ(printable("\xed\xa0\x80"), "\\xed\\xa0\\x80");  // a surrogate
  EXPECT_EQ(printable("\xf4\x90\x80\x80"), "\\xf4\\x90\\x80\\x80");  // above U+10FFFF
}

#include "core/number.hpp"

// Decimal numbers of the command lines (core/number.hpp), shared by cli's options and --retransmit.
TEST(Decimal, DigitsOnlyWithinTheRangeAndNoWrap) {
  using kd::NumberFault;
  using kd::parse_decimal;
  EXPECT_EQ(parse_decimal("0", 0, 0).fault, NumberFault::none);
  EXPECT_EQ(parse_decimal("1", 0, 0).fault, NumberFault::too_large);
  EXPECT_EQ(parse_decimal("18446744073709551615", 0, UINT64_MAX).value, UINT64_MAX);
  EXPECT_EQ(parse_decimal("18446744073709551616", 0, UINT64_MAX).fault, NumberFault::too_large);
  // 2^64 * 10 would wrap to a small number; read, not added, it stays too large.
  EXPECT_EQ(parse_decimal("184467440737095516160", 0, 1000).fault, NumberFault::too_large);
  EXPECT_EQ(parse_decimal("99999999999999999999999999", 0, 0).fault, NumberFault::too_large);
  EXPECT_EQ(parse_decimal("", 0, 9).fault, NumberFault::empty);
  EXPECT_EQ(parse_decimal("-1", 0, 9).fault, NumberFault::not_digits);
  EXPECT_EQ(parse_decimal(" 1", 0, 9).fault, NumberFault::not_digits);
  EXPECT_EQ(parse_decimal("0x10", 0, 99).fault, NumberFault::not_digits);
  EXPECT_EQ(parse_decimal("4", 5, 9).fault, NumberFault::too_small);
  EXPECT_EQ(parse_decimal("0009", 5, 9).value, 9u);
}

#include <utility>
#include <vector>

#include "core/tracked_map.hpp"

namespace {
// What changes() reports, in the order it reports it; "-" for a removed entry.
std::vector<std::pair<std::string, std::string>> changes_of(const kd::TrackedMap<std::string>& m) {
  std::vector<std::pair<std::string, std::string>> out;
  m.changes([&](const std::string& k, const std::string* now) { out.emplace_back(k, now ? *now : "-"); });
  return out;
}
}  // namespace

// The journal's state changes are written in key order (json::encode_state_changes), whatever
// order the entries changed in; an entry that went back to its saved value is no change.
TEST(TrackedMap, ChangesAreInKeyOrderAgainstTheLastSave) {
  kd::TrackedMap<std::string> m({{"b", "1"}, {"d", "2"}, {"f", "3"}});
  EXPECT_FALSE(m.changed());
  m["z"] = "new";
  m.find("f")->second = "changed";
  m.erase("d");
  m["a"] = "new";
  m["b"] = "other";
  m["b"] = "1";                     // back to the saved value
  m["y"] = "gone";
  m.erase("y");                     // added and removed since the save
  m.erase("f");
  m["f"] = "3";                     // removed and put back as it was
  m.find("missing");                // finds nothing, changes nothing
  std::vector<std::pair<std::string, std::string>> want{{"a", "new"}, {"d", "-"}, {"z", "new"}};
  EXPECT_EQ(changes_of(m), want);
  EXPECT_TRUE(m.changed());
  m.mark_saved();
  EXPECT_FALSE(m.changed());
  EXPECT_TRUE(changes_of(m).empty());
  m.erase_if([](const auto& kv) { return kv.first == "a" || kv.first == "z"; });
  m["c"] = "x";
  want = {{"a", "-"}, {"c", "x"}, {"z", "-"}};
  EXPECT_EQ(changes_of(m), want);
  m.reset({{"q", "1"}});  // as loaded: nothing changed
  EXPECT_FALSE(m.changed());
  EXPECT_EQ(m.size(), 1u);
}

// A map whose changes nobody saves (a service without --state) remembers none: the map holds the
// same entries, no change is reported while off, and on again changes count from then.
TEST(TrackedMap, UntrackedRemembersNoChangeAndHoldsTheSame) {
  kd::TrackedMap<std::string> tracked({{"b", "1"}, {"d", "2"}});
  kd::TrackedMap<std::string> m({{"b", "1"}, {"d", "2"}});
  m["x"] = "before";  // marked, then forgotten when tracking goes off
  tracked["x"] = "before";
  m.set_tracking(false);
  EXPECT_FALSE(m.changed());
  for (auto* t : {&tracked, &m}) {
    (*t)["a"] = "new";
    t->find("b")->second = "changed";
    t->erase("d");
    t->erase_if([](const auto& kv) { return kv.first == "x"; });
  }
  EXPECT_TRUE(tracked.changed());
  EXPECT_FALSE(m.changed());
  EXPECT_TRUE(changes_of(m).empty());
  EXPECT_TRUE(m == tracked);
  m.set_tracking(true);
  EXPECT_FALSE(m.changed());
  m["b"] = "again";
  std::vector<std::pair<std::string, std::string>> want{{"b", "again"}};
  EXPECT_EQ(changes_of(m), want);
}

// Many keys touched in an order unlike theirs still come out sorted.
TEST(TrackedMap, ManyChangesComeOutSorted) {
  kd::TrackedMap<std::string> m;
  std::vector<std::string> keys;
  for (int i = 0; i < 500; ++i) keys.push_back(std::to_string((i * 7919) % 1000));
  for (const auto& k : keys) m[k] = k;
  auto got = changes_of(m);
  ASSERT_EQ(got.size(), 500u);
  for (std::size_t i = 1; i < got.size(); ++i) EXPECT_LT(got[i - 1].first, got[i].first);
}
