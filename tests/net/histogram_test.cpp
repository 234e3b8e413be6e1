// The load report's latency histogram (lib/net/histogram): percentiles by nearest rank on data
// whose answer is worked out by hand, the relative error bound, merging, and memory that does not
// grow with the number of values.
#include "net/histogram.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <random>

namespace kd::net {
namespace {

TEST(Histogram, EmptyReportsZero) {
  Histogram h;
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.percentile(50), 0u);
  EXPECT_EQ(h.max(), 0u);
  EXPECT_EQ(h.min(), 0u);
}

// Below 128 every value has a bucket of its own: percentiles are exact.
TEST(Histogram, ExactBelow128) {
  Histogram h;
  for (std::uint64_t v = 100; v >= 1; --v) h.record(v);  // order does not matter
  EXPECT_EQ(h.count(), 100u);
  EXPECT_EQ(h.min(), 1u);
  EXPECT_EQ(h.max(), 100u);
  EXPECT_EQ(h.percentile(50), 50u);    // rank 50 of 100
  EXPECT_EQ(h.percentile(90), 90u);
  EXPECT_EQ(h.percentile(99), 99u);
  EXPECT_EQ(h.percentile(99.9), 100u);  // rank ceil(99.9) = 100
  EXPECT_EQ(h.percentile(100), 100u);
  EXPECT_EQ(h.percentile(0.5), 1u);     // rank at least 1
}

TEST(Histogram, NearestRankOnKnownData) {
  // 1..1000: p50 is the 500th value, 500, in the bucket [500, 501] (500 = 2^8 + 244: buckets of
  // width 2 from 256 to 511); p99.9 is the 999th, 999, in [996, 999] (width 4 from 512).
  Histogram h;
  for (std::uint64_t v = 1; v <= 1000; ++v) h.record(v);
  EXPECT_EQ(h.percentile(50), 501u);
  EXPECT_EQ(h.percentile(99.9), 999u);
  EXPECT_EQ(h.percentile(100), 1000u);  // [1000, 1003], capped by the maximum
  // A tail: 990 values of 100 and 10 of 50000. p99 is rank 990 (100), p99.9 rank 999 (50000; its
  // bucket [49920, 50175] is capped by the maximum).
  Histogram t;
  for (int i = 0; i < 990; ++i) t.record(100);
  for (int i = 0; i < 10; ++i) t.record(50'000);
  EXPECT_EQ(t.percentile(50), 100u);
  EXPECT_EQ(t.percentile(99), 100u);
  EXPECT_EQ(t.percentile(99.1), 50'000u);
  EXPECT_EQ(t.percentile(99.9), 50'000u);
  EXPECT_EQ(t.max(), 50'000u);
}

// Every value lies in its bucket, and the bucket's highest value is above it by at most 1/128 of it.
TEST(Histogram, RelativeErrorIsBounded) {
  std::mt19937_64 rng(12);
  auto check = [](std::uint64_t v) {
    const std::uint64_t hi = Histogram::highest_in(Histogram::bucket_of(v));
    ASSERT_GE(hi, v) << v;
    ASSERT_LE(hi - v, v >> Histogram::kSubBits) << v;
    ASSERT_LT(Histogram::bucket_of(v), Histogram::kMaxBuckets) << v;
  };
  for (int i = 0; i < 200'000; ++i) {
    const std::uint64_t v = rng() >> (rng() % 64);
    check(v);
  }
  for (std::uint64_t v = 0; v < 5000; ++v) check(v);
  check(std::numeric_limits<std::uint64_t>::max());
  EXPECT_EQ(Histogram::highest_in(Histogram::kMaxBuckets - 1), std::numeric_limits<std::uint64_t>::max());
  // Buckets are ordered as values are: a larger value never has a smaller bucket.
  std::size_t last = 0;
  for (std::uint64_t v = 0; v < 100'000; v += 7) {
    ASSERT_GE(Histogram::bucket_of(v), last);
    last = Histogram::bucket_of(v);
  }
}

TEST(Histogram, MergeEqualsRecordingBoth) {
  Histogram a, b, both;
  std::mt19937_64 rng(3);
  for (int i = 0; i < 5000; ++i) {
    const std::uint64_t v = rng() % 2'000'000;
    (i % 3 ? a : b).record(v);
    both.record(v);
  }
  Histogram merged;
  merged.merge(a);
  merged.merge(b);
  merged.merge(Histogram{});  // an empty interval changes nothing
  EXPECT_EQ(merged.count(), both.count());
  EXPECT_EQ(merged.min(), both.min());
  EXPECT_EQ(merged.max(), both.max());
  for (double p : {1.0, 50.0, 90.0, 99.0, 99.9, 100.0}) EXPECT_EQ(merged.percentile(p), both.percentile(p)) << p;
  merged.reset();
  EXPECT_EQ(merged.count(), 0u);
  EXPECT_EQ(merged.percentile(50), 0u);
}

TEST(Histogram, MemoryDoesNotGrowWithCount) {
  Histogram few, many;
  few.record(1'000'000);
  for (std::uint64_t i = 0; i < 2'000'000; ++i) many.record(i % 1'000'001);
  EXPECT_EQ(many.count(), 2'000'000u);
  EXPECT_EQ(many.bytes(), few.bytes());  // the same highest bucket: the same counters
  Histogram huge;
  huge.record(std::numeric_limits<std::uint64_t>::max());
  EXPECT_LE(huge.bytes(), Histogram::kMaxBuckets * sizeof(std::uint64_t));
  EXPECT_LE(Histogram::kMaxBuckets * sizeof(std::uint64_t), 64u * 1024u);
}

}  // namespace
}  // namespace kd::net
