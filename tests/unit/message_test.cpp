// msg::validate and msg::canonical. The field set of every step is written out here by hand from
// issue 2's list of messages (plus the suite everywhere, IPc where the address travels, Rand
// where the challenge is echoed), so a change to lib/msg/message.cpp's table is caught too.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "core/bytes.hpp"
#include "msg/message.hpp"

namespace {

using kd::Bytes;
using kd::Code;
using kd::msg::Field;
using kd::msg::Flow;
using kd::msg::Message;
using kd::msg::Role;
using F = Field;

struct StepRow {
  const char* name;
  Flow flow;
  std::uint8_t step;
  Role from, to;
  std::vector<Field> fields;
};

const std::vector<StepRow>& steps() {
  static const std::vector<StepRow> rows = {
      {"s1", Flow::proxied, 1, Role::term, Role::proxy, {F::suite, F::IDc, F::IDsp, F::N1, F::TS1, F::IPc}},
      {"s2", Flow::proxied, 2, Role::proxy, Role::sw, {F::suite, F::IDc, F::IDsp, F::IPc}},
      {"s3", Flow::proxied, 3, Role::sw, Role::auc, {F::suite, F::IDc, F::IDsp}},
      {"s4", Flow::proxied, 4, Role::auc, Role::sw,
       {F::suite, F::IDc, F::IDsp, F::Rand, F::Authenticator_c, F::EKc, F::EKsp}},
      {"s5", Flow::proxied, 5, Role::sw, Role::proxy, {F::suite, F::IDc, F::IDsp, F::Rand}},
      {"s6", Flow::proxied, 6, Role::proxy, Role::term,
       {F::suite, F::IDc, F::IDsp, F::N1, F::N2, F::TS2, F::Rand, F::SecMechReq}},
      {"s7", Flow::proxied, 7, Role::term, Role::proxy,
       {F::suite, F::IDc, F::IDsp, F::N1, F::N2, F::TS3, F::Rand, F::Authenticator_c, F::SecMechList, F::IPc}},
      {"s8", Flow::proxied, 8, Role::proxy, Role::sw,
       {F::suite, F::IDc, F::IDsp, F::Rand, F::Authenticator_c, F::IPc}},
      {"s9", Flow::proxied, 9, Role::sw, Role::proxy, {F::suite, F::IDc, F::IDsp, F::EKc, F::EKsp}},
      {"s10", Flow::proxied, 10, Role::proxy, Role::term,
       {F::suite, F::IDc, F::IDsp, F::N1, F::N2, F::TS4, F::EKc, F::SecMechList, F::SecMech, F::MAC}},
      {"s11", Flow::proxied, 11, Role::sw, Role::auc, {F::suite, F::IDc, F::IDsp, F::Rand, F::IPc}},
      {"d1", Flow::direct, 1, Role::term, Role::sw, {F::suite, F::IDc, F::IDss, F::N1, F::TS1, F::IPc}},
      {"d2", Flow::direct, 2, Role::sw, Role::auc, {F::suite, F::IDc, F::IDss}},
      {"d3", Flow::direct, 3, Role::auc, Role::sw,
       {F::suite, F::IDc, F::IDss, F::Rand, F::Authenticator_c, F::EKc, F::EKss}},
      {"d4", Flow::direct, 4, Role::sw, Role::term,
       {F::suite, F::IDc, F::IDss, F::N1, F::N2, F::TS2, F::Rand, F::SecMechReq}},
      {"d5", Flow::direct, 5, Role::term, Role::sw,
       {F::suite, F::IDc, F::IDss, F::N1, F::N2, F::TS3, F::Rand, F::Authenticator_c, F::SecMechList, F::IPc}},
      {"d6", Flow::direct, 6, Role::sw, Role::term,
       {F::suite, F::IDc, F::IDss, F::N1, F::N2, F::TS4, F::EKc, F::SecMechList, F::SecMech, F::MAC}},
      {"d7", Flow::direct, 7, Role::sw, Role::auc, {F::suite, F::IDc, F::IDss, F::Rand, F::IPc}},
  };
  return rows;
}

const std::vector<Field>& all_fields() {
  static const std::vector<Field> f = {
      F::suite, F::IDc, F::IDsp, F::IDss, F::N1, F::N2, F::TS1, F::TS2, F::TS3, F::TS4,
      F::Rand, F::Authenticator_c, F::EKc, F::EKsp, F::EKss, F::SecMechReq, F::SecMechList,
      F::SecMech, F::IPc, F::MAC};
  return f;
}

// Sizes per suite, from the suite definitions of kd-protocol(7): auth and MAC are half the digest
// (16, 24, 16 bytes); a sealed key is a 12-byte nonce, the key (16, 32, 16) and a 16-byte tag.
struct SuiteSizes {
  const char* name;
  std::size_t auth, mac, sealed;
};
const SuiteSizes kAes128{"KD-AES128GCM-SHA256", 16, 16, 12 + 16 + 16};
const SuiteSizes kAes256{"KD-AES256GCM-SHA384", 24, 24, 12 + 32 + 16};
const SuiteSizes kSm4{"KD-SM4GCM-SM3", 16, 16, 12 + 16 + 16};

void set_valid(Message& m, Field f, const SuiteSizes& s) {
  switch (f) {
    case F::suite: m.suite = s.name; break;
    case F::IDc: m.IDc = "alice@example.org"; break;
    case F::IDsp: m.IDsp = "sbc1.example.org"; break;
    case F::IDss: m.IDss = "ss1.example.org"; break;
    case F::N1: m.N1 = Bytes(16, 0x11); break;
    case F::N2: m.N2 = Bytes(16, 0x22); break;
    case F::TS1: m.TS1 = 1700000000; break;
    case F::TS2: m.TS2 = 1700000001; break;
    case F::TS3: m.TS3 = 1700000002; break;
    case F::TS4: m.TS4 = 1700000003; break;
    case F::Rand: m.Rand = Bytes(16, 0x33); break;
    case F::Authenticator_c: m.Authenticator_c = Bytes(s.auth, 0x44); break;
    case F::EKc: m.EKc = Bytes(s.sealed, 0x55); break;
    case F::EKsp: m.EKsp = Bytes(s.sealed, 0x66); break;
    case F::EKss: m.EKss = Bytes(s.sealed, 0x77); break;
    case F::SecMechReq: m.SecMechReq = true; break;
    case F::SecMechList: m.SecMechList = kd::msg::MechList{{"tls", 1000}, {"ipsec-3gpp", 500}}; break;
    case F::SecMech: m.SecMech = "tls"; break;
    case F::IPc: m.IPc = "192.0.2.10:5060"; break;
    case F::MAC: m.MAC = Bytes(s.mac, 0x88); break;
  }
}

void clear_field(Message& m, Field f) {
  kd::msg::for_each_field(m, [&](Field g, auto& slot) {
    if (g == f) slot.reset();
  });
}

Message valid(const StepRow& row, const SuiteSizes& s = kAes128) {
  Message m;
  m.flow = row.flow;
  m.step = row.step;
  for (Field f : row.fields) set_valid(m, f, s);
  return m;
}

const StepRow& row(std::string_view name) {
  for (const auto& r : steps())
    if (r.name == name) return r;
  throw std::logic_error("no such step in the test table");
}

bool has(const StepRow& r, Field f) { return std::find(r.fields.begin(), r.fields.end(), f) != r.fields.end(); }

#define EXPECT_CODE(status, want)                                         \
  do {                                                                    \
    auto st_ = (status);                                                  \
    ASSERT_FALSE(st_.ok()) << "accepted, expected " << kd::code_name(want); \
    EXPECT_EQ(kd::code_name(st_.error().code), kd::code_name(want)) << st_.error().detail; \
  } while (0)

// ---- the step table -----------------------------------------------------------------------

TEST(StepTable, EveryStepHasTheDocumentedNameDirectionAndFields) {
  ASSERT_EQ(kd::msg::all_steps().size(), steps().size());
  for (const auto& r : steps()) {
    const auto* spec = kd::msg::find_step(r.flow, r.step);
    ASSERT_NE(spec, nullptr) << r.name;
    EXPECT_EQ(spec->name, r.name);
    EXPECT_EQ(spec->from, r.from) << r.name;
    EXPECT_EQ(spec->to, r.to) << r.name;
    EXPECT_EQ(std::vector<Field>(spec->fields.begin(), spec->fields.end()), r.fields) << r.name;
    EXPECT_EQ(kd::msg::find_step(r.name), spec) << r.name;
  }
}

TEST(StepTable, FieldNamesAreThePatentsAndRoundTrip) {
  const char* names[] = {"suite", "IDc", "IDsp", "IDss", "N1", "N2", "TS1", "TS2", "TS3", "TS4",
                         "Rand", "Authenticator_c", "EKc", "EKsp", "EKss", "SecMechReq",
                         "SecMechList", "SecMech", "IPc", "MAC"};
  for (std::size_t i = 0; i < all_fields().size(); ++i) {
    EXPECT_EQ(kd::msg::field_name(all_fields()[i]), names[i]);
    EXPECT_EQ(kd::msg::parse_field(names[i]), all_fields()[i]);
  }
  EXPECT_FALSE(kd::msg::parse_field("idc").has_value());
  EXPECT_FALSE(kd::msg::parse_field("").has_value());
}

TEST(StepTable, UnknownStepNumbersAreRefused) {
  const std::pair<Flow, std::uint8_t> bad[] = {
      {Flow::proxied, 0}, {Flow::proxied, 12}, {Flow::direct, 0}, {Flow::direct, 8}};
  for (auto [flow, n] : bad) {
    Message m = valid(row("s3"));
    m.flow = flow;
    m.step = n;
    EXPECT_CODE(kd::msg::validate(m), Code::unknown_step);
  }
}

// ---- valid messages -----------------------------------------------------------------------

TEST(Validate, AValidMessageOfEveryStepPassesInEverySuite) {
  for (const auto& s : {kAes128, kAes256, kSm4})
    for (const auto& r : steps()) {
      auto st = kd::msg::validate(valid(r, s));
      EXPECT_TRUE(st.ok()) << r.name << " " << s.name << ": " << (st.ok() ? "" : st.error().detail);
    }
}

// ---- presence -----------------------------------------------------------------------------

TEST(Validate, EachMissingFieldOfEachStepIsMissingField) {
  for (const auto& r : steps())
    for (Field f : r.fields) {
      Message m = valid(r);
      clear_field(m, f);
      auto st = kd::msg::validate(m);
      ASSERT_FALSE(st.ok()) << r.name << " without " << kd::msg::field_name(f);
      EXPECT_EQ(st.error().code, Code::missing_field) << r.name << " without " << kd::msg::field_name(f);
    }
}

TEST(Validate, EachFieldThatDoesNotBelongInAStepIsMalformed) {
  for (const auto& r : steps())
    for (Field f : all_fields()) {
      if (has(r, f)) continue;
      Message m = valid(r);
      set_valid(m, f, kAes128);
      auto st = kd::msg::validate(m);
      ASSERT_FALSE(st.ok()) << r.name << " with " << kd::msg::field_name(f);
      EXPECT_EQ(st.error().code, Code::malformed) << r.name << " with " << kd::msg::field_name(f);
    }
}

// ---- lengths ------------------------------------------------------------------------------

TEST(Validate, NoncesAndRandMustBeExactly16Bytes) {
  for (const auto& r : steps())
    for (Field f : {F::N1, F::N2, F::Rand}) {
      if (!has(r, f)) continue;
      for (std::size_t n : {std::size_t{0}, std::size_t{15}, std::size_t{17}, std::size_t{32}}) {
        Message m = valid(r);
        (f == F::N1 ? m.N1 : f == F::N2 ? m.N2 : m.Rand) = Bytes(n, 0x01);
        auto st = kd::msg::validate(m);
        ASSERT_FALSE(st.ok()) << r.name << " " << kd::msg::field_name(f) << " of " << n;
        EXPECT_EQ(st.error().code, Code::bad_length) << r.name << " " << kd::msg::field_name(f) << " of " << n;
      }
    }
}

TEST(Validate, SuiteSizedFieldsOfAnotherSuiteAreBadLength) {
  // A field the right size for AES-128 is the wrong size for AES-256 and the other way round.
  struct C {
    const char* step;
    Field f;
  };
  for (auto [step, f] : {C{"s4", F::Authenticator_c}, C{"s4", F::EKc}, C{"s4", F::EKsp}, C{"d3", F::EKss},
                         C{"s7", F::Authenticator_c}, C{"s8", F::Authenticator_c}, C{"s9", F::EKc},
                         C{"s10", F::MAC}, C{"d6", F::MAC}, C{"d6", F::EKc}}) {
    for (auto [msg_suite, field_suite] : {std::pair{kAes128, kAes256}, std::pair{kAes256, kAes128}}) {
      Message m = valid(row(step), msg_suite);
      set_valid(m, f, field_suite);
      m.suite = msg_suite.name;
      auto st = kd::msg::validate(m);
      ASSERT_FALSE(st.ok()) << step << " " << kd::msg::field_name(f) << " in " << msg_suite.name;
      EXPECT_EQ(st.error().code, Code::bad_length) << step << " " << kd::msg::field_name(f);
    }
  }
}

TEST(Validate, SealedKeyOneByteShortOrLongIsBadLength) {
  for (int delta : {-1, +1}) {
    Message m = valid(row("s4"));
    m.EKc = Bytes(static_cast<std::size_t>(44 + delta), 0x55);
    EXPECT_CODE(kd::msg::validate(m), Code::bad_length);
    Message d = valid(row("d3"));
    d.EKss = Bytes(static_cast<std::size_t>(44 + delta), 0x77);
    EXPECT_CODE(kd::msg::validate(d), Code::bad_length);
  }
}

TEST(Validate, MacShorterThanTheSuitesIsBadLength) {
  Message m = valid(row("s10"));
  m.MAC = Bytes(8, 0x88);
  EXPECT_CODE(kd::msg::validate(m), Code::bad_length);
  m.MAC = Bytes{};
  EXPECT_CODE(kd::msg::validate(m), Code::bad_length);
}

// What an encoder takes (kd-decode --encode): a byte field of any size from 1 to 64 bytes, so a
// tampered size reaches the wire; 0 and 65 bytes are still bad_length, and everything else is checked.
TEST(Validate, LooseSizesTakeOneTo64BytesAndCheckTheRest) {
  using kd::msg::Sizes;
  Message m = valid(row("s10"));
  for (std::size_t n : {1u, 8u, 17u, 64u}) {
    m.MAC = Bytes(n, 0x88);
    EXPECT_CODE(kd::msg::validate(m), Code::bad_length);
    EXPECT_TRUE(kd::msg::validate(m, Sizes::loose).ok()) << n;
  }
  for (std::size_t n : {0u, 65u}) {
    m.MAC = Bytes(n, 0x88);
    EXPECT_CODE(kd::msg::validate(m, Sizes::loose), Code::bad_length);
  }
  Message s = valid(row("s1"));
  s.N1 = Bytes(15, 1);
  EXPECT_TRUE(kd::msg::validate(s, Sizes::loose).ok());
  s.IDc = "al ice";
  EXPECT_CODE(kd::msg::validate(s, Sizes::loose), Code::malformed);
}

TEST(Validate, TimestampAboveInt64MaxIsBadLength) {
  Message m = valid(row("s1"));
  m.TS1 = 0x7fffffffffffffffULL;
  EXPECT_TRUE(kd::msg::validate(m).ok());
  m.TS1 = 0x8000000000000000ULL;
  EXPECT_CODE(kd::msg::validate(m), Code::bad_length);
}

// ---- suite --------------------------------------------------------------------------------

TEST(Validate, UnknownSuiteIsUnknownSuite) {
  for (const char* name : {"KD-AES128GCM-SHA1", "kd-aes128gcm-sha256", "", "KD-AES128GCM-SHA256 "}) {
    Message m = valid(row("s3"));
    m.suite = name;
    EXPECT_CODE(kd::msg::validate(m), Code::unknown_suite);
  }
}

// ---- identities ---------------------------------------------------------------------------

TEST(Validate, IdentityOfOneTo64AllowedCharactersPasses) {
  Message m = valid(row("s3"));
  m.IDc = "a";
  EXPECT_TRUE(kd::msg::validate(m).ok());
  m.IDc = std::string(64, 'x');
  EXPECT_TRUE(kd::msg::validate(m).ok());
  m.IDc = "Az09._@+-";
  EXPECT_TRUE(kd::msg::validate(m).ok());
}

TEST(Validate, EmptyOrOverlongIdentityIsBadLength) {
  for (Field f : {F::IDc, F::IDsp}) {
    for (const std::string& id : {std::string(), std::string(65, 'x')}) {
      Message m = valid(row("s3"));
      (f == F::IDc ? m.IDc : m.IDsp) = id;
      EXPECT_CODE(kd::msg::validate(m), Code::bad_length);
    }
  }
  Message d = valid(row("d2"));
  d.IDss = std::string(65, 'x');
  EXPECT_CODE(kd::msg::validate(d), Code::bad_length);
}

TEST(Validate, IdentityWithForbiddenCharacterIsMalformed) {
  for (const char* id : {"alice bob", "alice\"", "alice/x", "al\nice", "alice:1", "caf\xc3\xa9"}) {
    Message m = valid(row("s3"));
    m.IDc = id;
    EXPECT_CODE(kd::msg::validate(m), Code::malformed);
    Message d = valid(row("d2"));
    d.IDss = id;
    EXPECT_CODE(kd::msg::validate(d), Code::malformed);
  }
}

// ---- mechanisms ---------------------------------------------------------------------------

TEST(Validate, DuplicateMechanismIsMalformed) {
  Message m = valid(row("s7"));
  m.SecMechList = kd::msg::MechList{{"tls", 1000}, {"ipsec-ike", 500}, {"tls", 100}};
  EXPECT_CODE(kd::msg::validate(m), Code::malformed);
}

// With several faults, the one named is the first in the documented order: fields in table
// order (suite, IDc, ..., MAC), then the values in the order of kd-protocol(7), and in a
// mechanism list the first bad entry.
TEST(Validate, TheFirstFaultInOrderIsTheOneNamed) {
  auto detail = [](const Message& m) {
    auto st = kd::msg::validate(m);
    return st ? std::string("valid") : st.error().detail;
  };
  Message m = valid(row("s7"));
  clear_field(m, F::IPc);
  clear_field(m, F::N2);
  EXPECT_EQ(detail(m), "s7 needs N2");
  m = valid(row("s7"));
  clear_field(m, F::IPc);
  m.EKc = Bytes(44, 1);
  EXPECT_EQ(detail(m), "EKc does not belong in s7");
  m = valid(row("s7"));
  m.IDsp = "bad id";
  m.N1 = Bytes(3, 1);
  m.IPc = "x";
  EXPECT_EQ(detail(m), "IDsp may hold only letters, digits and ._@+-");
  m.IDsp = "sbc1";
  EXPECT_EQ(detail(m), "N1 is 3 bytes, expected 16");
  m.N1 = Bytes(16, 1);
  m.SecMechList = kd::msg::MechList{{"tls", 1000}, {"tls", 5}, {"Bad", 1001}};
  EXPECT_EQ(detail(m), "SecMechList names tls twice");
  m.SecMechList = kd::msg::MechList{{"tls", 1000}, {"ike", 1001}, {"tls", 5}};
  EXPECT_EQ(detail(m), "a mechanism's q must be 0 to 1000");
  m.SecMechList = kd::msg::MechList{{"tls", 1000}, {"ike", 100}};
  EXPECT_EQ(detail(m), "IPc must be an IPv4 or IPv6 address, optionally with a port");
  m.IPc = "192.0.2.1";
  EXPECT_EQ(detail(m), "valid");
}

TEST(Validate, SixteenMechanismsPassSeventeenAreBadLength) {
  Message m = valid(row("s7"));
  kd::msg::MechList l;
  for (int i = 0; i < 16; ++i) {  // appended, not added: GCC 12 -O3 false -Werror=restrict
    std::string name = "m";
    name += std::to_string(i);
    l.push_back({name, 500});
  }
  m.SecMechList = l;
  EXPECT_TRUE(kd::msg::validate(m).ok());
  l.push_back({"m16", 500});
  m.SecMechList = l;
  EXPECT_CODE(kd::msg::validate(m), Code::bad_length);
}

TEST(Validate, EmptyMechanismListIsBadLength) {
  Message m = valid(row("s10"));
  m.SecMechList = kd::msg::MechList{};
  EXPECT_CODE(kd::msg::validate(m), Code::bad_length);
}

TEST(Validate, QAbove1000IsBadLength) {
  Message m = valid(row("s7"));
  m.SecMechList = kd::msg::MechList{{"tls", 1000}, {"kd-app", 0}};
  EXPECT_TRUE(kd::msg::validate(m).ok());
  m.SecMechList = kd::msg::MechList{{"tls", 1001}};
  EXPECT_CODE(kd::msg::validate(m), Code::bad_length);
}

TEST(Validate, MechanismNamesAreLowercaseAlnumAndDashOfAtMost32) {
  Message m = valid(row("s7"));
  m.SecMechList = kd::msg::MechList{{std::string(32, 'a'), 1000}};
  EXPECT_TRUE(kd::msg::validate(m).ok());
  m.SecMechList = kd::msg::MechList{{std::string(33, 'a'), 1000}};
  EXPECT_CODE(kd::msg::validate(m), Code::bad_length);
  m.SecMechList = kd::msg::MechList{{"", 1000}};
  EXPECT_CODE(kd::msg::validate(m), Code::bad_length);
  for (const char* bad : {"TLS", "ipsec_ike", "tls ", "t.s"}) {
    m.SecMechList = kd::msg::MechList{{bad, 1000}};
    EXPECT_CODE(kd::msg::validate(m), Code::malformed);
    Message s10 = valid(row("s10"));
    s10.SecMech = bad;
    EXPECT_CODE(kd::msg::validate(s10), Code::malformed);
  }
}

// ---- the rest -----------------------------------------------------------------------------

TEST(Validate, SecMechReqFalseIsMalformed) {
  Message m = valid(row("s6"));
  m.SecMechReq = false;
  EXPECT_CODE(kd::msg::validate(m), Code::malformed);
}

TEST(Validate, ContactAddressForms) {
  Message m = valid(row("s1"));
  for (const char* ok : {"192.0.2.10", "192.0.2.10:5060", "[2001:db8::1]:5060", "2001:DB8::1"}) {
    m.IPc = ok;
    EXPECT_TRUE(kd::msg::validate(m).ok()) << ok;
  }
  m.IPc = "";
  EXPECT_CODE(kd::msg::validate(m), Code::bad_length);
  m.IPc = std::string(65, '1');
  EXPECT_CODE(kd::msg::validate(m), Code::bad_length);
  for (const char* bad : {"host.example.org", "192.0.2.10 ", "192.0.2.10/24"}) {
    m.IPc = bad;
    EXPECT_CODE(kd::msg::validate(m), Code::malformed);
  }
}

// ---- canonical encoding -------------------------------------------------------------------

std::string rep_hex(std::string_view byte_hex, int n) {
  std::string s;
  for (int i = 0; i < n; ++i) s += byte_hex;
  return s;
}

// "KD1" || flow || step || (tag u8, length u16 BE, value) in tag order; written out by hand.
TEST(Canonical, SmallMessageBytesByHand) {
  Message m;
  m.flow = Flow::proxied;
  m.step = 3;
  m.suite = "KD-AES128GCM-SHA256";
  m.IDc = "a";
  m.IDsp = "bc";
  const std::string want =
      "4b4431" "01" "03"
      "01" "0013" "4b442d41455331323847434d2d534841323536"  // suite, 19 bytes
      "02" "0001" "61"                                      // IDc "a"
      "03" "0002" "6263";                                   // IDsp "bc"
  EXPECT_EQ(kd::to_hex(kd::msg::canonical(m)), want);
}

// A success message with every kind of value: u64 timestamp, byte strings, the mechanism list
// (name length u8, name, q u16 per entry), a string, and the MAC last.
Message success_message() {
  Message m;
  m.flow = Flow::proxied;
  m.step = 10;
  m.suite = "KD-AES128GCM-SHA256";
  m.IDc = "a";
  m.IDsp = "b";
  m.N1 = Bytes(16, 0x11);
  m.N2 = Bytes(16, 0x22);
  m.TS4 = 0x0102030405060708ULL;
  m.EKc = Bytes(44, 0x33);
  m.SecMechList = kd::msg::MechList{{"tls", 1000}, {"kd-app", 0}};
  m.SecMech = "tls";
  m.MAC = Bytes(16, 0x44);
  return m;
}

const std::string kSuccessWithoutMac =
    "4b4431" "01" "0a"
    "01" "0013" "4b442d41455331323847434d2d534841323536"
    "02" "0001" "61"
    "03" "0001" "62"
    "05" "0010" + rep_hex("11", 16) +
    "06" "0010" + rep_hex("22", 16) +
    "0a" "0008" "0102030405060708"
    "0d" "002c" + rep_hex("33", 44) +
    "11" "000f" "03" "746c73" "03e8" "06" "6b642d617070" "0000"
    "12" "0003" "746c73";

TEST(Canonical, SuccessMessageBytesByHand) {
  EXPECT_EQ(kd::to_hex(kd::msg::canonical(success_message())),
            kSuccessWithoutMac + "14" "0010" + rep_hex("44", 16));
}

TEST(Canonical, WithoutMacDropsOnlyTheMacTlv) {
  EXPECT_EQ(kd::to_hex(kd::msg::canonical(success_message(), false)), kSuccessWithoutMac);
}

TEST(Canonical, SecMechReqIsOneByteOne) {
  Message m;
  m.flow = Flow::direct;
  m.step = 4;
  m.SecMechReq = true;
  EXPECT_EQ(kd::to_hex(kd::msg::canonical(m)), "4b4431" "02" "04" "10" "0001" "01");
}

TEST(Canonical, MacIndependentChangesChangeTheEncoding) {
  // Each of these is covered by the MAC, so each must change the bytes the MAC is computed over.
  const Bytes base = kd::msg::canonical(success_message(), false);
  Message q = success_message();
  q.SecMechList->at(1).q = 1;
  EXPECT_NE(kd::msg::canonical(q, false), base);
  Message order = success_message();
  std::swap(order.SecMechList->at(0), order.SecMechList->at(1));
  EXPECT_NE(kd::msg::canonical(order, false), base);
  Message flow = success_message();
  flow.flow = Flow::direct;
  EXPECT_NE(kd::msg::canonical(flow, false), base);
  Message mac = success_message();
  mac.MAC = Bytes(16, 0x45);
  EXPECT_EQ(kd::msg::canonical(mac, false), base);
}

}  // namespace
