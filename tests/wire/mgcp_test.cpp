// The MGCP binding (lib/wire/mgcp.hpp): every step of both flows in every suite travels and comes
// back exactly, kd's bytes re-encode byte for byte, messages written by hand from RFC 3435 decode
// to the logical message meant, and broken ones are refused with their code.
#include <gtest/gtest.h>

#include <cctype>
#include <map>
#include <string>
#include <vector>

#include "flows.hpp"
#include "round_trip.hpp"
#include "wire/codec.hpp"
#include "wire/mgcp.hpp"

namespace {

using kd::Bytes;
using kd::Code;
using kd::msg::Flow;
using kd::msg::Message;

const kd::wire::Codec& mgcp() {
  static const auto c = kd::wire::make_codec(kd::wire::Binding::mgcp);
  return *c;
}

std::string text_of(const Bytes& b) { return std::string(b.begin(), b.end()); }
Bytes bytes_of(const std::string& s) { return Bytes(s.begin(), s.end()); }

const Message& msg_of(std::string_view step) { return kd::wiretest::step_message(step); }

std::string wire_of(std::string_view step) {
  auto b = mgcp().encode(msg_of(step));
  EXPECT_TRUE(b.ok()) << (b ? "" : b.error().detail);
  return b ? text_of(*b) : std::string();
}

// The value of the parameter line `name: ...`.
std::string param(const std::string& text, const std::string& name) {
  std::size_t at = text.find("\r\n" + name + ": ");
  if (at == std::string::npos) return "";
  at += name.size() + 4;
  return text.substr(at, text.find("\r\n", at) - at);
}

std::string first_line(const std::string& text) { return text.substr(0, text.find("\r\n")); }

std::string replace(std::string s, const std::string& from, const std::string& to) {
  std::size_t at = s.find(from);
  EXPECT_NE(at, std::string::npos) << "no \"" << from << "\" in the message";
  if (at != std::string::npos) s.replace(at, from.size(), to);
  return s;
}

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (std::size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size()))
    s.replace(at, from.size(), to);
  return s;
}

// Removes the parameter line `name: ...`.
std::string drop(const std::string& s, const std::string& name) {
  std::size_t at = s.find("\r\n" + name + ": ");
  EXPECT_NE(at, std::string::npos) << "no " << name << " line";
  if (at == std::string::npos) return s;
  return s.substr(0, at) + s.substr(s.find("\r\n", at + 2));
}

Code decode_code(const std::string& text) {
  auto r = mgcp().decode(bytes_of(text));
  EXPECT_FALSE(r.ok()) << "decoded:\n" << text;
  return r ? Code::malformed : r.error().code;
}

void expect_decodes_to(const std::string& text, const Message& want) {
  auto r = mgcp().decode(bytes_of(text));
  ASSERT_TRUE(r.ok()) << kd::code_name(r.error().code) << ": " << r.error().detail << "\n" << text;
  EXPECT_EQ(*r, want) << text;
}

// ---- steps and ports ----------------------------------------------------------------------------

TEST(Mgcp, CarriesTheSignalingStepsOnly) {
  ASSERT_NE(kd::wire::make_codec(kd::wire::Binding::mgcp), nullptr);
  EXPECT_EQ(mgcp().binding(), kd::wire::Binding::mgcp);
  std::string carried;
  for (const auto& s : kd::msg::all_steps())
    if (mgcp().carries(s)) carried += std::string(s.name) + " ";
  EXPECT_EQ(carried, "s1 s2 s5 s6 s7 s8 s9 s10 d1 d4 d5 d6 ");
}

TEST(Mgcp, RefusesToEncodeTheAucLink) {
  for (const char* step : {"s3", "s4", "s11", "d2", "d3", "d7"}) {
    auto r = mgcp().encode(msg_of(step));
    ASSERT_FALSE(r.ok()) << step;
    EXPECT_EQ(r.error().code, Code::unknown_step) << step;
  }
}

TEST(Mgcp, RefusesToEncodeAnInvalidMessage) {
  Message m = msg_of("s1");
  m.N1->clear();  // any other size is what a tampering test may send (msg::Sizes::loose)
  auto r = mgcp().encode(m);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Code::bad_length);
}

// A field of a tampered size travels, and the receiving decoder refuses it (kd-decode --encode).
TEST(Mgcp, EncodesATamperedSizeThatTheDecoderRefuses) {
  Message m = msg_of("s1");
  m.N1->pop_back();
  auto r = mgcp().encode(m);
  ASSERT_TRUE(r.ok()) << r.error().detail;
  auto d = mgcp().decode(*r);
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error().code, Code::bad_length);
}

