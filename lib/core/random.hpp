// Randomness is a callback the protocol core is handed, never a global it reaches for.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "core/bytes.hpp"

namespace kd {

// What a draw is for. A seeded source keeps one independent stream per purpose, so that no draw
// of one purpose can ever equal a draw of another (a Rand, which travels in clear, was once the
// previous session key). The labels are part of the seeded derivation (kd-protocol(7)).
enum class Purpose : std::uint8_t {
  nonce,          // N1, N2
  rand,           // the challenge Rand
  session_key,    // K
  seal_nonce,     // the AEAD nonce of a sealed key
  long_term_key,  // a keystore entity's key
};
inline constexpr std::size_t kPurposeCount = 5;

constexpr std::string_view purpose_label(Purpose p) noexcept {
  switch (p) {
    case Purpose::nonce: return "nonce";
    case Purpose::rand: return "rand";
    case Purpose::session_key: return "session-key";
    case Purpose::seal_nonce: return "seal-nonce";
    case Purpose::long_term_key: return "long-term-key";
  }
  return "";
}

class RandomSource {
public:
  virtual ~RandomSource() = default;
  virtual void fill(Purpose p, std::span<std::uint8_t> out) = 0;
  Bytes draw(Purpose p, std::size_t n) {
    Bytes b(n);
    fill(p, b);
    return b;
  }
  Secret draw_secret(Purpose p, std::size_t n) {
    Secret s(n);
    fill(p, {s.data(), s.size()});
    return s;
  }
};

}  // namespace kd
