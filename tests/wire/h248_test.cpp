// The H.248 / MEGACO text binding (lib/wire/h248.hpp): every step of both flows in every suite
// travels and comes back exactly, kd's bytes re-encode byte for byte, MEGACO written in the compact
// form other stacks use decodes to the same logical message, and broken text is refused with its
// code.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "flows.hpp"
#include "round_trip.hpp"
#include "wire/codec.hpp"
#include "wire/h248.hpp"

namespace {

using kd::Bytes;
using kd::Code;
using kd::to_hex;
using kd::msg::Flow;
using kd::msg::Message;

const kd::wire::Codec& h248() {
  static const auto c = kd::wire::make_codec(kd::wire::Binding::h248);
  return *c;
}

std::string text_of(const Bytes& b) { return std::string(b.begin(), b.end()); }
Bytes bytes_of(const std::string& s) { return Bytes(s.begin(), s.end()); }

const Message& msg_of(std::string_view step) { return kd::wiretest::step_message(step); }

std::string wire_of(std::string_view step) {
  auto b = h248().encode(msg_of(step));
  EXPECT_TRUE(b.ok()) << (b ? "" : b.error().detail);
  return b ? text_of(*b) : std::string();
}

std::string replace(std::string s, const std::string& from, const std::string& to) {
  std::size_t at = s.find(from);
  EXPECT_NE(at, std::string::npos) << "no \"" << from << "\" in the message";
  if (at != std::string::npos) s.replace(at, from.size(), to);
  return s;
}

// The text after "<key> = " up to the end of its line, or "" when there is none.
std::string value_after(const std::string& text, const std::string& key) {
  std::size_t at = text.find(key + " = ");
  if (at == std::string::npos) return "";
  at += key.size() + 3;
  return text.substr(at, text.find_first_of(" ,\r", at) - at);
}

Code decode_code(const std::string& text) {
  auto r = h248().decode(bytes_of(text));
  EXPECT_FALSE(r.ok()) << "decoded:\n" << text;
  return r ? Code::malformed : r.error().code;
}

void expect_decodes_to(const std::string& text, const Message& want) {
  auto r = h248().decode(bytes_of(text));
  ASSERT_TRUE(r.ok()) << kd::code_name(r.error().code) << ": " << r.error().detail << "\n" << text;
  EXPECT_EQ(*r, want) << text;
}

// ---- steps, ports ------------------------------------------------------------------------------

TEST(H248, CarriesTheSignalingStepsOnly) {
  ASSERT_NE(kd::wire::make_codec(kd::wire::Binding::h248), nullptr);
  EXPECT_EQ(h248().binding(), kd::wire::Binding::h248);
  std::string carried;
  for (const auto& s : kd::msg::all_steps())
    if (h248().carries(s)) carried += std::string(s.name) + " ";
  EXPECT_EQ(carried, "s1 s2 s5 s6 s7 s8 s9 s10 d1 d4 d5 d6 ");
}

TEST(H248, RefusesToEncodeTheAucLinkAndInvalidMessages) {
  for (const char* step : {"s3", "s4", "s11", "d2", "d3", "d7"}) {
    auto r = h248().encode(msg_of(step));
    ASSERT_FALSE(r.ok()) << step;
    EXPECT_EQ(r.error().code, Code::unknown_step) << step;
  }
  Message m = msg_of("s7");
  m.Rand.reset();
  auto r = h248().encode(m);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Code::missing_field);
}

TEST(H248, TravelsOnPort2944BothWays) {
  for (const auto& s : kd::msg::all_steps())
    if (h248().carries(s)) {
      EXPECT_EQ(h248().ports(s), (std::pair<std::uint16_t, std::uint16_t>{2944, 2944})) << s.name;
    }
}

// ---- round trips -------------------------------------------------------------------------------

class H248RoundTrip : public ::testing::TestWithParam<std::tuple<std::string, Flow>> {};