TEST(Mgcp, PortsAreTheGatewayAndCallAgentPorts) {
  using P = std::pair<std::uint16_t, std::uint16_t>;
  const P up{2427, 2727}, down{2727, 2427};
  for (const char* step : {"s1", "s2", "s7", "s8", "d1", "d5"})
    EXPECT_EQ(mgcp().ports(*kd::msg::find_step(step)), up) << step;
  for (const char* step : {"s5", "s6", "s9", "s10", "d4", "d6"})
    EXPECT_EQ(mgcp().ports(*kd::msg::find_step(step)), down) << step;
}

// ---- round trips --------------------------------------------------------------------------------

class MgcpRoundTrip : public ::testing::TestWithParam<std::tuple<std::string, Flow>> {};

TEST_P(MgcpRoundTrip, EveryStepTravelsExactlyAndReencodesByteForByte) {
  const auto* suite = kd::crypto::find_suite(std::get<0>(GetParam()));
  ASSERT_NE(suite, nullptr);
  std::string why;
  auto msgs = kd::wiretest::run_flow(*suite, std::get<1>(GetParam()), &why);
  ASSERT_FALSE(msgs.empty()) << why;
  int carried = 0;
  for (const auto& m : msgs) {
    const auto& spec = kd::msg::spec_of(m);
    if (!mgcp().carries(spec)) continue;
    ++carried;
    auto b = mgcp().encode(m);
    ASSERT_TRUE(b.ok()) << spec.name << ": " << b.error().detail;
    auto back = mgcp().decode(*b);
    ASSERT_TRUE(back.ok()) << spec.name << ": " << kd::code_name(back.error().code) << ": "
                           << back.error().detail << "\n" << text_of(*b);
    EXPECT_EQ(*back, m) << spec.name;
    auto again = mgcp().encode(*back);
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(*again, *b) << spec.name;
    EXPECT_EQ(*mgcp().encode(m), *b) << spec.name << ": encoding is not a pure function";
    // The LF form (RFC 3435 allows either line end) decodes to the same message.
    auto lf = mgcp().decode(bytes_of(replace_all(text_of(*b), "\r\n", "\n")));
    ASSERT_TRUE(lf.ok()) << spec.name;
    EXPECT_EQ(*lf, m) << spec.name;
  }
  EXPECT_EQ(carried, std::get<1>(GetParam()) == Flow::proxied ? 8 : 4);
}

std::vector<std::string> suite_names() {
  std::vector<std::string> out;
  for (const auto& s : kd::crypto::all_suites()) out.emplace_back(s.name);
  return out;
}

INSTANTIATE_TEST_SUITE_P(AllSuitesBothFlows, MgcpRoundTrip,
                         ::testing::Combine(::testing::ValuesIn(suite_names()),
                                            ::testing::Values(Flow::proxied, Flow::direct)),
                         [](const auto& p) {
                           std::string n = std::get<0>(p.param) + "_" +
                                           std::string(kd::msg::flow_name(std::get<1>(p.param)));
                           for (char& c : n)
                             if (!isalnum(static_cast<unsigned char>(c))) c = '_';
                           return n;
                         });

TEST(Mgcp, OddIdentitiesAndContactsRoundTrip) {
  for (std::string ipc : {"192.0.2.10", "[2001:db8::1]:2427", "2001:db8::1", "abc"}) {
    for (const char* step : {"s1", "s2", "s7", "s8", "d1", "d5"}) {
      Message m = msg_of(step);
      m.IPc = ipc;
      m.IDc = "x_y";  // no host in it: the endpoint's domain becomes "invalid"
      auto b = mgcp().encode(m);
      ASSERT_TRUE(b.ok()) << b.error().detail;
      EXPECT_EQ(first_line(text_of(*b)).find(" aaln/1@invalid MGCP 1.0") != std::string::npos, true);
      auto back = mgcp().decode(*b);
      ASSERT_TRUE(back.ok()) << back.error().detail;
      EXPECT_EQ(*back, m);
      EXPECT_EQ(*mgcp().encode(*back), *b);
    }
  }
}

// ---- the envelope -------------------------------------------------------------------------------

