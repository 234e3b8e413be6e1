// The KD values of a SIP message: the authentication parameters (RFC 3261 25.1, auth-param) of
// its credentials, challenge or Authentication-Info under the scheme "KD".
#include <memory>

#include "wire/sip_text.hpp"

namespace kd::wire::sip::detail {

using text::iequal;
using text::is_wsp;
using text::lower;
using text::malformed;

namespace {

// The index in kParams of a parameter name (token characters only) in any case, or -1.
int kd_param_index(std::string_view name) {
  static constexpr auto kByLength = [] {  // index + 1 of each name, by length (5 to 9)
    std::array<std::array<std::int8_t, 6>, 10> t{};
    for (std::size_t k = 0; k < kParams.count; ++k) {
      bool placed = false;
      for (auto& slot : t[kParams.names[k].size()])
        if (slot == 0) {
          slot = static_cast<std::int8_t>(k + 1);
          placed = true;
          break;
        }
      if (!placed) throw "more KD parameter names of one length than kByLength holds";
    }
    return t;
  }();
  if (name.size() >= kByLength.size()) return -1;
  for (std::int8_t slot : kByLength[name.size()]) {
    if (slot == 0) break;
    if (token_iequal(name, kParams.names[static_cast<std::size_t>(slot - 1)])) return slot - 1;
  }
  return -1;
}

// auth-param *(COMMA auth-param), values as tokens or quoted strings, into out (cleared first).
Status parse_params(std::string_view s, Params& out) {
  out.clear();
  std::size_t i = 0;
  auto skip_lws = [&] { while (i < s.size() && is_wsp(s[i])) ++i; };
  while (true) {
    skip_lws();
    while (i < s.size() && (s[i] == ',' || is_wsp(s[i]))) ++i;
    if (i >= s.size()) break;
    std::size_t n0 = i;
    while (i < s.size() && token_char(s[i])) ++i;
    if (i == n0) return malformed("bad authentication parameter");
    std::string_view name = s.substr(n0, i - n0);
    skip_lws();
    if (i >= s.size() || s[i] != '=') return malformed("authentication parameter " + lower(name) + " has no value");
    ++i;
    skip_lws();
    std::string_view value;
    if (i < s.size() && s[i] == '"') {
      const std::size_t v0 = ++i;
      const std::size_t stop = quote_or_backslash(s, v0);
      if (stop < s.size() && s[stop] == '"') {  // no escape: the text between the quotes
        value = s.substr(v0, stop - v0);
        i = stop + 1;
      } else {
        std::string& u = out.unescaped.emplace_back();
        bool closed = false;
        while (i < s.size()) {
          char c = s[i++];
          if (c == '"') { closed = true; break; }
          if (c == '\\') {
            if (i >= s.size()) break;
            c = s[i++];
          }
          u += c;
        }
        if (!closed) return malformed("unterminated quoted string in " + lower(name));
        value = u;
      }
    } else {
      std::size_t v0 = i;
      while (i < s.size() && token_char(s[i])) ++i;
      if (i == v0) return malformed("authentication parameter " + lower(name) + " has an empty value");
      value = s.substr(v0, i - v0);
    }
    const int kd = kd_param_index(name);
    bool twice = kd >= 0 && out.at[static_cast<std::size_t>(kd)] >= 0;
    if (kd < 0)  // another party's parameter: compared with the others' (KD names were checked above)
      for (const auto& earlier : out.list) twice = twice || (earlier.kd < 0 && iequal(earlier.name, name));
    if (twice) return malformed("authentication parameter " + lower(name) + " appears twice");
    if (kd >= 0) out.at[static_cast<std::size_t>(kd)] = static_cast<std::int16_t>(out.list.size());  // < 64 KiB / 4
    out.list.push_back({name, value, kd});
    skip_lws();
    if (i < s.size() && s[i] != ',') return malformed("authentication parameters must be separated by commas");
  }
  return Ok{};
}

// The parameters of a "KD ..." challenge or credentials value; nullopt when the scheme is another.
std::optional<std::string_view> kd_scheme_params(std::string_view v) {
  std::size_t sp = 0;
  while (sp < v.size() && token_char(v[sp])) ++sp;
  if (!iequal(v.substr(0, sp), "KD")) return std::nullopt;
  if (sp < v.size() && !is_wsp(v[sp])) return std::nullopt;
  return v.substr(sp);
}

}  // namespace

Result<bool> find_kd(const SipText& t, std::initializer_list<Hdr> names, bool schemeless, Params& out) {
  bool found = false;
  std::unique_ptr<Params> second;  // a candidate after the first one found, parsed to tell whether it is KD's
  for (Hdr n : names) {
    if (t.count(n) == 0) continue;
    for (const auto& h : t.headers) {
      if (h.id != n) continue;
      // Authentication-Info has no scheme (RFC 3261, RFC 7615); a leading "KD" is tolerated.
      std::optional<std::string_view> ps = kd_scheme_params(h.value);
      if (schemeless && !ps) ps = h.value;
      if (!ps) continue;
      if (found && !second) second = std::make_unique<Params>();
      Params& p = found ? *second : out;
      if (auto st = parse_params(*ps, p); !st) {
        // Someone else's Authentication-Info is skipped; one that names kd-flow is ours and broken.
        if (schemeless && ps->find("kd-flow") == std::string_view::npos) continue;
        return st.error();
      }
      if (schemeless && !p.get(kd_param("kd-flow"))) continue;
      if (found) return malformed("more than one KD " + std::string(header_name(n)) + " header");
      found = true;
    }
  }
  if (!found) out.clear();
  return found;
}

}  // namespace kd::wire::sip::detail
