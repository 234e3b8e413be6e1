// The field tables (wire/fields.hpp) against the step table and the codecs' bytes: every field a
// carried step holds has exactly one entry that applies to it, every entry's element is where
// the codec puts the value (found here by reading the wire bytes with the table's description
// alone: what the dissector generator will do), and each step round-trips through its codec.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <optional>
#include <set>
#include <string>

#include "flows.hpp"
#include "round_trip.hpp"
#include "wire/fields.hpp"

namespace {

using kd::Bytes;
using kd::ByteView;
using kd::msg::Field;
using kd::msg::Message;
using kd::msg::StepSpec;
using kd::wire::Binding;
using kd::wire::BindingFields;
using kd::wire::FieldEntry;
using kd::wire::Form;
using kd::wire::Place;

const Message& message_of(const StepSpec& s) { return kd::wiretest::step_message(s.name); }

std::unique_ptr<kd::wire::Codec> codec_of(Binding b) {
  kd::wire::CodecOptions o;
  o.radius_secret = "s";
  return kd::wire::make_codec(b, o);
}

Bytes wire_of(const kd::wire::Codec& c, const Message& m) {
  auto w = c.encode(m);
  EXPECT_TRUE(w) << (w ? "" : w.error().detail);
  return w ? *w : Bytes();
}

std::string text_of(const Bytes& b) { return std::string(b.begin(), b.end()); }

std::string where(const BindingFields& t, const StepSpec& s) {
  return std::string(kd::wire::binding_name(t.binding)) + " " + std::string(s.name);
}

// SIP's kind of message, from its start line (FieldEntry::in).
std::uint8_t sip_kind(const std::string& w) {
  if (w.starts_with("REGISTER ")) return kd::wire::sip_register;
  if (w.starts_with("SIP/2.0 401 ") || w.starts_with("SIP/2.0 407 ")) return kd::wire::sip_challenge;
  if (w.starts_with("SIP/2.0 200 ")) return kd::wire::sip_ok;
  return 0;
}

// Whether entry e is where the value of its field travels in this message of step s: its field is
// the step's (or the flow), it is no fallback, and for SIP's headers, the message is of its kind.
// Elements shared by several fields (realm, kd-ts, ts, X-KDTS) apply to the one the step carries.
bool applies(const BindingFields& t, const FieldEntry& e, const StepSpec& s, const std::string& wire) {
  if (e.fallback) return false;
  if (e.field != kd::wire::kFlow && !kd::wire::has_field(s, e.field)) return false;
  if (t.binding == Binding::sip && e.place == Place::header && !(e.in & sip_kind(wire))) return false;
  return true;
}

// Whether the form writes a value of the field's type (a codec reads it into that type's slot).
bool form_fits(const FieldEntry& e) {
  Message m;
  switch (e.form) {
    case Form::flow: return e.field == kd::wire::kFlow;
    case Form::token:
    case Form::quoted:
    case Form::contact_host:
    case Form::string_octets: return kd::wire::string_slot(m, e.field) != nullptr;
    case Form::hex:
    case Form::quoted_hex:
    case Form::octets:
    case Form::hidden_octets: return kd::wire::bytes_slot(m, e.field) != nullptr;
    case Form::decimal:
    case Form::u64_octets: return kd::wire::number_slot(m, e.field) != nullptr;
    case Form::true_flag:
    case Form::on_off:
    case Form::option_tag:
    case Form::flag_octet: return kd::wire::flag_slot(m, e.field) != nullptr;
    case Form::mech_list:
    case Form::quoted_mech_list:
    case Form::mech_octets: return kd::wire::list_slot(m, e.field) != nullptr;
  }
  return false;
}

TEST(FieldTables, EveryBindingHasOne) {
  std::set<Binding> seen;
  for (const auto& t : kd::wire::all_field_tables()) {
    EXPECT_TRUE(seen.insert(t.binding).second) << kd::wire::binding_name(t.binding) << " twice";
    EXPECT_FALSE(t.fields.empty()) << kd::wire::binding_name(t.binding);
    for (const FieldEntry& e : t.fields) {
      EXPECT_FALSE(e.element.empty());
      EXPECT_NE(kd::wire::form_name(e.form), "?");
      EXPECT_NE(kd::wire::place_name(e.place), "?");
      EXPECT_NE(kd::wire::carried_name(e.field), "?");
      EXPECT_TRUE(e.place != Place::vendor_attribute || t.vendor_id != 0) << e.element << ": no Vendor-Id";
      EXPECT_TRUE(form_fits(e)) << kd::wire::binding_name(t.binding) << " " << e.element << ": "
                                << kd::wire::form_name(e.form) << " is no form of " << kd::wire::carried_name(e.field);
    }
  }
  EXPECT_EQ(seen, (std::set<Binding>{Binding::sip, Binding::mgcp, Binding::h248, Binding::h323, Binding::radius}));
}

// Each field of each carried step has exactly one entry that applies, and no element carries two
// of the step's fields.
TEST(FieldTables, EveryCarriedFieldHasOneEntryPerStep) {
  for (const auto& t : kd::wire::all_field_tables()) {
    auto codec = codec_of(t.binding);
    ASSERT_TRUE(codec);
    for (const StepSpec& s : kd::msg::all_steps()) {
      if (!codec->carries(s)) continue;
      const std::string w = text_of(wire_of(*codec, message_of(s)));
      std::map<Field, int> entries;
      std::map<std::pair<Place, std::string>, int> elements;
      for (const FieldEntry& e : t.fields) {
        if (!applies(t, e, s, w)) continue;
        ++entries[e.field];
        ++elements[{e.place, std::string(e.element) + "/" + std::to_string(e.number)}];
      }
      for (Field f : s.fields)
        EXPECT_EQ(entries[f], 1) << where(t, s) << ": " << entries[f] << " entries for " << kd::msg::field_name(f);
      for (const auto& [element, n] : elements)
        EXPECT_EQ(n, 1) << where(t, s) << ": " << element.second << " would carry " << n << " fields";
    }
  }
}

// Encoding and decoding go through the table: every carried step's message comes back whole.
TEST(FieldTables, EveryCarriedStepRoundTrips) {
  for (const auto& t : kd::wire::all_field_tables()) {
    auto codec = codec_of(t.binding);
    for (const StepSpec& s : kd::msg::all_steps()) {
      if (codec->carries(s)) {
        EXPECT_TRUE(kd::wiretest::round_trips(*codec, message_of(s))) << where(t, s);
      }
    }
  }
}

// The element of each field a text message carries appears in its wire text: "name=" for SIP's
// parameters (in one of the table's KD headers) and "name: " for its headers, "name: " for MGCP's
// lines, "name = " for H.248's items (upper-cased after "X-" in a ServiceChange) of its package.
TEST(FieldTables, TextElementsAreWhatTheCodecsWrite) {
  for (const auto& t : kd::wire::all_field_tables()) {
    if (t.binding != Binding::sip && t.binding != Binding::mgcp && t.binding != Binding::h248) continue;
    auto codec = codec_of(t.binding);
    for (const StepSpec& s : kd::msg::all_steps()) {
      if (!codec->carries(s)) continue;
      const std::string w = text_of(wire_of(*codec, message_of(s)));
      std::string lowered = w;
      for (char& c : lowered) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (t.binding == Binding::sip) {  // the KD header is one of the holders
        const std::size_t at = w.find("kd-flow=");
        ASSERT_NE(at, std::string::npos) << w;
        const std::size_t bol = w.rfind("\r\n", at) + 2;
        const std::string header = w.substr(bol, w.find(':', bol) - bol);
        EXPECT_NE(std::find(t.holders.begin(), t.holders.end(), header), t.holders.end()) << header;
      }
      if (t.binding == Binding::h248) {
        ASSERT_EQ(t.holders.size(), 1u);
        EXPECT_NE(w.find(std::string(t.holders[0]) + "/"), std::string::npos) << w;
      }
      for (const FieldEntry& e : t.fields) {
        if (!applies(t, e, s, w) || e.field == kd::wire::kFlow) continue;
        const std::string name(e.element);
        std::string pattern, text = w;
        switch (t.binding) {
          case Binding::sip: pattern = e.place == Place::header ? "\r\n" + name + ": " : name + "="; break;
          case Binding::mgcp: pattern = "\r\n" + name + ": "; break;
          default:  // H.248: kd/<name>, <name> or X-<NAME>, so compared in lowercase
            pattern = name + " = ";
            text = lowered;
        }
        EXPECT_NE(text.find(pattern), std::string::npos) << where(t, s) << ": no " << pattern << " in\n" << w;
      }
    }
  }
}

// ---- the binary bindings, read by the table's description alone --------------------------------

std::uint64_t be(ByteView b) {
  std::uint64_t v = 0;
  for (std::uint8_t x : b) v = v << 8 | x;
  return v;
}

// The octets a field's value is in a binary form (nullopt: the message has no value).
std::optional<Bytes> octets_of(const Message& m, const FieldEntry& e) {
  Bytes out;
  switch (e.form) {
    case Form::string_octets: {
      const auto& v = *kd::wire::string_slot(m, e.field);
      if (!v) return std::nullopt;
      return Bytes(v->begin(), v->end());
    }
    case Form::octets:
    case Form::hidden_octets: return *kd::wire::bytes_slot(m, e.field);
    case Form::u64_octets: {
      const auto& v = *kd::wire::number_slot(m, e.field);
      if (!v) return std::nullopt;
      for (int i = 7; i >= 0; --i) out.push_back(static_cast<std::uint8_t>(*v >> (8 * i)));
      return out;
    }
    case Form::flag_octet:
      if (!*kd::wire::flag_slot(m, e.field)) return std::nullopt;
      return Bytes{1};
    case Form::mech_octets: {
      const auto& v = *kd::wire::list_slot(m, e.field);
      if (!v) return std::nullopt;
      for (const auto& mech : *v) {
        out.push_back(static_cast<std::uint8_t>(mech.name.size()));
        out.insert(out.end(), mech.name.begin(), mech.name.end());
        out.push_back(static_cast<std::uint8_t>(mech.q >> 8));
        out.push_back(static_cast<std::uint8_t>(mech.q));
      }
      return out;
    }
    default: ADD_FAILURE() << e.element << ": " << kd::wire::form_name(e.form) << " is no binary form"; return std::nullopt;
  }
}

// RADIUS (RFC 2865 5, 5.26): the values of the attributes and of the vendor_id's sub-attributes.
struct RadiusValues {
  std::map<std::uint32_t, Bytes> attributes, vendor;
};
RadiusValues radius_values(const Bytes& p, std::uint32_t vendor_id) {
  RadiusValues out;
  for (std::size_t at = 20; at + 2 <= p.size() && p[at + 1] >= 2; at += p[at + 1]) {
    const ByteView v(p.data() + at + 2, p[at + 1] - 2u);
    if (p[at] != 26) {
      out.attributes[p[at]] = Bytes(v.begin(), v.end());
      continue;
    }
    if (v.size() < 6 || be(v.subspan(0, 4)) != vendor_id) continue;
    for (ByteView sub = v.subspan(4); sub.size() >= 2 && sub[1] >= 2; sub = sub.subspan(sub[1]))
      out.vendor[sub[0]] = Bytes(sub.begin() + 2, sub.begin() + sub[1]);
  }
  return out;
}

TEST(FieldTables, RadiusAttributesAreWhereTheTableSays) {
  const auto tables = kd::wire::all_field_tables();
  const auto t = std::find_if(tables.begin(), tables.end(), [](const auto& x) { return x.binding == Binding::radius; });
  ASSERT_NE(t, tables.end());
  auto codec = codec_of(Binding::radius);
  for (const StepSpec& s : kd::msg::all_steps()) {
    if (!codec->carries(s)) continue;
    const Message& m = message_of(s);
    const Bytes w = wire_of(*codec, m);
    RadiusValues got = radius_values(w, t->vendor_id);
    for (const FieldEntry& e : t->fields) {
      auto& at = e.place == Place::attribute ? got.attributes : got.vendor;
      const auto want = octets_of(m, e);
      ASSERT_EQ(want.has_value(), at.contains(e.number)) << where(*t, s) << ": " << e.element;
      if (!want) continue;
      if (e.form == Form::hidden_octets)  // RFC 2868 3.5: a salt and the length-prefixed value, padded to 16
        EXPECT_EQ(at[e.number].size(), 2 + (want->size() + 1 + 15) / 16 * 16) << where(*t, s) << ": " << e.element;
      else
        EXPECT_EQ(at[e.number], *want) << where(*t, s) << ": " << e.element;
      at.erase(e.number);
    }
    EXPECT_TRUE(got.vendor.empty()) << where(*t, s) << ": a sub-attribute the table does not name";
  }
}

// The BER contents octets of a dotted object identifier (X.690 8.19).
Bytes ber_oid(std::string_view dotted) {
  std::vector<std::uint64_t> arcs;
  std::uint64_t n = 0;
  for (char c : std::string(dotted) + ".") {
    if (c == '.') {
      arcs.push_back(n);
      n = 0;
    } else {
      n = n * 10 + static_cast<std::uint64_t>(c - '0');
    }
  }
  arcs[1] += arcs[0] * 40;  // the first two arcs make one subidentifier
  Bytes out;
  for (std::size_t i = 1; i < arcs.size(); ++i) {
    Bytes b{static_cast<std::uint8_t>(arcs[i] & 0x7f)};
    for (std::uint64_t v = arcs[i] >> 7; v > 0; v >>= 7) b.insert(b.begin(), static_cast<std::uint8_t>(0x80 | (v & 0x7f)));
    out.insert(out.end(), b.begin(), b.end());
  }
  return out;
}

TEST(FieldTables, BerOidOfTheTest) { EXPECT_EQ(ber_oid("1.3.6.1.4.1.32473.1"), (Bytes{0x2b, 6, 1, 4, 1, 0x81, 0xfd, 0x59, 1})); }

// H.323: after the holder's object identifier (its length octet, then an aligned PER length of one
// or two octets), "KD1", flow, step and the TLVs the table names, in its order.
TEST(FieldTables, H323TlvsAreWhereTheTableSays) {
  const auto tables = kd::wire::all_field_tables();
  const auto t = std::find_if(tables.begin(), tables.end(), [](const auto& x) { return x.binding == Binding::h323; });
  ASSERT_NE(t, tables.end());
  ASSERT_EQ(t->holders.size(), 1u);
  const Bytes oid = ber_oid(t->holders[0]);
  auto codec = codec_of(Binding::h323);
  for (const StepSpec& s : kd::msg::all_steps()) {
    if (!codec->carries(s)) continue;
    const Message& m = message_of(s);
    const Bytes w = wire_of(*codec, m);
    auto o = std::search(w.begin(), w.end(), oid.begin(), oid.end());
    ASSERT_NE(o, w.end()) << where(*t, s) << ": no nonStandardIdentifier " << t->holders[0];
    std::size_t at = static_cast<std::size_t>(o - w.begin()) + oid.size();
    const std::size_t len = w[at] & 0x80 ? (w[at] & 0x3f) << 8 | w[at + 1] : w[at];
    at += w[at] & 0x80 ? 2 : 1;
    ASSERT_LE(at + len, w.size());
    ByteView d(w.data() + at, len);
    ASSERT_GE(d.size(), 5u);
    EXPECT_EQ(text_of(Bytes(d.begin(), d.begin() + 3)), "KD1");
    EXPECT_EQ(d[3], static_cast<std::uint8_t>(m.flow));
    EXPECT_EQ(d[4], m.step);
    d = d.subspan(5);
    for (const FieldEntry& e : t->fields) {
      const auto want = octets_of(m, e);
      if (!want) continue;
      ASSERT_GE(d.size(), 3u) << where(*t, s) << ": no TLV for " << e.element;
      EXPECT_EQ(d[0], e.number) << where(*t, s) << ": " << e.element;
      const std::size_t n = static_cast<std::size_t>(d[1] << 8 | d[2]);
      ASSERT_LE(3 + n, d.size());
      EXPECT_EQ(Bytes(d.begin() + 3, d.begin() + 3 + static_cast<std::ptrdiff_t>(n)), *want) << where(*t, s) << ": " << e.element;
      d = d.subspan(3 + n);
    }
    EXPECT_TRUE(d.empty()) << where(*t, s) << ": a TLV the table does not name";
  }
}

}  // namespace