TEST(Mgcp, WritesTheCommandsAndParametersAsDocumented) {
  const std::string s1 = wire_of("s1");
  const Message& m1 = msg_of("s1");
  EXPECT_EQ(first_line(s1), "RSIP " + std::to_string(kd::wire::mgcp::transaction_id(m1)) +
                                " aaln/1@example.org MGCP 1.0");
  EXPECT_EQ(s1, first_line(s1) + "\r\n" +
                    "RM: restart\r\n"
                    "X-KDFLOW: proxied\r\n"
                    "X-KDSUIT: KD-AES128GCM-SHA256\r\n"
                    "X-KDIDC: alice+1@example.org\r\n"
                    "X-KDIDSP: sbc1.example.org\r\n"
                    "X-KDN1: " + kd::to_hex(*m1.N1) + "\r\n" +
                    "X-KDTS: " + std::to_string(*m1.TS1) + "\r\n" +
                    "X-KDIPC: 192.0.2.10:5060\r\n");

  const std::string s6 = wire_of("s6");
  EXPECT_EQ(first_line(s6).substr(0, 5), "RQNT ");
  EXPECT_EQ(param(s6, "R"), "X-KD/auth(N)");
  EXPECT_EQ(param(s6, "S"), "X-KD/chal");
  EXPECT_EQ(param(s6, "X-KDMREQ"), "true");
  EXPECT_EQ(param(s6, "X-KDRAND"), kd::to_hex(*msg_of("s6").Rand));

  const std::string s7 = wire_of("s7");
  EXPECT_EQ(first_line(s7).substr(0, 5), "NTFY ");
  EXPECT_EQ(param(s7, "O"), "X-KD/auth");
  EXPECT_EQ(param(s7, "X-KDMLST"), "tls;q=0.9,ipsec-3gpp;q=0.5,digest;q=0.125");
  EXPECT_EQ(param(s7, "X-KDAUTH"), kd::to_hex(*msg_of("s7").Authenticator_c));

  const std::string s10 = wire_of("s10");
  EXPECT_EQ(first_line(s10).substr(0, 5), "RQNT ");
  EXPECT_EQ(param(s10, "S"), "X-KD/reg");
  EXPECT_EQ(param(s10, "R"), "");
  EXPECT_EQ(param(s10, "X-KDMECH"), "tls");
  EXPECT_EQ(param(s10, "X-KDMLST"), "tls;q=0.9,ipsec-3gpp;q=0.5,digest;q=0.125");
  EXPECT_EQ(param(s10, "X-KDMAC"), kd::to_hex(*msg_of("s10").MAC));
  // The proxy's sealed key stops at the proxy.
  EXPECT_EQ(param(wire_of("s9"), "X-KDEKSP"), kd::to_hex(*msg_of("s9").EKsp));
  EXPECT_EQ(s10.find("X-KDEKSP"), std::string::npos);
  EXPECT_EQ(param(wire_of("d6"), "X-KDEKSS"), "");
  EXPECT_EQ(param(wire_of("d1"), "X-KDIDSS"), "ss1.example.org");

  // Every parameter name fits RFC 3435's "X-" 1*6(ALPHA / DIGIT), every line ends in CRLF, and no
  // empty line (which would announce a session description) is written.
  for (const char* step : {"s1", "s2", "s5", "s6", "s7", "s8", "s9", "s10", "d1", "d4", "d5", "d6"}) {
    const std::string w = wire_of(step);
    EXPECT_EQ(w.substr(w.size() - 2), "\r\n");
    EXPECT_EQ(w.find("\r\n\r\n"), std::string::npos);
    for (std::size_t at = w.find("\r\nX-"); at != std::string::npos; at = w.find("\r\nX-", at + 2)) {
      const std::size_t colon = w.find(':', at);
      const std::string name = w.substr(at + 4, colon - at - 4);
      EXPECT_TRUE(!name.empty() && name.size() <= 6) << name;
      for (char c : name) EXPECT_TRUE(isalnum(static_cast<unsigned char>(c))) << name;
    }
  }
}

TEST(Mgcp, ChallengeAndAnswerShareTheRequestIdentifierAndTransactionIdsDiffer) {
  for (auto [chal, answer] : std::vector<std::pair<const char*, const char*>>{{"s6", "s7"}, {"s5", "s8"}, {"d4", "d5"}}) {
    EXPECT_EQ(param(wire_of(chal), "X"), param(wire_of(answer), "X")) << chal;
    EXPECT_EQ(param(wire_of(chal), "X").size(), 16u);
  }
  EXPECT_NE(param(wire_of("s6"), "X"), param(wire_of("s5"), "X"));
  EXPECT_NE(param(wire_of("s6"), "X"), param(wire_of("s10"), "X"));
  EXPECT_NE(param(wire_of("s9"), "X"), param(wire_of("s10"), "X"));
  std::map<std::uint32_t, std::string> seen;
  for (const char* step : {"s1", "s2", "s5", "s6", "s7", "s8", "s9", "s10", "d1", "d4", "d5", "d6"}) {
    const std::uint32_t tid = kd::wire::mgcp::transaction_id(msg_of(step));
    EXPECT_GE(tid, 1u);
    EXPECT_LE(tid, 999999999u);
    EXPECT_TRUE(seen.emplace(tid, step).second) << step << " reuses the transaction id of " << seen[tid];
  }
}

