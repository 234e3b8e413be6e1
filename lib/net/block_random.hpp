// The operating system's randomness drawn a block at a time, handed out in order, for what a live
// service or kd-term load puts on the wire in the clear (transaction identities, never a role's
// randomness): a getrandom(2) per draw was a system call per request sent (kd-live(7),
// TRANSACTIONS). A block kept in memory until used reveals nothing the wire does not show.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace kd::net {

class BlockRandom {
public:
  void fill(std::span<std::uint8_t> out) {
    while (!out.empty()) {
      if (used_ == block_.size()) refill();
      const std::size_t n = std::min(out.size(), block_.size() - used_);
      std::copy_n(block_.begin() + static_cast<std::ptrdiff_t>(used_), n, out.begin());
      used_ += n;
      out = out.subspan(n);
    }
  }

private:
  void refill();  // the next block, from the system (crypto::OsRandom)
  std::array<std::uint8_t, 4096> block_{};
  std::size_t used_ = block_.size();
};

}  // namespace kd::net
