#include "wire/text.hpp"

#include <array>
#include <utility>

namespace kd::wire::text {

bool all_of(std::string_view s, bool (*pred)(char)) {
  for (char c : s)
    if (!pred(c)) return false;
  return true;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = lower_ascii(c);
  return out;
}

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = upper_ascii(c);
  return out;
}

bool iequal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (lower_ascii(a[i]) != lower_ascii(b[i])) return false;
  return true;
}

std::string quoted(std::string_view s) {
  std::string out;  // appended, not added: GCC 12 -O3 reports a false -Werror=restrict on "x" + y
  out.reserve(s.size() + 2);
  out += '"';
  out += s;
  out += '"';
  return out;
}

Error malformed(std::string detail) { return err(Code::malformed, std::move(detail)); }

namespace {
constexpr std::array<std::int8_t, 256> kLowerHex = [] {
  std::array<std::int8_t, 256> t{};
  for (auto& x : t) x = -1;
  for (int c = '0'; c <= '9'; ++c) t[static_cast<std::size_t>(c)] = static_cast<std::int8_t>(c - '0');
  for (int c = 'a'; c <= 'f'; ++c) t[static_cast<std::size_t>(c)] = static_cast<std::int8_t>(c - 'a' + 10);
  return t;
}();
}  // namespace

Status hex_value(std::string_view name, std::string_view v, Bytes& out) {
  if (v.size() % 2 == 0) {  // one pass for the good case; a bad digit shows as a negative nibble
    out.resize(v.size() / 2);
    int bad = 0;
    for (std::size_t i = 0; i < out.size(); ++i) {
      const int hi = kLowerHex[static_cast<unsigned char>(v[2 * i])];
      const int lo = kLowerHex[static_cast<unsigned char>(v[2 * i + 1])];
      bad |= hi | lo;
      out[i] = static_cast<std::uint8_t>(hi << 4 | lo);
    }
    if (bad >= 0) return Ok{};
  }
  for (char c : v)
    if (kLowerHex[static_cast<unsigned char>(c)] < 0) return malformed(std::string(name) + " must be lowercase hex");
  return malformed(std::string(name) + " has an odd number of hex digits");
}

Result<Bytes> hex_value(std::string_view name, std::string_view v) {
  Bytes out;
  if (auto st = hex_value(name, v, out); !st) return st.error();
  return out;
}

Result<std::uint64_t> uint_value(std::string_view name, std::string_view v) {
  if (v.empty() || !all_of(v, is_digit) || (v.size() > 1 && v[0] == '0'))
    return malformed(std::string(name) + " must be a decimal number without leading zeros");
  if (v.size() > 19) return err(Code::bad_length, std::string(name) + " is out of range");
  std::uint64_t x = 0;
  for (char c : v) x = x * 10 + static_cast<std::uint64_t>(c - '0');
  return x;
}

Status mech_entry(std::string_view e, std::string_view what, bool name_required, msg::Mech& out) {
  std::size_t semi = e.find(';');
  out.name = std::string(trim(e.substr(0, semi)));
  if (name_required && out.name.empty()) return malformed(std::string(what) + " names an empty mechanism");
  bool have_q = false;
  while (semi != std::string_view::npos) {
    e.remove_prefix(semi + 1);
    semi = e.find(';');
    const std::string_view p = trim(e.substr(0, semi));
    const std::size_t eq = p.find('=');
    if (!iequal(trim(p.substr(0, eq)), "q")) continue;
    if (have_q) return malformed(std::string(what) + ": q appears twice for " + out.name);
    auto q = eq == std::string_view::npos ? std::nullopt : msg::parse_qvalue(trim(p.substr(eq + 1)));
    if (!q) return malformed(std::string(what) + ": bad q-value for " + out.name);
    out.q = *q;
    have_q = true;
  }
  return Ok{};
}

std::string mech_list_text(const msg::MechList& l, std::string_view sep) {
  std::string out;
  for (const auto& mech : l) {
    if (!out.empty()) out += sep;
    out += mech.name + ";q=" + msg::qvalue_text(mech.q);
  }
  return out;
}

}  // namespace kd::wire::text
