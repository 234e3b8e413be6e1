// Provisional answers (lib/wire/codec.hpp, kd-protocol(7) BINDINGS): MGCP's 100 response, H.248's
// TransactionPending and H.225.0's RequestInProgress. The expected bytes are written here from
// each standard's syntax (RFC 3435 responseLine, RFC 3525 transactionPending, X.691 aligned PER of
// RasMessage), not produced by the code under test; the identities a provisional answer names are
// read back from kd's own requests; and no codec decodes a provisional answer as a step.
#include <gtest/gtest.h>

#include <cstdlib>
#include <iostream>
#include <string>

#include "flows.hpp"
#include "wire/codec.hpp"
#include "wire/h248.hpp"
#include "wire/h323.hpp"
#include "wire/mgcp.hpp"

namespace {

using kd::Bytes;
using kd::ByteView;
using kd::Code;
using kd::wire::Binding;
namespace wire = kd::wire;

Bytes bytes(std::string_view s) { return Bytes(s.begin(), s.end()); }

// With KD_PROVISIONAL_DUMP set, each written form is printed as "PROVISIONAL <binding> <hex>" for
// provisional-tshark.test.sh, which has tshark judge it.
void dump(std::string_view binding, const Bytes& b) {
  if (std::getenv("KD_PROVISIONAL_DUMP")) std::cout << "PROVISIONAL " << binding << " " << kd::to_hex(b) << "\n";
}
std::string text(const Bytes& b) { return std::string(b.begin(), b.end()); }

Bytes encoded(Binding b, std::string_view step) {
  auto c = wire::make_codec(b);
  auto r = c->encode(kd::wiretest::step_message(step));
  EXPECT_TRUE(r.ok()) << step;
  return r ? *r : Bytes{};
}

// The decimal after `key` in a text message, read by hand.
std::uint32_t number_after(const std::string& t, std::string_view key) {
  const auto at = t.find(key);
  EXPECT_NE(at, std::string::npos) << key;
  return static_cast<std::uint32_t>(std::stoul(t.substr(at + key.size())));
}

void expect_no_step(Binding b, const Bytes& provisional) {
  auto r = wire::make_codec(b)->decode(provisional);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Code::unknown_step) << r.error().detail;
}

// ---- MGCP (RFC 3435: responseLine = responseCode SP transaction-id [SP responseString] EOL) ----

TEST(Provisional, MgcpWritesA100ResponseLine) {
  EXPECT_EQ(text(wire::mgcp::provisional(4711)), "100 4711 executing\r\n");
  dump("mgcp", wire::mgcp::provisional(4711));
  EXPECT_EQ(text(wire::mgcp::provisional(999999999)), "100 999999999 executing\r\n");
}

TEST(Provisional, MgcpReadsProvisionalResponsesOnly) {
  EXPECT_EQ(wire::mgcp::read_provisional(bytes("100 4711 executing\r\n")), 4711u);
  EXPECT_EQ(wire::mgcp::read_provisional(bytes("101 12 queued\n")), 12u);    // 101: queued
  EXPECT_EQ(wire::mgcp::read_provisional(bytes("100\t77\r\n")), 77u);       // no commentary, a tab
  EXPECT_EQ(wire::mgcp::read_provisional(bytes("100 77 x\r\nK: 3\r\n")), 77u);  // parameters follow
  for (const char* no : {"200 4711 OK\r\n", "100 0 executing\r\n", "100 1234567890 x\r\n", "100 12a x\r\n",
                         "1000 5 x\r\n", "100 4711 executing", "RSIP 4711 aaln/1@x MGCP 1.0\r\n", "", "100\r\n"})
    EXPECT_FALSE(wire::mgcp::read_provisional(bytes(no))) << no;
}

