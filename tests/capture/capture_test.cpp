#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "builders.hpp"

namespace kd::captest {
namespace {

using capture::Packet;
using capture::Reader;
using capture::Resolution;
using capture::Transport;
using capture::Writer;

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("kd-capture-" + std::to_string(::getpid()) + "-" + name)).string();
}

Bytes slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return Bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

Packet pkt(const std::string& src, std::uint16_t sp, const std::string& dst, std::uint16_t dp, const std::string& body,
           std::int64_t sec = 1700000000, std::uint32_t nsec = 0) {
  Packet p;
  p.src_ip = src;
  p.dst_ip = dst;
  p.src_port = sp;
  p.dst_port = dp;
  p.payload = s(body);
  p.ts_sec = sec;
  p.ts_nsec = nsec;
  return p;
}

std::uint16_t checksum(ByteView v, std::uint32_t sum = 0) {
  for (std::size_t i = 0; i < v.size(); i += 2)
    sum += static_cast<std::uint32_t>(v[i] << 8 | (i + 1 < v.size() ? v[i + 1] : 0));
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<std::uint16_t>(sum);
}

// ---- Writer ----

TEST(CaptureWriter, FrameIPv4HasChecksumsDfTtlAndDerivedMacs) {
  auto f = capture::build_frame(pkt("192.0.2.1", 5060, "198.51.100.7", 5070, "hello"));
  ASSERT_TRUE(f.ok());
  const Bytes& b = *f;
  ASSERT_EQ(b.size(), 14u + 20 + 8 + 5);
  EXPECT_EQ(to_hex(ByteView(b).first(14)), "0200c6336407" "0200c0000201" "0800");
  EXPECT_EQ(b[14], 0x45);
  EXPECT_EQ(b[14 + 6], 0x40);  // DF
  EXPECT_EQ(b[14 + 8], 64);    // TTL
  EXPECT_EQ(b[14 + 9], 17);
  EXPECT_EQ(checksum(ByteView(b).subspan(14, 20)), 0xffff);  // header checksum verifies
  Bytes pseudo = cat(addr("192.0.2.1"), addr("198.51.100.7"));
  pseudo.insert(pseudo.end(), {0, 17, 0, 13});
  EXPECT_EQ(checksum(ByteView(b).subspan(34), checksum(pseudo)), 0xffff);  // UDP checksum verifies
  EXPECT_NE(b[34 + 6] | b[34 + 7], 0);
}

TEST(CaptureWriter, FrameIPv6HasMandatoryUdpChecksum) {
  auto f = capture::build_frame(pkt("2001:db8::1", 5060, "2001:db8::a:b", 5060, "REGISTER"));
  ASSERT_TRUE(f.ok());
  const Bytes& b = *f;
  ASSERT_EQ(b.size(), 14u + 40 + 8 + 8);
  EXPECT_EQ(to_hex(ByteView(b).first(14)), "0200000a000b" "020000000001" "86dd");
  EXPECT_EQ(b[14 + 6], 17);
  EXPECT_EQ(b[14 + 7], 64);
  Bytes pseudo = cat(addr("2001:db8::1"), addr("2001:db8::a:b"));
  pseudo.insert(pseudo.end(), {0, 0, 0, 16, 0, 0, 0, 17});
  EXPECT_EQ(checksum(ByteView(b).subspan(54), checksum(pseudo)), 0xffff);
}

TEST(CaptureWriter, RejectsBadAddressesAndOversizedPayloads) {
  EXPECT_EQ(capture::build_frame(pkt("192.0.2.1", 1, "2001:db8::1", 2, "x")).error().code, Code::malformed);
  EXPECT_EQ(capture::build_frame(pkt("host.example", 1, "192.0.2.2", 2, "x")).error().code, Code::malformed);
  Packet p = pkt("192.0.2.1", 1, "192.0.2.2", 2, "");
  p.payload.assign(capture::kMaxUdpPayload, 'a');
  auto ok = capture::build_frame(p);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->size(), 14u + 65535);
  p.payload.push_back('b');
  auto big = capture::build_frame(p);
  ASSERT_FALSE(big.ok());
  EXPECT_EQ(big.error().code, Code::oversized);
}

TEST(CaptureWriter, WritesAppendsAndReadsBackIPv4) {
  const std::string path = temp_path("v4.pcap");
  std::filesystem::remove(path);
  {
    auto w = Writer::open(path);
    ASSERT_TRUE(w.ok()) << w.error().detail;
    ASSERT_TRUE(w->write(pkt("192.0.2.10", 5060, "192.0.2.20", 5060, "REGISTER sip:a SIP/2.0\r\n\r\n", 1700000001, 123456789)).ok());
    ASSERT_TRUE(w->write(pkt("192.0.2.20", 5060, "192.0.2.10", 5060, "SIP/2.0 401 Unauthorized\r\n\r\n", 1700000002, 5000)).ok());
  }
  const auto size1 = std::filesystem::file_size(path);
  {
    auto w = Writer::open(path, Resolution::nano);  // the file's micro resolution wins
    ASSERT_TRUE(w.ok()) << w.error().detail;
    EXPECT_EQ(w->resolution(), Resolution::micro);
    ASSERT_TRUE(w->write(pkt("192.0.2.10", 5061, "192.0.2.20", 5060, "third", 1700000003, 999)).ok());
  }
  EXPECT_EQ(std::filesystem::file_size(path), size1 + 16 + 14 + 20 + 8 + 5);
  auto r = Reader::open(path);
  ASSERT_TRUE(r.ok()) << r.error().detail;
  EXPECT_EQ(r->link_type(), 1);
  auto d = drain(*r);
  EXPECT_FALSE(d.error);
  ASSERT_EQ(d.packets.size(), 3u);
  EXPECT_EQ(d.packets[0].frame, 1u);
  EXPECT_EQ(d.packets[0].ts_sec, 1700000001);
  EXPECT_EQ(d.packets[0].ts_nsec, 123456000u);  // microsecond file
  EXPECT_EQ(d.packets[0].src_ip, "192.0.2.10");
  EXPECT_EQ(d.packets[0].dst_ip, "192.0.2.20");
  EXPECT_EQ(d.packets[0].src_port, 5060);
  EXPECT_EQ(d.packets[0].transport, Transport::udp);
  EXPECT_EQ(text(d.packets[0].payload), "REGISTER sip:a SIP/2.0\r\n\r\n");
  EXPECT_EQ(text(d.packets[1].payload), "SIP/2.0 401 Unauthorized\r\n\r\n");
  EXPECT_EQ(d.packets[1].ts_nsec, 5000u);
  EXPECT_EQ(d.packets[2].frame, 3u);
  EXPECT_EQ(d.packets[2].src_port, 5061);
  EXPECT_EQ(d.packets[2].ts_nsec, 0u);
  EXPECT_EQ(text(d.packets[2].payload), "third");
  EXPECT_EQ(d.stats.frames, 3u);
  EXPECT_EQ(d.stats.packets, 3u);
  std::filesystem::remove(path);
}

