#include "verify/retransmission.hpp"

#include <cstring>

#include "crypto/suite.hpp"

namespace kd::verify {

FrameDigest frame_digest(std::string_view src, std::string_view dst, ByteView payload, Bytes& scratch) {
  // The endpoints end with a byte no endpoint holds, so that no two (src, dst) run together alike.
  scratch.clear();
  scratch.insert(scratch.end(), src.begin(), src.end());
  scratch.push_back(0);
  scratch.insert(scratch.end(), dst.begin(), dst.end());
  scratch.push_back(0);
  scratch.insert(scratch.end(), payload.begin(), payload.end());
  const Bytes h = crypto::hash(crypto::HashId::sha256, scratch);
  FrameDigest d;
  std::memcpy(&d.lo, h.data(), 8);
  std::memcpy(&d.hi, h.data() + 8, 8);
  return d;
}

std::size_t Retransmissions::slot_of(std::uint32_t tag, std::uint32_t at) const noexcept {
  for (std::size_t i = home(tag);; i = (i + 1) & (kSlots - 1)) {
    if (slots_[i].at == 0) return kSlots;
    if (slots_[i].at == at) return i;
  }
}

void Retransmissions::remove(std::size_t i) noexcept {
  // Backward shift: each later slot of the run moves into the hole unless its home lies
  // cyclically after the hole (up to itself), so that every lookup still finds it.
  for (std::size_t j = (i + 1) & (kSlots - 1); slots_[j].at != 0; j = (j + 1) & (kSlots - 1)) {
    const std::size_t h = home(slots_[j].tag);
    const bool stays = i <= j ? (i < h && h <= j) : (i < h || h <= j);
    if (stays) continue;
    slots_[i] = slots_[j];
    i = j;
  }
  slots_[i] = {};
}

void Retransmissions::prefetch(const FrameDigest& d) const noexcept {
  if (slots_) __builtin_prefetch(&slots_[home(tag_of(d))]);
}

std::optional<Retransmissions::Original> Retransmissions::see(const FrameDigest& d, std::uint64_t frame,
                                                              std::uint64_t time_ms, std::uint64_t window_ms,
                                                              std::string_view step) {
  if (!slots_) {
    slots_ = std::make_unique<Slot[]>(kSlots);
    ring_.reserve(kMax);
  }
  const std::uint32_t tag = tag_of(d);
  std::size_t i = home(tag);
  for (; slots_[i].at != 0; i = (i + 1) & (kSlots - 1)) {
    if (slots_[i].tag != tag) continue;
    const Entry& e = ring_[slots_[i].at - 1];
    if (e.digest != d) continue;
    if (time_ms <= e.until_ms) return e.original;
    remove(i);  // too late for a copy: the same bytes replayed, a new original (its old entry stays, unfound)
    break;
  }
  Entry e{d, {frame, step}, time_ms + window_ms < time_ms ? UINT64_MAX : time_ms + window_ms};
  std::uint32_t at = 0;
  if (ring_.size() < kMax) {
    ring_.push_back(e);
    at = static_cast<std::uint32_t>(ring_.size());
  } else {
    at = static_cast<std::uint32_t>(next_ + 1);
    if (const std::size_t old = slot_of(tag_of(ring_[next_].digest), at); old != kSlots) remove(old);
    ring_[next_] = e;
    next_ = (next_ + 1) % kMax;
    // The next entry to forget is known: start loading its slot for the next call.
    __builtin_prefetch(&slots_[home(tag_of(ring_[next_].digest))]);
  }
  for (i = home(tag); slots_[i].at != 0; i = (i + 1) & (kSlots - 1)) {
  }
  slots_[i] = {tag, at};
  return std::nullopt;
}

}  // namespace kd::verify