TEST(Provisional, MgcpAnswersACommandUnderItsTransactionId) {
  for (std::string_view step : {"s1", "s2", "s7", "s8", "d1", "d5"}) {
    const Bytes req = encoded(Binding::mgcp, step);
    const std::string t = text(req);
    const std::uint32_t tid = number_after(t, t.substr(0, 5));  // "RSIP " or "NTFY "
    EXPECT_EQ(wire::mgcp::command_transaction(req), tid) << step;
    EXPECT_EQ(wire::request_transaction(Binding::mgcp, req), tid) << step;
    const auto p = wire::provisional_answer(Binding::mgcp, req, "sbc1", 0);
    ASSERT_TRUE(p) << step;
    EXPECT_EQ(text(*p), "100 " + std::to_string(tid) + " executing\r\n");
    const auto back = wire::read_provisional(Binding::mgcp, *p);
    ASSERT_TRUE(back);
    EXPECT_EQ(back->transaction, tid);
    EXPECT_EQ(back->delay_ms, 0u);
    expect_no_step(Binding::mgcp, *p);
  }
}

// ---- H.248 (RFC 3525: transactionPending = PendingToken EQUAL TransactionID LBRKT RBRKT) ----

TEST(Provisional, H248WritesTransactionPending) {
  EXPECT_EQ(text(wire::h248::pending("<sbc1.example>:2944", 77)),
            "MEGACO/1 <sbc1.example>:2944\r\nPending = 77 {\r\n}\r\n");
  dump("h248", wire::h248::pending("<sbc1.example>:2944", 77));
}

TEST(Provisional, H248ReadsTransactionPendingInAnyForm) {
  EXPECT_EQ(wire::h248::read_pending(bytes("MEGACO/1 <sbc1.example>:2944\r\nPending = 77 {\r\n}\r\n")), 77u);
  EXPECT_EQ(wire::h248::read_pending(bytes("!/1 [192.0.2.1]:2944 PN=4294967295{}")), 4294967295u);
  EXPECT_EQ(wire::h248::read_pending(bytes("megaco/1 <x>:2944\n  pending = 5 { } ; a comment\n")), 5u);
  for (const char* no : {"MEGACO/1 <x>:2944\r\nReply = 77 {\r\n}\r\n", "MEGACO/1 <x>:2944\r\nPending = 77\r\n",
                         "MEGACO/1 <x>:2944\r\nPending = 4294967296 {\r\n}\r\n",
                         "MEGACO/1 <x>:2944\r\nPending = 7 {}\r\nPending = 8 {}\r\n",
                         "MEGACO/1 <x>:2944\r\nPending = 7 { Context = - { } }\r\n", "Pending = 7 {}", ""})
    EXPECT_FALSE(wire::h248::read_pending(bytes(no))) << no;
}

TEST(Provisional, H248AnswersARequestUnderItsTransactionId) {
  for (std::string_view step : {"s1", "s2", "s7", "s8", "d1", "d5"}) {
    const Bytes req = encoded(Binding::h248, step);
    const std::uint32_t tid = number_after(text(req), "\r\nTransaction = ");
    EXPECT_EQ(wire::h248::request_transaction(req), tid) << step;
    const auto p = wire::provisional_answer(Binding::h248, req, "sbc1", 0);
    ASSERT_TRUE(p) << step;
    EXPECT_EQ(text(*p), "MEGACO/1 " + wire::h248::mid_for("sbc1") + "\r\nPending = " + std::to_string(tid) +
                            " {\r\n}\r\n");
    const auto back = wire::read_provisional(Binding::h248, *p);
    ASSERT_TRUE(back);
    EXPECT_EQ(back->transaction, tid);
    expect_no_step(Binding::h248, *p);
  }
  EXPECT_FALSE(wire::h248::request_transaction(bytes("MEGACO/1 <x>:2944\r\nPending = 7 {\r\n}\r\n")));
}

// ---- H.225.0 RAS, aligned PER (X.691) ----
// RasMessage: extension bit 1, normally small number 0 (bit 0 and six zero bits): 0x80; the open
// type's length 5; RequestInProgress: extension bit 0, four OPTIONAL bits 0, padding (0x00);
// requestSeqNum - 1 in two octets; delay - 1 in two octets.

TEST(Provisional, H323WritesRequestInProgressInAlignedPer) {
  const Bytes want{0x80, 0x05, 0x00, 0x12, 0x33, 0x13, 0x87};
  EXPECT_EQ(wire::h323::request_in_progress(0x1234, 5000), want);
  const Bytes edges{0x80, 0x05, 0x00, 0x00, 0x00, 0xff, 0xfe};
  EXPECT_EQ(wire::h323::request_in_progress(1, 65535), edges);
  dump("h323", want);
}