TEST(CaptureWriter, NanosecondIPv6RoundTrip) {
  const std::string path = temp_path("v6.pcap");
  std::filesystem::remove(path);
  {
    auto w = Writer::open(path, Resolution::nano);
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE(w->write(pkt("2001:0db8:0000:0000:0000:0000:0000:0001", 5060, "2001:db8:0:1:0:0:0:2", 5062, "v6", 1700000000, 123456789)).ok());
  }
  const Bytes file = slurp(path);
  EXPECT_EQ(to_hex(ByteView(file).first(4)), "4d3cb2a1");
  auto d = read_all(file);
  ASSERT_EQ(d.packets.size(), 1u);
  EXPECT_EQ(d.packets[0].src_ip, "2001:db8::1");  // RFC 5952
  EXPECT_EQ(d.packets[0].dst_ip, "2001:db8:0:1::2");
  EXPECT_EQ(d.packets[0].dst_port, 5062);
  EXPECT_EQ(d.packets[0].ts_nsec, 123456789u);
  EXPECT_EQ(text(d.packets[0].payload), "v6");
  std::filesystem::remove(path);
}

TEST(CaptureWriter, AppendsInTheFilesByteOrder) {
  const std::string path = temp_path("be.pcap");
  Bytes h;
  be32(h, 0xa1b2c3d4);
  h.insert(h.end(), {0, 2, 0, 4});
  be32(h, 0);
  be32(h, 0);
  be32(h, 65535);
  be32(h, 1);
  { std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(h.data()), static_cast<std::streamsize>(h.size())); }
  {
    auto w = Writer::open(path);
    ASSERT_TRUE(w.ok()) << w.error().detail;
    ASSERT_TRUE(w->write(pkt("10.0.0.1", 1, "10.0.0.2", 2, "big-endian", 1700000000, 7000)).ok());
  }
  const Bytes file = slurp(path);
  ASSERT_EQ(file.size(), 24u + 16 + 14 + 20 + 8 + 10);
  EXPECT_EQ(to_hex(ByteView(file).subspan(24, 16)), "6553f100" "00000007" "00000034" "00000034");
  auto d = read_all(file);
  ASSERT_EQ(d.packets.size(), 1u);
  EXPECT_EQ(d.packets[0].ts_nsec, 7000u);
  EXPECT_EQ(text(d.packets[0].payload), "big-endian");
  std::filesystem::remove(path);
}

TEST(CaptureWriter, RefusesToAppendToOtherFiles) {
  const std::string path = temp_path("other.pcap");
  auto put = [&](const Bytes& b) {
    std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
  };
  put(pcap_file(113, {}));
  auto sll = Writer::open(path);
  ASSERT_FALSE(sll.ok());
  EXPECT_EQ(sll.error().detail, path + ": link type 113, not Ethernet (1); not appending");
  put(s("not a capture at all, really"));
  EXPECT_EQ(Writer::open(path).error().detail, path + ": not a pcap file (bad magic), not appending");
  put(Bytes{0x0a, 0x0d, 0x0d, 0x0a, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0});
  EXPECT_EQ(Writer::open(path).error().detail, path + ": a pcapng file; kd appends only to classic pcap");
  put(s("short"));
  EXPECT_EQ(Writer::open(path).error().code, Code::malformed);
  EXPECT_EQ(slurp(path), s("short"));  // untouched
  EXPECT_FALSE(Writer::open("/nonexistent-dir/x.pcap").ok());
  std::filesystem::remove(path);
}

// A record appended after a cut one would be read as the rest of it: every frame from there on
// would be lost to every reader. So would one appended to a file whose records kd cannot find (a
// version other than 2.4) or one longer than the file's snapshot length (readers cut it).
TEST(CaptureWriter, RefusesToAppendWhereNoReaderWouldFindTheRecord) {
  const std::string path = temp_path("cut.pcap");
  auto put = [&](const Bytes& b) {
    std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
  };
  const Bytes whole = pcap_file(1, {{Bytes(60, 0xab)}, {Bytes(60, 0xcd)}});
  for (std::size_t cut : {std::size_t{1}, std::size_t{60}, std::size_t{66}, std::size_t{75}, std::size_t{80}}) {
    SCOPED_TRACE(cut);
    const Bytes file(whole.begin(), whole.end() - static_cast<std::ptrdiff_t>(cut));
    put(file);
    auto w = Writer::open(path);
    ASSERT_FALSE(w.ok());
    EXPECT_EQ(w.error().detail, path + ": its last record is cut short at byte " +
                                    std::to_string(cut <= 76 ? 24 + 76 : 24) + " of " +
                                    std::to_string(file.size()) + "; not appending");
    EXPECT_EQ(slurp(path), file);  // untouched
  }
  put(whole);
  EXPECT_TRUE(Writer::open(path).ok());
  Bytes v3 = whole;
  v3[4] = 3;  // version 3.4
  put(v3);
  EXPECT_EQ(Writer::open(path).error().detail, path + ": pcap version 3.4, not 2.4; not appending");
  Bytes snap = whole;
  snap[16] = 100, snap[17] = 0, snap[18] = 0, snap[19] = 0;  // snapshot length 100
  put(snap);
  {
    auto w = Writer::open(path);
    ASSERT_TRUE(w.ok()) << w.error().detail;
    EXPECT_TRUE(w->write(pkt("10.0.0.1", 1, "10.0.0.2", 2, std::string(100 - 42, 'x'), 1700000001)).ok());
    auto big = w->write(pkt("10.0.0.1", 1, "10.0.0.2", 2, std::string(101 - 42, 'x'), 1700000002));
    ASSERT_FALSE(big.ok());
    EXPECT_EQ(big.error().detail, "a frame of 101 bytes exceeds the capture's snapshot length (100); not appending");
  }
  EXPECT_EQ(slurp(path).size(), snap.size() + 16 + 100);
  std::filesystem::remove(path);
}

TEST(CaptureWriter, RejectsTimestampsAPcapRecordCannotHold) {
  const std::string path = temp_path("ts.pcap");
  std::filesystem::remove(path);
  auto w = Writer::open(path);
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(w->write(pkt("10.0.0.1", 1, "10.0.0.2", 2, "x", -1)).error().code, Code::bad_length);
  EXPECT_EQ(w->write(pkt("10.0.0.1", 1, "10.0.0.2", 2, "x", 1LL << 32)).error().code, Code::bad_length);
  EXPECT_EQ(w->write(pkt("10.0.0.1", 1, "10.0.0.2", 2, "x", 0, 1000000000)).error().code, Code::bad_length);
  EXPECT_EQ(std::filesystem::file_size(path), 0u);  // nothing half-written, not even the header
  std::filesystem::remove(path);
}

TEST(CaptureWriter, AFileItCreatedAndNeverWroteIsRemoved) {
  const std::string path = temp_path("never.pcap");
  std::filesystem::remove(path);
  {
    auto w = Writer::open(path);
    ASSERT_TRUE(w.ok());
    EXPECT_TRUE(std::filesystem::exists(path));  // opened early, so a bad path fails before any work
    EXPECT_FALSE(w->write(pkt("10.0.0.1", 1, "10.0.0.2", 2, "x", -1)).ok());
  }
  EXPECT_FALSE(std::filesystem::exists(path));
  {
    auto w = Writer::open(path);
    ASSERT_TRUE(w.ok());
    EXPECT_TRUE(w->write(pkt("10.0.0.1", 1, "10.0.0.2", 2, "x", 5)).ok());
  }
  ASSERT_TRUE(std::filesystem::exists(path));
  auto d = read_all(slurp(path));
  EXPECT_FALSE(d.error);
  EXPECT_EQ(d.packets.size(), 1u);  // the header went out with the first record
  std::filesystem::remove(path);
}

