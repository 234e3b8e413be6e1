// One field table per binding: which protocol element carries each logical field, and in what
// form. Encode and decode read their binding's table (wire/<binding>_fields.hpp; H.323's encoder
// writes msg::canonical(), which its table describes), and so can a generator: all_field_tables()
// walks every binding's (the Wireshark dissector is made from them).
// Where one element carries several fields (SIP's realm is IDsp or IDss, kd-ts one of TS1..TS4),
// the entries are adjacent and the step decides: the first entry whose field the step carries.
//
// The shape, for a reader of the tables. A table is a BindingFields: the binding, its entries in
// wire order, and what holds the entries (holders, vendor_id). An entry says
//   field    the logical field (msg::field_name(), "flow" for kFlow): the dissector's kd.<field>;
//   place    where the element sits, and with element and number, how to find it:
//            SIP      param: the authentication parameter <element> of the KD header, one of
//                     holders (scheme KD; Authentication-Info has none);
//                     header: the header <element>, in the messages of `in` only;
//            MGCP     param: the parameter line "<element>: value";
//            H.248    param: the item <element> of the package holders[0] (an event parameter,
//                     a property "kd/<element>", or the ServiceChange extension "X-<ELEMENT>");
//            H.323    tlv: in the nonStandardData whose nonStandardIdentifier is the object
//                     holders[0], after "KD1", the flow octet and the step octet, the TLV (tag
//                     u8, length u16, value) whose tag is <number>;
//            RADIUS   attribute: the attribute of type <number>; vendor_attribute: the
//                     sub-attribute of type <number> of a Vendor-Specific of Vendor-Id vendor_id;
//   form     how the value is written (Form below: text, hex, decimal, a list, octets);
//   fallback SIP's kd-ipc: written only when the field's other element (Contact) cannot hold it.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "core/bytes.hpp"
#include "msg/message.hpp"
#include "wire/codec.hpp"

