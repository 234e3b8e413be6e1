#include "wire/fields.hpp"

#include <array>

#include "wire/h248_fields.hpp"
#include "wire/h323_fields.hpp"
#include "wire/mgcp_fields.hpp"
#include "wire/radius_fields.hpp"
#include "wire/sip_fields.hpp"

namespace kd::wire {

std::string_view carried_name(msg::Field f) noexcept { return f == kFlow ? "flow" : msg::field_name(f); }

std::string_view form_name(Form f) noexcept {
  static constexpr std::array<std::string_view, 18> kNames{
      "flow", "token", "quoted", "hex", "quoted_hex", "decimal", "true_flag", "on_off", "option_tag",
      "mech_list", "quoted_mech_list", "contact_host", "string_octets", "octets", "hidden_octets",
      "u64_octets", "flag_octet", "mech_octets"};
  const auto i = static_cast<std::size_t>(f);
  return i < kNames.size() ? kNames[i] : "?";
}

std::string_view place_name(Place p) noexcept {
  static constexpr std::array<std::string_view, 5> kNames{"param", "header", "attribute", "vendor_attribute", "tlv"};
  const auto i = static_cast<std::size_t>(p);
  return i < kNames.size() ? kNames[i] : "?";
}

std::span<const BindingFields> all_field_tables() noexcept {
  static constexpr BindingFields kTables[] = {
      {Binding::sip, sip::kFields, sip::kKdHeaders},
      {Binding::mgcp, mgcp::kFields, {}},
      {Binding::h248, h248::kFields, h248::kPackage},
      {Binding::h323, h323::kFields, h323::kKdObject},
      {Binding::radius, radius::kFields, {}, radius::kVendorId},
  };
  return kTables;
}

}  // namespace kd::wire