TEST_P(H248RoundTrip, EveryStepTravelsExactlyAndReencodesByteForByte) {
  const auto* suite = kd::crypto::find_suite(std::get<0>(GetParam()));
  ASSERT_NE(suite, nullptr);
  std::string why;
  auto msgs = kd::wiretest::run_flow(*suite, std::get<1>(GetParam()), &why);
  ASSERT_FALSE(msgs.empty()) << why;
  int carried = 0;
  for (const auto& m : msgs) {
    const auto& spec = kd::msg::spec_of(m);
    if (!h248().carries(spec)) continue;
    ++carried;
    auto b = h248().encode(m);
    ASSERT_TRUE(b.ok()) << spec.name << ": " << b.error().detail;
    auto back = h248().decode(*b);
    ASSERT_TRUE(back.ok()) << spec.name << ": " << kd::code_name(back.error().code) << ": "
                           << back.error().detail << "\n" << text_of(*b);
    EXPECT_EQ(*back, m) << spec.name;
    auto again = h248().encode(*back);
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(*again, *b) << spec.name;
    EXPECT_EQ(*h248().encode(m), *b) << spec.name << ": encoding is not a pure function";
  }
  EXPECT_EQ(carried, std::get<1>(GetParam()) == Flow::proxied ? 8 : 4);
}

std::vector<std::string> suite_names() {
  std::vector<std::string> out;
  for (const auto& s : kd::crypto::all_suites()) out.emplace_back(s.name);
  return out;
}

INSTANTIATE_TEST_SUITE_P(AllSuitesBothFlows, H248RoundTrip,
                         ::testing::Combine(::testing::ValuesIn(suite_names()),
                                            ::testing::Values(Flow::proxied, Flow::direct)),
                         [](const auto& p) {
                           std::string n = std::get<0>(p.param) + "_" +
                                           std::string(kd::msg::flow_name(std::get<1>(p.param)));
                           for (char& c : n)
                             if (!isalnum(static_cast<unsigned char>(c))) c = '_';
                           return n;
                         });

TEST(H248, ContactAddressesAndIdentitiesOfEveryFormRoundTrip) {
  for (std::string ipc : {"192.0.2.10", "[2001:db8::1]:5060", "2001:db8::1", "::ffff:192.0.2.1", "abc", "[::1"}) {
    for (const char* step : {"s1", "s2", "s7", "s8", "d1", "d5"}) {
      Message m = msg_of(step);
      m.IPc = ipc;
      auto b = h248().encode(m);
      ASSERT_TRUE(b.ok()) << ipc << ": " << b.error().detail;
      auto back = h248().decode(*b);
      ASSERT_TRUE(back.ok()) << ipc << ": " << back.error().detail;
      EXPECT_EQ(*back, m) << ipc;
    }
  }
  for (std::string idc : {"192.0.2.7", "a", "x_y@-bad-", "joe@198.51.100.2"}) {
    Message m = msg_of("d5");
    m.IDc = idc;
    auto b = h248().encode(m);
    ASSERT_TRUE(b.ok()) << idc;
    auto back = h248().decode(*b);
    ASSERT_TRUE(back.ok()) << idc << ": " << back.error().detail;
    EXPECT_EQ(*back, m) << idc;
  }
}

// ---- the envelope -------------------------------------------------------------------------------

