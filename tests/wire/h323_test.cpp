// The H.323 RAS binding (lib/wire/h323.hpp): every RAS step of both flows in every suite travels
// and comes back exactly and re-encodes byte for byte; the PER is checked bit by bit against
// encodings derived by hand from X.691; RAS messages from other peers (extension additions,
// elements kd never writes) decode; broken and hostile input is refused with its code.
#include <gtest/gtest.h>

#include <cstdlib>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include "flows.hpp"
#include "round_trip.hpp"
#include "wire/codec.hpp"
#include "wire/h323.hpp"

namespace {

using kd::Bytes;
using kd::Code;
using kd::msg::Flow;
using kd::msg::Message;

const kd::wire::Codec& h323() {
  static const auto c = kd::wire::make_codec(kd::wire::Binding::h323);
  return *c;
}

const Message& msg_of(std::string_view step) { return kd::wiretest::step_message(step); }

Bytes wire_of(std::string_view step) {
  auto b = h323().encode(msg_of(step));
  EXPECT_TRUE(b.ok()) << (b ? "" : b.error().detail);
  return b ? *b : Bytes{};
}

// A hand-written PER bit string: bits as '0'/'1' text (spaces ignored), numbers of a stated width,
// octet alignment and whole octets.
class Bits {
public:
  Bits& b(std::string_view s) {
    for (char c : s)
      if (c == '0' || c == '1') push(c == '1');
    return *this;
  }
  Bits& num(unsigned v, unsigned width) {
    for (unsigned i = width; i-- > 0;) push(((v >> i) & 1) != 0);
    return *this;
  }
  Bits& align() {
    while (n_ % 8 != 0) push(false);
    return *this;
  }
  Bits& octets(const Bytes& v) {
    align();
    for (auto x : v) num(x, 8);
    return *this;
  }
  Bits& text16(std::string_view s) {  // BMPString characters
    align();
    for (char c : s) num(static_cast<unsigned char>(c), 16);
    return *this;
  }
  Bytes done() {
    align();
    return out_;
  }

private:
  void push(bool bit) {
    if (n_ % 8 == 0) out_.push_back(0);
    if (bit) out_.back() = static_cast<std::uint8_t>(out_.back() | (0x80 >> (n_ % 8)));
    ++n_;
  }
  Bytes out_;
  std::size_t n_ = 0;
};

const Bytes kProtocolOid{0x00, 0x08, 0x91, 0x4a, 0x00, 0x04};          // 0.0.8.2250.0.4
const Bytes kKdOid{0x2b, 0x06, 0x01, 0x04, 0x01, 0x81, 0xfd, 0x59, 0x01};  // 1.3.6.1.4.1.32473.1

// nonStandardData with kd's object identifier around the KD data (X.691 by hand: CHOICE root bit,
// 1-bit index, aligned length octets, contents).
Bits& kd_nonstandard(Bits& x, const Bytes& data) {
  x.b("0").b("0");  // nonStandardIdentifier: root alternative, object (index 0 of 2)
  x.align().num(9, 8).octets(kKdOid);
  x.align();
  if (data.size() < 128) x.num(static_cast<unsigned>(data.size()), 8);
  else x.b("10").num(static_cast<unsigned>(data.size()), 14);  // two-octet length (11.9.3.7)
  return x.octets(data);
}

// A GRQ as another peer might write it, carrying the KD data of `m`: extension additions, a
// dialledDigits alias, an IPv6 rasAddress, a vendor and a gateway, callServices.
Bytes foreign_grq(const Message& m) {
  Bits x;
  x.b("0 00000");  // RasMessage root, gatekeeperRequest
  x.b("1 1111");   // extensions follow; nonStandardData, gatekeeperIdentifier, callServices, endpointAlias
  x.align().num(4711 - 1, 16);
  x.num(6, 8).octets(kProtocolOid);
  kd_nonstandard(x, kd::msg::canonical(m));
  // rasAddress: ip6Address (index 3 of 7) with its extension bit 0
  x.b("0 011 0").octets({0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10}).num(1719, 16);
  // endpointType: extension bit 1; vendor, gateway and terminal present
  x.b("1 010101");
  x.b("0 10 0").align().num(181, 8).num(0, 8).num(0x1234, 16);  // vendor: productId only, USA
  x.num(3 - 1, 8).octets({'p', 'b', 'x'});
  // gateway: protocol (one voice caps with no nonStandardData), no nonStandardData
  x.b("0 10").align().num(1, 8).b("0 0111 0 0");
  x.b("0 0");      // terminal
  x.b("0 1");      // mc FALSE, undefinedNode TRUE
  x.b("0 000001 01");  // EndpointType extension bit-map: 2 additions, the second (supportedTunnelledProtocols) present
  x.align().num(1, 8).num(0x00, 8);  // its open type: an empty SEQUENCE OF, opaque to kd
  x.num(5 - 1, 7).text16("gk-01");                 // gatekeeperIdentifier
  x.b("0 1010101 0 11 0");                         // callServices: Q-series booleans, Q954Details
  // endpointAlias: dialledDigits "12#" (4-bit characters, 27.5.4 indexes in "#*,0123456789") and h323-ID
  x.align().num(2, 8);
  x.b("0 0").num(3 - 1, 7).align().b("0100 0101 0000");
  x.b("0 1").align().num(3 - 1, 8).text16("bob");
  // the GRQ's extension bit-map: 14 additions, tokens (2nd) and supportsAltGK (8th) present
  x.b("0 001101").b("01000001 000000");
  x.align().num(1, 8).num(0x00, 8);  // tokens: an empty SEQUENCE OF, as an open type
  x.align().num(1, 8).num(0x00, 8);  // supportsAltGK NULL: one zero octet
  return x.done();
}

// ---- mapping and round trips -----------------------------------------------------------------

TEST(H323, CarriesTheRasStepsOnlyOnPort1719) {
  for (const auto& s : kd::msg::all_steps()) {
    const bool auc = s.from == kd::msg::Role::auc || s.to == kd::msg::Role::auc;
    EXPECT_EQ(h323().carries(s), !auc) << s.name;
    // A step a binding does not carry has no ports (the binding table's {0, 0}).
    const std::uint16_t port = auc ? 0 : 1719;
    EXPECT_EQ(h323().ports(s), (std::pair<std::uint16_t, std::uint16_t>{port, port})) << s.name;
  }
}

TEST(H323, RefusesToEncodeTheAucLink) {
  for (auto step : {"s3", "s4", "s11", "d2", "d3", "d7"}) {
    auto r = h323().encode(msg_of(step));
    ASSERT_FALSE(r.ok()) << step;
    EXPECT_EQ(r.error().code, Code::unknown_step) << step;
  }
}

TEST(H323, RefusesToEncodeAnInvalidMessage) {
  Message m = msg_of("s7");
  m.IDc.reset();
  auto r = h323().encode(m);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Code::missing_field);
}