TEST(Mgcp, EnvelopeHelpers) {
  EXPECT_EQ(kd::wire::mgcp::endpoint_for("alice+1@example.org"), "aaln/1@example.org");
  EXPECT_EQ(kd::wire::mgcp::endpoint_for("gw7.example.net"), "aaln/1@gw7.example.net");
  EXPECT_EQ(kd::wire::mgcp::endpoint_for("a_b"), "aaln/1@invalid");
  Message m = msg_of("s1");
  const auto t = kd::wire::mgcp::transaction_id(m);
  m.TS1 = *m.TS1 + 1;
  EXPECT_NE(kd::wire::mgcp::transaction_id(m), t);
}

// ---- decoding what others write ------------------------------------------------------------------

// Written by hand from RFC 3435 (command line, parameter lines, LF line ends, lowercase names,
// other parties' parameters, a WSP-padded command line, a profile name), not by kd's encoder.
TEST(MgcpDecode, AHandWrittenNotify) {
  const std::string text =
      "ntfy  4711\taaln/3@gw1.example.net  mgcp 1.0 NCS 1.0\n"
      "N: ca@ss1.example.org:2727\n"
      "x:0a1b2c\n"
      "o: L/hd, x-kd/auth\n"
      "X-Foo: something else\n"
      "x-kdflow: direct\n"
      "X-KDSuit:KD-AES128GCM-SHA256\n"
      "X-KDIDC:   bob@example.net   \n"
      "X-KDIDSS: ss1.example.org\n"
      "X-KDN1: 000102030405060708090a0b0c0d0e0f\n"
      "X-KDN2: 101112131415161718191a1b1c1d1e1f\n"
      "X-KDTS: 1700000123\n"
      "X-KDRAND: 202122232425262728292a2b2c2d2e2f\n"
      "X-KDAUTH: 303132333435363738393a3b3c3d3e3f\n"
      "X-KDMLST: ipsec-3gpp;q=1.000, tls ;alg=x;q=0.25,digest\n"
      "X-KDIPC: [2001:db8::7]:2427\n";
  Message want;
  want.flow = Flow::direct;
  want.step = 5;
  want.suite = "KD-AES128GCM-SHA256";
  want.IDc = "bob@example.net";
  want.IDss = "ss1.example.org";
  want.N1 = *kd::from_hex("000102030405060708090a0b0c0d0e0f");
  want.N2 = *kd::from_hex("101112131415161718191a1b1c1d1e1f");
  want.TS3 = 1700000123;
  want.Rand = *kd::from_hex("202122232425262728292a2b2c2d2e2f");
  want.Authenticator_c = *kd::from_hex("303132333435363738393a3b3c3d3e3f");
  want.SecMechList = kd::msg::MechList{{"ipsec-3gpp", 1000}, {"tls", 250}, {"digest", 1000}};
  want.IPc = "[2001:db8::7]:2427";
  expect_decodes_to(text, want);
  // The same with CRLF, and with a session description after an empty line (ignored).
  expect_decodes_to(replace_all(text, "\n", "\r\n"), want);
  expect_decodes_to(text + "\nv=0\no=- 1 1 IN IP4 192.0.2.10\n", want);
}

