// The capture layer: pcap/pcapng in (libpcap, link layers, IPv4/IPv6 with fragment reassembly,
// UDP, TCP with stream reassembly and message framing), classic pcap out.
// libpcap stays inside lib/capture; nothing here throws for bad input.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/bytes.hpp"
#include "core/error.hpp"

namespace kd::capture {

enum class Transport { udp, tcp };

// One application message: a UDP datagram's payload, or one framed message of a TCP stream.
struct Packet {
  std::uint64_t frame = 0;  // 1-based number of the frame that completed the message
  std::int64_t ts_sec = 0;  // that frame's timestamp
  std::uint32_t ts_nsec = 0;
  std::string src_ip, dst_ip;  // text; IPv6 in RFC 5952 form
  std::uint16_t src_port = 0, dst_port = 0;
  Transport transport = Transport::udp;
  Bytes payload;
};

// What the reader saw and did not deliver, and why. Every counter is exact, so tests and tools
// can report "3 frames truncated" rather than guess.
struct Stats {
  std::uint64_t frames = 0;             // records read from the file
  std::uint64_t packets = 0;            // Packets delivered by next()
  std::uint64_t skipped_non_ip = 0;     // link layer carries something other than IPv4/IPv6 (ARP, LLDP...)
  std::uint64_t skipped_transport = 0;  // IP, but neither UDP nor TCP (ICMP, SCTP, ESP...)
  std::uint64_t skipped_other = 0;      // unsupported link type, IPv6 jumbogram
  std::uint64_t truncated = 0;          // frames whose datagram was cut by the snapshot length (not delivered)
  std::uint64_t bad_headers = 0;        // frames with an impossible link, IP, UDP or TCP header
  std::uint64_t fragments = 0;          // IP fragments taken into reassembly
  std::uint64_t reassembled = 0;        // datagrams rebuilt from fragments
  std::uint64_t reassembly_dropped = 0; // incomplete datagrams given up (timeout, table full, too big, end)
  std::uint64_t tcp_segments = 0;       // TCP segments seen (with or without data)
  std::uint64_t tcp_retransmissions = 0;// segments whose data was already delivered
  std::uint64_t tcp_gaps = 0;           // holes in a stream given up on (bytes never captured)
  std::uint64_t tcp_bytes_dropped = 0;  // stream bytes not delivered (after a gap, unframed, unfinished at end)
  std::uint64_t tcp_streams_dropped = 0;// streams evicted because the stream table or memory budget was full
  std::uint64_t framing_errors = 0;     // times a framer could not cut the stream (bad TPKT, huge SIP header); bytes in tcp_bytes_dropped
};

// What the reader gave up that may have held messages, for a tool's note on standard error: each
// count that is not zero, as "1 IP datagram never reassembled, 2 TCP holes given up, ..."; empty
// when nothing was lost. (Truncated and damaged frames are counted apart, by every tool.)
std::string describe_losses(const Stats& s);

// Cuts an in-order TCP byte stream (one direction) into messages.
class Framer {
public:
  virtual ~Framer() = default;
  // Takes the next in-order bytes and appends every message they complete to out. Returns how many
  // bytes were discarded because they cannot be framed (0 normally); the framer then starts afresh.
  virtual std::size_t push(ByteView data, std::vector<Bytes>& out) = 0;
  // Bytes held while waiting for the rest of a message.
  virtual std::size_t pending() const = 0;
  // The stream lost sync (a gap) or ended: forget held bytes and return how many there were.
  virtual std::size_t reset() = 0;
  // Whether what the last push discarded was a message over the framer's limit (announced by its
  // length, or never ending), rather than bytes that frame as no message.
  virtual bool discarded_overlong() const { return false; }
};

// Header block up to CRLFCRLF (at most 64 KiB), then Content-Length (or "l") bytes of body;
// a missing Content-Length means no body; CRLF keep-alives between messages are skipped.
std::unique_ptr<Framer> make_sip_framer(std::size_t max_body = 1 << 20);
// RFC 1006 TPKT: version 3, reserved, 16-bit length including the 4-byte header. Delivers the
// payload without the TPKT header.
std::unique_ptr<Framer> make_tpkt_framer();
// Each in-order chunk (one segment's new data) is a message as it is.
std::unique_ptr<Framer> make_raw_framer();

// Chooses the framer of a new TCP stream from its ports (the same for both directions).
using FramerFactory = std::function<std::unique_ptr<Framer>(std::uint16_t src_port, std::uint16_t dst_port)>;
// 5060/5061 on either side: SIP; 2944/2945: TPKT; otherwise raw.
std::unique_ptr<Framer> default_framer(std::uint16_t src_port, std::uint16_t dst_port);

// Bounds that keep memory flat whatever the capture holds.
struct Limits {
  std::size_t max_reassemblies = 256;      // IP datagrams being reassembled at once
  std::uint64_t reassembly_frames = 10000; // give up a datagram this many frames after its first fragment
  std::size_t max_streams = 4096;          // TCP stream directions tracked at once
  std::size_t max_stream_buffer = 256 << 10;// out-of-order bytes held per stream direction
  std::size_t max_tcp_memory = 64 << 20;   // all out-of-order and framer bytes of all streams
};

struct Options {
  FramerFactory framer = default_framer;
  Limits limits;
};

// Streams Packets out of a pcap or pcapng capture, one frame at a time.
class Reader {
public:
  // path "-" reads standard input.
  static Result<Reader> open(const std::string& path, Options options = {});
  // Copies the bytes (for tests and fuzzing).
  static Result<Reader> from_memory(ByteView capture, Options options = {});
  // Streams from f, which the Reader then owns and closes (standard input, after its first bytes
  // were read to tell a capture from text); name is for error messages.
  static Result<Reader> from_stream(std::FILE* f, const std::string& name, Options options = {});

