// Test helpers for the wire bindings: complete registrations driven in process through the four
// roles (seeded, fixed clock), and a classic pcap writer that frames messages as Ethernet/IPv4/UDP.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/bytes.hpp"
#include "crypto/suite.hpp"
#include "msg/message.hpp"

namespace kd::wiretest {

// Every message of one complete registration, in the order they are sent (AuC link included).
// Fails (empty result, *why set) when a role refuses anything.
std::vector<msg::Message> run_flow(const crypto::Suite& suite, msg::Flow flow, std::string* why = nullptr,
                                   const std::string& contact = "192.0.2.10:5060");

// The message of one step (e.g. "s7", "d4") of the seeded registration in the default suite, each
// flow run once and kept: the fixture every codec test starts from.
const msg::Message& step_message(std::string_view step);

// Classic pcap (microsecond, LINKTYPE_ETHERNET); each packet is one UDP datagram from one role to
// another (192.0.2.x per role).
class PcapWriter {
public:
  PcapWriter();
  void add(msg::Role from, msg::Role to, ByteView payload, std::uint16_t sport = 5060, std::uint16_t dport = 5060);
  const Bytes& bytes() const { return out_; }

private:
  Bytes out_;
  std::uint32_t seconds_ = 1700000000, micros_ = 0;
  std::uint16_t ip_id_ = 1;
};

}  // namespace kd::wiretest
