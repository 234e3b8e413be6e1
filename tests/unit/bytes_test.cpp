#include <gtest/gtest.h>

#include <string>

#include "core/bytes.hpp"

using kd::printable;

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