TEST(CaptureWriter, AnEmptyFileThatExistedStays) {
  const std::string path = temp_path("empty.pcap");
  std::filesystem::remove(path);
  { std::FILE* f = std::fopen(path.c_str(), "w"); ASSERT_NE(f, nullptr); std::fclose(f); }
  { auto w = Writer::open(path); ASSERT_TRUE(w.ok()); }
  EXPECT_TRUE(std::filesystem::exists(path));
  std::filesystem::remove(path);
}

// ---- Link types ----

void expect_one_udp(const Bytes& file, const std::string& src, const std::string& dst) {
  auto d = read_all(file);
  EXPECT_FALSE(d.error);
  ASSERT_EQ(d.packets.size(), 1u);
  EXPECT_EQ(d.packets[0].src_ip, src);
  EXPECT_EQ(d.packets[0].dst_ip, dst);
  EXPECT_EQ(d.packets[0].src_port, 5060);
  EXPECT_EQ(d.packets[0].dst_port, 5080);
  EXPECT_EQ(text(d.packets[0].payload), "OPTIONS");
  EXPECT_EQ(d.stats.frames, 1u);
  EXPECT_EQ(d.stats.bad_headers + d.stats.skipped_non_ip + d.stats.skipped_other + d.stats.truncated, 0u);
}

const Bytes kUdp = udp(5060, 5080, s("OPTIONS"));

TEST(CaptureLink, EthernetVlanAndQinQ) {
  expect_one_udp(eth_file({eth(0x0800, ipv4("10.1.1.1", "10.1.1.2", 17, kUdp), {0x8100})}), "10.1.1.1", "10.1.1.2");
  expect_one_udp(eth_file({eth(0x86dd, ipv6("fe80::1", "ff02::1", 17, kUdp), {0x88a8, 0x8100})}), "fe80::1", "ff02::1");
}

TEST(CaptureLink, EthernetPaddingIsNotPayload) {
  Bytes f = eth(0x0800, ipv4("10.1.1.1", "10.1.1.2", 17, kUdp));
  f.resize(f.size() + 12, 0xee);  // padding/FCS after the datagram
  expect_one_udp(eth_file({f}), "10.1.1.1", "10.1.1.2");
}

TEST(CaptureLink, LinuxCookedSllAndSll2) {
  Bytes sll{0, 0, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0, 0x08, 0x00};
  expect_one_udp(pcap_file(113, {{cat(sll, ipv4("10.0.0.1", "10.0.0.2", 17, kUdp))}}), "10.0.0.1", "10.0.0.2");
  Bytes sll2{0x86, 0xdd, 0, 0, 0, 0, 0, 3, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0};
  expect_one_udp(pcap_file(276, {{cat(sll2, ipv6("2001:db8::5", "2001:db8::6", 17, kUdp))}}), "2001:db8::5", "2001:db8::6");
}

TEST(CaptureLink, RawIpAndNull) {
  expect_one_udp(pcap_file(101, {{ipv4("10.0.0.1", "10.0.0.2", 17, kUdp)}}), "10.0.0.1", "10.0.0.2");
  expect_one_udp(pcap_file(101, {{ipv6("::1", "::2", 17, kUdp)}}), "::1", "::2");
  expect_one_udp(pcap_file(228, {{ipv4("10.0.0.3", "10.0.0.4", 17, kUdp)}}), "10.0.0.3", "10.0.0.4");
  expect_one_udp(pcap_file(229, {{ipv6("::ffff:10.0.0.1", "::5", 17, kUdp)}}), "::ffff:10.0.0.1", "::5");
  expect_one_udp(pcap_file(0, {{cat(Bytes{2, 0, 0, 0}, ipv4("127.0.0.1", "127.0.0.1", 17, kUdp))}}), "127.0.0.1", "127.0.0.1");
  expect_one_udp(pcap_file(0, {{cat(Bytes{0, 0, 0, 30}, ipv6("::1", "::1", 17, kUdp))}}), "::1", "::1");
}

TEST(CaptureLink, IPv4OptionsAndIPv6ExtensionHeaders) {
  const Bytes ra{0x94, 0x04, 0, 0};  // router alert option
  expect_one_udp(eth_file({eth(0x0800, ipv4("10.1.1.1", "10.1.1.2", 17, kUdp, 1, 0, ra))}), "10.1.1.1", "10.1.1.2");
  Bytes hbh{60, 0, 1, 4, 0, 0, 0, 0};       // hop-by-hop (PadN), next: destination options
  Bytes dst{43, 1, 1, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};  // destination options, next: routing
  Bytes rt{17, 0, 0, 0, 0, 0, 0, 0};        // routing type 0, no segments, next: UDP
  expect_one_udp(eth_file({eth(0x86dd, ipv6("2001:db8::1", "2001:db8::2", 0, cat(cat(cat(hbh, dst), rt), kUdp)))}),
                 "2001:db8::1", "2001:db8::2");
}

TEST(CaptureLink, UnknownLinkTypeIsSkippedAndCounted) {
  auto d = read_all(pcap_file(147, {{Bytes{1, 2, 3}}, {Bytes{4, 5, 6}}}));
  EXPECT_TRUE(d.packets.empty());
  EXPECT_FALSE(d.error);
  EXPECT_EQ(d.stats.frames, 2u);
  EXPECT_EQ(d.stats.skipped_other, 2u);
}

TEST(CaptureLink, NonIpAndOtherTransportsAreSkippedAndCounted) {
  const Bytes arp(28, 1);
  auto d = read_all(eth_file({
      eth(0x0806, arp),                                         // ARP
      eth(0x88cc, Bytes(20, 0)),                                // LLDP
      eth(0x0800, ipv4("10.0.0.1", "10.0.0.2", 1, Bytes{8, 0, 0, 0, 0, 0, 0, 0})),  // ICMP
      eth(0x86dd, ipv6("::1", "::2", 58, Bytes{128, 0, 0, 0, 0, 0, 0, 0})),      // ICMPv6
      eth(0x0800, ipv4("10.0.0.1", "10.0.0.2", 17, kUdp)),
  }));
  ASSERT_EQ(d.packets.size(), 1u);
  EXPECT_EQ(d.packets[0].frame, 5u);
  EXPECT_EQ(d.stats.frames, 5u);
  EXPECT_EQ(d.stats.skipped_non_ip, 2u);
  EXPECT_EQ(d.stats.skipped_transport, 2u);
  EXPECT_EQ(d.stats.packets, 1u);
}

TEST(CaptureLink, BadHeadersAreCountedNotDelivered) {
  Bytes bad_len = ipv4("10.0.0.1", "10.0.0.2", 17, kUdp);
  bad_len[3] = 10;  // total length smaller than the header
  Bytes bad_udp = ipv4("10.0.0.1", "10.0.0.2", 17, kUdp);
  bad_udp[20 + 5] = 200;  // UDP length beyond the datagram
  auto d = read_all(eth_file({eth(0x0800, bad_len), eth(0x0800, bad_udp), eth(0x0800, Bytes{0x45, 0}),
                              eth(0x0800, ipv6("::1", "::2", 17, kUdp))}));
  EXPECT_TRUE(d.packets.empty());
  EXPECT_EQ(d.stats.bad_headers, 4u);  // the last claims IPv4 but holds IPv6
  EXPECT_EQ(d.stats.truncated, 0u);
}

