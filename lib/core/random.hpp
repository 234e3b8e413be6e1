// Randomness is a callback the protocol core is handed, never a global it reaches for.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "core/bytes.hpp"

namespace kd {

class RandomSource {
public:
  virtual ~RandomSource() = default;
  virtual void fill(std::span<std::uint8_t> out) = 0;
  Bytes draw(std::size_t n) {
    Bytes b(n);
    fill(b);
    return b;
  }
  Secret draw_secret(std::size_t n) {
    Secret s(n);
    fill({s.data(), s.size()});
    return s;
  }
};

}  // namespace kd
