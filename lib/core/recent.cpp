#include "core/recent.hpp"

#include <algorithm>
#include <cstring>

namespace kd {

Recent::Value Recent::value_of(const Bytes& v) noexcept {
  Value k;
  if (!v.empty()) std::memcpy(&k, v.data(), std::min(v.size(), sizeof k));
  return k;
}

std::uint32_t Recent::tag_of(const Value& v) noexcept {
  // Nonces and Rand are random, but a capture may not be: mix all 16 bytes (multiply, keep the
  // high bits), so that values alike in their first bytes do not pile up in one run of slots.
  const std::uint64_t h = (v.lo ^ (v.hi * 0x9e3779b97f4a7c15)) * 0xbf58476d1ce4e5b9;
  return static_cast<std::uint32_t>(h >> 32);
}

void Recent::prefetch(const Bytes& v) const noexcept {
  if (slots_) __builtin_prefetch(&slots_[home(tag_of(value_of(v)))]);
}

void Recent::add(std::uint32_t tag, std::uint32_t at) noexcept {
  std::size_t i = home(tag);
  while (slots_[i].at) i = (i + 1) & (kSlots - 1);  // the table is never full: a run ends
  slots_[i] = {tag, at};
}

void Recent::remove(std::size_t place) noexcept {
  const auto at = static_cast<std::uint32_t>(place + 1);
  std::size_t hole = home(tag_of(ring_[place]));
  while (slots_[hole].at != at) hole = (hole + 1) & (kSlots - 1);  // the value is in the table
  // Backward shift: each later slot of the run whose home is not between the hole and it moves
  // into the hole, so that no lookup stops early at the emptied slot.
  for (std::size_t j = (hole + 1) & (kSlots - 1); slots_[j].at; j = (j + 1) & (kSlots - 1)) {
    const std::size_t from_home = (j - home(slots_[j].tag)) & (kSlots - 1);
    if (from_home >= ((j - hole) & (kSlots - 1))) {
      slots_[hole] = slots_[j];
      hole = j;
    }
  }
  slots_[hole] = Slot{};
}

bool Recent::seen_before(const Bytes& v) {
  const Value k = value_of(v);
  const std::uint32_t tag = tag_of(k);
  if (!slots_) slots_ = std::make_unique<Slot[]>(kSlots);
  for (std::size_t i = home(tag); slots_[i].at; i = (i + 1) & (kSlots - 1))
    if (slots_[i].tag == tag && ring_[slots_[i].at - 1] == k) return true;
  std::size_t place = ring_.size();
  if (place < kMemory) {
    ring_.push_back(k);
  } else {  // forget the oldest
    place = next_;
    remove(place);
    ring_[place] = k;
    next_ = (next_ + 1) % kMemory;
    // The next value to forget is known: start loading its slot for the next call.
    __builtin_prefetch(&slots_[home(tag_of(ring_[next_]))]);
  }
  add(tag, static_cast<std::uint32_t>(place + 1));
  return false;
}

}  // namespace kd