TEST(MgcpDecode, AHandWrittenRestartAndChallenge) {
  Message rsip;
  rsip.flow = Flow::proxied;
  rsip.step = 2;
  rsip.suite = "KD-SM4GCM-SM3";
  rsip.IDc = "carol";
  rsip.IDsp = "sbc9.example.com";
  rsip.IPc = "198.51.100.7";
  expect_decodes_to("RSIP 1 aaln/1@carol MGCP 1.0\r\nrm: RESTART\r\nRD: 0\r\nX-KDFLOW: proxied\r\n"
                    "X-KDSUIT: KD-SM4GCM-SM3\r\nX-KDIDC: carol\r\nX-KDIDSP: sbc9.example.com\r\n"
                    "X-KDIPC: 198.51.100.7\r\n",
                    rsip);
  Message chal;
  chal.flow = Flow::proxied;
  chal.step = 5;
  chal.suite = "KD-SM4GCM-SM3";
  chal.IDc = "carol";
  chal.IDsp = "sbc9.example.com";
  chal.Rand = Bytes(16, 0xab);
  expect_decodes_to("RQNT 999999999 aaln/1@sbc9.example.com MGCP 1.0\nX: FFEE\n"
                    "R: L/hu(N), X-KD/AUTH(N)@$\nS: L/rg\nX-KDFLOW: proxied\nX-KDSUIT: KD-SM4GCM-SM3\n"
                    "X-KDIDC: carol\nX-KDIDSP: sbc9.example.com\nX-KDRAND: abababababababababababababababab\n",
                    chal);
}

TEST(MgcpDecode, ParameterOrderAndNameCaseDoNotMatter) {
  std::string s10 = wire_of("s10");
  std::string head = s10.substr(0, s10.find("\r\n") + 2);
  std::string body = s10.substr(head.size());
  // Reverse the parameter lines and lowercase their names.
  std::vector<std::string> lines;
  for (std::size_t at = 0; at < body.size();) {
    std::size_t end = body.find("\r\n", at);
    std::string l = body.substr(at, end - at);
    for (std::size_t i = 0; i < l.find(':'); ++i) l[i] = static_cast<char>(tolower(static_cast<unsigned char>(l[i])));
    lines.push_back(l);
    at = end + 2;
  }
  std::string reordered = head;
  for (auto it = lines.rbegin(); it != lines.rend(); ++it) reordered += *it + "\r\n";
  expect_decodes_to(reordered, msg_of("s10"));
  expect_decodes_to(replace(wire_of("s7"), "NTFY ", "ntfy "), msg_of("s7"));
  expect_decodes_to(replace(wire_of("s7"), " MGCP 1.0", "\t\tMGCP  1.0  "), msg_of("s7"));
  expect_decodes_to(replace(wire_of("s7"), "X-KDMLST: ", "X-KDMLST:\t "), msg_of("s7"));
}

// ---- refusals -----------------------------------------------------------------------------------

TEST(MgcpDecodeErr, TruncatedAndEmpty) {
  const std::string s7 = wire_of("s7");
  EXPECT_EQ(decode_code(s7.substr(0, s7.find("X-KDN2") + 3)), Code::malformed);
  EXPECT_EQ(decode_code(s7.substr(0, s7.find("X-KDN2") - 1)), Code::malformed);  // CR without LF
  EXPECT_EQ(decode_code(s7.substr(0, s7.size() - 2)), Code::malformed);
  EXPECT_EQ(decode_code(""), Code::malformed);
  EXPECT_EQ(decode_code("\r\n"), Code::malformed);
  EXPECT_EQ(decode_code("NTFY"), Code::malformed);
  // Cut after a whole line: well formed, but a KD value is gone.
  EXPECT_EQ(decode_code(s7.substr(0, s7.rfind("X-KDIPC"))), Code::missing_field);
}

TEST(MgcpDecodeErr, BadCommandLine) {
  const std::string s1 = wire_of("s1");
  const std::string tid = std::to_string(kd::wire::mgcp::transaction_id(msg_of("s1")));
  EXPECT_EQ(decode_code(replace(s1, " MGCP 1.0", "")), Code::malformed);
  EXPECT_EQ(decode_code(replace(s1, " MGCP 1.0", " MGCP 1")), Code::malformed);
  EXPECT_EQ(decode_code(replace(s1, " MGCP 1.0", " SIP/2.0 1.0")), Code::malformed);
  EXPECT_EQ(decode_code(replace(s1, tid, "0")), Code::malformed);
  EXPECT_EQ(decode_code(replace(s1, tid, "1234567890")), Code::malformed);
  EXPECT_EQ(decode_code(replace(s1, tid, "12a")), Code::malformed);
  EXPECT_EQ(decode_code(replace(s1, "aaln/1@example.org", "aaln/1")), Code::malformed);
  EXPECT_EQ(decode_code(replace(s1, "aaln/1@example.org", "@example.org")), Code::malformed);
  EXPECT_EQ(decode_code(replace(s1, "RSIP ", "RS1 ")), Code::malformed);
  EXPECT_EQ(decode_code(replace(s1, "RSIP ", "1SIP ")), Code::malformed);
  EXPECT_EQ(decode_code("\r\n" + s1), Code::malformed);
  EXPECT_EQ(decode_code(replace(s1, "RM: restart", "RM restart")), Code::malformed);
  EXPECT_EQ(decode_code(replace(s1, "RM: restart", "R M: restart")), Code::malformed);
  EXPECT_EQ(decode_code(replace(s1, "X-KDIDC: alice", "X-KDIDC: al\x01ice")), Code::malformed);
  EXPECT_EQ(decode_code(replace(s1, "X-KDIDC: alice", "X-KDIDC: al\xc3\xa9ice")), Code::malformed);
  EXPECT_EQ(decode_code(replace(s1, "X-KDIDC: alice", std::string("X-KDIDC: al\0ice", 16))), Code::malformed);
  EXPECT_EQ(decode_code(replace(s1, "RM: restart\r\n", "RM: restart\r\n.\r\n")), Code::malformed);
}

