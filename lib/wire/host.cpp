#include "wire/host.hpp"

#include "wire/text.hpp"

namespace kd::wire {

using text::all_of;
using text::is_alnum;
using text::is_alpha;
using text::is_digit;
using text::is_hexdig;

namespace {

bool is_ipv4(std::string_view s) {
  int parts = 0;
  while (true) {
    std::size_t dot = s.find('.');
    std::string_view p = s.substr(0, dot);
    if (p.empty() || p.size() > 3 || !all_of(p, is_digit)) return false;
    int v = 0;
    for (char c : p) v = v * 10 + (c - '0');
    if (v > 255) return false;
    ++parts;
    if (dot == std::string_view::npos) break;
    s.remove_prefix(dot + 1);
  }
  return parts == 4;
}

// Counts the 16-bit groups of a colon-separated run ("" counts none); -1 when a group is bad.
int ipv6_groups(std::string_view s, bool may_end_in_v4) {
  if (s.empty()) return 0;
  int n = 0;
  while (true) {
    std::size_t colon = s.find(':');
    std::string_view g = s.substr(0, colon);
    if (colon == std::string_view::npos && may_end_in_v4 && g.find('.') != std::string_view::npos)
      return is_ipv4(g) ? n + 2 : -1;
    if (g.empty() || g.size() > 4 || !all_of(g, is_hexdig)) return -1;
    ++n;
    if (colon == std::string_view::npos) return n;
    s.remove_prefix(colon + 1);
  }
}

bool is_hostname(std::string_view s) {
  if (s.empty() || s.size() > 255) return false;
  std::string_view last;
  while (true) {
    std::size_t dot = s.find('.');
    std::string_view label = s.substr(0, dot);
    if (label.empty() || label.size() > 63) return false;
    for (char c : label)
      if (!is_alnum(c) && c != '-') return false;
    if (label.front() == '-' || label.back() == '-') return false;
    last = label;
    if (dot == std::string_view::npos) break;
    s.remove_prefix(dot + 1);
  }
  return is_alpha(last.front());
}

bool is_host(std::string_view s) {
  if (s.size() > 2 && s.front() == '[' && s.back() == ']') return is_ipv6(s.substr(1, s.size() - 2));
  return is_hostname(s) || is_ipv4(s);
}

bool is_port(std::string_view s) {
  if (s.empty() || s.size() > 5 || !all_of(s, is_digit)) return false;
  unsigned v = 0;
  for (char c : s) v = v * 10 + static_cast<unsigned>(c - '0');
  return v <= 65535;
}

}  // namespace

bool is_ipv6(std::string_view s) {
  std::size_t dc = s.find("::");
  if (dc == std::string_view::npos) return ipv6_groups(s, true) == 8;
  if (s.find("::", dc + 1) != std::string_view::npos) return false;
  std::string_view left = s.substr(0, dc), right = s.substr(dc + 2);
  int l = ipv6_groups(left, false), r = ipv6_groups(right, true);
  return l >= 0 && r >= 0 && l + r <= 7;
}

bool is_hostport(std::string_view s) {
  std::size_t colon;
  if (!s.empty() && s.front() == '[') {
    std::size_t close = s.find(']');
    if (close == std::string_view::npos) return false;
    colon = close + 1 < s.size() ? close + 1 : std::string_view::npos;
    if (colon != std::string_view::npos && s[colon] != ':') return false;
  } else {
    colon = s.find(':');
    if (colon != std::string_view::npos && s.find(':', colon + 1) != std::string_view::npos) return false;
  }
  if (colon == std::string_view::npos) return is_host(s);
  return is_host(s.substr(0, colon)) && is_port(s.substr(colon + 1));
}

std::string host_for(std::string_view id) {
  if (is_host(id)) return std::string(id);
  std::size_t at = id.rfind('@');
  if (at != std::string_view::npos && is_host(id.substr(at + 1))) return std::string(id.substr(at + 1));
  return "invalid";
}

}  // namespace kd::wire
