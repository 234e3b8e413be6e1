// Parts of the reader shared between its source files (not part of the interface).
#pragma once

#include <deque>
#include <map>
#include <string>
#include <unordered_map>

#include "capture/capture.hpp"

namespace kd::capture::detail {

// Big-endian (network order) fields of the headers the reader walks.
inline std::uint16_t be16(const std::uint8_t* p) { return static_cast<std::uint16_t>(p[0] << 8 | p[1]); }
inline std::uint32_t be32(const std::uint8_t* p) {
  return static_cast<std::uint32_t>(p[0]) << 24 | static_cast<std::uint32_t>(p[1]) << 16 |
         static_cast<std::uint32_t>(p[2]) << 8 | p[3];
}

// The frame being decoded: what every Packet it completes carries.
struct FrameInfo {
  std::uint64_t frame = 0;
  std::int64_t ts_sec = 0;
  std::uint32_t ts_nsec = 0;
};

// Per-direction TCP stream reassembly feeding a framer.
class TcpStreams {
public:
  TcpStreams(const Options& o, Stats& s) : opt_(o), stats_(s) {}
  // One TCP segment (header and data) between two IP addresses (text).
  void segment(const std::string& src, const std::string& dst, ByteView seg, const FrameInfo& fi, std::deque<Packet>& out);
  // End of capture: whatever is still held is dropped and counted.
  void finish();

private:
  struct Stream {
    std::unique_ptr<Framer> framer;
    std::string src, dst;
    std::uint16_t sport = 0, dport = 0;
    bool have_isn = false;
    std::uint32_t isn = 0;
    std::uint32_t next = 0;           // next expected sequence number
    std::uint64_t next_off = 0;       // the same as a stream offset that never wraps
    std::map<std::uint64_t, Bytes> ooo;  // out-of-order data by stream offset
    std::size_t ooo_bytes = 0;
    bool fin = false;
    std::uint64_t fin_off = 0;
    std::size_t accounted = 0;        // this stream's share of buffered_
    std::uint64_t last_frame = 0;
  };

  void deliver(Stream& st, ByteView data, const FrameInfo& fi, std::deque<Packet>& out);
  void drain(Stream& st, const FrameInfo& fi, std::deque<Packet>& out);
  // Drops a stream, counting what it still held.
  void drop(std::unordered_map<std::string, Stream>::iterator it, bool evicted);
  void evict_oldest(const std::string& keep);
  void account(Stream& st);

  const Options& opt_;
  Stats& stats_;
  std::unordered_map<std::string, Stream> streams_;
  std::size_t buffered_ = 0;  // out-of-order and framer bytes over all streams
};

}  // namespace kd::capture::detail
