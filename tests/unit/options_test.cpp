// The --id pattern of kd-auc keys --count and kd-term load (lib/cli/options): ids made one at a
// time, and the first id that is not an identity found without making them all.
#include "cli/options.hpp"

#include <gtest/gtest.h>

#include <string>

#include "cli/tools.hpp"

namespace kd::cli {
namespace {

std::string refusal(const std::string& pattern, std::uint64_t count) {
  try {
    IdPattern p(pattern, count);
  } catch (const UsageError& e) {
    return e.lines.empty() ? std::string() : e.lines.front();
  }
  return "accepted";
}

TEST(IdPattern, MakesIds) {
  const IdPattern p("user%d", 3);
  EXPECT_EQ(p.count(), 3u);
  EXPECT_EQ(p.at(0), "user0");
  EXPECT_EQ(p.at(2), "user2");
  EXPECT_EQ(p.at(123456), "user123456");
  EXPECT_EQ(IdPattern("%d.lab", 1).at(7), "7.lab");
  EXPECT_EQ(IdPattern("p-%d-x", 1).at(10), "p-10-x");
}

TEST(IdPattern, RefusesBadPatterns) {
  EXPECT_NE(refusal("user", 2).find("%d exactly once"), std::string::npos);
  EXPECT_NE(refusal("u%dx%d", 2).find("%d exactly once"), std::string::npos);
  EXPECT_NE(refusal("user%%d", 2).find("%d exactly once"), std::string::npos);
  EXPECT_NE(refusal("user%s", 2).find("a % must begin %d or %% (character 5)"), std::string::npos);
  EXPECT_NE(refusal("user%d%", 2).find("a % must begin"), std::string::npos);
  EXPECT_EQ(refusal("a%%b%d", 2), "--id (as a%b0) may hold only letters, digits and ._@+-");
}

// 61 characters and a number: user0..user999 have at most 64, the 1001st (1000) has 65. The check
// names the first id that fails, as checking every id in order would, for counts far beyond it.
TEST(IdPattern, NamesTheFirstIdTooLong) {
  const std::string x(61, 'x');
  EXPECT_EQ(refusal(x + "%d", 1000), "accepted");
  EXPECT_EQ(refusal(x + "%d", 1001), "--id (as " + x + "1000) must be 1 to 64 characters");
  EXPECT_EQ(refusal(x + "%d", 1'000'000), "--id (as " + x + "1000) must be 1 to 64 characters");
  const std::string y(63, 'y');
  EXPECT_EQ(refusal(y + "%d", 10), "accepted");
  EXPECT_EQ(refusal(y + "%d", 11), "--id (as " + y + "10) must be 1 to 64 characters");
}

}  // namespace
}  // namespace kd::cli
