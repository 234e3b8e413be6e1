// The one logical message model every codec maps to and from. Field names follow the patent.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/bytes.hpp"
#include "core/error.hpp"

namespace kd::msg {

enum class Flow : std::uint8_t { proxied = 1, direct = 2 };
enum class Role : std::uint8_t { term, proxy, sw, auc };

std::string_view flow_name(Flow f) noexcept;
std::string_view role_name(Role r) noexcept;  // "term", "proxy", "switch", "auc"
// The address a role is drawn at in the captures kd writes when no other is given: TEST-NET-1
// (RFC 5737) 192.0.2.10, .20, .30, .40, or with v6 the documentation prefix (RFC 3849)
// 2001:db8::10, ::20, ::30, ::40, for term, proxy, switch and auc.
std::string_view documentation_address(Role r, bool v6 = false) noexcept;
std::optional<Flow> parse_flow(std::string_view s) noexcept;
std::optional<Role> parse_role(std::string_view s) noexcept;

// Every field, numbered by its tag in the canonical encoding (kd-protocol(7)).
enum class Field : std::uint8_t {
  suite = 1, IDc, IDsp, IDss, N1, N2, TS1, TS2, TS3, TS4, Rand, Authenticator_c,
  EKc, EKsp, EKss, SecMechReq, SecMechList, SecMech, IPc, MAC,
};
inline constexpr int kFieldCount = 20;
std::string_view field_name(Field f) noexcept;
std::optional<Field> parse_field(std::string_view s) noexcept;

struct Mech {
  std::string name;
  std::uint16_t q = 1000;  // priority in thousandths (RFC 3329 q-value x 1000); higher is preferred
  bool operator==(const Mech&) const = default;
};
using MechList = std::vector<Mech>;

struct Message {
  Flow flow = Flow::proxied;
  std::uint8_t step = 0;  // 1..11 proxied (s1..s11), 1..7 direct (d1..d7)

  std::optional<std::string> suite, IDc, IDsp, IDss;
  std::optional<Bytes> N1, N2;
  std::optional<std::uint64_t> TS1, TS2, TS3, TS4;
  std::optional<Bytes> Rand, Authenticator_c, EKc, EKsp, EKss;
  std::optional<bool> SecMechReq;
  std::optional<MechList> SecMechList;
  std::optional<std::string> SecMech, IPc;
  std::optional<Bytes> MAC;

  bool operator==(const Message&) const = default;
};

// Calls f(Field, std::optional<T>&) for each field in tag order; the one list of fields.
template <class M, class F>
void for_each_field(M& m, F&& f) {
  f(Field::suite, m.suite); f(Field::IDc, m.IDc); f(Field::IDsp, m.IDsp); f(Field::IDss, m.IDss);
  f(Field::N1, m.N1); f(Field::N2, m.N2);
  f(Field::TS1, m.TS1); f(Field::TS2, m.TS2); f(Field::TS3, m.TS3); f(Field::TS4, m.TS4);
  f(Field::Rand, m.Rand); f(Field::Authenticator_c, m.Authenticator_c);
  f(Field::EKc, m.EKc); f(Field::EKsp, m.EKsp); f(Field::EKss, m.EKss);
  f(Field::SecMechReq, m.SecMechReq); f(Field::SecMechList, m.SecMechList);
  f(Field::SecMech, m.SecMech); f(Field::IPc, m.IPc); f(Field::MAC, m.MAC);
}

struct StepSpec {
  Flow flow;
  std::uint8_t step;
  std::string_view name;  // "s1".."s11", "d1".."d7"
  Role from, to;
  std::span<const Field> fields;  // exactly these are present
};

const StepSpec* find_step(Flow flow, std::uint8_t step) noexcept;
const StepSpec* find_step(std::string_view name) noexcept;
std::span<const StepSpec> all_steps() noexcept;
// The step whose message a role has just received when it sends s, on the signaling links: s2
// after s1, s5 after s2, s6 after s5, s8 after s7, s9 after s8, s10 after s9, d4 after d1 and d6
// after d5 (s5 and d4 follow the AuC's answer, so the switch keeps s2 and d1 until then). nullptr
// for the other steps.
const StepSpec* previous_step(const StepSpec& s) noexcept;
const StepSpec& spec_of(const Message& m);  // m must name a known step

// Limits (kd-protocol(7), "Field formats").
inline constexpr std::size_t kNonceLen = 16;
inline constexpr std::size_t kRandLen = 16;
inline constexpr std::size_t kMaxIdLen = 64;
inline constexpr std::size_t kMaxIpLen = 64;
inline constexpr std::size_t kMaxMechName = 32;
inline constexpr std::size_t kMaxMechs = 16;

// How validate() treats the sizes of the byte fields (N1, N2, Rand, Authenticator_c, EKc, EKsp,
// EKss, MAC): exact, the sizes of kd-protocol(7), which every decoder demands; or loose, any size
// from 1 to kMaxLooseBytes, which every encoder accepts, so that a tampered size can be put on the
// wire (kd-decode --encode) for its recipient to refuse.
enum class Sizes : std::uint8_t { exact, loose };
inline constexpr std::size_t kMaxLooseBytes = 64;

// Checks that exactly the step's fields are present, each of its size (see Sizes) and form, and
// that the suite is known. Every decoder runs it, whatever the format.
Status validate(const Message& m, Sizes sizes = Sizes::exact);

// Validation pieces the tools reuse for their own arguments.
Status check_identity(std::string_view what, std::string_view id);
Status check_mech_name(std::string_view name);
Status check_ip(std::string_view ip);
Status check_mech_list(const MechList& list);
// A mechanism's priority (thousandths, 0..1000) as an RFC 3261 qvalue, the shortest form ("1", "0",
// "0.5", "0.125"), and back: "0" ["." 0*3DIGIT] or "1" ["." 0*3"0"]; nullopt for anything else. The
// one qvalue grammar of kd: the SIP, H.248 and MGCP lists and kd-term --mechs (which also asks
// for a digit after the point) read it.
std::string qvalue_text(std::uint16_t q);
std::optional<std::uint16_t> parse_qvalue(std::string_view s);

// The canonical binary encoding: "KD1" || flow || step || TLV(tag u8, length u16, value) in tag
// order. The MAC covers it with the MAC field left out.
Bytes canonical(const Message& m, bool with_mac = true);

}  // namespace kd::msg
