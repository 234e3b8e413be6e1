#include "msg/message.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>

#include "msg/suite.hpp"

namespace kd::msg {

std::string_view flow_name(Flow f) noexcept { return f == Flow::proxied ? "proxied" : "direct"; }

std::string_view role_name(Role r) noexcept {
  switch (r) {
    case Role::term: return "term";
    case Role::proxy: return "proxy";
    case Role::sw: return "switch";
    case Role::auc: return "auc";
  }
  return "?";
}

std::string_view documentation_address(Role r, bool v6) noexcept {
  switch (r) {
    case Role::term: return v6 ? "2001:db8::10" : "192.0.2.10";
    case Role::proxy: return v6 ? "2001:db8::20" : "192.0.2.20";
    case Role::sw: return v6 ? "2001:db8::30" : "192.0.2.30";
    case Role::auc: return v6 ? "2001:db8::40" : "192.0.2.40";
  }
  return {};
}

std::optional<Flow> parse_flow(std::string_view s) noexcept {
  if (s == "proxied") return Flow::proxied;
  if (s == "direct") return Flow::direct;
  return std::nullopt;
}

std::optional<Role> parse_role(std::string_view s) noexcept {
  for (Role r : {Role::term, Role::proxy, Role::sw, Role::auc})
    if (role_name(r) == s) return r;
  return std::nullopt;
}

namespace {
constexpr std::array<std::string_view, kFieldCount> kFieldNames{
    "suite", "IDc", "IDsp", "IDss", "N1", "N2", "TS1", "TS2", "TS3", "TS4",
    "Rand", "Authenticator_c", "EKc", "EKsp", "EKss", "SecMechReq", "SecMechList", "SecMech",
    "IPc", "MAC"};
}

std::string_view field_name(Field f) noexcept { return kFieldNames[static_cast<int>(f) - 1]; }

std::optional<Field> parse_field(std::string_view s) noexcept {
  for (int i = 0; i < kFieldCount; ++i)
    if (kFieldNames[i] == s) return static_cast<Field>(i + 1);
  return std::nullopt;
}

namespace {
using F = Field;
constexpr F p1[] = {F::suite, F::IDc, F::IDsp, F::N1, F::TS1, F::IPc};
constexpr F p2[] = {F::suite, F::IDc, F::IDsp, F::IPc};
constexpr F p3[] = {F::suite, F::IDc, F::IDsp};
constexpr F p4[] = {F::suite, F::IDc, F::IDsp, F::Rand, F::Authenticator_c, F::EKc, F::EKsp};
constexpr F p5[] = {F::suite, F::IDc, F::IDsp, F::Rand};
constexpr F p6[] = {F::suite, F::IDc, F::IDsp, F::N1, F::N2, F::TS2, F::Rand, F::SecMechReq};
constexpr F p7[] = {F::suite, F::IDc, F::IDsp, F::N1, F::N2, F::TS3, F::Rand,
                    F::Authenticator_c, F::SecMechList, F::IPc};
constexpr F p8[] = {F::suite, F::IDc, F::IDsp, F::Rand, F::Authenticator_c, F::IPc};
constexpr F p9[] = {F::suite, F::IDc, F::IDsp, F::EKc, F::EKsp};
constexpr F p10[] = {F::suite, F::IDc, F::IDsp, F::N1, F::N2, F::TS4,
                     F::EKc, F::SecMechList, F::SecMech, F::MAC};
constexpr F p11[] = {F::suite, F::IDc, F::IDsp, F::Rand, F::IPc};
constexpr F d1[] = {F::suite, F::IDc, F::IDss, F::N1, F::TS1, F::IPc};
constexpr F d2[] = {F::suite, F::IDc, F::IDss};
constexpr F d3[] = {F::suite, F::IDc, F::IDss, F::Rand, F::Authenticator_c, F::EKc, F::EKss};
constexpr F d4[] = {F::suite, F::IDc, F::IDss, F::N1, F::N2, F::TS2, F::Rand, F::SecMechReq};
constexpr F d5[] = {F::suite, F::IDc, F::IDss, F::N1, F::N2, F::TS3, F::Rand,
                    F::Authenticator_c, F::SecMechList, F::IPc};
constexpr F d6[] = {F::suite, F::IDc, F::IDss, F::N1, F::N2, F::TS4,
                    F::EKc, F::SecMechList, F::SecMech, F::MAC};
constexpr F d7[] = {F::suite, F::IDc, F::IDss, F::Rand, F::IPc};

using R = Role;
constexpr auto P = Flow::proxied;
constexpr auto D = Flow::direct;
const StepSpec kSteps[] = {
    {P, 1, "s1", R::term, R::proxy, p1},   {P, 2, "s2", R::proxy, R::sw, p2},
    {P, 3, "s3", R::sw, R::auc, p3},       {P, 4, "s4", R::auc, R::sw, p4},
    {P, 5, "s5", R::sw, R::proxy, p5},     {P, 6, "s6", R::proxy, R::term, p6},
    {P, 7, "s7", R::term, R::proxy, p7},   {P, 8, "s8", R::proxy, R::sw, p8},
    {P, 9, "s9", R::sw, R::proxy, p9},     {P, 10, "s10", R::proxy, R::term, p10},
    {P, 11, "s11", R::sw, R::auc, p11},
    {D, 1, "d1", R::term, R::sw, d1},      {D, 2, "d2", R::sw, R::auc, d2},
    {D, 3, "d3", R::auc, R::sw, d3},       {D, 4, "d4", R::sw, R::term, d4},
    {D, 5, "d5", R::term, R::sw, d5},      {D, 6, "d6", R::sw, R::term, d6},
    {D, 7, "d7", R::sw, R::auc, d7},
};
}  // namespace

std::span<const StepSpec> all_steps() noexcept { return kSteps; }

const StepSpec* find_step(Flow flow, std::uint8_t step) noexcept {
  for (const auto& s : kSteps)
    if (s.flow == flow && s.step == step) return &s;
  return nullptr;
}

const StepSpec* find_step(std::string_view name) noexcept {
  for (const auto& s : kSteps)
    if (s.name == name) return &s;
  return nullptr;
}

const StepSpec& spec_of(const Message& m) { return *find_step(m.flow, m.step); }

const StepSpec* previous_step(const StepSpec& s) noexcept {
  std::uint8_t prev = 0;
  if (s.flow == Flow::proxied) {
    switch (s.step) {
      case 2: prev = 1; break;
      case 5: prev = 2; break;
      case 6: prev = 5; break;
      case 8: prev = 7; break;
      case 9: prev = 8; break;
      case 10: prev = 9; break;
      default: return nullptr;
    }
  } else {
    switch (s.step) {
      case 4: prev = 1; break;
      case 6: prev = 5; break;
      default: return nullptr;
    }
  }
  return find_step(s.flow, prev);
}

namespace {

// validate() runs on every message kd-decode reads, so each check first asks a yes/no question
// without building a Status, and builds the error only for a message that fails it.

constexpr std::array<bool, 256> char_table(bool (*pred)(char)) {
  std::array<bool, 256> t{};
  for (int c = 0; c < 256; ++c) t[static_cast<std::size_t>(c)] = pred(static_cast<char>(c));
  return t;
}

constexpr auto kIdChars = char_table([](char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '@' || c == '+' || c == '-';
});
constexpr auto kMechChars = char_table([](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'; });
constexpr auto kIpChars = char_table([](char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == '.' || c == ':' ||
         c == '[' || c == ']';
});

bool all_in(const std::array<bool, 256>& table, std::string_view s) {
  bool ok = true;
  for (char c : s) ok &= table[static_cast<unsigned char>(c)];
  return ok;
}

bool identity_ok(std::string_view id) { return !id.empty() && id.size() <= kMaxIdLen && all_in(kIdChars, id); }
bool mech_name_ok(std::string_view n) { return !n.empty() && n.size() <= kMaxMechName && all_in(kMechChars, n); }
bool ip_ok(std::string_view ip) { return !ip.empty() && ip.size() <= kMaxIpLen && all_in(kIpChars, ip); }

bool mech_list_ok(const MechList& list) {
  if (list.empty() || list.size() > kMaxMechs) return false;
  for (std::size_t i = 0; i < list.size(); ++i) {
    if (!mech_name_ok(list[i].name) || list[i].q > 1000) return false;
    for (std::size_t j = 0; j < i; ++j)  // at most 16 names: comparing pairs beats building a set
      if (list[j].name == list[i].name) return false;
  }
  return true;
}

Status length_is(Field f, const Bytes& b, std::size_t want) {
  if (b.size() != want)
    return err(Code::bad_length, std::string(field_name(f)) + " is " + std::to_string(b.size()) +
                                     " bytes, expected " + std::to_string(want));
  return Ok{};
}

}  // namespace

Status check_identity(std::string_view what, std::string_view id) {
  if (identity_ok(id)) return Ok{};
  if (id.empty() || id.size() > kMaxIdLen)
    return err(Code::bad_length, std::string(what) + " must be 1 to 64 characters");
  return err(Code::malformed, std::string(what) + " may hold only letters, digits and ._@+-");
}

Status check_mech_name(std::string_view name) {
  if (mech_name_ok(name)) return Ok{};
  if (name.empty() || name.size() > kMaxMechName)
    return err(Code::bad_length, "a mechanism name must be 1 to 32 characters");
  return err(Code::malformed, "a mechanism name may hold only a-z, 0-9 and -");
}

Status check_ip(std::string_view ip) {
  if (ip_ok(ip)) return Ok{};
  if (ip.empty() || ip.size() > kMaxIpLen) return err(Code::bad_length, "IPc must be 1 to 64 characters");
  return err(Code::malformed, "IPc must be an IPv4 or IPv6 address, optionally with a port");
}

Status check_mech_list(const MechList& list) {
  if (mech_list_ok(list)) return Ok{};
  if (list.empty() || list.size() > kMaxMechs)
    return err(Code::bad_length, "SecMechList must hold 1 to 16 mechanisms");
  for (std::size_t i = 0; i < list.size(); ++i) {  // the first fault, in list order
    const Mech& m = list[i];
    if (auto s = check_mech_name(m.name); !s) return s;
    if (m.q > 1000) return err(Code::bad_length, "a mechanism's q must be 0 to 1000");
    for (std::size_t j = 0; j < i; ++j)
      if (list[j].name == m.name) return err(Code::malformed, "SecMechList names " + m.name + " twice");
  }
  return Ok{};
}

Status validate(const Message& m, Sizes sizes) {
  const StepSpec* spec = find_step(m.flow, m.step);
  if (!spec) return err(Code::unknown_step, "no such step in this flow");

  // Exactly the step's fields: compared as two bit sets, and the first difference named.
  std::uint32_t want = 0, have = 0;
  for (Field f : spec->fields) want |= 1u << static_cast<int>(f);
  for_each_field(m, [&](Field f, const auto& v) { have |= static_cast<std::uint32_t>(v.has_value()) << static_cast<int>(f); });
  if (have != want) {
    const int f = std::countr_zero(have ^ want);  // fields in for_each_field order, which is enum order
    const Field fl = static_cast<Field>(f);
    if (have & (1u << f))
      return err(Code::malformed, std::string(field_name(fl)) + " does not belong in " + std::string(spec->name));
    return err(Code::missing_field, std::string(spec->name) + " needs " + std::string(field_name(fl)));
  }

  const Suite* suite = find_suite(*m.suite);
  if (!suite) return err(Code::unknown_suite, "unknown suite \"" + *m.suite + "\"");
  const std::size_t sealed_len = kAeadNonceLen + suite->key_len + kAeadTagLen;

  // The checks in a fixed order; the first that fails names the error.
  if (m.IDc && !identity_ok(*m.IDc)) return check_identity("IDc", *m.IDc);
  if (m.IDsp && !identity_ok(*m.IDsp)) return check_identity("IDsp", *m.IDsp);
  if (m.IDss && !identity_ok(*m.IDss)) return check_identity("IDss", *m.IDss);
  const std::pair<const std::optional<Bytes>*, std::pair<Field, std::size_t>> lengths[] = {
      {&m.N1, {Field::N1, kNonceLen}},
      {&m.N2, {Field::N2, kNonceLen}},
      {&m.Rand, {Field::Rand, kRandLen}},
      {&m.Authenticator_c, {Field::Authenticator_c, suite->auth_len}},
      {&m.EKc, {Field::EKc, sealed_len}},
      {&m.EKsp, {Field::EKsp, sealed_len}},
      {&m.EKss, {Field::EKss, sealed_len}},
      {&m.MAC, {Field::MAC, suite->mac_len}},
  };
  for (const auto& [value, rule] : lengths) {
    if (!*value) continue;
    const std::size_t n = (*value)->size();
    if (sizes == Sizes::exact && n != rule.second) return length_is(rule.first, **value, rule.second);
    if (sizes == Sizes::loose && (n == 0 || n > kMaxLooseBytes))
      return err(Code::bad_length, std::string(field_name(rule.first)) + " is " + std::to_string(n) +
                                       " bytes; an encoder takes 1 to " + std::to_string(kMaxLooseBytes));
  }
  if (m.SecMechReq && !*m.SecMechReq) return err(Code::malformed, "SecMechReq must be true");
  if (m.SecMechList && !mech_list_ok(*m.SecMechList)) return check_mech_list(*m.SecMechList);
  if (m.SecMech && !mech_name_ok(*m.SecMech)) return check_mech_name(*m.SecMech);
  if (m.IPc && !ip_ok(*m.IPc)) return check_ip(*m.IPc);
  for (const auto* ts : {&m.TS1, &m.TS2, &m.TS3, &m.TS4})
    if (*ts && **ts > 0x7fffffffffffffffULL) return err(Code::bad_length, "timestamp out of range");
  return Ok{};
}

namespace {

void put_value(Bytes& out, const std::string& s) { put_str(out, s); }
void put_value(Bytes& out, const Bytes& b) { put_bytes(out, b); }
void put_value(Bytes& out, std::uint64_t v) { put_u64(out, v); }
void put_value(Bytes& out, bool) { put_u8(out, 1); }
void put_value(Bytes& out, const MechList& l) {
  for (const auto& m : l) {
    put_u8(out, static_cast<std::uint8_t>(m.name.size()));
    put_str(out, m.name);
    put_u16(out, m.q);
  }
}

}  // namespace

Bytes canonical(const Message& m, bool with_mac) {
  // Every engine input and every MAC encodes a message: the values go straight into out, each
  // behind a length patched in afterwards, instead of through a buffer per field.
  Bytes out;
  out.reserve(512);
  put_str(out, "KD1");
  put_u8(out, static_cast<std::uint8_t>(m.flow));
  put_u8(out, m.step);
  for_each_field(m, [&](Field f, const auto& v) {
    if (!v || (f == Field::MAC && !with_mac)) return;
    put_u8(out, static_cast<std::uint8_t>(f));
    const std::size_t at = out.size();
    put_u16(out, 0);
    put_value(out, *v);
    const auto len = static_cast<std::uint16_t>(out.size() - at - 2);  // as put_lp16: the low 16 bits
    out[at] = static_cast<std::uint8_t>(len >> 8);
    out[at + 1] = static_cast<std::uint8_t>(len);
  });
  return out;
}

std::string qvalue_text(std::uint16_t q) {
  if (q >= 1000) return "1";
  if (q == 0) return "0";
  std::string d = std::to_string(1000 + q).substr(1);  // three digits
  while (d.back() == '0') d.pop_back();
  return "0." + d;
}

std::optional<std::uint16_t> parse_qvalue(std::string_view s) {
  if (s.empty() || (s[0] != '0' && s[0] != '1')) return std::nullopt;
  const bool one = s[0] == '1';
  std::string_view frac;
  if (s.size() > 1) {
    if (s[1] != '.') return std::nullopt;
    frac = s.substr(2);
  }
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  if (frac.size() > 3 || !std::all_of(frac.begin(), frac.end(), digit)) return std::nullopt;
  std::uint16_t v = one ? 1000 : 0;
  std::uint16_t scale = 100;
  for (char c : frac) {
    if (one && c != '0') return std::nullopt;
    v = static_cast<std::uint16_t>(v + (c - '0') * scale);
    scale = static_cast<std::uint16_t>(scale / 10);
  }
  return v;
}

}  // namespace kd::msg
