// Writes captures with capture::Writer for tshark to judge (writer-tshark.test.sh).
// Usage: kd-capture-write DIR  ->  DIR/micro.pcap, DIR/nano.pcap and DIR/<name>.count (UDP datagrams).
//        kd-capture-write --read FILE|-  ->  prints "<packets> <payload bytes>" as capture::Reader sees them.
#include <cstdio>
#include <fstream>
#include <string>

#include "capture/capture.hpp"

using namespace kd;

namespace {

const std::string kSip =
    "OPTIONS sip:ss1.example.org SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK776asdhds\r\n"
    "Max-Forwards: 70\r\n"
    "To: <sip:ss1.example.org>\r\n"
    "From: <sip:alice@example.org>;tag=1928301774\r\n"
    "Call-ID: a84b4c76e66710@192.0.2.10\r\n"
    "CSeq: 63104 OPTIONS\r\n"
    "Content-Length: 0\r\n\r\n";

bool put(capture::Writer& w, const std::string& src, const std::string& dst, std::uint16_t port, Bytes payload,
         std::int64_t sec, std::uint32_t nsec, int& n) {
  capture::Packet p;
  p.src_ip = src;
  p.dst_ip = dst;
  p.src_port = port;
  p.dst_port = port == 5060 ? 5060 : static_cast<std::uint16_t>(port + 1);
  p.payload = std::move(payload);
  p.ts_sec = sec;
  p.ts_nsec = nsec;
  auto st = w.write(p);
  if (!st) {
    std::fprintf(stderr, "write: %s\n", st.error().detail.c_str());
    return false;
  }
  ++n;
  return true;
}

bool fill(const std::string& path, capture::Resolution res, int& n) {
  const std::size_t sizes[] = {0, 1, 7, 100, 1472, 1473, 9000, 65507};
  for (int round = 0; round < 2; ++round) {  // the second round appends to the file the first wrote
    auto w = capture::Writer::open(path, res);
    if (!w) {
      std::fprintf(stderr, "%s\n", w.error().detail.c_str());
      return false;
    }
    std::int64_t sec = 1700000000 + round * 10;
    for (std::size_t size : sizes) {
      Bytes b(size);
      for (std::size_t i = 0; i < size; ++i) b[i] = static_cast<std::uint8_t>(i * 31 + size);
      if (!put(*w, "192.0.2.10", "198.51.100.20", 50000, b, sec, 123456789, n)) return false;
      if (!put(*w, "2001:db8::10", "2001:db8:1::20", 50002, b, sec, 999999999, n)) return false;
      ++sec;
    }
    if (!put(*w, "192.0.2.10", "192.0.2.20", 5060, to_bytes(kSip), sec, 0, n)) return false;
    if (!put(*w, "2001:db8::10", "2001:db8::20", 5060, to_bytes(kSip), sec, 1000, n)) return false;
  }
  return true;
}

}  // namespace

int read_back(const std::string& path) {
  auto r = capture::Reader::open(path);
  if (!r) {
    std::fprintf(stderr, "%s\n", r.error().detail.c_str());
    return 1;
  }
  capture::Packet p;
  std::size_t n = 0, bytes = 0;
  while (r->next(p)) {
    ++n;
    bytes += p.payload.size();
  }
  if (r->error()) {
    std::fprintf(stderr, "%s\n", r->error()->detail.c_str());
    return 1;
  }
  std::printf("%zu %zu\n", n, bytes);
  return 0;
}

int main(int argc, char** argv) {
  if (argc == 3 && std::string(argv[1]) == "--read") return read_back(argv[2]);
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s DIR\n", argv[0]);
    return 2;
  }
  const std::string dir = argv[1];
  for (auto [name, res] : {std::pair{"micro", capture::Resolution::micro}, std::pair{"nano", capture::Resolution::nano}}) {
    int n = 0;
    if (!fill(dir + "/" + name + ".pcap", res, n)) return 1;
    std::ofstream(dir + "/" + name + ".count") << n << "\n";
  }
  return 0;
}