namespace kd::wire {

// The message's flow is carried like a field by some bindings, but msg::Message holds it beside
// its fields: kFlow stands for it in a table (msg::Field has no 0).
inline constexpr msg::Field kFlow = msg::Field{0};
std::string_view carried_name(msg::Field f) noexcept;  // msg::field_name(), or "flow"

// How a value is written.
enum class Form : std::uint8_t {
  flow,              // "proxied" or "direct"
  token,             // the text as it is
  quoted,            // the text in double quotes
  hex,               // bytes as lowercase hex
  quoted_hex,        // lowercase hex in double quotes
  decimal,           // a number in decimal, no leading zeros
  true_flag,         // the word "true" (MGCP)
  on_off,            // ON or OFF (H.248)
  option_tag,        // present when the header lists the option tag sec-agree (SIP Require)
  mech_list,         // RFC 3329 entries "name;q=x", comma-separated
  quoted_mech_list,  // H.248: [ "name;q=x", ... ]
  contact_host,      // the hostport of the first Contact URI (SIP)
  string_octets,     // RADIUS, H.323: the text's octets
  octets,            // RADIUS, H.323: the bytes
  hidden_octets,     // RADIUS: the bytes hidden as RFC 2868 hides Tunnel-Password
  u64_octets,        // H.323: a number as 8 octets, big-endian
  flag_octet,        // H.323: the one octet 01
  mech_octets,       // H.323: per mechanism its name's length (u8), the name, q x 1000 (u16)
};
std::string_view form_name(Form f) noexcept;

// Where in the message the element sits.
enum class Place : std::uint8_t {
  param,             // SIP: an authentication parameter of the KD credentials, challenge or
                     // Authentication-Info; MGCP: a parameter line; H.248: a kd item
  header,            // SIP: a header of its own, in the messages of FieldEntry::in
  attribute,         // RADIUS: a standard attribute (number = its type)
  vendor_attribute,  // RADIUS: a sub-attribute of Vendor-Specific (number = its type)
  tlv,               // H.323: a TLV of the nonStandardData (number = its tag)
};
std::string_view place_name(Place p) noexcept;

// SIP: the kinds of message a header entry is in (a mask; FieldEntry::in).
enum SipMessages : std::uint8_t { sip_register = 1, sip_challenge = 2, sip_ok = 4 };

struct FieldEntry {
  msg::Field field;         // or kFlow
  std::string_view element; // the name on the wire
  Form form;
  Place place = Place::param;
  std::uint32_t number = 0; // the attribute type or tag where the element is a number
  // SIP's kd-ipc: written only when the binding's own place for the field (the Contact) cannot
  // hold the value; read whenever present.
  bool fallback = false;
  std::uint8_t in = 0;      // SIP's header entries: the SipMessages that carry the header
};

struct BindingFields {
  Binding binding;
  std::span<const FieldEntry> fields;  // in wire order
  // What holds the entries at Place::param or Place::tlv: SIP's KD headers, H.248's package,
  // H.323's nonStandardIdentifier (dotted); empty for MGCP and RADIUS.
  std::span<const std::string_view> holders;
  std::uint32_t vendor_id = 0;  // RADIUS: the Vendor-Id of the Place::vendor_attribute entries
};
std::span<const BindingFields> all_field_tables() noexcept;

// The slot of a field of m (a Message or a const one) by its type; nullptr when f is of another type.
template <class M>
auto string_slot(M& m, msg::Field f) -> decltype(&m.suite) {
  switch (f) {
    case msg::Field::suite: return &m.suite;
    case msg::Field::IDc: return &m.IDc;
    case msg::Field::IDsp: return &m.IDsp;
    case msg::Field::IDss: return &m.IDss;
    case msg::Field::SecMech: return &m.SecMech;
    case msg::Field::IPc: return &m.IPc;
    default: return nullptr;
  }
}
template <class M>
auto bytes_slot(M& m, msg::Field f) -> decltype(&m.N1) {
  switch (f) {
    case msg::Field::N1: return &m.N1;
    case msg::Field::N2: return &m.N2;
    case msg::Field::Rand: return &m.Rand;
    case msg::Field::Authenticator_c: return &m.Authenticator_c;
    case msg::Field::EKc: return &m.EKc;
    case msg::Field::EKsp: return &m.EKsp;
    case msg::Field::EKss: return &m.EKss;
    case msg::Field::MAC: return &m.MAC;
    default: return nullptr;
  }
}
template <class M>
auto flag_slot(M& m, msg::Field f) -> decltype(&m.SecMechReq) {
  return f == msg::Field::SecMechReq ? &m.SecMechReq : nullptr;
}
template <class M>
auto list_slot(M& m, msg::Field f) -> decltype(&m.SecMechList) {
  return f == msg::Field::SecMechList ? &m.SecMechList : nullptr;
}
template <class M>
auto number_slot(M& m, msg::Field f) -> decltype(&m.TS1) {
  switch (f) {
    case msg::Field::TS1: return &m.TS1;
    case msg::Field::TS2: return &m.TS2;
    case msg::Field::TS3: return &m.TS3;
    case msg::Field::TS4: return &m.TS4;
    default: return nullptr;
  }
}

// The distinct elements of a table's entries at one place, in table order: what a decoder looks
// names up in. The entries of one element must be adjacent (checked at compile time).
template <std::size_t N, std::size_t K>
struct ElementIndex {
  std::array<std::string_view, K> names{};
  std::array<std::uint8_t, K> first{}, size{};  // its entries: table[first .. first + size)
  std::size_t count = 0;
};
template <std::size_t K, std::size_t N>
consteval ElementIndex<N, K> index_elements(const FieldEntry (&table)[N], Place place) {
  ElementIndex<N, K> x;
  for (std::size_t i = 0; i < N; ++i) {
    if (table[i].place != place) continue;
    if (x.count > 0 && x.names[x.count - 1] == table[i].element) {
      ++x.size[x.count - 1];
      continue;
    }
    for (std::size_t k = 0; k < x.count; ++k)
      if (x.names[k] == table[i].element) throw "the entries of one element must be adjacent";
    if (x.count == K) throw "more elements than K";
    x.names[x.count] = table[i].element;
    x.first[x.count] = static_cast<std::uint8_t>(i);
    x.size[x.count] = 1;
    ++x.count;
  }
  if (x.count != K) throw "fewer elements than K";
  return x;
}

// The entry of element k that carries its value in a message of step s: the element's only
// entry, or among several the first whose field s carries; nullptr when s carries none of them.
template <std::size_t N, std::size_t K>
const FieldEntry* entry_for_step(const FieldEntry (&table)[N], const ElementIndex<N, K>& x, std::size_t k,
                                 const msg::StepSpec& s) {
  if (x.size[k] == 1) return &table[x.first[k]];
  for (std::size_t i = x.first[k]; i < x.first[k] + x.size[k]; ++i)
    if (has_field(s, table[i].field)) return &table[i];
  return nullptr;
}

}  // namespace kd::wire
