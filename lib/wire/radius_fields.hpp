// The RADIUS binding's field table (kd-protocol(7), "The AuC link over RADIUS";
// scripts/radius/dictionary.kd): IDc in User-Name, every other KD value in a sub-attribute of
// Vendor-Specific (Vendor-Id kVendorId), in the order they are written. The codec writes and reads
// the attributes by this table alone; the packet's other attributes (Message-Authenticator,
// NAS-Identifier, Service-Type, Acct-*) are the envelope's.
#pragma once

#include "wire/fields.hpp"
#include "wire/radius.hpp"

namespace kd::wire::radius {

using F = msg::Field;
inline constexpr FieldEntry kFields[] = {
    {F::IDc, "User-Name", Form::string_octets, Place::attribute, user_name},
    {F::suite, "KD-Suite", Form::string_octets, Place::vendor_attribute, kd_suite},
    {F::IDsp, "KD-IDsp", Form::string_octets, Place::vendor_attribute, kd_idsp},
    {F::IDss, "KD-IDss", Form::string_octets, Place::vendor_attribute, kd_idss},
    {F::Rand, "KD-Rand", Form::octets, Place::vendor_attribute, kd_rand},
    {F::Authenticator_c, "KD-Authenticator-C", Form::hidden_octets, Place::vendor_attribute, kd_authenticator_c},
    {F::EKc, "KD-EKc", Form::octets, Place::vendor_attribute, kd_ekc},
    {F::EKsp, "KD-EKsp", Form::octets, Place::vendor_attribute, kd_eksp},
    {F::EKss, "KD-EKss", Form::octets, Place::vendor_attribute, kd_ekss},
    {F::IPc, "KD-IPc", Form::string_octets, Place::vendor_attribute, kd_ipc},
};

// The index in kFields of a field's entry, at compile time.
consteval std::size_t entry_index(msg::Field f) {
  for (std::size_t i = 0; i < std::size(kFields); ++i)
    if (kFields[i].field == f) return i;
  throw "the field has no RADIUS entry";
}

}  // namespace kd::wire::radius