class H323RoundTrip : public ::testing::TestWithParam<std::tuple<std::string, Flow>> {};

TEST_P(H323RoundTrip, EveryStepTravelsExactlyAndReencodesByteForByte) {
  const kd::crypto::Suite* suite = kd::crypto::find_suite(std::get<0>(GetParam()));
  ASSERT_NE(suite, nullptr);
  std::string why;
  auto msgs = kd::wiretest::run_flow(*suite, std::get<1>(GetParam()), &why);
  ASSERT_FALSE(msgs.empty()) << why;
  int carried = 0;
  for (const auto& m : msgs) {
    const auto& spec = kd::msg::spec_of(m);
    if (!h323().carries(spec)) continue;
    ++carried;
    auto wire = h323().encode(m);
    ASSERT_TRUE(wire.ok()) << spec.name << ": " << wire.error().detail;
    auto back = h323().decode(*wire);
    ASSERT_TRUE(back.ok()) << spec.name << ": " << back.error().detail;
    EXPECT_EQ(*back, m) << spec.name;
    auto again = h323().encode(*back);
    ASSERT_TRUE(again.ok()) << spec.name;
    EXPECT_EQ(*again, *wire) << spec.name;
    auto twice = h323().encode(m);
    ASSERT_TRUE(twice.ok());
    EXPECT_EQ(*twice, *wire) << spec.name << ": encoding is not a pure function";
  }
  EXPECT_EQ(carried, std::get<1>(GetParam()) == Flow::proxied ? 8 : 4);
}