TEST(H248, WritesTheCommandsAndValuesAsDocumented) {
  const Message& m1 = msg_of("s1");
  const std::string s1 = wire_of("s1");
  EXPECT_EQ(s1.substr(0, s1.find("\r\n")), "MEGACO/1 <example.org>:2944");
  EXPECT_NE(s1.find("ServiceChange = ROOT {\r\n"), std::string::npos);
  EXPECT_NE(s1.find("Method = Restart,\r\n"), std::string::npos);
  EXPECT_NE(s1.find("Profile = kd/1,\r\n"), std::string::npos);
  EXPECT_NE(s1.find("X-SUITE = \"" + *m1.suite + "\",\r\n"), std::string::npos);
  EXPECT_NE(s1.find("X-IDC = \"alice+1@example.org\",\r\n"), std::string::npos);
  EXPECT_NE(s1.find("X-N1 = " + to_hex(*m1.N1) + ",\r\n"), std::string::npos);
  EXPECT_NE(s1.find("X-TS = " + std::to_string(*m1.TS1) + ",\r\n"), std::string::npos);
  EXPECT_NE(s1.find("X-IPC = \"192.0.2.10:5060\"\r\n"), std::string::npos);
  EXPECT_EQ(s1.substr(s1.size() - 3), "}\r\n");

  const std::string s6 = wire_of("s6");
  EXPECT_EQ(s6.substr(0, s6.find("\r\n")), "MEGACO/1 <sbc1.example.org>:2944");
  EXPECT_NE(s6.find("Modify = kd/"), std::string::npos);
  EXPECT_NE(s6.find("kd/auth {\r\n"), std::string::npos);
  EXPECT_NE(s6.find("rand = " + to_hex(*msg_of("s6").Rand) + ",\r\n"), std::string::npos);
  EXPECT_NE(s6.find("smreq = ON\r\n"), std::string::npos);

  const std::string s7 = wire_of("s7");
  EXPECT_NE(s7.find("Notify = kd/"), std::string::npos);
  EXPECT_NE(s7.find("mechs = [\"tls;q=0.9\", \"ipsec-3gpp;q=0.5\", \"digest;q=0.125\"],"), std::string::npos);
  EXPECT_NE(s7.find("authc = " + to_hex(*msg_of("s7").Authenticator_c)), std::string::npos);

  const std::string s10 = wire_of("s10");
  EXPECT_NE(s10.find("TerminationState {\r\n"), std::string::npos);
  EXPECT_NE(s10.find("kd/mech = \"tls\",\r\n"), std::string::npos);
  EXPECT_NE(s10.find("kd/mac = " + to_hex(*msg_of("s10").MAC) + "\r\n"), std::string::npos);
  // The proxy's sealed key stops at the proxy.
  EXPECT_NE(wire_of("s9").find("kd/eksp = " + to_hex(*msg_of("s9").EKsp)), std::string::npos);
  EXPECT_EQ(s10.find("eksp"), std::string::npos);
  // The switch of the proxied flow has no identity in the messages; the direct flow's has.
  EXPECT_EQ(wire_of("s5").substr(0, wire_of("s5").find("\r\n")), "MEGACO/1 <switch.invalid>:2944");
  EXPECT_EQ(wire_of("d4").substr(0, wire_of("d4").find("\r\n")), "MEGACO/1 <ss1.example.org>:2944");
}

TEST(H248, ChallengeAndAnswerShareTheTerminationAndRequestId) {
  for (auto [chal, ans, ok] : std::vector<std::tuple<const char*, const char*, const char*>>{
           {"s6", "s7", "s10"}, {"s5", "s8", "s9"}, {"d4", "d5", "d6"}}) {
    const std::string c = wire_of(chal), a = wire_of(ans), s = wire_of(ok);
    EXPECT_EQ(value_after(c, "Events"), value_after(a, "ObservedEvents")) << chal;
    EXPECT_FALSE(value_after(c, "Events").empty());
    EXPECT_EQ(value_after(c, "Modify"), value_after(a, "Notify")) << chal;
    EXPECT_EQ(value_after(c, "Modify"), value_after(s, "Modify")) << chal;
    EXPECT_NE(value_after(c, "Transaction"), value_after(a, "Transaction")) << chal;
  }
  EXPECT_NE(value_after(wire_of("s6"), "Modify"), value_after(wire_of("s5"), "Modify"));
}

TEST(H248, EnvelopeHelpers) {
  using kd::wire::h248::mid_for;
  EXPECT_EQ(mid_for("ss1.example.org"), "<ss1.example.org>:2944");
  EXPECT_EQ(mid_for("alice@example.org"), "<example.org>:2944");
  EXPECT_EQ(mid_for("192.0.2.1"), "[192.0.2.1]:2944");
  EXPECT_EQ(mid_for("sw_1"), "<invalid>:2944");
}

// ---- MEGACO from other stacks: compact tokens, no indentation, LF, comments ----------------------

// Written from the RFC 3525 ABNF, not by the encoder: short tokens, lowercase, another
// TransactionID, RequestID, ContextID and termination, a time stamp on the observed event, a
// comment, bare VALUEs where the encoder quotes, an IPv4 mId.
TEST(H248Decode, CompactNotify) {
  const Message& m = msg_of("s7");
  const std::string t =
      "!/1 [192.0.2.10]:2944\n"
      "; a comment up to the end of the line\n"
      "t=7{c=12{o-n=t/1{oe=3{20231114T22131300 : kd/auth{st=1,suite=" + *m.suite + ",idc=alice+1@example.org,"
      "idsp=\"sbc1.example.org\",n1=" + to_hex(*m.N1) + ",n2=" + to_hex(*m.N2) + ",ts=" + std::to_string(*m.TS3) +
      ",rand=\"" + to_hex(*m.Rand) + "\",authc=" + to_hex(*m.Authenticator_c) +
      ",mechs=[\"tls;q=0.9\",\"ipsec-3gpp;q=0.5\",\"digest;q=0.125\"],ipc=\"192.0.2.10:5060\"}}}}}";
  expect_decodes_to(t, m);
}

