// The H.323 RAS binding's field table (kd-protocol(7), "H.323 RAS binding"): every KD value is a
// TLV of the canonical encoding (msg::canonical()) carried in the message's nonStandardData, its
// tag the field's number, in tag order. The encoder writes msg::canonical() whole (the MAC covers
// those very bytes, so they have one writer); the decoder reads each TLV by this table, which is
// checked against msg::Field's numbering below and against msg::canonical() by the wire tests.
#pragma once

#include "wire/fields.hpp"

namespace kd::wire::h323 {

// The nonStandardIdentifier of kd's nonStandardData (h323.hpp's kKdOid, dotted).
inline constexpr std::string_view kKdObject[] = {"1.3.6.1.4.1.32473.1"};

using F = msg::Field;
inline constexpr FieldEntry kFields[] = {
    {F::suite, "suite", Form::string_octets, Place::tlv, 1},
    {F::IDc, "IDc", Form::string_octets, Place::tlv, 2},
    {F::IDsp, "IDsp", Form::string_octets, Place::tlv, 3},
    {F::IDss, "IDss", Form::string_octets, Place::tlv, 4},
    {F::N1, "N1", Form::octets, Place::tlv, 5},
    {F::N2, "N2", Form::octets, Place::tlv, 6},
    {F::TS1, "TS1", Form::u64_octets, Place::tlv, 7},
    {F::TS2, "TS2", Form::u64_octets, Place::tlv, 8},
    {F::TS3, "TS3", Form::u64_octets, Place::tlv, 9},
    {F::TS4, "TS4", Form::u64_octets, Place::tlv, 10},
    {F::Rand, "Rand", Form::octets, Place::tlv, 11},
    {F::Authenticator_c, "Authenticator_c", Form::octets, Place::tlv, 12},
    {F::EKc, "EKc", Form::octets, Place::tlv, 13},
    {F::EKsp, "EKsp", Form::octets, Place::tlv, 14},
    {F::EKss, "EKss", Form::octets, Place::tlv, 15},
    {F::SecMechReq, "SecMechReq", Form::flag_octet, Place::tlv, 16},
    {F::SecMechList, "SecMechList", Form::mech_octets, Place::tlv, 17},
    {F::SecMech, "SecMech", Form::string_octets, Place::tlv, 18},
    {F::IPc, "IPc", Form::string_octets, Place::tlv, 19},
    {F::MAC, "MAC", Form::octets, Place::tlv, 20},
};

consteval bool tags_are_field_numbers() {
  for (const FieldEntry& e : kFields)
    if (e.number != static_cast<std::uint32_t>(e.field)) return false;
  return std::size(kFields) == msg::kFieldCount;
}
static_assert(tags_are_field_numbers(), "the canonical encoding's tag of a field is its msg::Field number");

// The entry of a TLV's tag, or nullptr (a tag no field has).
constexpr const FieldEntry* entry_of_tag(std::uint32_t tag) {
  for (const FieldEntry& e : kFields)
    if (e.number == tag) return &e;
  return nullptr;
}

}  // namespace kd::wire::h323
