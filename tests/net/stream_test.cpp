// Live mode over TCP, the pure part (lib/net/stream): which bindings travel over TCP, how a
// message is put into a stream and cut out of it again, and the timers of a reliable transport.
#include <gtest/gtest.h>

#include "capture/capture.hpp"
#include "net/stream.hpp"

namespace kd::net {
namespace {

Bytes bytes(std::string_view s) { return Bytes(s.begin(), s.end()); }

TEST(Stream, OnlyTheBindingsWhoseStandardHasTcp) {
  EXPECT_EQ(stream_framing(wire::Binding::sip), StreamFraming::sip);
  EXPECT_EQ(stream_framing(wire::Binding::h248), StreamFraming::tpkt);
  EXPECT_EQ(stream_framing(wire::Binding::json), StreamFraming::lines);
  EXPECT_FALSE(stream_framing(wire::Binding::mgcp));
  EXPECT_FALSE(stream_framing(wire::Binding::h323));
  EXPECT_FALSE(stream_framing(wire::Binding::radius));
  EXPECT_EQ(stream_binding_names(), "sip, h248, json");
}

TEST(Stream, TpktRoundTripsInPieces) {
  Bytes wire;
  ASSERT_FALSE(append_framed(StreamFraming::tpkt, bytes("MEGACO/1 [a]:2944"), wire));
  ASSERT_FALSE(append_framed(StreamFraming::tpkt, bytes("x"), wire));
  // RFC 1006: version 3, reserved 0, the length with the header.
  ASSERT_GE(wire.size(), 4u);
  EXPECT_EQ(wire[0], 3);
  EXPECT_EQ(wire[1], 0);
  EXPECT_EQ(wire[2] << 8 | wire[3], 4 + 17);
  auto f = make_stream_framer(StreamFraming::tpkt);
  std::vector<Bytes> out;
  for (const auto b : wire) EXPECT_EQ(f->push(ByteView(&b, 1), out), 0u);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0], bytes("MEGACO/1 [a]:2944"));
  EXPECT_EQ(out[1], bytes("x"));
  Bytes big;
  EXPECT_TRUE(append_framed(StreamFraming::tpkt, Bytes(0xffff - 3, 'a'), big));
  EXPECT_TRUE(big.empty());
}

TEST(Stream, LinesRoundTripAndAreBounded) {
  Bytes wire;
  ASSERT_FALSE(append_framed(StreamFraming::lines, bytes(R"({"step":"s1"})"), wire));
  EXPECT_EQ(wire, bytes("{\"step\":\"s1\"}\n"));
  EXPECT_TRUE(append_framed(StreamFraming::lines, bytes("{\n}"), wire));
  auto f = make_stream_framer(StreamFraming::lines);
  std::vector<Bytes> out;
  EXPECT_EQ(f->push(bytes("{\"a\":1}\r\n\n{\"b\""), out), 0u);
  EXPECT_EQ(f->push(bytes(":2}\n"), out), 0u);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0], bytes("{\"a\":1}"));
  EXPECT_EQ(out[1], bytes("{\"b\":2}"));
  // A line longer than the limit is cut off, not held.
  const Bytes endless(kMaxStreamMessage, 'x');
  EXPECT_EQ(f->push(endless, out), 0u);
  EXPECT_GT(f->push(bytes("x"), out), 0u);
  EXPECT_EQ(f->pending(), 0u);
  EXPECT_EQ(out.size(), 2u);
}

TEST(Stream, SipIsCutByContentLengthAndBounded) {
  const std::string m = "REGISTER sip:a SIP/2.0\r\nContent-Length: 3\r\n\r\nabc";
  Bytes wire;
  ASSERT_FALSE(append_framed(StreamFraming::sip, bytes(m), wire));
  EXPECT_EQ(wire, bytes(m));
  auto f = make_stream_framer(StreamFraming::sip);
  std::vector<Bytes> out;
  EXPECT_EQ(f->push(bytes(m + m.substr(0, 10)), out), 0u);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0], bytes(m));
  // A body announced beyond the limit cuts the stream.
  EXPECT_GT(f->push(bytes(" sip:a SIP/2.0\r\nContent-Length: 70000\r\n\r\n"), out), 0u);
}

TEST(Stream, AReliableTransportSendsOnceAndKeepsItsTimeout) {
  Timers t = default_timers(wire::Binding::sip);
  const Timers r = without_retransmission(t);
  EXPECT_EQ(r.timeout_ms, t.timeout_ms);
  EXPECT_EQ(r.keep_response_ms, t.keep_response_ms);
  Retransmission s(r, 1000, 7);
  EXPECT_EQ(s.deadline(), 1000 + t.timeout_ms);
  EXPECT_EQ(s.on_deadline(s.deadline()), Retransmission::Action::give_up);
  EXPECT_EQ(s.sends(), 1u);
  // RADIUS's jitter does not bring a deadline before the timeout either.
  Retransmission j(without_retransmission(default_timers(wire::Binding::radius)), 0, 99);
  EXPECT_EQ(j.deadline(), default_timers(wire::Binding::radius).timeout_ms);
}

}  // namespace
}  // namespace kd::net
