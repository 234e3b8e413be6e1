// Captures written by a real tool (text2pcap, from Wireshark) must read as they were meant.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "builders.hpp"

namespace kd::captest {
namespace {

bool have(const std::string& tool) { return std::system(("command -v " + tool + " >/dev/null 2>&1").c_str()) == 0; }

// The od-style dump text2pcap reads: an offset, then up to 16 hex bytes; a blank line ends a packet.
std::string hexdump(const std::vector<std::string>& packets) {
  std::string out;
  char buf[32];
  for (const auto& p : packets) {
    for (std::size_t i = 0; i < p.size(); ++i) {
      if (i % 16 == 0) {
        std::snprintf(buf, sizeof buf, "%s%04zx ", i ? "\n" : "", i);
        out += buf;
      }
      std::snprintf(buf, sizeof buf, " %02x", static_cast<unsigned char>(p[i]));
      out += buf;
    }
    out += "\n\n";
  }
  return out;
}

Drained text2pcap(const std::string& name, const std::string& args, const std::vector<std::string>& packets) {
  const auto dir = std::filesystem::temp_directory_path() / ("kd-capture-t2p-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string in = (dir / (name + ".txt")).string(), out = (dir / (name + ".pcap")).string();
  std::ofstream(in) << hexdump(packets);
  const std::string cmd = "text2pcap -q " + args + " " + in + " " + out + " >/dev/null";
  EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
  auto r = capture::Reader::open(out);
  Drained d;
  if (!r) {
    ADD_FAILURE() << r.error().detail;
    return d;
  }
  d = drain(*r);
  std::filesystem::remove_all(dir);
  return d;
}

const std::string kRegister =
    "REGISTER sip:ss1.example.org SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1:5060\r\nContent-Length: 4\r\n\r\nbody";

TEST(CaptureText2pcap, UdpOverIPv4) {
  if (!have("text2pcap")) GTEST_SKIP() << "text2pcap is not installed (Debian: wireshark-common)";
  auto d = text2pcap("udp", "-4 192.0.2.1,192.0.2.2 -u 5060,5060", {kRegister, "ping"});
  EXPECT_FALSE(d.error);
  ASSERT_EQ(d.packets.size(), 2u);
  EXPECT_EQ(d.packets[0].src_ip, "192.0.2.1");
  EXPECT_EQ(d.packets[0].dst_ip, "192.0.2.2");
  EXPECT_EQ(d.packets[0].src_port, 5060);
  EXPECT_EQ(d.packets[0].dst_port, 5060);
  EXPECT_EQ(d.packets[0].transport, capture::Transport::udp);
  EXPECT_EQ(text(d.packets[0].payload), kRegister);
  EXPECT_EQ(text(d.packets[1].payload), "ping");
  EXPECT_EQ(d.packets[1].frame, 2u);
  EXPECT_EQ(d.stats.frames, 2u);
}

TEST(CaptureText2pcap, UdpOverIPv6) {
  if (!have("text2pcap")) GTEST_SKIP() << "text2pcap is not installed (Debian: wireshark-common)";
  auto d = text2pcap("udp6", "-6 2001:db8::1,2001:db8:0:0:1::2 -u 5061,5060", {kRegister});
  ASSERT_EQ(d.packets.size(), 1u);
  EXPECT_EQ(d.packets[0].src_ip, "2001:db8::1");
  EXPECT_EQ(d.packets[0].dst_ip, "2001:db8::1:0:0:2");
  EXPECT_EQ(d.packets[0].src_port, 5061);
  EXPECT_EQ(text(d.packets[0].payload), kRegister);
}

TEST(CaptureText2pcap, SipOverTcpSplitAcrossSegments) {
  if (!have("text2pcap")) GTEST_SKIP() << "text2pcap is not installed (Debian: wireshark-common)";
  const std::string two = kRegister + kRegister;
  auto d = text2pcap("tcp", "-4 192.0.2.1,192.0.2.2 -T 40000,5060",
                     {two.substr(0, 30), two.substr(30, 100), two.substr(130)});
  EXPECT_FALSE(d.error);
  ASSERT_EQ(d.packets.size(), 2u);
  EXPECT_EQ(d.packets[0].transport, capture::Transport::tcp);
  EXPECT_EQ(d.packets[0].frame, 2u);
  EXPECT_EQ(d.packets[1].frame, 3u);
  EXPECT_EQ(text(d.packets[0].payload), kRegister);
  EXPECT_EQ(text(d.packets[1].payload), kRegister);
  EXPECT_EQ(d.stats.tcp_segments, 3u);
  EXPECT_EQ(d.stats.tcp_bytes_dropped, 0u);
}

}  // namespace
}  // namespace kd::captest