std::vector<std::string> suite_names() {
  std::vector<std::string> out;
  for (const auto& s : kd::crypto::all_suites()) out.emplace_back(s.name);
  return out;
}

INSTANTIATE_TEST_SUITE_P(AllSuitesBothFlows, H323RoundTrip,
                         ::testing::Combine(::testing::ValuesIn(suite_names()),
                                            ::testing::Values(Flow::proxied, Flow::direct)));

TEST(H323, ContactAddressesOfEveryFormRoundTrip) {
  for (std::string contact : {"192.0.2.10", "198.51.100.7:5070", "[2001:db8::10]:5060", "2001:db8::10",
                              "[2001:db8::10]", "abc.def", "1.2.3.4.5"}) {
    std::string why;
    auto msgs = kd::wiretest::run_flow(kd::crypto::default_suite(), Flow::direct, &why, contact);
    ASSERT_FALSE(msgs.empty()) << contact << ": " << why;
    for (const auto& m : msgs) {
      if (!h323().carries(kd::msg::spec_of(m))) continue;
      auto wire = h323().encode(m);
      ASSERT_TRUE(wire.ok()) << contact;
      auto back = h323().decode(*wire);
      ASSERT_TRUE(back.ok()) << contact << ": " << back.error().detail;
      EXPECT_EQ(*back, m) << contact;
    }
  }
}

TEST(H323, Ipv6ContactsBecomeIp6Addresses) {
  std::string why;
  auto msgs = kd::wiretest::run_flow(kd::crypto::default_suite(), Flow::direct, &why, "[2001:db8::10]:5070");
  ASSERT_FALSE(msgs.empty()) << why;
  auto wire = h323().encode(msgs.front());  // d1, a GRQ
  ASSERT_TRUE(wire.ok());
  const Bytes data = kd::msg::canonical(msgs.front());
  // After the KD data (which ends aligned): rasAddress = root bit, ip6Address "011", its extension
  // bit, padding, the 16 octets and port 1719.
  Bits x;
  x.b("0 011 0").octets({0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10}).num(1719, 16);
  const Bytes want = x.done();
  auto at = std::search(wire->begin(), wire->end(), data.begin(), data.end());
  ASSERT_NE(at, wire->end());
  EXPECT_TRUE(std::equal(want.begin(), want.end(), at + static_cast<std::ptrdiff_t>(data.size())));
}

TEST(H323, RequestsAndTheirAnswersShareTheRequestSeqNum) {
  using kd::wire::h323::request_seq_num;
  for (auto [req, ans] : {std::pair{"s1", "s6"}, {"s2", "s5"}, {"s7", "s10"}, {"s8", "s9"}, {"d1", "d4"},
                          {"d5", "d6"}})
    EXPECT_EQ(request_seq_num(msg_of(req)), request_seq_num(msg_of(ans))) << req << "/" << ans;
  EXPECT_NE(request_seq_num(msg_of("s1")), request_seq_num(msg_of("s2")));
  EXPECT_NE(request_seq_num(msg_of("s1")), request_seq_num(msg_of("s7")));
  // The answer's bytes hold it where the request's do: octets 2-3 (n - 1).
  const Bytes grq = wire_of("d1"), grj = wire_of("d4");
  EXPECT_EQ(grq[2], grj[2]);
  EXPECT_EQ(grq[3], grj[3]);
}