TEST(MgcpDecodeErr, NoKdStep) {
  const std::string s1 = wire_of("s1");
  EXPECT_EQ(decode_code(replace(s1, "RSIP ", "CRCX ")), Code::unknown_step);
  EXPECT_EQ(decode_code(replace(s1, "RSIP ", "XKDX ")), Code::unknown_step);
  EXPECT_EQ(decode_code(replace(s1, "RM: restart", "RM: graceful")), Code::unknown_step);
  EXPECT_EQ(decode_code("200 1234 OK\r\nX-KDFLOW: proxied\r\n"), Code::unknown_step);
  EXPECT_EQ(decode_code(replace(wire_of("s6"), "R: X-KD/auth(N)", "R: L/hd(N)")), Code::unknown_step);
  EXPECT_EQ(decode_code(replace(wire_of("s10"), "S: X-KD/reg", "S: L/rg")), Code::unknown_step);
  EXPECT_EQ(decode_code(replace(wire_of("s7"), "O: X-KD/auth", "O: L/hd")), Code::unknown_step);
  // A plain RQNT from another call agent, without any KD parameter.
  EXPECT_EQ(decode_code("RQNT 1201 aaln/1@rgw-2567.whatever.net MGCP 1.0\nN: ca@ca1.whatever.net:5678\n"
                        "X: 0123456789AC\nR: L/hd(N)\nS: L/rg\n"),
            Code::unknown_step);
  EXPECT_EQ(decode_code(replace(wire_of("s6"), "S: X-KD/chal", "S: X-KD/reg")), Code::malformed);
}

TEST(MgcpDecodeErr, MissingParameters) {
  EXPECT_EQ(decode_code(drop(wire_of("s1"), "RM")), Code::missing_field);
  EXPECT_EQ(decode_code(drop(wire_of("s6"), "X")), Code::missing_field);
  EXPECT_EQ(decode_code(drop(wire_of("s7"), "X")), Code::missing_field);
  EXPECT_EQ(decode_code(drop(wire_of("s7"), "O")), Code::missing_field);
  EXPECT_EQ(decode_code(drop(wire_of("s7"), "X-KDFLOW")), Code::missing_field);
  EXPECT_EQ(decode_code(drop(wire_of("s7"), "X-KDSUIT")), Code::missing_field);
  EXPECT_EQ(decode_code(drop(wire_of("s7"), "X-KDMLST")), Code::missing_field);
  EXPECT_EQ(decode_code(drop(wire_of("s7"), "X-KDIPC")), Code::missing_field);
  EXPECT_EQ(decode_code(drop(wire_of("s7"), "X-KDAUTH")), Code::missing_field);
  EXPECT_EQ(decode_code(drop(wire_of("s6"), "X-KDMREQ")), Code::missing_field);
  EXPECT_EQ(decode_code(drop(wire_of("s10"), "X-KDMAC")), Code::missing_field);
  EXPECT_EQ(decode_code(drop(wire_of("s9"), "X-KDEKSP")), Code::missing_field);
  EXPECT_EQ(decode_code(drop(wire_of("d6"), "X-KDIDSS")), Code::missing_field);
  // TS still marks the terminal's s1, whose N1 is then missing; without both it reads as the
  // proxy's s2, where IPc is all that is left and the message passes.
  EXPECT_EQ(decode_code(drop(wire_of("s1"), "X-KDN1")), Code::missing_field);
  EXPECT_EQ(decode_code(drop(wire_of("s1"), "X-KDTS")), Code::missing_field);
}