TEST(Provisional, H323ReadsRequestInProgress) {
  auto r = wire::h323::read_request_in_progress(Bytes{0x80, 0x05, 0x00, 0x12, 0x33, 0x13, 0x87});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->seq_num, 0x1234);
  EXPECT_EQ(r->delay_ms, 5000);
  // With nonStandardData (h221NonStandard 0/0/0, data "x"): the first OPTIONAL bit set.
  // 0x40 (ext 0, OPTIONAL bits 1000, padding) | seq 00 01 | NonStandardIdentifier: extension bit 0,
  // index 1 (h221NonStandard), H221NonStandard's extension bit 0, padding: 0x40 | country 00,
  // extension 00, manufacturer 00 00 | data: length 01, 'x' | delay 00 09. The open type: 12 octets.
  auto ns = wire::h323::read_request_in_progress(
      Bytes{0x80, 0x0c, 0x40, 0x00, 0x01, 0x40, 0x00, 0x00, 0x00, 0x00, 0x01, 'x', 0x00, 0x09});
  ASSERT_TRUE(ns);
  EXPECT_EQ(ns->seq_num, 2);
  EXPECT_EQ(ns->delay_ms, 10);
  for (const Bytes& no : {Bytes{0x80, 0x05, 0x00, 0x12, 0x33, 0x13},           // short
                          Bytes{0x80, 0x06, 0x00, 0x12, 0x33, 0x13, 0x87, 0x00},  // octets after
                          Bytes{0x80, 0x05, 0x20, 0x12, 0x33, 0x13, 0x87},     // tokens present
                          Bytes{0x82, 0x05, 0x00, 0x12, 0x33, 0x13, 0x87},     // alternative 1 (RAI)
                          Bytes{0x00, 0x05, 0x00, 0x12, 0x33, 0x13, 0x87}, Bytes{}})
    EXPECT_FALSE(wire::h323::read_request_in_progress(no)) << kd::to_hex(no);
}

TEST(Provisional, H323AnswersARequestUnderItsRequestSeqNum) {
  for (std::string_view step : {"s1", "s2", "s7", "s8", "d1", "d5"}) {
    const Bytes req = encoded(Binding::h323, step);
    // Every root has requestSeqNum first, after a 2-octet preamble for kd's messages (choice index,
    // extension bit and 3 or 4 OPTIONAL bits, padded).
    const std::uint16_t seq = static_cast<std::uint16_t>(1 + (req[2] << 8 | req[3]));
    EXPECT_EQ(wire::h323::seq_num_of(req), seq) << step;
    const auto p = wire::provisional_answer(Binding::h323, req, "sbc1", 9000);
    ASSERT_TRUE(p) << step;
    const Bytes want{0x80, 0x05, 0x00, req[2], req[3], 0x23, 0x27};  // 9000 - 1 = 0x2327
    EXPECT_EQ(*p, want);
    const auto back = wire::read_provisional(Binding::h323, *p);
    ASSERT_TRUE(back);
    EXPECT_EQ(back->transaction, seq);
    EXPECT_EQ(back->delay_ms, 9000u);
    expect_no_step(Binding::h323, *p);
  }
}

TEST(Provisional, OnlyMgcpH248AndH323HaveThem) {
  for (Binding b : {Binding::json, Binding::sip, Binding::radius}) {
    EXPECT_FALSE(wire::has_provisional(b));
    EXPECT_FALSE(wire::provisional_answer(b, bytes("REGISTER sip:x SIP/2.0\r\n\r\n"), "sbc1", 1000));
    EXPECT_FALSE(wire::read_provisional(b, bytes("100 4711 executing\r\n")));
  }
  for (Binding b : {Binding::mgcp, Binding::h248, Binding::h323}) EXPECT_TRUE(wire::has_provisional(b));
  // One binding's provisional answer is no other's.
  EXPECT_FALSE(wire::read_provisional(Binding::h248, bytes("100 4711 executing\r\n")));
  EXPECT_FALSE(wire::read_provisional(Binding::mgcp, wire::h323::request_in_progress(5, 5)));
}

}  // namespace