// ---- Truncation ----

TEST(CaptureTruncation, FramesCutBySnaplenAreCountedNotDelivered) {
  const Bytes whole = eth(0x0800, ipv4("10.0.0.1", "10.0.0.2", 17, udp(5060, 5060, Bytes(300, 'x'))));
  Bytes cut(whole.begin(), whole.begin() + 96);
  Bytes tiny(whole.begin(), whole.begin() + 10);
  auto d = read_all(pcap_file(1, {{whole}, {cut, 1, 0, static_cast<std::uint32_t>(whole.size())},
                                  {tiny, 1, 0, static_cast<std::uint32_t>(whole.size())}, {whole}}));
  EXPECT_FALSE(d.error);
  ASSERT_EQ(d.packets.size(), 2u);
  EXPECT_EQ(d.packets[0].frame, 1u);
  EXPECT_EQ(d.packets[1].frame, 4u);
  EXPECT_EQ(d.packets[1].payload.size(), 300u);
  EXPECT_EQ(d.stats.truncated, 2u);
  EXPECT_EQ(d.stats.bad_headers, 0u);
}

TEST(CaptureTruncation, TruncatedFileDeliversWhatCameBeforeThenErrors) {
  const Bytes f1 = eth(0x0800, ipv4("10.0.0.1", "10.0.0.2", 17, udp(1, 2, s("one"))));
  const Bytes f2 = eth(0x0800, ipv4("10.0.0.1", "10.0.0.2", 17, udp(1, 2, s("two"))));
  Bytes file = eth_file({f1, f2, f2});
  file.erase(file.end() - 20, file.end());  // the third record's data is cut
  auto d = read_all(file);
  ASSERT_EQ(d.packets.size(), 2u);
  EXPECT_EQ(text(d.packets[1].payload), "two");
  ASSERT_TRUE(d.error);
  EXPECT_EQ(d.error->code, Code::malformed);
  EXPECT_EQ(d.error->detail.rfind("truncated capture record at frame 3 (", 0), 0u) << d.error->detail;
  EXPECT_EQ(d.stats.frames, 2u);

  Bytes half_header = eth_file({f1});
  half_header.insert(half_header.end(), {1, 2, 3, 4, 5, 6, 7});
  auto h = read_all(half_header);
  ASSERT_EQ(h.packets.size(), 1u);
  ASSERT_TRUE(h.error);
  EXPECT_EQ(h.error->detail.rfind("truncated capture record at frame 2 (", 0), 0u) << h.error->detail;
}

TEST(CaptureTruncation, NotACaptureIsAClearError) {
  auto r = Reader::from_memory(s("this is not a capture file at all"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Code::malformed);
  EXPECT_EQ(r.error().detail.rfind("capture in memory: ", 0), 0u);
  EXPECT_EQ(Reader::from_memory(Bytes{}).error().detail, "empty capture");
  auto missing = Reader::open("/nonexistent/x.pcap");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().detail.find("/nonexistent/x.pcap"), std::string::npos);
}

// ---- Classic pcap files: every byte order, resolution and damage reads as libpcap reads it ----

// A classic pcap file in any of its variants (the builders' pcap_file is the little-endian
// microsecond 2.4 one).
struct PcapFormat {
  bool big_endian = false;
  bool nano = false;
  std::uint16_t minor = 4;
  std::uint32_t snaplen = 262144;
};

Bytes pcap_variant(const PcapFormat& f, const std::vector<Rec>& recs) {
  Bytes b;
  auto u32 = [&](std::uint32_t v) { f.big_endian ? be32(b, v) : le32(b, v); };
  auto u16 = [&](std::uint16_t v) { f.big_endian ? put_u16(b, v) : le16(b, v); };
  u32(f.nano ? 0xa1b23c4d : 0xa1b2c3d4);
  u16(2);
  u16(f.minor);
  u32(0);
  u32(0);
  u32(f.snaplen);
  u32(1);  // Ethernet
  for (const auto& r : recs) {
    u32(r.sec);
    u32(r.usec);
    u32(static_cast<std::uint32_t>(r.frame.size()));
    u32(r.orig_len ? r.orig_len : static_cast<std::uint32_t>(r.frame.size()));
    b.insert(b.end(), r.frame.begin(), r.frame.end());  // not cat(): a copy of the file per record
  }
  return b;
}

// Reads a capture both ways a tool does: from memory (standard input) and as a file.
std::pair<Drained, Drained> read_both(const Bytes& file, const std::string& name) {
  Drained mem = read_all(file);
  const std::string path = temp_path(name);
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(file.data()), static_cast<std::streamsize>(file.size()));
  Drained disk;
  if (auto r = Reader::open(path)) disk = drain(*r);
  else disk.error = r.error();
  std::filesystem::remove(path);
  return {mem, disk};
}

Bytes udp_frame(const std::string& body, std::uint16_t port = 5060) {
  return eth(0x0800, ipv4("10.0.0.1", "10.0.0.2", 17, udp(port, 5060, s(body))));
}

TEST(CaptureFile, ByteOrdersAndResolutions) {
  const std::vector<Rec> recs{{udp_frame("one"), 1700000000, 123456, 0},
                              {udp_frame("two"), 0x80000001u, 999999, 0},  // seconds past 2038 read as libpcap's (signed)
                              {udp_frame("three"), 1700000002, 7, 0}};
  for (bool big : {false, true}) {
    for (bool nano : {false, true}) {
      SCOPED_TRACE(std::string(big ? "big" : "little") + (nano ? " nano" : " micro"));
      auto [mem, disk] = read_both(pcap_variant({big, nano}, recs), "order.pcap");
      for (const Drained* d : {&mem, &disk}) {
        EXPECT_FALSE(d->error);
        ASSERT_EQ(d->packets.size(), 3u);
        EXPECT_EQ(text(d->packets[0].payload), "one");
        EXPECT_EQ(d->packets[0].ts_sec, 1700000000);
        EXPECT_EQ(d->packets[0].ts_nsec, nano ? 123456u : 123456000u);
        EXPECT_EQ(d->packets[1].ts_sec, -2147483647);
        EXPECT_EQ(d->packets[1].ts_nsec, nano ? 999999u : 999999000u);
        EXPECT_EQ(text(d->packets[2].payload), "three");
        EXPECT_EQ(d->packets[2].frame, 3u);
        EXPECT_EQ(d->packets[2].ts_nsec, nano ? 7u : 7000u);
      }
    }
  }
}

// Each damaged file gives libpcap's words, from memory and from a file, after the frames before.
void expect_damage(const Bytes& file, std::size_t packets, const std::string& error) {
  auto [mem, disk] = read_both(file, "damaged.pcap");
  for (const Drained* d : {&mem, &disk}) {
    EXPECT_EQ(d->packets.size(), packets);
    ASSERT_TRUE(d->error);
    EXPECT_EQ(d->error->code, Code::malformed);
    EXPECT_EQ(d->error->detail, error);
  }
}