TEST(H248Decode, CompactServiceChangeAndModify) {
  const Message& d1 = msg_of("d1");
  expect_decodes_to("MEGACO/1 <example.org>\r\nT=1{C=-{SC=ROOT{SV{MT=RS,RE=\"901\",x-idss=ss1.example.org,"
                    "X-suite=\"" + *d1.suite + "\",X+IDC=\"alice+1@example.org\",X-N1=" + to_hex(*d1.N1) +
                    ",X-TS=" + std::to_string(*d1.TS1) + ",X-IPC=\"192.0.2.10:5060\",X-VENDOR=7}}}}",
                    d1);
  const Message& d4 = msg_of("d4");
  expect_decodes_to("!/1 <ss1.example.org>:2944 T=99{C=-{W-MF=kd/1{E=4{kd/auth{suite=\"" + *d4.suite +
                        "\",idc=\"alice+1@example.org\",idss=ss1.example.org,n1=" + to_hex(*d4.N1) + ",n2=" +
                        to_hex(*d4.N2) + ",ts=" + std::to_string(*d4.TS2) + ",rand=" + to_hex(*d4.Rand) +
                        ",smreq=on}},M{O{MO=SR},L{v=0\nc=IN IP4 192.0.2.9\\}\n}}}}}",
                    d4);
  // Success: kd/* properties in TerminationState and LocalControl of a Stream, events cleared.
  const Message& d6b = msg_of("d6");
  expect_decodes_to("!/1 <ss1.example.org>:2944\tT=5{C=-{MF=kd/1{E,M{TS{kd/suite=\"" + *d6b.suite +
                        "\",KD/IDC=\"alice+1@example.org\",kd/idss=\"ss1.example.org\",kd/n1=" + to_hex(*d6b.N1) +
                        ",kd/n2=" + to_hex(*d6b.N2) + "},ST=1{O{kd/ts=" + std::to_string(*d6b.TS4) + ",kd/ekc=" +
                        to_hex(*d6b.EKc) + ",kd/mechs=[\"tls;q=0.9\",\"ipsec-3gpp;q=0.5\",\"digest;q=0.125\"],"
                        "kd/mech=tls,kd/mac=" + to_hex(*d6b.MAC) + "}}}}}}",
                    d6b);
  // Success: kd/* properties in TerminationState and LocalControl of a Stream.
  const Message& d6 = msg_of("d6");
  expect_decodes_to("!/1 <ss1.example.org>:2944\tT=5{C=-{MF=kd/1{M{TS{kd/suite=\"" + *d6.suite +
                        "\",KD/IDC=\"alice+1@example.org\",kd/idss=\"ss1.example.org\",kd/n1=" + to_hex(*d6.N1) +
                        ",kd/n2=" + to_hex(*d6.N2) + "},ST=1{O{kd/ts=" + std::to_string(*d6.TS4) + ",kd/ekc=" +
                        to_hex(*d6.EKc) + ",kd/mechs=[\"tls;q=0.9\",\"ipsec-3gpp;q=0.5\",\"digest;q=0.125\"],"
                        "kd/mech=tls,kd/mac=" + to_hex(*d6.MAC) + "}}}}}}",
                    d6);
}

TEST(H248Decode, ALoneMechanismAndDefaultQ) {
  Message m = msg_of("d5");
  std::string t = wire_of("d5");
  t = replace(t, "mechs = [\"tls;q=0.9\", \"ipsec-3gpp;q=0.5\", \"digest;q=0.125\"]", "mechs = tls");
  m.SecMechList = kd::msg::MechList{{"tls", 1000}};
  expect_decodes_to(t, m);
}

// ---- refused, each with its code --------------------------------------------------------------

