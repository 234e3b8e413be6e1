// A capture of live traffic holds datagrams sent again byte for byte: a client's request on its
// timer, a server's answer from its cache, a copy the network made (kd-live(7), TRANSACTIONS).
// kd-decode reports such a copy as a retransmission of its original instead of verifying it again,
// where its nonces would pass for a replay. Pure: the time comes with each datagram.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "core/bytes.hpp"

namespace kd::verify {

// A datagram's identity: its source, destination and bytes under SHA-256, cut to 128 bits. A
// cryptographic digest, because a datagram taken for a copy is not verified: no one must be able
// to make a different one pass for a copy.
struct FrameDigest {
  std::uint64_t lo = 0, hi = 0;
  bool operator==(const FrameDigest&) const = default;
};
// scratch: a buffer the caller reuses (the digest is taken over src, dst and payload at once).
FrameDigest frame_digest(std::string_view src, std::string_view dst, ByteView payload, Bytes& scratch);

// The originals in a ring of kMax, the oldest overwritten first, found by an open-addressing table
// of fixed size (linear probing, at most half full, deletion by backward shift) as core/recent.hpp
// finds its values: no allocation per datagram, and a lookup of a new datagram, the common case,
// reads one slot. Memory: about 4 MB, allocated with the first datagram.
class Retransmissions {
public:
  static constexpr std::size_t kMax = 1 << 16;
  struct Original {
    std::uint64_t frame = 0;
    std::string_view step;  // its step's name (a literal), or empty
  };
  // The original of the datagram d, captured at time_ms, when one was seen no more than its
  // window before (a copy captured before its original, when a capture's clock steps back, too);
  // otherwise the datagram becomes an original, a copy of which within window_ms is a
  // retransmission.
  std::optional<Original> see(const FrameDigest& d, std::uint64_t frame, std::uint64_t time_ms,
                              std::uint64_t window_ms, std::string_view step);
  // Starts loading the slot where a lookup of d begins, so that the miss overlaps other work.
  void prefetch(const FrameDigest& d) const noexcept;

private:
  struct Entry {
    FrameDigest digest;
    Original original;
    std::uint64_t until_ms = 0;
  };
  struct Slot {
    std::uint32_t tag = 0;  // the digest's low 32 bits (a digest is uniform): its home slot
    std::uint32_t at = 0;   // 1 + the entry's place in the ring; 0: the slot is empty
  };
  static constexpr std::size_t kSlots = 2 * kMax;  // a power of two
  static std::uint32_t tag_of(const FrameDigest& d) noexcept { return static_cast<std::uint32_t>(d.lo); }
  static std::size_t home(std::uint32_t tag) noexcept { return tag & (kSlots - 1); }
  std::size_t slot_of(std::uint32_t tag, std::uint32_t at) const noexcept;  // kSlots: none
  void remove(std::size_t slot) noexcept;

  std::unique_ptr<Slot[]> slots_;
  std::vector<Entry> ring_;  // insertion order, kMax at most
  std::size_t next_ = 0;     // the oldest, once the ring is full
};

}  // namespace kd::verify