TEST(CaptureFile, DamagedRecordsGiveLibpcapsReasons) {
  const Bytes f = udp_frame("hello");  // 14 + 20 + 8 + 5 = 47 bytes
  const Bytes two = eth_file({f, f});
  Bytes cut_header = two;
  cut_header.insert(cut_header.end(), {1, 2, 3, 4, 5, 6, 7});
  expect_damage(cut_header, 2, "truncated capture record at frame 3 (truncated dump file; tried to read 16 header bytes, only got 7)");
  Bytes cut_packet = two;
  cut_packet.resize(cut_packet.size() - 10);
  expect_damage(cut_packet, 1, "truncated capture record at frame 2 (truncated dump file; tried to read 47 captured bytes, only got 37)");
  for (std::uint32_t caplen : {0xffffffffu, 0x7fffffffu, 262145u}) {
    Bytes absurd = two;
    const std::size_t second = 24 + 16 + f.size();
    for (int i = 0; i < 4; ++i) absurd[second + 8 + i] = static_cast<std::uint8_t>(caplen >> (8 * i));
    expect_damage(absurd, 1, std::string("corrupt capture at frame 2 (invalid packet capture length ")
                                 .append(std::to_string(caplen))
                                 .append(", bigger than snaplen of 262144)"));
  }
  // Big-endian: the lengths libpcap names are the swapped ones.
  Bytes big = pcap_variant({true, false}, {{f}, {f}});
  big.resize(big.size() - 1);
  expect_damage(big, 1, "truncated capture record at frame 2 (truncated dump file; tried to read 47 captured bytes, only got 46)");
  Bytes bad_magic = eth_file({f});
  bad_magic[3] = 0xa0;
  auto bad = Reader::from_memory(bad_magic);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().detail, "capture in memory: unknown file format");
}

// A stream (standard input, replayed after its first bytes were sniffed) reads as the same bytes
// in memory do, damage included, and the Reader closes it.
TEST(CaptureFile, AStreamReadsAsTheSameBytesInMemory) {
  const std::vector<Rec> recs{{udp_frame("one"), 1700000000, 1, 0}, {udp_frame("two"), 1700000001, 2, 0}};
  for (bool cut : {false, true}) {
    Bytes file = pcap_variant({}, recs);
    if (cut) file.resize(file.size() - 2);
    SCOPED_TRACE(cut ? "cut" : "whole");
    Bytes copy = file;  // fmemopen needs a writable buffer
    std::FILE* f = fmemopen(copy.data(), copy.size(), "rb");
    ASSERT_NE(f, nullptr);
    auto r = Reader::from_stream(f, "standard input");
    ASSERT_TRUE(r.ok()) << r.error().detail;
    const Drained streamed = drain(*r);
    const Drained mem = read_all(file);
    ASSERT_EQ(streamed.packets.size(), mem.packets.size());
    for (std::size_t i = 0; i < streamed.packets.size(); ++i) {
      EXPECT_EQ(streamed.packets[i].payload, mem.packets[i].payload);
      EXPECT_EQ(streamed.packets[i].ts_nsec, mem.packets[i].ts_nsec);
    }
    EXPECT_EQ(streamed.packets.size(), cut ? 1u : 2u);
    ASSERT_EQ(streamed.error.has_value(), cut);
    ASSERT_EQ(mem.error.has_value(), cut);
    if (cut) {
      EXPECT_EQ(streamed.error->detail, mem.error->detail);
    }
  }
  Bytes junk = s("not a capture at all");
  std::FILE* f = fmemopen(junk.data(), junk.size(), "rb");
  ASSERT_NE(f, nullptr);
  auto bad = Reader::from_stream(f, "standard input");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().detail, "standard input: unknown file format");
}

TEST(CaptureFile, RecordsOverTheSnaplenAreCutAsLibpcapCutsThem) {
  const Bytes big = udp_frame(std::string(300, 'x'));
  const Bytes small = udp_frame("ok");  // 44 bytes, within the snapshot length
  auto [mem, disk] = read_both(pcap_variant({false, false, 4, 100}, {{small}, {big}, {small, 1700000000, 5}}), "snap.pcap");
  for (const Drained* d : {&mem, &disk}) {
    EXPECT_FALSE(d->error);
    ASSERT_EQ(d->packets.size(), 2u);
    EXPECT_EQ(d->packets[1].frame, 3u);
    EXPECT_EQ(d->packets[1].ts_nsec, 5000u);
    EXPECT_EQ(d->stats.truncated, 1u);  // libpcap hands over 100 bytes of the 342
  }
  // A record over the snapshot length that the file does not hold whole: libpcap's reason.
  Bytes cut = pcap_variant({false, false, 4, 100}, {{small}, {big}});
  cut.resize(cut.size() - 50);
  expect_damage(cut, 1, "truncated capture record at frame 2 (truncated dump file; tried to read 342 captured bytes, only got 292)");
}

TEST(CaptureFile, OlderVersionsKeepTheirSwappedLengths) {
  // Version 2.3 files may hold the original length first: libpcap swaps when the first is larger.
  const Bytes whole = udp_frame(std::string(300, 'x'));
  Bytes cut(whole.begin(), whole.begin() + 96);
  std::vector<Rec> recs{{udp_frame("a")}, {cut}};
  for (int i = 0; i < 8; ++i) recs.push_back({udp_frame("b")});  // more than the 342 bytes claimed
  Bytes file = pcap_variant({false, false, 3}, recs);
  const std::size_t second = 24 + 16 + udp_frame("a").size();
  for (int i = 0; i < 4; ++i) {
    file[second + 8 + i] = static_cast<std::uint8_t>(whole.size() >> (8 * i));  // "captured": 342
    file[second + 12 + i] = static_cast<std::uint8_t>(cut.size() >> (8 * i));   // "original": 96
  }
  auto [mem, disk] = read_both(file, "v23.pcap");
  for (const Drained* d : {&mem, &disk}) {
    EXPECT_FALSE(d->error);
    ASSERT_EQ(d->packets.size(), 9u);
    EXPECT_EQ(text(d->packets[8].payload), "b");
    EXPECT_EQ(d->packets[8].frame, 10u);
    EXPECT_EQ(d->stats.truncated, 1u);
  }
}