TEST(H248Decode, BrokenMessagesAreRefusedWithTheirCode) {
  const std::string s7 = wire_of("s7"), s1 = wire_of("s1"), s10 = wire_of("s10"), s6 = wire_of("s6");
  const Message& m7 = msg_of("s7");
  const std::string rand7 = "rand = " + to_hex(*m7.Rand), ts7 = "ts = " + std::to_string(*m7.TS3);
  struct Case {
    std::string name, text;
    Code code;
  };
  const std::vector<Case> cases = {
      {"empty", "", Code::malformed},
      {"not megaco", "SIP/2.0 200 OK\r\n\r\n", Code::malformed},
      {"no version", replace(s7, "MEGACO/1", "MEGACO/"), Code::malformed},
      {"three-digit version", replace(s7, "MEGACO/1", "MEGACO/100"), Code::malformed},
      {"no mId", "MEGACO/1 ", Code::malformed},
      {"unterminated mId", replace(s7, "<example.org>", "<example.org"), Code::malformed},
      {"bad port", replace(s7, ":2944", ":"), Code::malformed},
      {"no body", "MEGACO/1 <a>:2944\r\n", Code::malformed},
      {"truncated", s7.substr(0, s7.size() / 2), Code::malformed},
      {"last brace missing", s7.substr(0, s7.size() - 3), Code::malformed},
      {"extra brace", s7 + "}", Code::malformed},
      {"two transactions", s7 + s7.substr(s7.find("Transaction")), Code::malformed},
      {"no comma", replace(s7, rand7 + ",", rand7), Code::malformed},
      {"unterminated quote", replace(s7, "\"192.0.2.10:5060\"", "\"192.0.2.10:5060"), Code::malformed},
      {"newline in quote", replace(s7, "\"192.0.2.10:5060\"", "\"192.0.2.10\n:5060\""), Code::malformed},
      {"NUL byte", replace(s7, "authc", std::string("au\0hc", 5)), Code::malformed},
      {"bad transaction id", replace(s7, "Transaction = ", "Transaction = x"), Code::malformed},
      {"transaction id over UINT32", replace(s7, "Transaction = ", "Transaction = 99999999999"), Code::malformed},
      {"bad context id", replace(s7, "Context = -", "Context = q"), Code::malformed},
      {"no context", replace(s7, "Context = -", "Contextual = -"), Code::malformed},
      {"two commands", replace(s7, "Notify = ", "Subtract = kd/x, Notify = "), Code::malformed},
      {"unknown kd item", replace(s7, rand7, rand7 + ", colour = blue"), Code::malformed},
      {"item twice", replace(s7, rand7, rand7 + ", " + rand7), Code::malformed},
      {"uppercase hex", replace(s7, rand7, "rand = " + replace(to_hex(*m7.Rand), to_hex(*m7.Rand).substr(0, 1), "A")), Code::malformed},
      {"odd hex", replace(s7, rand7, rand7 + "0"), Code::malformed},
      {"short rand", replace(s7, rand7, rand7.substr(0, rand7.size() - 2)), Code::bad_length},
      {"leading zero ts", replace(s7, ts7, "ts = 0" + ts7.substr(5)), Code::malformed},
      {"ts out of range", replace(s7, ts7, ts7 + "99999999999"), Code::bad_length},
      {"ts not a number", replace(s7, ts7, ts7 + "x"), Code::malformed},
      {"bad request id", replace(s7, "ObservedEvents = ", "ObservedEvents = 99999999999"), Code::malformed},
      {"list where one value", replace(s7, rand7, "rand = [" + to_hex(*m7.Rand) + "]"), Code::malformed},
      {"inequality", replace(s7, rand7, "rand > " + to_hex(*m7.Rand)), Code::malformed},
      {"bad q", replace(s7, "tls;q=0.9", "tls;q=2"), Code::malformed},
      {"not q", replace(s7, "tls;q=0.9", "tls;x=1"), Code::malformed},
      {"mech twice", replace(s7, "digest;q=0.125", "tls;q=0.125"), Code::malformed},
      {"no rand", replace(s7, rand7 + ",", ""), Code::missing_field},
      {"no registrar", replace(s7, "idsp = \"sbc1.example.org\",", ""), Code::missing_field},
      {"both registrars", replace(s7, "idsp = ", "idss = \"x\", idsp = "), Code::malformed},
      {"foreign field", replace(s7, rand7, rand7 + ", mac = 00"), Code::malformed},
      {"unknown suite", replace(s7, "KD-AES128GCM-SHA256", "KD-NONE"), Code::unknown_suite},
      {"smreq off", replace(s6, "smreq = ON", "smreq = OFF"), Code::malformed},
      {"smreq maybe", replace(s6, "smreq = ON", "smreq = maybe"), Code::malformed},
      {"no smreq", replace(s6, ",\r\n          smreq = ON", ""), Code::missing_field},
      {"a reply", replace(s7, "Transaction = ", "Reply = "), Code::unknown_step},
      {"a pending", "!/1 <a> PN=5", Code::unknown_step},
      {"an error message", "!/1 <a> ER=400{\"Syntax error\"}", Code::unknown_step},
      {"an Add", replace(s7, "Notify = ", "Add = "), Code::unknown_step},
      {"another event", replace(s7, "kd/auth {", "al/on {"), Code::unknown_step},
      {"another method", replace(s1, "Method = Restart", "Method = Graceful"), Code::unknown_step},
      {"no method", replace(s1, "Method = Restart,", ""), Code::malformed},
      {"no services", replace(s1, "Services {", "Audit {"), Code::malformed},
      {"no KD values", "!/1 <a> T=1{C=-{SC=ROOT{SV{MT=RS,RE=\"901\"}}}}", Code::missing_field},
      {"plain modify", "!/1 <a> T=1{C=-{MF=t/1{M{TS{SI=IS}}}}}", Code::missing_field},
      {"no termination", replace(s10, "Modify = " + value_after(s10, "Modify"), "Modify"), Code::malformed},
      {"unknown top element", replace(s7, "Transaction = ", "Transact = "), Code::malformed},
      {"too deep", "!/1 <a> T=1{" + std::string(40, 'x') + "}", Code::malformed},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(kd::code_name(decode_code(c.text)), kd::code_name(c.code)) << c.name;
  }
}

