// The H.323 RAS binding's field table (kd-protocol(7), "H.323 RAS binding"): every KD value is a
// TLV of the canonical encoding (msg::canonical()) carried in the message's nonStandardData, its
// tag the field's number. The codec writes and reads that encoding whole; this table names it for
// a reader (and is checked against msg::Field's numbering below).
#pragma once

#include "wire/fields.hpp"

namespace kd::wire::h323 {

using F = msg::Field;
inline constexpr FieldEntry kFields[] = {
    {F::suite, "suite", Form::canonical, Place::tlv, 1},
    {F::IDc, "IDc", Form::canonical, Place::tlv, 2},
    {F::IDsp, "IDsp", Form::canonical, Place::tlv, 3},
    {F::IDss, "IDss", Form::canonical, Place::tlv, 4},
    {F::N1, "N1", Form::canonical, Place::tlv, 5},
    {F::N2, "N2", Form::canonical, Place::tlv, 6},
    {F::TS1, "TS1", Form::canonical, Place::tlv, 7},
    {F::TS2, "TS2", Form::canonical, Place::tlv, 8},
    {F::TS3, "TS3", Form::canonical, Place::tlv, 9},
    {F::TS4, "TS4", Form::canonical, Place::tlv, 10},
    {F::Rand, "Rand", Form::canonical, Place::tlv, 11},
    {F::Authenticator_c, "Authenticator_c", Form::canonical, Place::tlv, 12},
    {F::EKc, "EKc", Form::canonical, Place::tlv, 13},
    {F::EKsp, "EKsp", Form::canonical, Place::tlv, 14},
    {F::EKss, "EKss", Form::canonical, Place::tlv, 15},
    {F::SecMechReq, "SecMechReq", Form::canonical, Place::tlv, 16},
    {F::SecMechList, "SecMechList", Form::canonical, Place::tlv, 17},
    {F::SecMech, "SecMech", Form::canonical, Place::tlv, 18},
    {F::IPc, "IPc", Form::canonical, Place::tlv, 19},
    {F::MAC, "MAC", Form::canonical, Place::tlv, 20},
};

consteval bool tags_are_field_numbers() {
  for (const FieldEntry& e : kFields)
    if (e.number != static_cast<std::uint32_t>(e.field)) return false;
  return std::size(kFields) == msg::kFieldCount;
}
static_assert(tags_are_field_numbers(), "the canonical encoding's tag of a field is its msg::Field number");

}  // namespace kd::wire::h323
