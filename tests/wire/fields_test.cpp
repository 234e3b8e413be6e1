// The field tables (wire/fields.hpp) against the codecs and the step table: every field a carried
// step holds has an entry, and every entry's element is what the codec puts on the wire.
#include <gtest/gtest.h>

#include <cctype>
#include <set>
#include <string>

#include "flows.hpp"
#include "wire/fields.hpp"

namespace {

using kd::msg::Field;
using kd::wire::Binding;
using kd::wire::FieldEntry;

const kd::msg::Message& message_of(const kd::msg::StepSpec& s) { return kd::wiretest::step_message(s.name); }

std::string wire_text(const kd::wire::Codec& c, const kd::msg::Message& m) {
  auto w = c.encode(m);
  EXPECT_TRUE(w) << (w ? "" : w.error().detail);
  return w ? std::string(w->begin(), w->end()) : std::string();
}

TEST(FieldTables, EveryBindingHasOneAndEveryCarriedFieldAnEntry) {
  std::set<Binding> seen;
  for (const auto& t : kd::wire::all_field_tables()) {
    seen.insert(t.binding);
    EXPECT_FALSE(t.fields.empty()) << kd::wire::binding_name(t.binding);
    kd::wire::CodecOptions o;
    o.radius_secret = "s";
    auto codec = kd::wire::make_codec(t.binding, o);
    ASSERT_TRUE(codec);
    for (const auto& s : kd::msg::all_steps()) {
      if (!codec->carries(s)) continue;
      for (Field f : s.fields) {
        bool found = false;
        for (const FieldEntry& e : t.fields) found = found || e.field == f;
        EXPECT_TRUE(found) << kd::wire::binding_name(t.binding) << " has no entry for " << kd::msg::field_name(f)
                           << " (" << s.name << ")";
      }
    }
    for (const FieldEntry& e : t.fields) {
      EXPECT_FALSE(e.element.empty());
      EXPECT_NE(kd::wire::form_name(e.form), "?");
      EXPECT_NE(kd::wire::place_name(e.place), "?");
      EXPECT_NE(kd::wire::carried_name(e.field), "?");
    }
  }
  EXPECT_EQ(seen, (std::set<Binding>{Binding::sip, Binding::mgcp, Binding::h248, Binding::h323, Binding::radius}));
}

// The element of each field a message carries appears in its wire text: "name=" for SIP's
// parameters, "name: " for MGCP's lines, "name = " for H.248's items (upper-cased after "X-" in a
// ServiceChange).
TEST(FieldTables, TextElementsAreWhatTheCodecsWrite) {
  for (const auto& t : kd::wire::all_field_tables()) {
    if (t.binding != Binding::sip && t.binding != Binding::mgcp && t.binding != Binding::h248) continue;
    auto codec = kd::wire::make_codec(t.binding);
    for (const auto& s : kd::msg::all_steps()) {
      if (!codec->carries(s)) continue;
      const std::string w = wire_text(*codec, message_of(s));
      for (const FieldEntry& e : t.fields) {
        if (e.field == kd::wire::kFlow || !kd::wire::has_field(s, e.field)) continue;
        std::string name(e.element), pattern, text = w;
        switch (t.binding) {
          case Binding::sip: pattern = e.place == kd::wire::Place::header ? name + ": " : name + "="; break;
          case Binding::mgcp: pattern = "\r\n" + name + ": "; break;
          default:  // H.248: kd/<name>, <name> or X-<NAME>, so compared in lowercase
            pattern = name + " = ";
            for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        }
        if (e.fallback) continue;  // SIP's kd-ipc: only when the Contact cannot show IPc
        if (t.binding == Binding::sip && e.field == Field::SecMechList &&
            (e.element == "Security-Client") != (w.starts_with("REGISTER")))
          continue;  // one of two headers, by the kind of message
        EXPECT_NE(text.find(pattern), std::string::npos)
            << kd::wire::binding_name(t.binding) << " " << s.name << ": no " << pattern << " in\n" << w;
      }
    }
  }
}

}  // namespace