// ---- hand-derived PER fixtures ------------------------------------------------------------------

// d4 as X.691 (aligned) says a GatekeeperReject must be, derived field by field by hand.
TEST(H323Per, GatekeeperRejectIsExactlyTheHandDerivedBits) {
  const Message& m = msg_of("d4");
  const unsigned seq = kd::wire::h323::request_seq_num(m);
  Bits x;
  x.b("0");      // RasMessage: a root alternative (22.5)
  x.b("00010");  // gatekeeperReject: index 2 of 25, a 5-bit field (11.5.7.2)
  x.b("0");      // GatekeeperReject: no extension additions (19.1)
  x.b("11");     // preamble: nonStandardData, gatekeeperIdentifier present (19.2)
  x.align().num(seq - 1, 16);  // requestSeqNum (1..65535): range 65535, two aligned octets (11.5.7.3)
  x.num(6, 8).octets(kProtocolOid);  // OBJECT IDENTIFIER: a length octet, BER contents (24)
  kd_nonstandard(x, kd::msg::canonical(m));
  x.num(15 - 1, 7).text16("ss1.example.org");  // GatekeeperIdentifier (SIZE (1..128)): 7-bit length, aligned
  x.b("1");        // rejectReason: an extension alternative (23.8)
  x.b("0 000000");  // normally small number 0: securityDenial, the first addition (11.6)
  x.align().num(1, 8).num(0, 8);  // open type: length 1, NULL padded to one zero octet (10.1.3)
  const Bytes want = x.done();
  const Bytes got = wire_of("d4");
  EXPECT_EQ(kd::to_hex(got), kd::to_hex(want));
  // The first octets, spelled out: 0 00010 0 1 | 1 + padding.
  ASSERT_GE(got.size(), 2u);
  EXPECT_EQ(got[0], 0x09);
  EXPECT_EQ(got[1], 0x80);
}

TEST(H323Per, RegistrationConfirmIsExactlyTheHandDerivedBits) {
  const Message& m = msg_of("s10");
  Bits x;
  x.b("0 00100 0 111");  // RasMessage root, registrationConfirm (4); nonStandardData, terminalAlias, gatekeeperIdentifier
  x.align().num(kd::wire::h323::request_seq_num(m) - 1, 16);
  x.num(6, 8).octets(kProtocolOid);
  kd_nonstandard(x, kd::msg::canonical(m));
  // callSignalAddress: a count octet, then ipAddress (index 0 of 7) 192.0.2.1:1720
  x.align().num(1, 8).b("0 000").octets({192, 0, 2, 1}).num(1720, 16);
  // terminalAlias: one h323-ID; BMPString (SIZE (1..256)): its length is one aligned octet (11.5.7.2)
  x.align().num(1, 8).b("0 1").align().num(19 - 1, 8).text16("alice+1@example.org");
  x.num(16 - 1, 7).text16("sbc1.example.org");
  x.num(16 - 1, 7).text16(kd::wire::h323::endpoint_identifier(m));
  EXPECT_EQ(kd::to_hex(wire_of("s10")), kd::to_hex(x.done()));
}

