// The SIP binding (lib/wire/sip.hpp): every step of both flows in every suite travels and comes
// back exactly, kd's bytes re-encode byte for byte, messages written the way other SIP stacks
// write them decode to the same logical message, and broken ones are refused with their code.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "flows.hpp"
#include "round_trip.hpp"
#include "wire/codec.hpp"
#include "wire/host.hpp"
#include "wire/sip.hpp"
#include "wire/text.hpp"

namespace {

using kd::Bytes;
using kd::Code;
using kd::msg::Flow;
using kd::msg::Message;

const kd::wire::Codec& sip() {
  static const auto c = kd::wire::make_codec(kd::wire::Binding::sip);
  return *c;
}

std::string text_of(const Bytes& b) { return std::string(b.begin(), b.end()); }
Bytes bytes_of(const std::string& s) { return Bytes(s.begin(), s.end()); }

const Message& msg_of(std::string_view step) { return kd::wiretest::step_message(step); }

std::string encoded(const Message& m) {
  auto b = sip().encode(m);
  EXPECT_TRUE(b.ok()) << (b ? "" : b.error().detail);
  return b ? text_of(*b) : std::string();
}

std::string wire_of(std::string_view step) { return encoded(msg_of(step)); }

// The value of the first header line starting with `name: `.
std::string header(const std::string& text, const std::string& name) {
  std::size_t at = text.find("\r\n" + name + ": ");
  if (at == std::string::npos) return "";
  at += name.size() + 4;
  return text.substr(at, text.find("\r\n", at) - at);
}

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

// Removes the header line `name: ...`.
std::string drop(const std::string& s, const std::string& name) {
  std::size_t at = s.find("\r\n" + name + ": ");
  EXPECT_NE(at, std::string::npos) << "no " << name << " header";
  if (at == std::string::npos) return s;
  std::size_t end = s.find("\r\n", at + 2);
  return s.substr(0, at) + s.substr(end);
}

Code decode_code(const std::string& text) {
  auto r = sip().decode(bytes_of(text));
  EXPECT_FALSE(r.ok()) << "decoded:\n" << text;
  return r ? Code::malformed : r.error().code;
}

void expect_decodes_to(const std::string& text, const Message& want) {
  auto r = sip().decode(bytes_of(text));
  ASSERT_TRUE(r.ok()) << kd::code_name(r.error().code) << ": " << r.error().detail << "\n" << text;
  EXPECT_EQ(*r, want) << text;
}

// ---- registry and step coverage ----------------------------------------------------------------

TEST(WireCodec, BindingNamesRoundTrip) {
  for (auto b : {kd::wire::Binding::json, kd::wire::Binding::sip, kd::wire::Binding::mgcp,
                 kd::wire::Binding::h248, kd::wire::Binding::h323, kd::wire::Binding::radius})
    EXPECT_EQ(kd::wire::parse_binding(kd::wire::binding_name(b)), b);
  EXPECT_FALSE(kd::wire::parse_binding("SIP"));
  EXPECT_FALSE(kd::wire::parse_binding(""));
  ASSERT_NE(kd::wire::make_codec(kd::wire::Binding::sip), nullptr);
  EXPECT_EQ(sip().binding(), kd::wire::Binding::sip);
}

// The binding table (wire/codec.hpp) against each codec: a row has a leg for exactly the steps its
// codec carries, and names and ports are the protocols'.
TEST(WireCodec, BindingTableAgreesWithTheCodecs) {
  using kd::wire::Binding;
  using kd::wire::Carrier;
  const auto step = [](std::string_view n) -> const kd::msg::StepSpec& { return *kd::msg::find_step(n); };
  for (const auto& row : kd::wire::bindings()) {
    EXPECT_EQ(kd::wire::binding_info(row.binding).name, row.name);
    if (row.carrier == Carrier::logical) continue;
    auto c = kd::wire::make_codec(row.binding, {"secret"});
    ASSERT_NE(c, nullptr) << row.name;
    for (const auto& s : kd::msg::all_steps()) {
      EXPECT_EQ(kd::wire::leg_of(row.binding, s).has_value(), c->carries(s)) << row.name << " " << s.name;
      EXPECT_EQ(kd::wire::element_name(row.binding, s).empty(), !c->carries(s)) << row.name << " " << s.name;
    }
  }
  EXPECT_EQ(kd::wire::element_name(Binding::sip, step("s5")), "401");
  EXPECT_EQ(kd::wire::element_name(Binding::sip, step("s6")), "407");  // the proxy challenges
  EXPECT_EQ(kd::wire::element_name(Binding::sip, step("d4")), "401");
  EXPECT_EQ(kd::wire::element_name(Binding::mgcp, step("d5")), "NTFY");
  EXPECT_EQ(kd::wire::element_name(Binding::radius, step("d3")), "Access-Chal");
  EXPECT_EQ(kd::wire::element_name(Binding::radius, step("s11")), "Acct-Req");
  EXPECT_EQ(kd::wire::element_name(Binding::json, step("s1")), "");
  using P = std::pair<std::uint16_t, std::uint16_t>;
  EXPECT_EQ(kd::wire::binding_ports(Binding::sip, step("s9")), P(5060, 5060));
  EXPECT_EQ(kd::wire::binding_ports(Binding::mgcp, step("s6")), P(2727, 2427));
  EXPECT_EQ(kd::wire::binding_ports(Binding::radius, step("s1")), P(0, 0));
  EXPECT_EQ(kd::wire::binding_info(Binding::h248).tcp, kd::wire::Framing::tpkt);
  EXPECT_EQ(kd::wire::binding_info(Binding::h323).tcp, kd::wire::Framing::none);
  EXPECT_EQ(kd::wire::binding_info(Binding::h323).contact_port, 1720);
  EXPECT_EQ(kd::wire::binding_names({Carrier::signaling}, " or "), "sip, mgcp, h248 or h323");
  EXPECT_EQ(kd::wire::binding_names({Carrier::logical, Carrier::signaling, Carrier::auc_link}),
            "json, sip, mgcp, h248, h323, radius");
}

TEST(Sip, CarriesTheSignalingStepsOnly) {
  std::string carried;
  for (const auto& s : kd::msg::all_steps())
    if (sip().carries(s)) carried += std::string(s.name) + " ";
  EXPECT_EQ(carried, "s1 s2 s5 s6 s7 s8 s9 s10 d1 d4 d5 d6 ");
}

TEST(Sip, RefusesToEncodeTheAucLink) {
  auto r = sip().encode(msg_of("s4"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Code::unknown_step);
}

// ---- round trips --------------------------------------------------------------------------------

class SipRoundTrip : public ::testing::TestWithParam<std::tuple<std::string, Flow>> {};

TEST_P(SipRoundTrip, EveryStepTravelsExactlyAndReencodesByteForByte) {
  const auto* suite = kd::crypto::find_suite(std::get<0>(GetParam()));
  ASSERT_NE(suite, nullptr);
  std::string why;
  auto msgs = kd::wiretest::run_flow(*suite, std::get<1>(GetParam()), &why);
  ASSERT_FALSE(msgs.empty()) << why;
  int carried = 0;
  for (const auto& m : msgs) {
    const auto& spec = kd::msg::spec_of(m);
    if (!sip().carries(spec)) continue;
    ++carried;
    auto b = sip().encode(m);
    ASSERT_TRUE(b.ok()) << spec.name << ": " << b.error().detail;
    auto back = sip().decode(*b);
    ASSERT_TRUE(back.ok()) << spec.name << ": " << kd::code_name(back.error().code) << ": "
                           << back.error().detail << "\n" << text_of(*b);
    EXPECT_EQ(*back, m) << spec.name;
    auto again = sip().encode(*back);
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(*again, *b) << spec.name;
    EXPECT_EQ(*sip().encode(m), *b) << spec.name << ": encoding is not a pure function";
  }
  EXPECT_EQ(carried, std::get<1>(GetParam()) == Flow::proxied ? 8 : 4);
}

std::vector<std::string> suite_names() {
  std::vector<std::string> out;
  for (const auto& s : kd::crypto::all_suites()) out.emplace_back(s.name);
  return out;
}

INSTANTIATE_TEST_SUITE_P(AllSuitesBothFlows, SipRoundTrip,
                         ::testing::Combine(::testing::ValuesIn(suite_names()),
                                            ::testing::Values(Flow::proxied, Flow::direct)),
                         [](const auto& p) {
                           std::string n = std::get<0>(p.param) + "_" +
                                           std::string(kd::msg::flow_name(std::get<1>(p.param)));
                           for (char& c : n)
                             if (!isalnum(static_cast<unsigned char>(c))) c = '_';
                           return n;
                         });

TEST(Sip, ContactAddressesOfEveryFormRoundTrip) {
  for (std::string ipc : {"192.0.2.10", "192.0.2.10:5070", "[2001:db8::1]:5060", "[2001:db8::1]",
                          "2001:db8::1", "::ffff:192.0.2.1", "1.2.3", "abc", "...", "[::1", "0:0"}) {
    for (const char* step : {"s1", "s2", "s7", "s8", "d1", "d5"}) {
      Message m = msg_of(step);
      m.IPc = ipc;
      auto b = sip().encode(m);
      ASSERT_TRUE(b.ok()) << ipc << ": " << b.error().detail;
      auto back = sip().decode(*b);
      ASSERT_TRUE(back.ok()) << ipc << ": " << back.error().detail;
      EXPECT_EQ(*back, m) << ipc;
      EXPECT_EQ(*sip().encode(*back), *b);
      const bool verbatim = ipc == "192.0.2.10" || ipc == "192.0.2.10:5070" ||
                            ipc == "[2001:db8::1]:5060" || ipc == "[2001:db8::1]" || ipc == "abc";
      EXPECT_EQ(text_of(*b).find("kd-ipc=") == std::string::npos, verbatim) << ipc;
    }
  }
}

// ---- the envelope ---------------------------------------------------------------------------------

TEST(Sip, RequestsAndTheirResponsesShareTheTransactionAndDialogIds) {
  auto branch = [](const std::string& t) {
    std::string via = header(t, "Via");
    return via.substr(via.find(";branch=") + 8);
  };
  for (auto [req, resp] : std::vector<std::pair<const char*, const char*>>{
           {"s1", "s6"}, {"s2", "s5"}, {"s7", "s10"}, {"s8", "s9"}, {"d1", "d4"}, {"d5", "d6"}}) {
    const std::string q = wire_of(req), r = wire_of(resp);
    EXPECT_EQ(branch(q), branch(r)) << req << "/" << resp;
    EXPECT_EQ(branch(q).rfind("z9hG4bK", 0), 0u);
    for (const char* h : {"Via", "Call-ID", "From", "To", "CSeq"})  // else the equalities below hold vacuously
      EXPECT_NE(header(q, h), "") << req << " has no " << h;
    EXPECT_EQ(header(q, "Via"), header(r, "Via"));
    EXPECT_EQ(header(q, "Call-ID"), header(r, "Call-ID"));
    EXPECT_EQ(header(q, "From"), header(r, "From"));
    EXPECT_EQ(header(r, "To").rfind(header(q, "To") + ";tag=", 0), 0u) << header(r, "To");
    EXPECT_EQ(header(q, "CSeq"), header(r, "CSeq"));
  }
  // One registration is one Call-ID per link, with CSeq 1 then 2 and a new branch each time.
  EXPECT_EQ(header(wire_of("s1"), "Call-ID"), header(wire_of("s7"), "Call-ID"));
  EXPECT_EQ(header(wire_of("s2"), "Call-ID"), header(wire_of("s8"), "Call-ID"));
  EXPECT_NE(header(wire_of("s1"), "Call-ID"), header(wire_of("s2"), "Call-ID"));
  EXPECT_NE(branch(wire_of("s1")), branch(wire_of("s7")));
  EXPECT_NE(branch(wire_of("s2")), branch(wire_of("s8")));
  EXPECT_EQ(header(wire_of("s1"), "CSeq"), "1 REGISTER");
  EXPECT_EQ(header(wire_of("s7"), "CSeq"), "2 REGISTER");
}

// ---- transactions: what a proxy forwards and a registrar answers (kd-protocol(7), SIP) ----------

std::string after(std::string_view step, const std::string& previous) {
  auto b = sip().encode_after(msg_of(step), bytes_of(previous));
  EXPECT_TRUE(b.ok()) << (b ? "" : b.error().detail);
  return b ? text_of(*b) : std::string();
}

// Every value of the header lines named `name`, in order.
std::vector<std::string> headers(const std::string& text, const std::string& name) {
  std::vector<std::string> out;
  for (std::size_t at = text.find("\r\n" + name + ": "); at != std::string::npos;
       at = text.find("\r\n" + name + ": ", at + 2)) {
    const std::size_t v = at + name.size() + 4;
    out.push_back(text.substr(v, text.find("\r\n", v) - v));
  }
  return out;
}

// s1 as another SIP stack writes it: two vias in one compact header, its own ids and hop count.
std::string foreign_s1() {
  std::string t = wire_of("s1");
  t = replace(t, "\r\nVia: " + header(t, "Via"),
              "\r\nv: SIP/2.0/UDP 10.0.0.7:5070;branch=z9hG4bKaaa;rport, SIP/2.0/TCP nat.example;branch=z9hG4bKbbb");
  t = replace(t, "Max-Forwards: 70", "Max-Forwards: 12");
  t = replace(t, "Call-ID: " + header(t, "Call-ID"), "i: 77@10.0.0.7");
  t = replace(t, "From: " + header(t, "From"), "From: \"Alice\" <sip:alice@sbc1>;tag=zz9");
  t = replace(t, "CSeq: 1 REGISTER", "CSeq: 4711 REGISTER");
  return t;
}

TEST(SipTransaction, TheProxyForwardsTheRequestWithItsViaOnTop) {
  const std::string s1 = foreign_s1(), s2 = after("s2", s1), own = header(wire_of("s2"), "Via");
  EXPECT_EQ(headers(s2, "Via"), (std::vector<std::string>{own, "SIP/2.0/UDP 10.0.0.7:5070;branch=z9hG4bKaaa;rport",
                                                          "SIP/2.0/TCP nat.example;branch=z9hG4bKbbb"}));
  EXPECT_EQ(header(s2, "Max-Forwards"), "11");
  EXPECT_EQ(header(s2, "Call-ID"), "77@10.0.0.7");
  EXPECT_EQ(header(s2, "From"), "\"Alice\" <sip:alice@sbc1>;tag=zz9");
  EXPECT_EQ(header(s2, "To"), header(s1, "To"));
  EXPECT_EQ(header(s2, "CSeq"), "4711 REGISTER");
  expect_decodes_to(s2, msg_of("s2"));  // the KD values are the step's own
}

TEST(SipTransaction, TheSwitchAnswersTheRequestItReceived) {
  const std::string s2 = after("s2", foreign_s1()), s5 = after("s5", s2);
  EXPECT_EQ(headers(s5, "Via"), headers(s2, "Via"));
  EXPECT_EQ(header(s5, "Call-ID"), "77@10.0.0.7");
  EXPECT_EQ(header(s5, "From"), header(s2, "From"));
  EXPECT_EQ(header(s5, "CSeq"), "4711 REGISTER");
  const std::string derived_tag = header(wire_of("s5"), "To").substr(header(wire_of("s5"), "To").find(";tag="));
  EXPECT_EQ(header(s5, "To"), header(s2, "To") + derived_tag);
  // A To that has a tag already keeps it as it is.
  const std::string tagged = replace(s2, "To: " + header(s2, "To"), "To: <sip:alice@sbc1>;TAG=x1");
  EXPECT_EQ(header(after("s5", tagged), "To"), "<sip:alice@sbc1>;TAG=x1");
  expect_decodes_to(s5, msg_of("s5"));
}

TEST(SipTransaction, TheProxyTakesItsViaOffTheResponse) {
  const std::string s5 = after("s5", after("s2", foreign_s1())), s6 = after("s6", s5);
  EXPECT_EQ(headers(s6, "Via"), (std::vector<std::string>{"SIP/2.0/UDP 10.0.0.7:5070;branch=z9hG4bKaaa;rport",
                                                          "SIP/2.0/TCP nat.example;branch=z9hG4bKbbb"}));
  EXPECT_EQ(header(s6, "Call-ID"), "77@10.0.0.7");
  EXPECT_EQ(header(s6, "To"), header(s5, "To"));
  EXPECT_EQ(s6.rfind("SIP/2.0 407 ", 0), 0u);
  expect_decodes_to(s6, msg_of("s6"));
}

// The codec keeps the last message it read (parse_text_kept): what it echoes is always the
// message it is given. Two requests of one length that differ in a byte of their Call-ID, each
// decoded and forwarded in turns, with one that does not parse in between, each get their own.
TEST(SipTransaction, EachMessageIsEchoedFromItsOwnBytesWhateverWasReadBefore) {
  const std::string a = foreign_s1(), b = replace(a, "i: 77@10.0.0.7", "i: 78@10.0.0.7");
  ASSERT_EQ(a.size(), b.size());
  ASSERT_NE(a, b);
  for (int round = 0; round < 2; ++round) {
    EXPECT_TRUE(sip().decode(bytes_of(a)).ok());
    EXPECT_EQ(header(after("s2", b), "Call-ID"), "78@10.0.0.7");
    EXPECT_EQ(header(after("s2", a), "Call-ID"), "77@10.0.0.7");
    EXPECT_EQ(header(after("s2", a), "Call-ID"), "77@10.0.0.7");  // the same bytes again
    EXPECT_TRUE(sip().decode(bytes_of(b)).ok());
    EXPECT_EQ(after("s2", "not SIP at all"), wire_of("s2"));  // nothing to echo: the derived values
    EXPECT_EQ(header(after("s2", b), "Call-ID"), "78@10.0.0.7");
    EXPECT_EQ(after("s2", a), after("s2", foreign_s1()));
  }
}

// Live mode over TCP (kd-live(7), TRANSPORTS): a request's own Via names the transport it goes
// over (RFC 3261 18.1.1); the Vias it forwards and a response's are echoed as they came.
TEST(SipTransaction, TheOwnViaNamesTheCodecsTransport) {
  kd::wire::CodecOptions o;
  o.transport = kd::wire::Transport::tcp;
  const auto tcp = kd::wire::make_codec(kd::wire::Binding::sip, o);
  auto text = [&](kd::Result<Bytes> b) { return b ? text_of(*b) : std::string("failed"); };
  const std::string s1 = text(tcp->encode(msg_of("s1")));
  EXPECT_EQ(s1, replace(wire_of("s1"), "Via: SIP/2.0/UDP ", "Via: SIP/2.0/TCP "));
  expect_decodes_to(s1, msg_of("s1"));
  const std::string s2 = text(tcp->encode_after(msg_of("s2"), bytes_of(foreign_s1())));
  EXPECT_EQ(headers(s2, "Via"), (std::vector<std::string>{
                                    replace(header(wire_of("s2"), "Via"), "SIP/2.0/UDP ", "SIP/2.0/TCP "),
                                    "SIP/2.0/UDP 10.0.0.7:5070;branch=z9hG4bKaaa;rport",
                                    "SIP/2.0/TCP nat.example;branch=z9hG4bKbbb"}));
  const Bytes txn(kd::wire::kTxnBytes, 0xab);
  const std::string fresh_via = header(text(tcp->encode_fresh(msg_of("s2"), bytes_of(foreign_s1()), txn)), "Via");
  EXPECT_EQ(fresh_via.rfind("SIP/2.0/TCP ", 0), 0u) << fresh_via;
  EXPECT_NE(fresh_via.find(";branch=z9hG4bKabababababababababababab"), std::string::npos) << fresh_via;
  // A response echoes its request's Vias, whichever transport they name.
  const std::string udp_s2 = after("s2", foreign_s1());
  EXPECT_EQ(headers(text(tcp->encode_after(msg_of("s5"), bytes_of(udp_s2))), "Via"), headers(udp_s2, "Via"));
  EXPECT_EQ(headers(after("s5", s2), "Via"), headers(s2, "Via"));
}

TEST(SipTransaction, KdsOwnTerminalGetsTheDerivedTransactionBack) {
  // Through kd's own roles the echoed transaction is the derived one wherever a step is not forwarded.
  EXPECT_EQ(after("d4", wire_of("d1")), wire_of("d4"));
  EXPECT_EQ(after("d6", wire_of("d5")), wire_of("d6"));
  const std::string s6 = after("s6", after("s5", after("s2", wire_of("s1"))));
  EXPECT_EQ(headers(s6, "Via"), headers(wire_of("s6"), "Via"));
  EXPECT_EQ(header(s6, "Call-ID"), header(wire_of("s6"), "Call-ID"));
  const std::string s10 = after("s10", after("s9", after("s8", wire_of("s7"))));
  EXPECT_EQ(headers(s10, "Via"), headers(wire_of("s10"), "Via"));
}

TEST(SipTransaction, WhatCannotBeEchoedLeavesTheDerivedValues) {
  EXPECT_EQ(after("s2", ""), wire_of("s2"));
  EXPECT_EQ(after("s2", "not SIP at all"), wire_of("s2"));
  EXPECT_EQ(after("s6", wire_of("s5")), wire_of("s6"));  // one Via only: none would be left
  EXPECT_EQ(after("s2", replace(wire_of("s1"), "Max-Forwards: 70", "Max-Forwards: 7000")), wire_of("s2"));
  EXPECT_EQ(header(after("s2", replace(wire_of("s1"), "Max-Forwards: 70", "Max-Forwards: 0")), "Max-Forwards"), "0");
  // The other bindings ignore it.
  auto mgcp = kd::wire::make_codec(kd::wire::Binding::mgcp);
  EXPECT_EQ(*mgcp->encode_after(msg_of("s2"), bytes_of(wire_of("s1"))), *mgcp->encode(msg_of("s2")));
}

TEST(Sip, DecodingIntoAUsedMessageGivesWhatDecodeGives) {
  // kd-decode decodes into the Messages of earlier packets: nothing of the earlier one may remain.
  Message m;
  for (const char* step : {"s7", "s1", "s10", "s6", "d5", "s9", "d1", "s2", "d6", "s5", "s8", "d4"}) {
    const Bytes wire = bytes_of(wire_of(step));
    ASSERT_TRUE(sip().decode_into(wire, m).ok()) << step;
    EXPECT_EQ(m, msg_of(step)) << step;
  }
  // A message that does not decode leaves m unusable, and the next decode is whole again.
  EXPECT_FALSE(sip().decode_into(bytes_of("REGISTER sip:x SIP/2.0\r\n\r\n"), m).ok());
  ASSERT_TRUE(sip().decode_into(bytes_of(wire_of("s6")), m).ok());
  EXPECT_EQ(m, msg_of("s6"));
}

TEST(Sip, WritesTheHeadersAndValuesAsDocumented) {
  const std::string s1 = wire_of("s1");
  EXPECT_EQ(s1.substr(0, s1.find("\r\n")), "REGISTER sip:sbc1.example.org SIP/2.0");
  EXPECT_EQ(header(s1, "To"), "<sip:alice+1%40example.org@sbc1.example.org>");
  EXPECT_EQ(header(s1, "Contact"), "<sip:alice+1%40example.org@192.0.2.10:5060>");
  EXPECT_EQ(header(s1, "Max-Forwards"), "70");
  EXPECT_EQ(header(s1, "Expires"), "3600");
  EXPECT_EQ(header(s1, "Content-Length"), "0");
  EXPECT_EQ(header(s1, "Via").rfind("SIP/2.0/UDP example.org;branch=z9hG4bK", 0), 0u);
  EXPECT_EQ(s1.substr(s1.size() - 4), "\r\n\r\n");
  const Message& m1 = msg_of("s1");
  EXPECT_EQ(header(s1, "Authorization"),
            "KD username=\"alice+1@example.org\", realm=\"sbc1.example.org\", algorithm=KD-AES128GCM-SHA256, "
            "kd-flow=proxied, kd-n1=\"" + kd::to_hex(*m1.N1) + "\", kd-ts=" + std::to_string(*m1.TS1));

  const std::string s7 = wire_of("s7");
  EXPECT_EQ(header(s7, "Security-Client"), "tls;q=0.9, ipsec-3gpp;q=0.5, digest;q=0.125");
  EXPECT_EQ(header(s7, "Require"), "sec-agree");
  EXPECT_NE(header(s7, "Proxy-Authorization").find("response=\"" + kd::to_hex(*msg_of("s7").Authenticator_c) + "\""),
            std::string::npos);

  const std::string s6 = wire_of("s6");
  // [0140]: the proxy challenges the terminal with 407; the switch challenges with 401.
  EXPECT_EQ(s6.substr(0, s6.find("\r\n")), "SIP/2.0 407 Proxy Authentication Required");
  EXPECT_EQ(header(s6, "Require"), "sec-agree");
  EXPECT_EQ(header(s6, "WWW-Authenticate"), "");
  const std::string s5 = wire_of("s5");
  EXPECT_EQ(s5.substr(0, s5.find("\r\n")), "SIP/2.0 401 Unauthorized");
  EXPECT_NE(header(s5, "WWW-Authenticate").find("nonce="), std::string::npos);
  EXPECT_NE(header(wire_of("s8"), "Authorization").find("response="), std::string::npos);
  EXPECT_EQ(header(wire_of("d4"), "Proxy-Authenticate"), "");
  EXPECT_NE(header(s6, "Proxy-Authenticate").find("nonce=\"" + kd::to_hex(*msg_of("s6").Rand) + "\""),
            std::string::npos);

  const std::string s10 = wire_of("s10");
  EXPECT_EQ(s10.substr(0, s10.find("\r\n")), "SIP/2.0 200 OK");
  EXPECT_EQ(header(s10, "Security-Verify"), "tls;q=0.9, ipsec-3gpp;q=0.5, digest;q=0.125");
  EXPECT_EQ(header(s10, "Contact"), "<sip:alice+1%40example.org@sbc1.example.org>;expires=3600");
  EXPECT_NE(header(s10, "Authentication-Info").find("kd-mech=tls"), std::string::npos);
  // The proxy's sealed key stops at the proxy.
  EXPECT_NE(wire_of("s9").find(kd::to_hex(*msg_of("s9").EKsp)), std::string::npos);
  EXPECT_EQ(s10.find("kd-eksp"), std::string::npos);
}

TEST(Sip, EnvelopeHelpers) {
  using namespace kd::wire::sip;
  using kd::wire::host_for;
  const auto parse_q = kd::msg::parse_qvalue;
  const auto q_text = kd::msg::qvalue_text;
  EXPECT_EQ(host_for("ss1.example.org"), "ss1.example.org");
  EXPECT_EQ(host_for("alice@example.org"), "example.org");
  EXPECT_EQ(host_for("192.0.2.1"), "192.0.2.1");
  EXPECT_EQ(host_for("sw_1"), "invalid");
  EXPECT_EQ(host_for("a@b@c_d"), "invalid");
  EXPECT_EQ(host_for("-bad.example"), "invalid");
  EXPECT_EQ(escape_user("alice+1@ex_a.org"), "alice+1%40ex_a.org");
  EXPECT_EQ(q_text(1000), "1");
  EXPECT_EQ(q_text(0), "0");
  EXPECT_EQ(q_text(900), "0.9");
  EXPECT_EQ(q_text(125), "0.125");
  EXPECT_EQ(q_text(10), "0.01");
  for (std::uint16_t q = 0; q <= 1000; ++q) EXPECT_EQ(parse_q(q_text(q)), q);
  EXPECT_EQ(parse_q("1.000"), 1000);
  EXPECT_EQ(parse_q("0.500"), 500);
  EXPECT_EQ(parse_q("0."), 0);
  for (const char* bad : {"", "1.001", "2", "0.1234", ".5", "0,5", "-0", "0.5x"})
    EXPECT_FALSE(parse_q(bad)) << bad;
}

// ---- messages from other SIP stacks --------------------------------------------------------------

TEST(SipDecode, CompactAndLowercaseHeaderNames) {
  std::string t = wire_of("s7");
  t = replace(t, "\r\nVia: ", "\r\nv: ");
  t = replace(t, "\r\nFrom: ", "\r\nf: ");
  t = replace(t, "\r\nTo: ", "\r\nt: ");
  t = replace(t, "\r\nCall-ID: ", "\r\ni: ");
  t = replace(t, "\r\nContact: ", "\r\nm: ");
  t = replace(t, "\r\nContent-Length: ", "\r\nl: ");
  t = replace(t, "\r\nProxy-Authorization: ", "\r\nproxy-authorization: ");
  t = replace(t, "\r\nSecurity-Client: ", "\r\nSECURITY-CLIENT: ");
  t = replace(t, "\r\nCSeq: ", "\r\ncseq: ");
  expect_decodes_to(t, msg_of("s7"));
}

TEST(SipDecode, LfOnlyLineEndingsAndFoldedHeaders) {
  std::string t = replace_all(wire_of("s10"), "\r\n", "\n");
  expect_decodes_to(t, msg_of("s10"));
  std::string folded = replace(wire_of("s10"), ", kd-ekc=", ",\r\n   kd-ekc=");
  expect_decodes_to(folded, msg_of("s10"));
  expect_decodes_to(replace(wire_of("s10"), "Authentication-Info: ", "Authentication-Info: KD "), msg_of("s10"));
  expect_decodes_to(replace(wire_of("s10"), "Authentication-Info: ", "Authentication-Info: qop=auth\r\nAuthentication-Info: "),
                    msg_of("s10"));
}

TEST(SipDecode, ReorderedHeadersExtraHeadersAndSpacing) {
  const std::string s6 = wire_of("d4");
  const std::string www = header(s6, "WWW-Authenticate");
  std::string t = drop(s6, "WWW-Authenticate");
  t = replace(t, "SIP/2.0 401 Unauthorized\r\n",
              "SIP/2.0 401 Unauthorized\r\nWWW-Authenticate: Digest realm=\"x\", nonce=\"00\"\r\n"
              "WWW-Authenticate :   kd " + replace_all(www.substr(3), ", ", " ,\t") +
                  "\r\nServer: someone-else/1.0\r\nWarning: 399 x \"hello, world\"\r\n");
  t = replace(t, "Require: sec-agree", "Require: path, Sec-Agree");
  t = replace(t, "\r\n\r\n", "\r\nX-Extra: 1\r\n\r\n");
  expect_decodes_to(t, msg_of("d4"));
}

TEST(SipDecode, AProxyChallengeWith407AndTokenValues) {
  std::string t = wire_of("d4");
  t = replace(t, "401 Unauthorized", "407 Proxy Authentication Required");
  t = replace(t, "WWW-Authenticate:", "Proxy-Authenticate:");
  t = replace(t, "algorithm=KD-AES128GCM-SHA256", "algorithm=\"KD-AES128GCM-SHA256\"");
  t = replace(t, "kd-n2=\"" + kd::to_hex(*msg_of("d4").N2) + "\"", "kd-n2=" + kd::to_hex(*msg_of("d4").N2));
  expect_decodes_to(t, msg_of("d4"));
}

TEST(SipDecode, OtherMechanismParametersAndQForms) {
  std::string t = wire_of("d5");
  t = replace(t, "Security-Client: tls;q=0.9, ipsec-3gpp;q=0.5, digest;q=0.125",
              "Security-Client: tls ; q=0.900, ipsec-3gpp;alg=hmac-sha-1-96;spi-c=1234;spi-s=5678;q=0.50\r\n"
              "Security-Client: digest;d-alg=md5;q=0.125");
  t = replace(t, "Require: sec-agree\r\n", "");
  t = replace(t, "Contact: <sip:alice+1%40example.org@192.0.2.10:5060>",
              "Contact: \"Alice, the first\" <sip:alice@192.0.2.10:5060;transport=udp>;expires=600");
  expect_decodes_to(t, msg_of("d5"));
  Message noq = msg_of("d5");
  (*noq.SecMechList)[0].q = 1000;
  expect_decodes_to(replace(wire_of("d5"), "tls;q=0.9", "tls"), noq);
}

TEST(SipDecode, LeadingBlankLinesAndABody) {
  std::string t = "\r\n\r\n" + replace(wire_of("s2"), "Content-Length: 0", "Content-Type: text/plain\r\nl: 5") + "hello";
  expect_decodes_to(t, msg_of("s2"));
}

// The decoder scans the header section sixteen bytes at a time for line ends, NUL bytes and the
// ends of quoted values: what it finds must not depend on where a block boundary falls.
TEST(SipDecode, LineEndsNulBytesAndQuotesAtEveryOffset) {
  const std::string s10 = wire_of("s10");
  for (std::size_t pad = 0; pad < 17; ++pad) {  // moves every byte across a block boundary
    const std::string lead = std::string(pad % 2 ? "\n" : "\r\n") + std::string(pad / 2, '\n');
    expect_decodes_to(lead + s10, msg_of("s10"));
    expect_decodes_to(lead + replace_all(s10, "\r\n", "\n"), msg_of("s10"));
    const std::string body = replace(s10, "Content-Length: 0", "Content-Length: " + std::to_string(pad + 1)) +
                             std::string(pad, 'x') + '\0';
    expect_decodes_to(lead + body, msg_of("s10"));  // a NUL in the body is the body's business
  }
  const std::size_t end = s10.find("\r\n\r\n");
  for (std::size_t i = 0; i < end; ++i) {  // a NUL anywhere in the headers, whatever else it breaks
    std::string t = s10;
    t[i] = '\0';
    auto r = sip().decode(bytes_of(t));
    ASSERT_FALSE(r.ok()) << "NUL at " << i;
    EXPECT_EQ(r.error().detail, "a NUL byte in the SIP headers") << "NUL at " << i;
  }
  // A quoted value with an escape, at each offset, decodes to the same bytes as the plain one.
  const std::string ekc = kd::to_hex(*msg_of("s10").EKc);
  auto quoted = [](const std::string& v, const char* close) {  // appended: GCC 12 -O3 false -Werror=restrict
    return std::string("\"").append(v).append(close);
  };
  for (std::size_t i = 0; i < ekc.size(); i += 5) {
    std::string escaped = ekc.substr(0, i);  // built, not inserted into: GCC 12 -O3 again
    escaped += '\\';
    escaped += ekc.substr(i);
    expect_decodes_to(replace(s10, quoted(ekc, "\""), quoted(escaped, "\"")), msg_of("s10"));
  }
  EXPECT_EQ(decode_code(replace(s10, quoted(ekc, "\""), quoted(ekc, ""))), Code::malformed);  // unterminated
}

TEST(SipDecode, NamesInAnyCaseAndWithSpaceBeforeTheColon) {
  std::string t = wire_of("s7");
  t = replace(t, "kd-n1=", "KD-N1=");
  t = replace(t, "response=", "Response=");
  t = replace(t, "\r\nCall-ID: ", "\r\nCALL-id \t: ");
  t = replace(t, "\r\nCSeq: ", "\r\nCSeq:");
  expect_decodes_to(t, msg_of("s7"));
  auto detail = [](const std::string& text) {
    auto r = sip().decode(bytes_of(text));
    return r ? std::string("decoded") : r.error().detail;
  };
  EXPECT_EQ(detail(replace(wire_of("s7"), "\r\nCSeq: ", "\r\nC@Seq: ")), "a SIP header name with a bad character");
  EXPECT_EQ(detail(replace(wire_of("s7"), "\r\nCSeq: ", "\r\n\r : ")), "a SIP header without a name");
  EXPECT_EQ(detail(replace(wire_of("s7"), "\r\nCSeq: ", "\r\nCSeq ")), "a SIP header line without a colon");
  // A name that differs from a known one only in a character that case folding could confuse.
  EXPECT_EQ(detail(replace(wire_of("s7"), "\r\nCSeq: ", "\r\nCSeq\r: ")), "decoded");
  EXPECT_EQ(detail(replace(wire_of("s7"), "\r\nCall-ID: ", "\r\nCall\rID: ")), "a SIP header name with a bad character");
  EXPECT_EQ(detail(replace(wire_of("s7"), "kd-n1=", "kd\rn1=")), "authentication parameter kd has no value");
}

// ---- rejections ----------------------------------------------------------------------------------

TEST(SipDecodeErr, Truncated) {
  const std::string s7 = wire_of("s7");
  EXPECT_EQ(decode_code(s7.substr(0, s7.size() / 2)), Code::malformed);
  EXPECT_EQ(decode_code(s7.substr(0, s7.size() - 2)), Code::malformed);
  EXPECT_EQ(decode_code(""), Code::malformed);
  EXPECT_EQ(decode_code(replace(s7, "Content-Length: 0", "Content-Length: 10")), Code::malformed);
}

TEST(SipDecodeErr, MissingKdHeader) {
  EXPECT_EQ(decode_code(drop(wire_of("s7"), "Proxy-Authorization")), Code::missing_field);
  EXPECT_EQ(decode_code(drop(wire_of("s6"), "Proxy-Authenticate")), Code::missing_field);
  EXPECT_EQ(decode_code(drop(wire_of("s8"), "Authorization")), Code::missing_field);
  EXPECT_EQ(decode_code(drop(wire_of("s5"), "WWW-Authenticate")), Code::missing_field);
  EXPECT_EQ(decode_code(drop(wire_of("s10"), "Authentication-Info")), Code::missing_field);
  EXPECT_EQ(decode_code(replace(wire_of("s1"), "Authorization: KD ", "Authorization: Digest ")), Code::missing_field);
}

TEST(SipDecodeErr, MissingKdValues) {
  EXPECT_EQ(decode_code(drop(wire_of("s7"), "Security-Client")), Code::missing_field);
  EXPECT_EQ(decode_code(drop(wire_of("s6"), "Require")), Code::missing_field);
  EXPECT_EQ(decode_code(drop(wire_of("s1"), "Contact")), Code::missing_field);
  EXPECT_EQ(decode_code(replace(wire_of("s7"), ", kd-flow=proxied", "")), Code::missing_field);
  EXPECT_EQ(decode_code(replace(wire_of("s7"), "kd-n1=", "kd-nx=")), Code::missing_field);
  EXPECT_EQ(decode_code(replace(wire_of("s10"), "kd-mac=", "kd-mic=")), Code::missing_field);
  EXPECT_EQ(decode_code(replace(wire_of("s9"), "kd-eksp=", "kd-eksq=")), Code::missing_field);
  EXPECT_EQ(decode_code(replace(wire_of("s1"), ", algorithm=KD-AES128GCM-SHA256", "")), Code::missing_field);
}

TEST(SipDecodeErr, BadHexInKdParam) {
  const std::string n1 = kd::to_hex(*msg_of("s7").N1);
  EXPECT_EQ(decode_code(replace(wire_of("s7"), n1, "zz" + n1.substr(2))), Code::malformed);
  std::string upper = n1;
  for (char& c : upper) c = static_cast<char>(toupper(c));
  EXPECT_EQ(decode_code(replace(wire_of("s7"), n1, upper)), Code::malformed);
  EXPECT_EQ(decode_code(replace(wire_of("s7"), n1, n1.substr(1))), Code::malformed);
  EXPECT_EQ(decode_code(replace(wire_of("s7"), n1, n1.substr(2))), Code::bad_length);
  EXPECT_EQ(decode_code(replace(wire_of("s10"), "kd-mac=\"", "kd-mac=\"00")), Code::bad_length);
}

TEST(SipDecodeErr, BadOtherKdValues) {
  const Message& m1 = msg_of("s1");
  const std::string ts = "kd-ts=" + std::to_string(*m1.TS1);
  EXPECT_EQ(decode_code(replace(wire_of("s1"), ts, "kd-ts=0" + std::to_string(*m1.TS1))), Code::malformed);
  EXPECT_EQ(decode_code(replace(wire_of("s1"), ts, "kd-ts=-1")), Code::malformed);
  EXPECT_EQ(decode_code(replace(wire_of("s1"), ts, "kd-ts=99999999999999999999")), Code::bad_length);
  EXPECT_EQ(decode_code(replace(wire_of("s1"), "KD-AES128GCM-SHA256", "KD-ROT13")), Code::unknown_suite);
  EXPECT_EQ(decode_code(replace(wire_of("s1"), "kd-flow=proxied", "kd-flow=sideways")), Code::malformed);
  EXPECT_EQ(decode_code(replace(wire_of("s7"), "tls;q=0.9", "tls;q=1.5")), Code::malformed);
  EXPECT_EQ(decode_code(replace(wire_of("s7"), "digest;q=0.125", "tls;q=0.125")), Code::malformed);
  EXPECT_EQ(decode_code(replace(wire_of("s7"), "tls;q=0.9", "TLS;q=0.9")), Code::malformed);
  EXPECT_EQ(decode_code(replace(wire_of("s1"), "realm=", "realm=\"x\", realm=")), Code::malformed);
  EXPECT_EQ(decode_code(replace(wire_of("s1"), "username=\"", "username=\"bad id ")), Code::malformed);
  EXPECT_EQ(decode_code(replace(wire_of("s1"), "kd-flow=proxied", "kd-flow=proxied, opaque=\"x")), Code::malformed);
}

TEST(SipDecodeErr, KdValueThatDoesNotBelongInTheStep) {
  const std::string ekc = "kd-ekc=\"" + kd::to_hex(*msg_of("s10").EKc) + "\"";
  EXPECT_EQ(decode_code(replace(wire_of("s6"), "kd-flow=proxied", "kd-flow=proxied, " + ekc)), Code::malformed);
  EXPECT_EQ(decode_code(replace(wire_of("s6"), "kd-flow=proxied", "kd-flow=proxied, kd-mech=tls")), Code::malformed);
  // A terminal-link value in a proxy-switch message makes it a terminal-link message that lacks the rest.
  EXPECT_EQ(decode_code(replace(wire_of("s2"), "kd-flow=proxied", "kd-flow=proxied, kd-ts=5")), Code::missing_field);
}

TEST(SipDecodeErr, WrongStatusCodeForTheStep) {
  EXPECT_EQ(decode_code(replace(wire_of("s6"), "407 Proxy Authentication Required", "403 Forbidden")), Code::unknown_step);
  EXPECT_EQ(decode_code(replace(wire_of("s5"), "401 Unauthorized", "200 OK")), Code::unknown_step);
  EXPECT_EQ(decode_code(replace(wire_of("s10"), "200 OK", "401 Unauthorized")), Code::unknown_step);
  EXPECT_EQ(decode_code(replace(wire_of("s10"), "200 OK", "180 Ringing")), Code::unknown_step);
  EXPECT_EQ(decode_code(replace(wire_of("s10"), "CSeq: 2 REGISTER", "CSeq: 2 INVITE")), Code::unknown_step);
}

TEST(SipDecodeErr, NotARegister) {
  std::string t = replace(wire_of("s1"), "REGISTER sip:", "INVITE sip:");
  t = replace(t, "CSeq: 1 REGISTER", "CSeq: 1 INVITE");
  EXPECT_EQ(decode_code(t), Code::unknown_step);
  EXPECT_EQ(decode_code(replace(wire_of("s1"), "CSeq: 1 REGISTER", "CSeq: 1 INVITE")), Code::malformed);
}

TEST(SipDecodeErr, MissingOrBrokenMandatoryHeaders) {
  for (const char* h : {"CSeq", "Call-ID", "From", "To", "Via"})
    EXPECT_EQ(decode_code(drop(wire_of("s7"), h)), Code::malformed) << h;
  EXPECT_EQ(decode_code(replace(wire_of("s7"), "CSeq: 2 REGISTER", "CSeq: two REGISTER")), Code::malformed);
  EXPECT_EQ(decode_code(replace(wire_of("s7"), "SIP/2.0\r\n", "SIP/3.0\r\n")), Code::malformed);
  EXPECT_EQ(decode_code(replace(wire_of("s7"), "\r\nMax-Forwards: 70", "\r\nMax-Forwards 70")), Code::malformed);
  EXPECT_EQ(decode_code(replace(wire_of("s10"), "SIP/2.0 200 OK", "SIP/2.0 2x0 OK")), Code::malformed);
  EXPECT_EQ(decode_code(replace(wire_of("s1"), "Contact: <sip:", "Contact: <tel:")), Code::malformed);
  EXPECT_EQ(decode_code(replace(wire_of("s1"), "Call-ID: ", "Call-ID: x\r\nCall-ID: ")), Code::malformed);
}

TEST(SipDecodeErr, Oversized) {
  std::string t = replace(wire_of("s1"), "\r\n\r\n", "\r\nX-Pad: " + std::string(70000, 'a') + "\r\n\r\n");
  EXPECT_EQ(decode_code(t), Code::oversized);
}

TEST(SipDecodeErr, TwoKdHeaders) {
  const std::string s1 = wire_of("s1");
  const std::string a = header(s1, "Authorization");
  EXPECT_EQ(decode_code(replace(s1, "\r\n\r\n", "\r\nAuthorization: " + a + "\r\n\r\n")), Code::malformed);
}

}  // namespace

namespace {

// Every truncation and many one-byte changes of kd's own messages: a code or a valid message,
// never a crash (the sanitizer build makes this bite), and whatever decodes round-trips as the
// codec promises (round_trip.hpp).
TEST(SipDecodeErr, NoCrashOnTruncationsAndByteChanges) {
  int decoded = 0;
  for (const char* step : {"s1", "s6", "s7", "s10", "d5"}) {
    const std::string t = wire_of(step);
    for (std::size_t n = 0; n < t.size(); ++n) {
      auto r = sip().decode(bytes_of(t.substr(0, n)));
      EXPECT_FALSE(r.ok()) << step << " cut at " << n;
    }
    for (std::size_t i = 0; i < t.size(); ++i) {
      for (char c : {'\0', '"', ',', ';', '\n', '\r', ' ', '=', '<', '@', 'A', '\\', '\xff'}) {
        std::string u = t;
        u[i] = c;
        auto r = sip().decode(bytes_of(u));
        if (!r) continue;
        ++decoded;
        EXPECT_TRUE(kd::wiretest::round_trips(sip(), *r)) << step << " byte " << i << " set to '"
                                                         << kd::printable(u.substr(i, 1)) << "'";
      }
    }
  }
  EXPECT_GT(decoded, 0);  // some changes (case, white space) keep a message: the checks above ran
}

}  // namespace
