// A set of the most recent values, of fixed size: kd-decode's Verifier keeps its nonces in one and
// its Rand in another, to see a value used twice without growing with the capture.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "core/bytes.hpp"

namespace kd {

// The last kMemory values, forgetting the oldest: memory stays flat. The values sit in a ring in
// insertion order; an open-addressing table of fixed size (linear probing, at most half full,
// deletion by backward shift) finds them by hash. A slot holds 8 bytes, not the value: its hash's
// upper half and its place in the ring, so that the table is half the size and a lookup of a fresh
// value, the common case, reads the ring only when the hashes agree. No rehash, no allocation per
// value.
class Recent {
public:
  static constexpr std::size_t kMemory = 1 << 17;
  // True when v was remembered already; remembers it otherwise. Values are taken as 16 bytes
  // (nonces and Rand are 16 bytes, kd-protocol(7)): cut to 16, or padded with zeros.
  bool seen_before(const Bytes& v);
  // Starts loading the slot where a lookup of v begins, so that the miss overlaps other work.
  void prefetch(const Bytes& v) const noexcept;

private:
  struct Value {
    std::uint64_t lo = 0, hi = 0;
    bool operator==(const Value&) const = default;
  };
  struct Slot {
    std::uint32_t tag = 0;  // the upper half of the value's hash; its low bits are the home slot
    std::uint32_t at = 0;   // 1 + the value's place in the ring; 0: the slot is empty
  };
  static constexpr std::size_t kSlots = 2 * kMemory;  // a power of two
  static Value value_of(const Bytes& v) noexcept;
  static std::uint32_t tag_of(const Value& v) noexcept;
  static std::size_t home(std::uint32_t tag) noexcept { return tag & (kSlots - 1); }
  void add(std::uint32_t tag, std::uint32_t at) noexcept;
  void remove(std::size_t place) noexcept;  // forgets ring_[place]

  std::unique_ptr<Slot[]> slots_;  // kSlots, allocated with the first value
  std::vector<Value> ring_;        // insertion order, kMemory at most
  std::size_t next_ = 0;           // the oldest, once the ring is full
};

}  // namespace kd