TEST(H323Per, RegistrationRequestEnvelopeIsExactlyTheHandDerivedBits) {
  const Message& m = msg_of("d5");  // IPc 192.0.2.10:5060
  Bits x;
  x.b("0 00011 0 111");  // registrationRequest (3); nonStandardData, terminalAlias, gatekeeperIdentifier
  x.align().num(kd::wire::h323::request_seq_num(m) - 1, 16);
  x.num(6, 8).octets(kProtocolOid);
  kd_nonstandard(x, kd::msg::canonical(m));
  x.b("1");  // discoveryComplete TRUE
  x.align().num(1, 8).b("0 000").octets({192, 0, 2, 10}).num(5060, 16);  // callSignalAddress
  x.align().num(1, 8).b("0 000").octets({192, 0, 2, 10}).num(1719, 16);  // rasAddress
  x.b("0 000001 0 0 0 0");  // terminalType: terminal only; TerminalInfo empty; mc, undefinedNode FALSE
  x.align().num(1, 8).b("0 1").align().num(19 - 1, 8).text16("alice+1@example.org");
  x.num(15 - 1, 7).text16("ss1.example.org");
  // endpointVendor: no extensions, productId and versionId; H221NonStandard 0/0/0 (aligned octets)
  x.b("0 11 0").align().num(0, 8).num(0, 8).num(0, 16);
  x.align().num(2 - 1, 8).octets({'k', 'd'}).num(1 - 1, 8).octets({'1'});
  EXPECT_EQ(kd::to_hex(wire_of("d5")), kd::to_hex(x.done()));
}

// ---- other peers ---------------------------------------------------------------------------------

TEST(H323Decode, AForeignGrqWithExtensionsAndElementsKdNeverWritesDecodes) {
  const Message& m = msg_of("d1");
  auto r = h323().decode(foreign_grq(m));
  ASSERT_TRUE(r.ok()) << r.error().detail;
  EXPECT_EQ(*r, m);
  // h323-tshark.test.sh has Wireshark judge this hand-built message too.
  if (const char* dump = std::getenv("KD_H323_DUMP")) std::cout << dump << kd::to_hex(foreign_grq(m)) << "\n";
}

TEST(H323Decode, AGrqWithoutKdDataIsMissingAField) {
  Bits x;
  x.b("0 00000 0 0000").align().num(0, 16).num(6, 8).octets(kProtocolOid);
  x.b("0 000").octets({192, 0, 2, 50}).num(1719, 16);
  x.b("0 000001 00 00");
  auto r = h323().decode(x.done());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Code::missing_field) << r.error().detail;
}

TEST(H323Decode, ANonStandardDataOfAnotherVendorIsNotKds) {
  Bits x;
  x.b("0 00010 0 10").align().num(7, 16).num(6, 8).octets(kProtocolOid);
  x.b("0 1").b("0").align().num(181, 8).num(0, 8).num(0x1234, 16);  // h221NonStandard
  x.align().num(3, 8).octets({'K', 'D', '1'});
  x.b("0 11");  // rejectReason undefinedReason
  auto r = h323().decode(x.done());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Code::missing_field) << r.error().detail;
}

// ---- refusals -------------------------------------------------------------------------------------

Code code_of(const Bytes& b) {
  auto r = h323().decode(b);
  EXPECT_FALSE(r.ok());
  return r ? Code::malformed : r.error().code;
}

std::string detail_of(const Bytes& b) {
  auto r = h323().decode(b);
  return r ? std::string("(decoded)") : r.error().detail;
}

// The position of the KD data inside an encoded message.
std::size_t kd_data_at(const Bytes& wire) {
  const Bytes magic{'K', 'D', '1'};
  return static_cast<std::size_t>(std::search(wire.begin(), wire.end(), magic.begin(), magic.end()) - wire.begin());
}

TEST(H323Decode, EveryTruncationOfEveryMessageIsMalformed) {
  for (auto step : {"s1", "s2", "s5", "s6", "s7", "s8", "s9", "s10", "d1", "d4", "d5", "d6"}) {
    const Bytes w = wire_of(step);
    for (std::size_t n = 0; n < w.size(); ++n) {
      auto r = h323().decode(Bytes(w.begin(), w.begin() + static_cast<std::ptrdiff_t>(n)));
      ASSERT_FALSE(r.ok()) << step << " cut at " << n;
      EXPECT_EQ(r.error().code, Code::malformed) << step << " cut at " << n << ": " << r.error().detail;
    }
  }
}

