// What the text bindings (SIP, MGCP, H.248 text) share: ASCII character classes and case-blind
// comparison, and the value forms the field tables name (lowercase hex, decimal, RFC 3329 q-values
// and mechanism entries). Each binding's own grammar stays in its file; hosts are in wire/host.hpp.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/bytes.hpp"
#include "core/error.hpp"
#include "msg/message.hpp"

namespace kd::wire::text {

constexpr bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
constexpr bool is_digit(char c) { return c >= '0' && c <= '9'; }
constexpr bool is_alnum(char c) { return is_alpha(c) || is_digit(c); }
constexpr bool is_hexdig(char c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
constexpr bool is_wsp(char c) { return c == ' ' || c == '\t'; }
constexpr char lower_ascii(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }
constexpr char upper_ascii(char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c; }

bool all_of(std::string_view s, bool (*pred)(char));
std::string lower(std::string_view s);
std::string upper(std::string_view s);
// ASCII letters compared without case; every other byte exactly (the text protocols' names).
bool iequal(std::string_view a, std::string_view b);
// s without white space or line ends (SP, HTAB, CR, LF) at either end.
[[gnu::always_inline]] inline std::string_view trim(std::string_view s) {
  std::size_t b = 0, e = s.size();
  auto trimmed = [](char c) { return is_wsp(c) || c == '\r' || c == '\n'; };
  while (b < e && trimmed(s[b])) ++b;
  while (e > b && trimmed(s[e - 1])) --e;
  return s.substr(b, e - b);
}
std::string quoted(std::string_view s);

Error malformed(std::string detail);

// The value forms (wire/fields.hpp, Form), read strictly; name is the protocol element, for the error.
// Lowercase hex into out, its buffer reused (the SIP decoder's hot path).
Status hex_value(std::string_view name, std::string_view v, Bytes& out);
Result<Bytes> hex_value(std::string_view name, std::string_view v);
// A decimal number without leading zeros, up to 19 digits.
Result<std::uint64_t> uint_value(std::string_view name, std::string_view v);

// One RFC 3329 entry, "name *(;param)", into out: the trimmed name, q from its q parameter (others
// are ignored; no q is 1). With name_required an empty name is refused here, else left to
// msg::validate(). what names the element in errors ("Security-Client", "X-KDMLST").
Status mech_entry(std::string_view e, std::string_view what, bool name_required, msg::Mech& out);
// The entries "name;q=x" of l joined by sep.
std::string mech_list_text(const msg::MechList& l, std::string_view sep);

}  // namespace kd::wire::text
