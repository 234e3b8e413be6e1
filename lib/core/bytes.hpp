// Byte strings, secret buffers that wipe themselves, hex, and big-endian helpers.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace kd {

using Bytes = std::vector<std::uint8_t>;
using ByteView = std::span<const std::uint8_t>;

// Overwrites memory in a way the optimiser may not remove.
void secure_wipe(void* p, std::size_t n) noexcept;

// A byte buffer for keys: wiped when destroyed or reassigned, never printed by accident
// (no implicit conversion to anything printable).
class Secret {
public:
  Secret() = default;
  explicit Secret(ByteView v) : b_(v.begin(), v.end()) {}
  explicit Secret(std::size_t n) : b_(n, 0) {}
  Secret(const Secret& o) : b_(o.b_) {}
  Secret(Secret&& o) noexcept : b_(std::move(o.b_)) { o.b_.clear(); }
  Secret& operator=(const Secret& o) {
    if (this != &o) { wipe(); b_ = o.b_; }
    return *this;
  }
  Secret& operator=(Secret&& o) noexcept {
    if (this != &o) { wipe(); b_ = std::move(o.b_); o.b_.clear(); }
    return *this;
  }
  ~Secret() { wipe(); }

  std::uint8_t* data() noexcept { return b_.data(); }
  const std::uint8_t* data() const noexcept { return b_.data(); }
  std::size_t size() const noexcept { return b_.size(); }
  bool empty() const noexcept { return b_.empty(); }
  ByteView view() const noexcept { return {b_.data(), b_.size()}; }

private:
  void wipe() noexcept {
    if (!b_.empty()) secure_wipe(b_.data(), b_.size());
    b_.clear();
  }
  Bytes b_;
};

// Each byte's two lowercase hex digits, side by side: to_hex's table, and the JSON writers'.
inline constexpr std::array<char, 512> kHexPairs = [] {
  constexpr char digits[] = "0123456789abcdef";
  std::array<char, 512> t{};
  for (std::size_t b = 0; b < 256; ++b) {
    t[2 * b] = digits[b >> 4];
    t[2 * b + 1] = digits[b & 0x0f];
  }
  return t;
}();

std::string to_hex(ByteView v);
// The same into out, which holds at least 2 * v.size() chars: a lookup by a hex key (a nonce's, a
// Rand's) then builds no std::string.
std::string_view to_hex(ByteView v, std::span<char> out);
// Lowercase or uppercase hex, even length; nullopt on anything else.
std::optional<Bytes> from_hex(std::string_view s);

inline Bytes to_bytes(std::string_view s) { return Bytes(s.begin(), s.end()); }

// Text that did not come from kd (a step name, an identity, a detail quoting input), made safe for
// a terminal or a log line: a backslash becomes \\, TAB, LF and CR become \t, \n and \r, any
// other C0 or C1 control character, DEL and every byte that is not part of well-formed UTF-8
// become \xHH (C1 characters encoded in UTF-8 as \u00HH). Printable ASCII and well-formed UTF-8
// pass unchanged.
std::string printable(std::string_view s);

// Appends for canonical encodings (all integers big-endian).
void put_u8(Bytes& out, std::uint8_t v);
void put_u16(Bytes& out, std::uint16_t v);
void put_u64(Bytes& out, std::uint64_t v);
void put_bytes(Bytes& out, ByteView v);
void put_str(Bytes& out, std::string_view s);
// u16 length prefix then the bytes; the caller guarantees size < 65536.
void put_lp16(Bytes& out, ByteView v);
void put_lp16(Bytes& out, std::string_view s);

}  // namespace kd