// Many records, some at the largest captured length, so that records cross every boundary of the
// reader's buffer; then the same file cut inside a record far into it.
TEST(CaptureFile, LargeFileReadsWholeAndStopsWhereItIsCut) {
  std::vector<Rec> recs;
  std::vector<std::string> bodies;
  std::uint32_t n = 0;
  for (std::size_t size = 0; size < (5u << 20); ++n) {
    Bytes frame;
    if (n % 97 == 5) {
      bodies.push_back(std::string("big").append(std::to_string(n)));
      frame = udp_frame(bodies.back());
      frame.resize(262144, 0xee);  // padding after the datagram: the largest record libpcap reads
    } else {
      bodies.push_back(std::string(n * 37 % 1400, static_cast<char>('a' + n % 26)) + std::to_string(n));
      frame = udp_frame(bodies.back());
    }
    size += 16 + frame.size();
    recs.push_back(Rec{frame, 1700000000 + n, n % 1000000, 0});
  }
  const Bytes file = pcap_variant({true, true}, recs);
  auto check = [&](const Drained& d, std::size_t count) {
    ASSERT_EQ(d.packets.size(), count);
    for (std::size_t i = 0; i < count; ++i) {
      ASSERT_EQ(d.packets[i].frame, i + 1);
      ASSERT_EQ(d.packets[i].ts_sec, 1700000000 + static_cast<std::int64_t>(i));
      ASSERT_EQ(d.packets[i].ts_nsec, i % 1000000);
      ASSERT_EQ(text(d.packets[i].payload), bodies[i]) << "frame " << i + 1;
    }
  };
  auto [mem, disk] = read_both(file, "large.pcap");
  for (const Drained* d : {&mem, &disk}) {
    EXPECT_FALSE(d->error);
    check(*d, n);
  }
  // Cut 3 MiB in: find the record that holds that offset.
  std::size_t at = 24, k = 0;
  while (at + 16 + recs[k].frame.size() <= (3u << 20)) at += 16 + recs[k++].frame.size();
  Bytes cut(file.begin(), file.begin() + (3 << 20));
  auto [cmem, cdisk] = read_both(cut, "large-cut.pcap");
  const std::size_t got = (3u << 20) - at;
  const std::string why = got < 16 ? std::string("tried to read 16 header bytes, only got ").append(std::to_string(got))
                                   : std::string("tried to read ")
                                         .append(std::to_string(recs[k].frame.size()))
                                         .append(" captured bytes, only got ")
                                         .append(std::to_string(got - 16));
  for (const Drained* d : {&cmem, &cdisk}) {
    check(*d, k);
    ASSERT_TRUE(d->error);
    EXPECT_EQ(d->error->detail, std::string("truncated capture record at frame ")
                                    .append(std::to_string(k + 1))
                                    .append(" (truncated dump file; ")
                                    .append(why)
                                    .append(")"));
  }
}

// ---- pcapng ----

Bytes block(std::uint32_t type, const Bytes& body) {
  Bytes b;
  const auto len = static_cast<std::uint32_t>(12 + body.size());
  le32(b, type);
  le32(b, len);
  b = cat(b, body);
  le32(b, len);
  return b;
}

Bytes epb(std::uint32_t iface, std::uint64_t ts, const Bytes& frame) {
  Bytes body;
  le32(body, iface);
  le32(body, static_cast<std::uint32_t>(ts >> 32));
  le32(body, static_cast<std::uint32_t>(ts));
  le32(body, static_cast<std::uint32_t>(frame.size()));
  le32(body, static_cast<std::uint32_t>(frame.size()));
  body = cat(body, frame);
  body.resize((body.size() + 3) / 4 * 4, 0);
  return block(6, body);
}

TEST(CapturePcapng, SectionInterfaceAndEnhancedPacketBlocks) {
  Bytes shb;
  le32(shb, 0x1a2b3c4d);
  le16(shb, 1);
  le16(shb, 0);
  le32(shb, 0xffffffff);  // section length unknown
  le32(shb, 0xffffffff);
  Bytes idb;
  le16(idb, 1);  // Ethernet
  le16(idb, 0);
  le32(idb, 0);  // no snaplen
  Bytes file = cat(block(0x0a0d0d0a, shb), block(1, idb));
  const std::uint64_t t1 = 1700000000ULL * 1000000 + 250000;  // default resolution: microseconds
  file = cat(file, epb(0, t1, eth(0x0800, ipv4("192.0.2.1", "192.0.2.2", 17, udp(5060, 5060, s("ng-one"))))));
  file = cat(file, epb(0, t1 + 1, eth(0x86dd, ipv6("2001:db8::1", "2001:db8::2", 17, udp(2944, 2944, s("ng-two"))))));
  auto d = read_all(file);
  EXPECT_FALSE(d.error);
  ASSERT_EQ(d.packets.size(), 2u);
  EXPECT_EQ(d.packets[0].ts_sec, 1700000000);
  EXPECT_EQ(d.packets[0].ts_nsec, 250000000u);
  EXPECT_EQ(text(d.packets[0].payload), "ng-one");
  EXPECT_EQ(d.packets[1].ts_nsec, 250001000u);
  EXPECT_EQ(d.packets[1].src_ip, "2001:db8::1");
  EXPECT_EQ(d.packets[1].src_port, 2944);
  EXPECT_EQ(text(d.packets[1].payload), "ng-two");
}

// ---- IP fragments ----

TEST(CaptureFragments, IPv4OutOfOrderIsReassembled) {
  Bytes dgram = udp(5060, 5060, Bytes(3000, 0));
  for (std::size_t i = 0; i < dgram.size() - 8; ++i) dgram[8 + i] = static_cast<std::uint8_t>(i * 7);
  auto part = [&](std::size_t off, std::size_t len) {
    return Bytes(dgram.begin() + static_cast<std::ptrdiff_t>(off), dgram.begin() + static_cast<std::ptrdiff_t>(off + len));
  };
  auto f = [&](std::size_t off, std::size_t len, bool more) {
    return eth(0x0800, ipv4("10.0.0.1", "10.0.0.2", 17, part(off, len), 0x1234,
                            static_cast<std::uint16_t>((more ? 0x2000 : 0) | off / 8)));
  };
  const std::size_t last = 2960;
  auto d = read_all(eth_file({f(1480, 1480, true), f(last, dgram.size() - last, false),
                              eth(0x0800, ipv4("10.0.0.9", "10.0.0.2", 17, kUdp)), f(0, 1480, true)}));
  EXPECT_FALSE(d.error);
  ASSERT_EQ(d.packets.size(), 2u);
  EXPECT_EQ(d.packets[0].src_ip, "10.0.0.9");
  EXPECT_EQ(d.packets[1].frame, 4u);  // completed by the fourth frame
  EXPECT_EQ(d.packets[1].src_ip, "10.0.0.1");
  EXPECT_EQ(d.packets[1].payload, Bytes(dgram.begin() + 8, dgram.end()));
  EXPECT_EQ(d.stats.fragments, 3u);
  EXPECT_EQ(d.stats.reassembled, 1u);
  EXPECT_EQ(d.stats.reassembly_dropped, 0u);
}

TEST(CaptureFragments, IPv6OutOfOrderIsReassembled) {
  Bytes dgram = udp(5060, 5062, Bytes(2000, 'q'));
  auto part = [&](std::size_t off, std::size_t len) {
    return Bytes(dgram.begin() + static_cast<std::ptrdiff_t>(off), dgram.begin() + static_cast<std::ptrdiff_t>(off + len));
  };
  auto f = [&](std::size_t off, std::size_t len, bool more) {
    return eth(0x86dd, ipv6("2001:db8::1", "2001:db8::2", 44,
                            frag6(17, static_cast<std::uint16_t>(off), more, 0xabcdef01, part(off, len))));
  };
  auto d = read_all(eth_file({f(1232, dgram.size() - 1232, false), f(0, 1232, true)}));
  ASSERT_EQ(d.packets.size(), 1u);
  EXPECT_EQ(d.packets[0].frame, 2u);
  EXPECT_EQ(d.packets[0].dst_port, 5062);
  EXPECT_EQ(d.packets[0].payload, Bytes(2000, 'q'));
  EXPECT_EQ(d.stats.reassembled, 1u);
}

