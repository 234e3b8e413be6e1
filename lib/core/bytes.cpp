#include "core/bytes.hpp"

#include <cstring>

namespace kd {

void secure_wipe(void* p, std::size_t n) noexcept {
  volatile auto* v = static_cast<volatile unsigned char*>(p);
  while (n--) *v++ = 0;
}

std::string to_hex(ByteView v) {
  std::string s(v.size() * 2, '\0');  // sized once
  to_hex(v, s);
  return s;
}

std::string_view to_hex(ByteView v, std::span<char> out) {
  // Both digits of a byte at once: a service writes a kept request (hundreds of bytes) in hex into
  // its journal at every registration.
  char* o = out.data();
  for (const std::uint8_t b : v) {
    std::memcpy(o, &kHexPairs[2 * std::size_t{b}], 2);
    o += 2;
  }
  return {out.data(), 2 * v.size()};
}

namespace {
// The length of the well-formed UTF-8 sequence at s[i] of two or more bytes, or 0 (RFC 3629:
// no overlong forms, no surrogates, nothing above U+10FFFF).
std::size_t utf8_sequence(std::string_view s, std::size_t i) {
  const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[i + k]); };
  const auto cont = [&](std::size_t k) { return i + k < s.size() && (b(k) & 0xc0) == 0x80; };
  const unsigned char c = b(0);
  if (c >= 0xc2 && c <= 0xdf) return cont(1) ? 2 : 0;
  if (c >= 0xe0 && c <= 0xef) {
    if (!cont(1) || !cont(2)) return 0;
    if (c == 0xe0 && b(1) < 0xa0) return 0;  // overlong
    if (c == 0xed && b(1) >= 0xa0) return 0;  // surrogate
    return 3;
  }
  if (c >= 0xf0 && c <= 0xf4) {
    if (!cont(1) || !cont(2) || !cont(3)) return 0;
    if (c == 0xf0 && b(1) < 0x90) return 0;  // overlong
    if (c == 0xf4 && b(1) >= 0x90) return 0;  // above U+10FFFF
    return 4;
  }
  return 0;
}
}  // namespace

std::string printable(std::string_view s) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(s.size());
  auto hex = [&](const char* prefix, unsigned char c) {
    out += prefix;
    out.push_back(digits[c >> 4]);
    out.push_back(digits[c & 0x0f]);
  };
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c == '\\') out += "\\\\";
    else if (c == '\t') out += "\\t";
    else if (c == '\n') out += "\\n";
    else if (c == '\r') out += "\\r";
    else if (c < 0x20 || c == 0x7f) hex("\\x", c);
    else if (c < 0x80) out.push_back(static_cast<char>(c));
    else if (const std::size_t n = utf8_sequence(s, i); n == 0) hex("\\x", c);
    else if (n == 2 && c == 0xc2 && static_cast<unsigned char>(s[i + 1]) < 0xa0) {
      hex("\\u00", static_cast<unsigned char>(s[i + 1]));  // a C1 control character
      i += 2;
      continue;
    } else {
      out.append(s.substr(i, n));
      i += n;
      continue;
    }
    ++i;
  }
  return out;
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