TEST(H323Decode, TruncationDetailNamesTheElementAndBit) {
  const Bytes w = wire_of("s10");
  const std::string d = detail_of(Bytes(w.begin(), w.end() - 1));
  EXPECT_NE(d.find("endpointIdentifier at bit "), std::string::npos) << d;
  EXPECT_NE(d.find("truncated"), std::string::npos) << d;
  EXPECT_EQ(detail_of(Bytes{}), "h323: an empty RAS message");
}

TEST(H323Decode, TrailingOctetsAreMalformed) {
  Bytes w = wire_of("s7");
  w.push_back(0);
  EXPECT_EQ(code_of(w), Code::malformed);
  EXPECT_NE(detail_of(w).find("1 octets after the registrationRequest"), std::string::npos) << detail_of(w);
}

TEST(H323Decode, OversizedInputIsRefusedFirst) {
  Bytes w = wire_of("s1");
  w.resize(65537, 0);
  EXPECT_EQ(code_of(w), Code::oversized);
}

TEST(H323Decode, OtherRasMessagesAreUnknownSteps) {
  // gatekeeperConfirm (index 1): 0 00001 ...
  EXPECT_EQ(code_of(Bytes{0x04, 0x00}), Code::unknown_step);
  // unknownMessageResponse (24): 0 11000
  EXPECT_EQ(code_of(Bytes{0x60, 0x00}), Code::unknown_step);
  EXPECT_EQ(detail_of(Bytes{0x60, 0x00}), "h323: unknownMessageResponse carries no KD step");
  // an extension alternative (requestInProgress, addition 0): 1 0000000, then its open type
  EXPECT_EQ(code_of(Bytes{0x80, 0x01, 0x00}), Code::unknown_step);
  // index 25..31 does not exist: 0 11001
  EXPECT_EQ(code_of(Bytes{0x64, 0x00}), Code::malformed);
  EXPECT_EQ(detail_of(Bytes{0x64, 0x00}), "h323: RasMessage at bit 6: value out of its range");
}

TEST(H323Decode, AStepInTheWrongMessageTypeIsMalformed) {
  Bytes w = wire_of("s1");  // a GRQ
  const std::size_t at = kd_data_at(w);
  ASSERT_LT(at + 4, w.size());
  w[at + 4] = 7;  // claims s7, an RRQ step
  EXPECT_EQ(code_of(w), Code::malformed);
  EXPECT_NE(detail_of(w).find("s7 does not travel in a gatekeeperRequest"), std::string::npos) << detail_of(w);
  w[at + 4] = 3;  // s3: the AuC link
  EXPECT_EQ(code_of(w), Code::unknown_step);
  w[at + 4] = 12;  // no such step
  EXPECT_EQ(code_of(w), Code::unknown_step);
  w[at + 4] = 1;
  w[at + 3] = 3;  // no such flow
  EXPECT_EQ(code_of(w), Code::unknown_step);
}

TEST(H323Decode, BrokenKdDataIsRefusedWithItsCode) {
  const Bytes good = wire_of("s6");
  const std::size_t at = kd_data_at(good);
  Bytes w = good;
  w[at] = 'X';  // not "KD1"
  EXPECT_EQ(code_of(w), Code::malformed);
  w = good;
  w[at + 5] = 2;  // the first tag (suite) becomes a second IDc: out of order
  EXPECT_EQ(code_of(w), Code::malformed);
  EXPECT_NE(detail_of(w).find("is unknown, repeated or out of order"), std::string::npos) << detail_of(w);
  w = good;
  w[at + 8] = 'Z';  // the suite name changes: "ZD-..."
  EXPECT_EQ(code_of(w), Code::unknown_suite);
  w = good;
  w[at + 7] = 0xff;  // the suite's length runs past the data
  EXPECT_EQ(code_of(w), Code::malformed);
}

