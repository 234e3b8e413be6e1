// A latency histogram in the manner of HdrHistogram: log-linear buckets, so that any recorded value
// is known within a bounded relative error whatever its size, in memory that does not grow with the
// number of values recorded. Pure: values come in, percentiles go out (kd-live(7), LOAD).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace kd::net {

class Histogram {
public:
  // Values below 2^kSubBits are counted exactly; above, each power of two [2^m, 2^(m+1)) is cut into
  // 2^kSubBits equal buckets, so a bucket is at most 2^-kSubBits (1/128, 0.79%) of its lower bound
  // wide. In microseconds: exact to 127 us, within 0.79% above.
  static constexpr unsigned kSubBits = 7;
  // The most buckets a histogram holds (every uint64_t value has one): its memory bound.
  static constexpr std::size_t kMaxBuckets = (64 - kSubBits + 1) << kSubBits;

  void record(std::uint64_t value);
  // Adds other's counts (the histogram of a run is the merge of its intervals').
  void merge(const Histogram& other);
  void reset();

  std::uint64_t count() const noexcept { return count_; }
  std::uint64_t min() const noexcept { return count_ ? min_ : 0; }
  std::uint64_t max() const noexcept { return max_; }
  // The value at percentile p (0 < p <= 100) by nearest rank: the smallest v such that at least p%
  // of the values recorded are <= v, reported as the highest value of v's bucket (never below the
  // true value, above it by at most 2^-kSubBits of it) but never above max(). 0 when empty.
  std::uint64_t percentile(double p) const;
  // Bytes the counters take (at most kMaxBuckets * 8).
  std::size_t bytes() const noexcept { return counts_.capacity() * sizeof(std::uint64_t); }

  // The bucket of a value, and the highest value of a bucket.
  static std::size_t bucket_of(std::uint64_t value) noexcept;
  static std::uint64_t highest_in(std::size_t bucket) noexcept;

private:
  std::vector<std::uint64_t> counts_;  // grown to the highest bucket used
  std::uint64_t count_ = 0, min_ = 0, max_ = 0;
};

}  // namespace kd::net