TEST(H248Decode, HostileInputIsRefusedWithoutCrashingOrRecursingWithoutBound) {
  std::string deep = "!/1 <a> T=1{";
  for (int i = 0; i < 30000; ++i) deep += "C{";
  EXPECT_EQ(decode_code(deep), Code::malformed);
  std::string wide = "!/1 <a> T=1{C=-{N=t{OE=1{kd/auth{";
  for (int i = 0; i < 10000; ++i) wide += "a=1,";
  EXPECT_EQ(decode_code(wide.substr(0, 60000) + "a=1}}}}}"), Code::malformed);
  std::string list = "!/1 <a> T=1{C=-{N=t{OE=1{kd/auth{mechs=[";
  for (int i = 0; i < 10000; ++i) list += "a,";
  EXPECT_EQ(decode_code(list + "a]}}}}}"), Code::malformed);
  EXPECT_EQ(decode_code("!/1 <a> " + std::string(70000, ' ')), Code::oversized);
  // Every prefix of a real message, and every single-byte corruption, is refused or decodes.
  const std::string s7 = wire_of("s7");
  for (std::size_t n = 0; n < s7.rfind('}'); ++n) {
    auto r = h248().decode(bytes_of(s7.substr(0, n)));
    EXPECT_FALSE(r.ok()) << n;
  }
  for (std::size_t n = 0; n < s7.size(); ++n)
    for (char c : {'\0', '{', '}', '"', ',', '=', '[', ';', '\xff'}) {
      std::string t = s7;
      t[n] = c;
      auto r = h248().decode(bytes_of(t));
      if (r) {
        EXPECT_TRUE(kd::msg::validate(*r).ok());
      }
    }
}

TEST(H248Decode, RandomMutationsNeverCrashAndWhatDecodesIsValid) {
  std::vector<std::string> seeds;
  for (const char* step : {"s1", "s2", "s5", "s6", "s7", "s8", "s9", "s10", "d1", "d4", "d5", "d6"})
    seeds.push_back(wire_of(step));
  std::uint32_t x = 12345;  // xorshift: the same mutations every run
  auto next = [&] {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return x;
  };
  static constexpr std::string_view kAlphabet = "{}[]\",=:;<>#!/ \r\nTCNMFEOkd/aut0X-*$";
  int decoded = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string t = seeds[next() % seeds.size()];
    for (std::uint32_t k = 0, n = 1 + next() % 4; k < n && !t.empty(); ++k) {
      const std::size_t at = next() % t.size();
      switch (next() % 3) {
        case 0: t[at] = kAlphabet[next() % kAlphabet.size()]; break;
        case 1: t.erase(at, 1 + next() % 8); break;
        default: t.insert(at, t.substr(next() % t.size(), 1 + next() % 16)); break;
      }
    }
    auto r = h248().decode(bytes_of(t));
    if (!r) continue;
    ++decoded;
    EXPECT_TRUE(kd::msg::validate(*r).ok()) << t;
    EXPECT_TRUE(kd::wiretest::round_trips(h248(), *r)) << t;
  }
  EXPECT_GT(decoded, 0);  // some mutations (white space, comments) keep the message
}

}  // namespace
