#include "core/bytes.hpp"

#include <cstring>

namespace kd {

void secure_wipe(void* p, std::size_t n) noexcept {
  volatile auto* v = static_cast<volatile unsigned char*>(p);
  while (n--) *v++ = 0;
}

std::string to_hex(ByteView v) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string s;
  s.reserve(v.size() * 2);
  for (auto b : v) {
    s.push_back(digits[b >> 4]);
    s.push_back(digits[b & 0x0f]);
  }
  return s;
}

static int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::optional<Bytes> from_hex(std::string_view s) {
  if (s.size() % 2 != 0) return std::nullopt;
  Bytes out(s.size() / 2);
  for (std::size_t i = 0; i < out.size(); ++i) {
    int hi = hex_value(s[2 * i]), lo = hex_value(s[2 * i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out[i] = static_cast<std::uint8_t>((hi << 4) | lo);
  }
  return out;
}

void put_u8(Bytes& out, std::uint8_t v) { out.push_back(v); }
void put_u16(Bytes& out, std::uint16_t v) {
  out.push_back(static_cast<std::uint8_t>(v >> 8));
  out.push_back(static_cast<std::uint8_t>(v));
}
void put_u64(Bytes& out, std::uint64_t v) {
  for (int i = 7; i >= 0; --i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}
void put_bytes(Bytes& out, ByteView v) { out.insert(out.end(), v.begin(), v.end()); }
void put_str(Bytes& out, std::string_view s) { out.insert(out.end(), s.begin(), s.end()); }
void put_lp16(Bytes& out, ByteView v) {
  put_u16(out, static_cast<std::uint16_t>(v.size()));
  put_bytes(out, v);
}
void put_lp16(Bytes& out, std::string_view s) {
  put_u16(out, static_cast<std::uint16_t>(s.size()));
  put_str(out, s);
}

}  // namespace kd