TEST(MgcpDecodeErr, BadValues) {
  const std::string s7 = wire_of("s7");
  const std::string n1 = kd::to_hex(*msg_of("s7").N1);
  std::string upper = n1;
  for (char& c : upper) c = static_cast<char>(toupper(static_cast<unsigned char>(c)));
  EXPECT_EQ(decode_code(replace(s7, n1, "zz" + n1.substr(2))), Code::malformed);
  EXPECT_EQ(decode_code(replace(s7, n1, upper)), Code::malformed);
  EXPECT_EQ(decode_code(replace(s7, n1, n1.substr(1))), Code::malformed);
  EXPECT_EQ(decode_code(replace(s7, n1, n1.substr(2))), Code::bad_length);
  EXPECT_EQ(decode_code(replace(s7, "X-KDN1: ", "X-KDN1: 00")), Code::bad_length);
  EXPECT_EQ(decode_code(replace(wire_of("s10"), "X-KDMAC: ", "X-KDMAC: 00")), Code::bad_length);
  EXPECT_EQ(decode_code(replace(wire_of("s9"), "X-KDEKC: ", "X-KDEKC: 0000")), Code::bad_length);
  EXPECT_EQ(decode_code(replace(s7, "X-KDN1: " + n1, "X-KDN1: ")), Code::malformed);
  const std::string ts = "X-KDTS: " + std::to_string(*msg_of("s1").TS1);
  EXPECT_EQ(decode_code(replace(wire_of("s1"), ts, "X-KDTS: 0" + std::to_string(*msg_of("s1").TS1))), Code::malformed);
  EXPECT_EQ(decode_code(replace(wire_of("s1"), ts, "X-KDTS: -1")), Code::malformed);
  EXPECT_EQ(decode_code(replace(wire_of("s1"), ts, "X-KDTS: 99999999999999999999")), Code::bad_length);
  EXPECT_EQ(decode_code(replace(wire_of("s1"), ts, "X-KDTS: 9999999999999999999")), Code::bad_length);
  EXPECT_EQ(decode_code(replace(wire_of("s1"), "KD-AES128GCM-SHA256", "KD-ROT13")), Code::unknown_suite);
  EXPECT_EQ(decode_code(replace(wire_of("s1"), "X-KDFLOW: proxied", "X-KDFLOW: sideways")), Code::malformed);
  EXPECT_EQ(decode_code(replace(wire_of("s1"), "X-KDIDC: alice+1@example.org", "X-KDIDC: alice smith")), Code::malformed);
  EXPECT_EQ(decode_code(replace(wire_of("s1"), "X-KDIDC: alice+1@example.org", "X-KDIDC: " + std::string(65, 'a'))), Code::bad_length);
  EXPECT_EQ(decode_code(replace(wire_of("s1"), "X-KDIPC: 192.0.2.10:5060", "X-KDIPC: host.example:1")), Code::malformed);
  EXPECT_EQ(decode_code(replace(wire_of("s6"), "X-KDMREQ: true", "X-KDMREQ: false")), Code::malformed);
  EXPECT_EQ(decode_code(replace(wire_of("s6"), "X-KDMREQ: true", "X-KDMREQ: yes")), Code::malformed);
  EXPECT_EQ(decode_code(replace(wire_of("s6"), "X: ", "X: xyz")), Code::malformed);
  EXPECT_EQ(decode_code(replace(wire_of("s6"), "X: ", "X: " + std::string(32, '0'))), Code::malformed);
  EXPECT_EQ(decode_code(replace(wire_of("s10"), "X-KDMECH: tls", "X-KDMECH: TLS")), Code::malformed);
}

TEST(MgcpDecodeErr, BadMechanismLists) {
  const std::string s7 = wire_of("s7");
  EXPECT_EQ(decode_code(replace(s7, "tls;q=0.9", "tls;q=1.5")), Code::malformed);
  EXPECT_EQ(decode_code(replace(s7, "tls;q=0.9", "tls;q=0.9;q=0.8")), Code::malformed);
  EXPECT_EQ(decode_code(replace(s7, "tls;q=0.9", "tls;q=")), Code::malformed);
  EXPECT_EQ(decode_code(replace(s7, "digest;q=0.125", "tls;q=0.125")), Code::malformed);
  EXPECT_EQ(decode_code(replace(s7, "tls;q=0.9,", "tls;q=0.9,,")), Code::malformed);
  EXPECT_EQ(decode_code(replace(s7, "tls;q=0.9,", ";q=0.9,")), Code::bad_length);
  std::string many;
  for (int i = 0; i < 17; ++i) {  // appended, not added: GCC 12 -O3 false -Werror=restrict
    many += 'm';
    many += std::to_string(i);
    many += ',';
  }
  EXPECT_EQ(decode_code(replace(s7, "tls;q=0.9,", many)), Code::bad_length);
  EXPECT_EQ(decode_code(replace(s7, "digest;q=0.125", std::string(33, 'd'))), Code::bad_length);
}