TEST(CaptureFragments, IncompleteAndOversizedDatagramsAreDroppedAndCounted) {
  auto f = [&](std::uint16_t id, std::size_t off, std::size_t len, bool more) {
    return eth(0x0800, ipv4("10.0.0.1", "10.0.0.2", 17, Bytes(len, 1), id,
                            static_cast<std::uint16_t>((more ? 0x2000 : 0) | off / 8)));
  };
  auto d = read_all(eth_file({f(1, 0, 64, true),              // never completed
                              f(2, 65528, 16, false),         // would end past 65535
                              f(3, 8, 8, false)}));           // its first fragment never comes
  EXPECT_TRUE(d.packets.empty());
  EXPECT_EQ(d.stats.fragments, 3u);
  EXPECT_EQ(d.stats.reassembly_dropped, 3u);
  EXPECT_EQ(d.stats.reassembled, 0u);

  capture::Options o;
  o.limits.max_reassemblies = 1;
  auto lim = read_all(eth_file({f(1, 0, 64, true), f(2, 0, 64, true)}), o);
  EXPECT_EQ(lim.stats.reassembly_dropped, 2u);  // one evicted by the table bound, one at the end

  o.limits = {};
  o.limits.reassembly_frames = 2;
  auto late = read_all(eth_file({f(7, 0, 8, true), f(8, 0, 8, true), f(9, 0, 8, true), f(7, 8, 8, false)}), o);
  EXPECT_TRUE(late.packets.empty());  // datagram 7 timed out before its last fragment came
  EXPECT_EQ(late.stats.reassembly_dropped, 4u);
}

TEST(CaptureFragments, ManySmallFragmentsMergeButScatteredPiecesAreBounded) {
  auto f = [&](std::uint16_t id, std::size_t off, bool more) {
    return eth(0x0800, ipv4("10.0.0.1", "10.0.0.2", 17, Bytes(8, static_cast<std::uint8_t>(off / 8)), id,
                            static_cast<std::uint16_t>((more ? 0x2000 : 0) | off / 8)));
  };
  std::vector<Bytes> frames;
  // 700 fragments in order: the UDP header (length 5600, so the datagram is all of them) comes first.
  Bytes first = udp(1, 2, Bytes{});
  first[4] = 5600 >> 8;
  first[5] = 5600 & 0xff;
  frames.push_back(eth(0x0800, ipv4("10.0.0.1", "10.0.0.2", 17, first, 1, 0x2000)));
  for (std::size_t i = 1; i < 700; ++i) frames.push_back(f(1, i * 8, i != 699));
  // 600 scattered pieces of another datagram: over the bound of 512 pieces.
  for (std::size_t i = 0; i < 600; ++i) frames.push_back(f(2, 8 + i * 16, true));
  auto d = read_all(eth_file(frames));
  ASSERT_EQ(d.packets.size(), 1u);
  EXPECT_EQ(d.packets[0].payload.size(), 5592u);
  EXPECT_EQ(d.packets[0].payload[0], 1);
  EXPECT_EQ(d.packets[0].payload[5591], 699 % 256);  // the last fragment, offset 5592
  EXPECT_EQ(d.stats.reassembled, 1u);
  // Datagram 2 is dropped at its 513th piece; its remaining 87 fragments start a new one, dropped at the end.
  EXPECT_EQ(d.stats.reassembly_dropped, 2u);
  EXPECT_EQ(d.stats.fragments, 1300u);
}

// ---- TCP ----

const std::string kSip1 = "REGISTER sip:ss1.example.org SIP/2.0\r\nVia: SIP/2.0/TCP t\r\nContent-Length: 5\r\n\r\nhello";
const std::string kSip2 = "SIP/2.0 200 OK\r\nl:0\r\n\r\n";

Bytes tcp4(std::uint16_t sp, std::uint16_t dp, std::uint32_t seq, std::uint8_t flags, const std::string& data,
           const std::string& src = "10.0.0.1", const std::string& dst = "10.0.0.2") {
  return eth(0x0800, ipv4(src, dst, 6, tcp(sp, dp, seq, flags, s(data))));
}

TEST(CaptureTcp, SipOverThreeSegmentsOutOfOrderWithRetransmission) {
  const std::uint32_t isn = 0xfffffff0;  // sequence numbers wrap inside the message
  const std::string a = kSip1.substr(0, 10), b = kSip1.substr(10, 40), c = kSip1.substr(50);
  auto d = read_all(eth_file({
      tcp4(40000, 5060, isn, SYN, ""),
      tcp4(40000, 5060, isn + 1, ACK | PSH, a),
      tcp4(40000, 5060, isn + 51, ACK | PSH, c),   // ahead of a hole
      tcp4(40000, 5060, isn + 1, ACK | PSH, a),    // retransmission
      tcp4(40000, 5060, isn + 11, ACK | PSH, b),   // fills the hole
      tcp4(40000, 5060, isn + 1 + static_cast<std::uint32_t>(kSip1.size()), ACK | FIN, ""),
  }));
  EXPECT_FALSE(d.error);
  ASSERT_EQ(d.packets.size(), 1u);
  EXPECT_EQ(d.packets[0].frame, 5u);
  EXPECT_EQ(d.packets[0].transport, Transport::tcp);
  EXPECT_EQ(d.packets[0].src_port, 40000);
  EXPECT_EQ(d.packets[0].dst_port, 5060);
  EXPECT_EQ(text(d.packets[0].payload), kSip1);
  EXPECT_EQ(d.stats.tcp_segments, 6u);
  EXPECT_EQ(d.stats.tcp_retransmissions, 1u);
  EXPECT_EQ(d.stats.tcp_gaps, 0u);
  EXPECT_EQ(d.stats.tcp_bytes_dropped, 0u);
}

TEST(CaptureTcp, TwoSipMessagesInOneSegmentAndKeepAlives) {
  auto d = read_all(eth_file({
      tcp4(5060, 40000, 100, ACK, "\r\n\r\n" + kSip1 + kSip2, "10.0.0.2", "10.0.0.1"),
      tcp4(5060, 40000, 100 + 4 + static_cast<std::uint32_t>(kSip1.size() + kSip2.size()), ACK, "SIP/2.0 100 Trying\r\n",
           "10.0.0.2", "10.0.0.1"),
  }));
  ASSERT_EQ(d.packets.size(), 2u);  // no SYN seen: the stream starts at the first segment
  EXPECT_EQ(text(d.packets[0].payload), kSip1);
  EXPECT_EQ(text(d.packets[1].payload), kSip2);
  EXPECT_EQ(d.packets[1].frame, 1u);
  EXPECT_EQ(d.packets[1].src_ip, "10.0.0.2");
  EXPECT_EQ(d.stats.tcp_bytes_dropped, 20u);  // the unfinished third message, at the end
}

TEST(CaptureTcp, BothDirectionsAreSeparateStreams) {
  auto d = read_all(eth_file({
      tcp4(40000, 5060, 1, ACK, kSip1.substr(0, 30)),
      tcp4(5060, 40000, 9, ACK, kSip2, "10.0.0.2", "10.0.0.1"),
      tcp4(40000, 5060, 31, ACK, kSip1.substr(30)),
  }));
  ASSERT_EQ(d.packets.size(), 2u);
  EXPECT_EQ(text(d.packets[0].payload), kSip2);
  EXPECT_EQ(text(d.packets[1].payload), kSip1);
  EXPECT_EQ(d.packets[1].frame, 3u);
}

