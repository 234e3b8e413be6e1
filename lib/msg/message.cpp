#include "msg/message.hpp"

#include <array>
#include <set>

#include "crypto/suite.hpp"

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

bool id_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '@' || c == '+' || c == '-';
}

Status length_is(Field f, const Bytes& b, std::size_t want) {
  if (b.size() != want)
    return err(Code::bad_length, std::string(field_name(f)) + " is " + std::to_string(b.size()) +
                                     " bytes, expected " + std::to_string(want));
  return Ok{};
}

}  // namespace

Status check_identity(std::string_view what, std::string_view id) {
  if (id.empty() || id.size() > kMaxIdLen)
    return err(Code::bad_length, std::string(what) + " must be 1 to 64 characters");
  for (char c : id)
    if (!id_char(c))
      return err(Code::malformed, std::string(what) + " may hold only letters, digits and ._@+-");
  return Ok{};
}

Status check_mech_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxMechName)
    return err(Code::bad_length, "a mechanism name must be 1 to 32 characters");
  for (char c : name)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
      return err(Code::malformed, "a mechanism name may hold only a-z, 0-9 and -");
  return Ok{};
}

Status check_ip(std::string_view ip) {
  if (ip.empty() || ip.size() > kMaxIpLen)
    return err(Code::bad_length, "IPc must be 1 to 64 characters");
  for (char c : ip)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == '.' ||
          c == ':' || c == '[' || c == ']'))
      return err(Code::malformed, "IPc must be an IPv4 or IPv6 address, optionally with a port");
  return Ok{};
}

Status check_mech_list(const MechList& list) {
  if (list.empty() || list.size() > kMaxMechs)
    return err(Code::bad_length, "SecMechList must hold 1 to 16 mechanisms");
  std::set<std::string_view> seen;
  for (const auto& m : list) {
    if (auto s = check_mech_name(m.name); !s) return s;
    if (m.q > 1000) return err(Code::bad_length, "a mechanism's q must be 0 to 1000");
    if (!seen.insert(m.name).second)
      return err(Code::malformed, "SecMechList names " + m.name + " twice");
  }
  return Ok{};
}

Status validate(const Message& m) {
  const StepSpec* spec = find_step(m.flow, m.step);
  if (!spec) return err(Code::unknown_step, "no such step in this flow");

  bool want[kFieldCount + 1] = {};
  for (Field f : spec->fields) want[static_cast<int>(f)] = true;
  Status st = Ok{};
  for_each_field(m, [&](Field f, const auto& v) {
    if (!st) return;
    bool has = v.has_value();
    if (has && !want[static_cast<int>(f)])
      st = err(Code::malformed, std::string(field_name(f)) + " does not belong in " +
                                    std::string(spec->name));
    else if (!has && want[static_cast<int>(f)])
      st = err(Code::missing_field, std::string(spec->name) + " needs " +
                                        std::string(field_name(f)));
  });
  if (!st) return st;

  const crypto::Suite* suite = crypto::find_suite(*m.suite);
  if (!suite) return err(Code::unknown_suite, "unknown suite \"" + *m.suite + "\"");
  const std::size_t sealed_len = crypto::kAeadNonceLen + suite->key_len + crypto::kAeadTagLen;

  auto check = [&](Status s) { if (st && !s) st = s; };
  if (m.IDc) check(check_identity("IDc", *m.IDc));
  if (m.IDsp) check(check_identity("IDsp", *m.IDsp));
  if (m.IDss) check(check_identity("IDss", *m.IDss));
  if (m.N1) check(length_is(Field::N1, *m.N1, kNonceLen));
  if (m.N2) check(length_is(Field::N2, *m.N2, kNonceLen));
  if (m.Rand) check(length_is(Field::Rand, *m.Rand, kRandLen));
  if (m.Authenticator_c) check(length_is(Field::Authenticator_c, *m.Authenticator_c, suite->auth_len));
  if (m.EKc) check(length_is(Field::EKc, *m.EKc, sealed_len));
  if (m.EKsp) check(length_is(Field::EKsp, *m.EKsp, sealed_len));
  if (m.EKss) check(length_is(Field::EKss, *m.EKss, sealed_len));
  if (m.MAC) check(length_is(Field::MAC, *m.MAC, suite->mac_len));
  if (m.SecMechReq && !*m.SecMechReq) check(err(Code::malformed, "SecMechReq must be true"));
  if (m.SecMechList) check(check_mech_list(*m.SecMechList));
  if (m.SecMech) check(check_mech_name(*m.SecMech));
  if (m.IPc) check(check_ip(*m.IPc));
  for (const auto* ts : {&m.TS1, &m.TS2, &m.TS3, &m.TS4})
    if (*ts && **ts > 0x7fffffffffffffffULL) check(err(Code::bad_length, "timestamp out of range"));
  return st;
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
  Bytes out = to_bytes("KD1");
  put_u8(out, static_cast<std::uint8_t>(m.flow));
  put_u8(out, m.step);
  for_each_field(m, [&](Field f, const auto& v) {
    if (!v || (f == Field::MAC && !with_mac)) return;
    Bytes value;
    put_value(value, *v);
    put_u8(out, static_cast<std::uint8_t>(f));
    put_lp16(out, value);
  });
  return out;
}

}  // namespace kd::msg