TEST(MgcpDecodeErr, DuplicateUnknownAndForeignParameters) {
  const std::string s7 = wire_of("s7");
  EXPECT_EQ(decode_code(replace(s7, "X-KDFLOW: proxied\r\n", "X-KDFLOW: proxied\r\nx-kdflow: proxied\r\n")), Code::malformed);
  EXPECT_EQ(decode_code(replace(s7, "O: X-KD/auth\r\n", "O: X-KD/auth\r\no: X-KD/auth\r\n")), Code::malformed);
  EXPECT_EQ(decode_code(replace(s7, "X-KDFLOW: proxied\r\n", "X-KDFLOW: proxied\r\nX-KDTS: 1\r\n")), Code::malformed);
  EXPECT_EQ(decode_code(replace(s7, "X-KDFLOW: proxied\r\n", "X-KDFLOW: proxied\r\nX-KDNEW: 1\r\n")), Code::malformed);
  EXPECT_EQ(decode_code(replace(s7, "X-KDFLOW: proxied\r\n", "X-KDFLOW: proxied\r\nX-KDMAC: 00\r\n")), Code::malformed);
  EXPECT_EQ(decode_code(replace(s7, "X-KDFLOW: proxied\r\n", "X-KDFLOW: proxied\r\nX-KDIDSS: ss1.example.org\r\n")), Code::malformed);
  // A terminal-link value makes the proxy's s5 read as s6, which then lacks N1.
  EXPECT_EQ(decode_code(replace(wire_of("s5"), "X-KDFLOW: proxied\r\n", "X-KDFLOW: proxied\r\nX-KDTS: 1\r\n")), Code::missing_field);
  EXPECT_EQ(decode_code(replace(wire_of("s9"), "X-KDFLOW: proxied\r\n", "X-KDFLOW: proxied\r\nX-KDEKSS: 00\r\n")), Code::malformed);
  // Another party's extension parameters are not kd's business.
  expect_decodes_to(replace(s7, "X-KDFLOW: proxied\r\n", "X-KDFLOW: proxied\r\nX-Other: 1\r\nX+Crit: 2\r\nK: 17\r\n"), msg_of("s7"));
}

TEST(MgcpDecodeErr, OversizedAndHostileInput) {
  const std::string s7 = wire_of("s7");
  std::string big = replace(s7, "X-KDFLOW", "X-Pad: " + std::string(70000, 'a') + "\r\nX-KDFLOW");
  EXPECT_EQ(decode_code(big), Code::oversized);
  std::string just = s7;
  just.insert(s7.find("X-KDFLOW"), "X-Pad: " + std::string(65536 - s7.size() - 9, 'a') + "\r\n");
  ASSERT_EQ(just.size(), 65536u);
  expect_decodes_to(just, msg_of("s7"));
  EXPECT_EQ(decode_code(just + "X"), Code::oversized);
  // Many tiny lines, long words, deep parentheses: refused or read, quickly and without a crash.
  std::string lines = first_line(s7) + "\r\n";
  while (lines.size() < 60000) lines += "K:\r\n";
  EXPECT_EQ(decode_code(lines), Code::missing_field);  // an RSIP without RM
  EXPECT_EQ(decode_code(replace(wire_of("s6"), "R: X-KD/auth(N)", "R: " + std::string(30000, '(') + "X-KD/auth")), Code::unknown_step);
  EXPECT_EQ(decode_code(std::string(60000, 'a') + "\n"), Code::malformed);
  EXPECT_EQ(decode_code("RSIP 1 a@b MGCP 1.0 " + std::string(200, ' ') + "x y z w v u\n"), Code::malformed);
  // Every prefix of every kd message fails cleanly or decodes to a message that round-trips.
  for (const char* step : {"s1", "s6", "s7", "s10", "d5"}) {
    const std::string w = wire_of(step);
    for (std::size_t n = 0; n < w.size(); ++n) {
      auto r = mgcp().decode(bytes_of(w.substr(0, n)));
      if (r) {
        EXPECT_TRUE(kd::wiretest::round_trips(mgcp(), *r)) << step << " cut at " << n;
      }
    }
  }
}

}  // namespace