TEST(CaptureTcp, TpktFramingStripsTheHeader) {
  const std::string m1 = "MEGACO/1 [10.0.0.1]:2944\nTransaction = 1 {}";
  const std::string m2 = "MEGACO/1 [10.0.0.2]:2944\nReply = 1 {}";
  auto tpkt = [](const std::string& m) {
    std::string h{3, 0, static_cast<char>((m.size() + 4) >> 8), static_cast<char>((m.size() + 4) & 0xff)};
    return h + m;
  };
  const std::string stream = tpkt(m1) + tpkt(m2);
  auto d = read_all(eth_file({
      tcp4(2944, 2944, 7, ACK, stream.substr(0, 2)),
      tcp4(2944, 2944, 9, ACK, stream.substr(2, 50)),
      tcp4(2944, 2944, 59, ACK, stream.substr(52)),
  }));
  ASSERT_EQ(d.packets.size(), 2u);
  EXPECT_EQ(text(d.packets[0].payload), m1);
  EXPECT_EQ(d.packets[0].frame, 2u);
  EXPECT_EQ(text(d.packets[1].payload), m2);
  EXPECT_EQ(d.packets[1].frame, 3u);
  EXPECT_EQ(d.stats.framing_errors, 0u);

  auto bad = read_all(eth_file({tcp4(2945, 3000, 7, ACK, "GET / HTTP/1.0\r\n\r\n")}));
  EXPECT_TRUE(bad.packets.empty());
  EXPECT_EQ(bad.stats.framing_errors, 1u);
  EXPECT_EQ(bad.stats.tcp_bytes_dropped, 18u);
}

TEST(CaptureTcp, RawFramingAndAFramerChosenByTheCaller) {
  auto d = read_all(eth_file({tcp4(1720, 40000, 7, ACK, "abc"), tcp4(1720, 40000, 10, ACK, "def")}));
  ASSERT_EQ(d.packets.size(), 2u);
  EXPECT_EQ(text(d.packets[0].payload), "abc");
  EXPECT_EQ(text(d.packets[1].payload), "def");

  capture::Options o;
  o.framer = [](std::uint16_t sp, std::uint16_t dp) {
    return sp == 15060 || dp == 15060 ? capture::make_sip_framer() : capture::default_framer(sp, dp);
  };
  auto sip = read_all(eth_file({tcp4(40000, 15060, 1, ACK, kSip1.substr(0, 7)), tcp4(40000, 15060, 8, ACK, kSip1.substr(7))}), o);
  ASSERT_EQ(sip.packets.size(), 1u);
  EXPECT_EQ(text(sip.packets[0].payload), kSip1);
}

TEST(CaptureTcp, GapOverTheStreamBoundIsGivenUp) {
  capture::Options o;
  o.limits.max_stream_buffer = 70;
  auto d = read_all(eth_file({
      tcp4(40000, 5060, 0, SYN, ""),
      tcp4(40000, 5060, 1, ACK, kSip2.substr(0, 5)),         // starts a message...
      tcp4(40000, 5060, 1000, ACK, kSip1.substr(0, 60)),     // ...then a hole of 994 bytes
      tcp4(40000, 5060, 1060, ACK, kSip1.substr(60)),        // over the bound: give up the hole
      tcp4(40000, 5060, 1000 + static_cast<std::uint32_t>(kSip1.size()), ACK, kSip2),
  }), o);
  ASSERT_EQ(d.packets.size(), 2u);
  EXPECT_EQ(text(d.packets[0].payload), kSip1);
  EXPECT_EQ(d.packets[0].frame, 4u);
  EXPECT_EQ(text(d.packets[1].payload), kSip2);
  EXPECT_EQ(d.stats.tcp_gaps, 1u);
  EXPECT_EQ(d.stats.tcp_bytes_dropped, 5u);  // the partial message before the hole
}

TEST(CaptureTcp, RstForgetsBothDirectionsAndUnfinishedHolesAreCounted) {
  auto d = read_all(eth_file({
      tcp4(40000, 5060, 1, ACK, kSip1.substr(0, 20)),
      tcp4(5060, 40000, 1, ACK, kSip2.substr(0, 4), "10.0.0.2", "10.0.0.1"),
      tcp4(40000, 5060, 21, RST, ""),
      tcp4(40001, 5060, 1, ACK, "INVITE"),
      tcp4(40001, 5060, 100, ACK, "later"),  // a hole never filled
  }));
  EXPECT_TRUE(d.packets.empty());
  EXPECT_EQ(d.stats.tcp_bytes_dropped, 20u + 4 + 6 + 5);
  EXPECT_EQ(d.stats.tcp_gaps, 1u);
}

TEST(CaptureTcp, NewConnectionOnTheSamePortsStartsAfresh) {
  auto d = read_all(eth_file({
      tcp4(40000, 5060, 500, SYN, ""),
      tcp4(40000, 5060, 501, ACK, "REGISTER partial"),
      tcp4(40000, 5060, 9000, SYN, ""),
      tcp4(40000, 5060, 9001, ACK, kSip2),
  }));
  ASSERT_EQ(d.packets.size(), 1u);
  EXPECT_EQ(text(d.packets[0].payload), kSip2);
  EXPECT_EQ(d.stats.tcp_bytes_dropped, 16u);
}

TEST(CaptureTcp, StreamTableBoundEvictsTheOldest) {
  capture::Options o;
  o.limits.max_streams = 2;
  auto d = read_all(eth_file({
      tcp4(40001, 5060, 1, ACK, "AAAA"),
      tcp4(40002, 5060, 1, ACK, "BBBB"),
      tcp4(40003, 5060, 1, ACK, "CCCC"),  // evicts 40001
      tcp4(40001, 5060, 5, ACK, "\r\n\r\n"),
  }), o);
  EXPECT_EQ(d.stats.tcp_streams_dropped, 2u);  // 40001, then 40002 for the new 40001 stream
  ASSERT_EQ(d.packets.size(), 0u);
  EXPECT_EQ(d.stats.tcp_bytes_dropped, 12u);
}

TEST(CaptureTcp, SipHeaderBlockOverTheLimitIsAFramingError) {
  std::vector<Bytes> frames;
  std::uint32_t seq = 1;
  const std::string chunk = "X-Filler: " + std::string(990, 'f') + "\r\n";  // 1002 bytes, no blank line
  for (int i = 0; i < 66; ++i, seq += static_cast<std::uint32_t>(chunk.size())) frames.push_back(tcp4(40000, 5060, seq, ACK, chunk));
  frames.push_back(tcp4(40000, 5060, seq, ACK, kSip2));
  auto d = read_all(eth_file(frames));
  EXPECT_EQ(d.stats.framing_errors, 1u);
  EXPECT_EQ(d.stats.tcp_bytes_dropped, 66u * 1002);  // dropped when the block passed 64 KiB
  ASSERT_EQ(d.packets.size(), 1u);                     // the framer starts afresh with the next segment
  EXPECT_EQ(text(d.packets[0].payload), kSip2);
  EXPECT_EQ(d.packets[0].frame, 67u);
}

}  // namespace
}  // namespace kd::captest
