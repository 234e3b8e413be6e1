#include "flow/policy.hpp"

#include <algorithm>

namespace kd::flow {

bool is_forbidden(std::string_view mech) noexcept {
  return mech == "null" || mech == "none" || mech == "digest";
}

namespace {

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  while (true) {
    std::size_t pos = s.find(sep, start);
    out.push_back(s.substr(start, pos == std::string_view::npos ? pos : pos - start));
    if (pos == std::string_view::npos) break;
    start = pos + 1;
  }
  return out;
}

// --mechs reads q as RFC 3261 does (msg::parse_qvalue) and also asks for a digit after a point
// ("0." and "1." are RFC qvalues, not this option's documented form); the messages are the option's.
Result<std::uint16_t> parse_q(std::string_view q) {
  if (q.empty()) return err(Code::malformed, "empty q-value");
  auto v = msg::parse_qvalue(q);
  if (v && q.back() != '.') return *v;
  const bool zero_form = q[0] == '0' && q.size() > 1 && (q[1] != '.' || q.size() < 3 || q.size() > 5);
  return err(Code::malformed, zero_form ? "q-value must be 0 to 1 with at most three decimals" : "q-value must be 0 to 1");
}

}  // namespace

Result<msg::MechList> parse_mech_arg(std::string_view arg) {
  msg::MechList list;
  for (auto item : split(arg, ',')) {
    msg::Mech m;
    auto colon = item.find(':');
    m.name = std::string(item.substr(0, colon));
    if (colon != std::string_view::npos) {
      auto q = parse_q(item.substr(colon + 1));
      if (!q) return q.error();
      m.q = *q;
    }
    list.push_back(std::move(m));
  }
  if (auto st = msg::check_mech_list(list); !st) return st.error();
  return list;
}

Result<std::vector<std::string>> parse_name_list(std::string_view arg) {
  // parse_mech_arg's rules without the q (every mechanism-list option agrees): 1 to 16, none twice.
  msg::MechList list;
  for (auto item : split(arg, ',')) {
    if (auto st = msg::check_mech_name(item); !st) return st.error();
    list.push_back({std::string(item), 1000});
  }
  if (auto st = msg::check_mech_list(list); !st) return st.error();
  std::vector<std::string> out;
  for (auto& m : list) out.push_back(std::move(m.name));
  return out;
}

Result<std::string> choose_mechanism(const msg::MechList& offered, const Policy& p) {
  const msg::Mech* best = nullptr;
  for (const auto& m : offered) {
    if (m.q == 0 || is_forbidden(m.name)) continue;
    if (std::find(p.supported.begin(), p.supported.end(), m.name) == p.supported.end()) continue;
    if (!best || m.q > best->q) best = &m;
  }
  if (!best)
    return err(Code::no_acceptable_mechanism,
               "no mechanism of the terminal's list is supported and allowed here");
  return best->name;
}

}  // namespace kd::flow
