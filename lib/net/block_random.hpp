// The operating system's randomness drawn a block at a time, handed out in order: a getrandom(2)
// per draw was a system call per request a service or kd-term load sends (its transaction
// identity) and per registration kd-term starts. What it hands out goes on the wire in the clear
// (transaction identities, never a role's randomness), so a block kept in memory until used
// reveals nothing.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "core/bytes.hpp"

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
  Bytes draw(std::size_t n) {
    Bytes b(n);
    fill(b);
    return b;
  }

private:
  void refill();  // block_ from the operating system, used_ = 0
  std::array<std::uint8_t, 4096> block_{};
  std::size_t used_ = block_.size();
};

}  // namespace kd::net