TEST(H323Decode, AMissingKdFieldIsMissingField) {
  // s6 without SecMechReq (tag 16, the last TLV but none: find it by its 3-octet header 10 00 01 01).
  const Message& m = msg_of("s6");
  Message cut = m;
  cut.SecMechReq.reset();
  Bytes data = kd::msg::canonical(cut);
  Bits x;
  x.b("0 00010 0 11").align().num(kd::wire::h323::request_seq_num(m) - 1, 16).num(6, 8).octets(kProtocolOid);
  kd_nonstandard(x, data);
  x.num(16 - 1, 7).text16("sbc1.example.org").b("0 11");
  auto r = h323().decode(x.done());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Code::missing_field) << r.error().detail;
}

TEST(H323Decode, ProtocolIdentifierMustBeH2250) {
  Bytes w = wire_of("s5");
  ASSERT_EQ(w[5], 0x00);
  w[6] = 0x09;  // 0.0.9.2250...
  EXPECT_EQ(code_of(w), Code::malformed);
  EXPECT_NE(detail_of(w).find("protocolIdentifier"), std::string::npos);
}

TEST(H323Decode, LengthsAndCountsBeyondTheMessageAreMalformed) {
  // An RRQ whose callSignalAddress count (127) exceeds what remains.
  Bits x;
  x.b("0 00011 0 000").align().num(0, 16).num(6, 8).octets(kProtocolOid).b("1").align().num(127, 8);
  EXPECT_EQ(code_of(x.done()), Code::malformed);
  // A fragmented length (11xxxxxx) for the protocolIdentifier.
  Bits f;
  f.b("0 00000 0 0000").align().num(0, 16).num(0xc1, 8);
  EXPECT_NE(detail_of(f.done()).find("fragmented"), std::string::npos);
  // An extension bit-map claiming 64 additions with nothing after it.
  const Bytes grq = wire_of("d1");
  Bytes ext = grq;
  ext[0] = static_cast<std::uint8_t>(ext[0] | 0x02);  // the GRQ's extension bit (bit 6)
  ext.push_back(0x7f);
  EXPECT_EQ(code_of(ext), Code::malformed);
}

TEST(H323Decode, FlippedBitsAndGarbageNeverCrash) {
  for (auto step : {"s1", "s6", "s7", "s10"}) {
    const Bytes good = wire_of(step);
    for (std::size_t i = 0; i < good.size() * 8; ++i) {
      Bytes w = good;
      w[i / 8] = static_cast<std::uint8_t>(w[i / 8] ^ (0x80 >> (i % 8)));
      auto r = h323().decode(w);
      if (r.ok()) {
        EXPECT_TRUE(kd::msg::validate(*r).ok()) << step << " bit " << i;
        EXPECT_TRUE(kd::wiretest::round_trips(h323(), *r)) << step << " bit " << i;
      }
    }
  }
  std::mt19937 rng(1719);
  // Random octets overwritten in valid messages reach deep into the parser.
  for (auto step : {"s2", "s5", "s8", "s9", "d5", "d6"}) {
    const Bytes good = wire_of(step);
    for (int i = 0; i < 3000; ++i) {
      Bytes w = good;
      for (unsigned k = 1 + rng() % 4; k-- > 0;) w[rng() % w.size()] = static_cast<std::uint8_t>(rng());
      if (rng() % 4 == 0) w.resize(rng() % w.size());
      auto r = h323().decode(w);
      if (r.ok()) {
        EXPECT_TRUE(kd::msg::validate(*r).ok()) << step;
        EXPECT_TRUE(kd::wiretest::round_trips(h323(), *r)) << step;
      }
    }
  }
  for (int i = 0; i < 20000; ++i) {
    Bytes w(rng() % 64);
    for (auto& b : w) b = static_cast<std::uint8_t>(rng());
    if (!w.empty()) w[0] = static_cast<std::uint8_t>(w[0] & 0x7f);  // mostly root RasMessage alternatives
    auto r = h323().decode(w);
    if (r.ok()) {
      EXPECT_TRUE(kd::msg::validate(*r).ok());
      EXPECT_TRUE(kd::wiretest::round_trips(h323(), *r));
    }
  }
}

}  // namespace
