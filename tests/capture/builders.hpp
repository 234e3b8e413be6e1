// Hand-built frames and capture files for the capture tests (independent of lib/capture).
#pragma once

#include <arpa/inet.h>

#include <string>
#include <vector>

#include "capture/capture.hpp"
#include "core/bytes.hpp"

namespace kd::captest {

inline void le16(Bytes& b, std::uint16_t v) {
  b.push_back(static_cast<std::uint8_t>(v));
  b.push_back(static_cast<std::uint8_t>(v >> 8));
}
inline void le32(Bytes& b, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) b.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}
inline void be32(Bytes& b, std::uint32_t v) {
  for (int i = 3; i >= 0; --i) b.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}
inline Bytes cat(Bytes a, const Bytes& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

inline Bytes addr(const std::string& text) {
  Bytes a(text.find(':') != std::string::npos ? 16 : 4);
  inet_pton(a.size() == 16 ? AF_INET6 : AF_INET, text.c_str(), a.data());
  return a;
}

inline Bytes udp(std::uint16_t sport, std::uint16_t dport, const Bytes& payload) {
  Bytes b;
  put_u16(b, sport);
  put_u16(b, dport);
  put_u16(b, static_cast<std::uint16_t>(8 + payload.size()));
  put_u16(b, 0);
  return cat(b, payload);
}

constexpr std::uint8_t FIN = 1, SYN = 2, RST = 4, PSH = 8, ACK = 16;

inline Bytes tcp(std::uint16_t sport, std::uint16_t dport, std::uint32_t seq, std::uint8_t flags, const Bytes& payload) {
  Bytes b;
  put_u16(b, sport);
  put_u16(b, dport);
  be32(b, seq);
  be32(b, 0);
  put_u8(b, 0x50);
  put_u8(b, flags);
  put_u16(b, 65535);
  put_u16(b, 0);
  put_u16(b, 0);
  return cat(b, payload);
}

// IPv4 header without options (checksum left 0: the reader must not care), or with `options`.
inline Bytes ipv4(const std::string& src, const std::string& dst, std::uint8_t proto, const Bytes& payload,
                  std::uint16_t id = 1, std::uint16_t frag = 0, const Bytes& options = {}) {
  Bytes b;
  put_u8(b, static_cast<std::uint8_t>(0x40 | (5 + options.size() / 4)));
  put_u8(b, 0);
  put_u16(b, static_cast<std::uint16_t>(20 + options.size() + payload.size()));
  put_u16(b, id);
  put_u16(b, frag);
  put_u8(b, 64);
  put_u8(b, proto);
  put_u16(b, 0);
  b = cat(cat(b, addr(src)), addr(dst));
  return cat(cat(b, options), payload);
}

inline Bytes ipv6(const std::string& src, const std::string& dst, std::uint8_t nh, const Bytes& payload) {
  Bytes b{0x60, 0, 0, 0};
  put_u16(b, static_cast<std::uint16_t>(payload.size()));
  put_u8(b, nh);
  put_u8(b, 64);
  b = cat(cat(b, addr(src)), addr(dst));
  return cat(b, payload);
}

// An IPv6 fragment header followed by the fragment's data.
inline Bytes frag6(std::uint8_t nh, std::uint16_t offset, bool more, std::uint32_t id, const Bytes& data) {
  Bytes b{nh, 0};
  put_u16(b, static_cast<std::uint16_t>(offset | (more ? 1 : 0)));
  be32(b, id);
  return cat(b, data);
}

inline Bytes eth(std::uint16_t type, const Bytes& payload, const std::vector<std::uint16_t>& tags = {}) {
  Bytes b{0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1};
  for (std::uint16_t tpid : tags) {
    put_u16(b, tpid);
    put_u16(b, 100);  // VLAN id
  }
  put_u16(b, type);
  return cat(b, payload);
}

struct Rec {
  Bytes frame;
  std::uint32_t sec = 1700000000, usec = 0;
  std::uint32_t orig_len = 0;  // 0: the frame's size
};

// A classic little-endian microsecond pcap file.
inline Bytes pcap_file(std::uint32_t linktype, const std::vector<Rec>& recs) {
  Bytes b;
  le32(b, 0xa1b2c3d4);
  le16(b, 2);
  le16(b, 4);
  le32(b, 0);
  le32(b, 0);
  le32(b, 262144);
  le32(b, linktype);
  for (const auto& r : recs) {
    le32(b, r.sec);
    le32(b, r.usec);
    le32(b, static_cast<std::uint32_t>(r.frame.size()));
    le32(b, r.orig_len ? r.orig_len : static_cast<std::uint32_t>(r.frame.size()));
    b = cat(b, r.frame);
  }
  return b;
}

inline Bytes eth_file(const std::vector<Bytes>& frames) {
  std::vector<Rec> recs;
  std::uint32_t usec = 0;
  for (const auto& f : frames) recs.push_back(Rec{f, 1700000000, usec++, 0});
  return pcap_file(1, recs);
}

inline Bytes s(const std::string& text) { return to_bytes(text); }

struct Drained {
  std::vector<capture::Packet> packets;
  capture::Stats stats;
  std::optional<Error> error;
};

inline Drained drain(capture::Reader& r) {
  Drained d;
  capture::Packet p;
  while (r.next(p)) d.packets.push_back(p);
  d.stats = r.stats();
  d.error = r.error();
  return d;
}

inline Drained read_all(const Bytes& file, capture::Options o = {}) {
  auto r = capture::Reader::from_memory(file, std::move(o));
  if (!r) return Drained{{}, {}, r.error()};
  return drain(*r);
}

inline std::string text(const Bytes& b) { return std::string(b.begin(), b.end()); }

}  // namespace kd::captest
