#include "net/histogram.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>

namespace kd::net {

namespace {
constexpr std::uint64_t kSub = std::uint64_t{1} << Histogram::kSubBits;

// Grows v to hold bucket b, to the end of b's power of two and no further (vector's own growth
// would double it), so the memory a histogram takes depends only on the largest value recorded.
void grow(std::vector<std::uint64_t>& v, std::size_t b) {
  if (b < v.size()) return;
  const std::size_t size = (b / kSub + 1) * kSub;
  std::vector<std::uint64_t> bigger;
  bigger.reserve(size);
  bigger.assign(v.begin(), v.end());
  bigger.resize(size);
  v.swap(bigger);
}
}  // namespace

std::size_t Histogram::bucket_of(std::uint64_t value) noexcept {
  if (value < kSub) return static_cast<std::size_t>(value);
  const unsigned magnitude = static_cast<unsigned>(std::bit_width(value)) - 1;  // >= kSubBits
  const unsigned shift = magnitude - kSubBits;
  const std::uint64_t top = value >> shift;  // in [kSub, 2 * kSub)
  return static_cast<std::size_t>((std::uint64_t{shift} + 1) * kSub + (top - kSub));
}

std::uint64_t Histogram::highest_in(std::size_t bucket) noexcept {
  if (bucket < kSub) return bucket;
  const std::uint64_t shift = bucket / kSub - 1;
  const std::uint64_t top = kSub + bucket % kSub;
  const std::uint64_t low = top << shift;
  const std::uint64_t width = std::uint64_t{1} << shift;
  return low + (width - 1);  // the last bucket ends at 2^64 - 1 exactly
}

void Histogram::record(std::uint64_t value) {
  const std::size_t b = bucket_of(value);
  grow(counts_, b);
  ++counts_[b];
  min_ = count_ ? std::min(min_, value) : value;
  max_ = std::max(max_, value);
  ++count_;
}

void Histogram::merge(const Histogram& other) {
  if (!other.count_) return;
  if (!other.counts_.empty()) grow(counts_, other.counts_.size() - 1);
  for (std::size_t i = 0; i < other.counts_.size(); ++i) counts_[i] += other.counts_[i];
  min_ = count_ ? std::min(min_, other.min_) : other.min_;
  max_ = std::max(max_, other.max_);
  count_ += other.count_;
}

void Histogram::reset() {
  std::fill(counts_.begin(), counts_.end(), 0);
  count_ = min_ = max_ = 0;
}

std::uint64_t Histogram::percentile(double p) const {
  if (!count_) return 0;
  p = std::clamp(p, 0.0, 100.0);
  // Nearest rank: ceil(p/100 * count), at least 1. The small slack absorbs the error of p/100 in
  // binary (99.9% of 1000 is 999, not 999.0000000001).
  const double exact = p / 100.0 * static_cast<double>(count_);
  auto rank = static_cast<std::uint64_t>(std::ceil(exact - 1e-9));
  rank = std::clamp<std::uint64_t>(rank, 1, count_);
  std::uint64_t seen = 0;
  for (std::size_t b = 0; b < counts_.size(); ++b) {
    seen += counts_[b];
    if (seen >= rank) return std::min(highest_in(b), max_);
  }
  return max_;
}

}  // namespace kd::net