  Reader(Reader&&) noexcept;
  Reader& operator=(Reader&&) noexcept;
  ~Reader();

  // The next Packet; false at the end of the capture or at an error (then error() says which).
  bool next(Packet& out);
  const Stats& stats() const;
  // Set when reading stopped before the end: a truncated or corrupt file (Code::malformed).
  std::optional<Error> error() const;
  // The capture's link type (LINKTYPE_/DLT_ value as libpcap reports it).
  int link_type() const;

  struct Impl;

private:
  explicit Reader(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

enum class Resolution { micro, nano };

// The largest UDP payload one IPv4 datagram holds; bigger payloads are refused.
inline constexpr std::size_t kMaxUdpPayload = 65507;

// The Ethernet frame carrying p.payload as one UDP datagram from p.src_ip:p.src_port to
// p.dst_ip:p.dst_port (both IPv4 or both IPv6): DF, TTL/hop limit 64, IPv4 header checksum and UDP
// checksum set, MACs 02:00:<IPv4> or 02:<last 5 bytes of the IPv6 address>. p.transport is ignored.
Result<Bytes> build_frame(const Packet& p);

// Appends records to a classic pcap file (LINKTYPE_ETHERNET). An existing non-empty file must be
// classic pcap with link type Ethernet; records then follow its byte order and resolution. A new
// or empty file gets a header in host byte order with the requested resolution.
class Writer {
public:
  static Result<Writer> open(const std::string& path, Resolution resolution = Resolution::micro);

  Writer(Writer&&) noexcept;
  Writer& operator=(Writer&&) noexcept;
  ~Writer();

  // One record, written with a single write() to a file opened with O_APPEND, so a crash never
  // leaves half a record that parses as a record. Uses p.frame for nothing, p.ts_* as the timestamp.
  Status write(const Packet& p);
  // Whether write(p) would take p (its timestamp, its frame within the file's snapshot length),
  // writing nothing: a caller checks a record before the state it depends on is saved.
  Status check(const Packet& p) const;
  Resolution resolution() const { return resolution_; }
  // The latest timestamp of the records in the file (those it held when opened and those written
  // since), in nanoseconds; nullopt while there is none. Lets a caller keep appended frames in order.
  std::optional<std::pair<std::int64_t, std::uint32_t>> latest() const { return latest_; }

private:
  Writer(int fd, bool swapped, Resolution resolution) : fd_(fd), swapped_(swapped), resolution_(resolution) {}
  void close() noexcept;
  Result<Bytes> frame(const Packet& p) const;  // p's frame, when write() takes it
  int fd_ = -1;
  bool swapped_ = false;  // the file's byte order is not the host's
  Resolution resolution_ = Resolution::micro;
  std::uint32_t snaplen_ = 262144;  // the file's snapshot length as readers take it
  std::optional<std::pair<std::int64_t, std::uint32_t>> latest_;
  bool header_pending_ = false;  // an empty file: the first record brings the file header
  std::string created_;          // the path, when open() created the file (removed if left empty)
};

}  // namespace kd::capture
