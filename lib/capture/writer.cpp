// Classic pcap out: Ethernet/IPv4|IPv6/UDP frames, one write() per record.
#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "capture/capture.hpp"
#include "files/files.hpp"

namespace kd::capture {

namespace {

constexpr std::uint32_t kMagicMicro = 0xa1b2c3d4;
constexpr std::uint32_t kMagicNano = 0xa1b23c4d;
constexpr std::uint32_t kSnaplen = 262144;
constexpr std::uint32_t kWriteLinkEthernet = 1;
constexpr std::size_t kMaxUdp6Payload = 65535 - 8;  // the IPv6 payload length field bounds it

std::uint32_t bswap32(std::uint32_t v) {
  return (v >> 24) | ((v >> 8) & 0xff00) | ((v << 8) & 0xff0000) | (v << 24);
}

// Appends a 32-bit value in host order, or swapped when the file's order is the other one.
void put32(Bytes& b, std::uint32_t v, bool swapped) {
  if (swapped) v = bswap32(v);
  std::uint8_t raw[4];
  std::memcpy(raw, &v, 4);
  for (std::uint8_t x : raw) b.push_back(x);  // push_back: GCC 12 -O3 misreads insert() here
}
void put16h(Bytes& b, std::uint16_t v) {
  std::uint8_t raw[2];
  std::memcpy(raw, &v, 2);
  for (std::uint8_t x : raw) b.push_back(x);
}

// RFC 1071 sum of 16-bit big-endian words, not yet folded or complemented.
std::uint32_t sum16(ByteView v, std::uint32_t sum = 0) {
  std::size_t i = 0;
  for (; i + 1 < v.size(); i += 2) sum += static_cast<std::uint32_t>(v[i] << 8 | v[i + 1]);
  if (i < v.size()) sum += static_cast<std::uint32_t>(v[i] << 8);
  return sum;
}
std::uint16_t fold(std::uint32_t sum) {
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<std::uint16_t>(~sum);
}
void set16(Bytes& b, std::size_t at, std::uint16_t v) {
  b[at] = static_cast<std::uint8_t>(v >> 8);
  b[at + 1] = static_cast<std::uint8_t>(v);
}

Status write_all_once(int fd, const Bytes& b, const std::string& what) {
  ssize_t n;
  do n = ::write(fd, b.data(), b.size());
  while (n < 0 && errno == EINTR);
  if (n < 0) return err(Code::malformed, what + ": " + std::strerror(errno));
  if (static_cast<std::size_t>(n) != b.size())
    return err(Code::malformed, what + ": short write (" + std::to_string(n) + " of " + std::to_string(b.size()) + " bytes)");
  return Ok{};
}

Bytes file_header(Resolution r) {
  Bytes h;
  put32(h, r == Resolution::nano ? kMagicNano : kMagicMicro, false);
  put16h(h, 2);
  put16h(h, 4);
  put32(h, 0, false);  // thiszone
  put32(h, 0, false);  // sigfigs
  put32(h, kSnaplen, false);
  put32(h, kWriteLinkEthernet, false);
  return h;
}

}  // namespace

Result<Bytes> build_frame(const Packet& p) {
  std::uint8_t src[16], dst[16];
  const bool v4 = inet_pton(AF_INET, p.src_ip.c_str(), src) == 1;
  const bool v6 = !v4 && inet_pton(AF_INET6, p.src_ip.c_str(), src) == 1;
  if (!v4 && !v6) return err(Code::malformed, std::string("not an IPv4 or IPv6 address: ") + p.src_ip);
  if (inet_pton(v4 ? AF_INET : AF_INET6, p.dst_ip.c_str(), dst) != 1)
    return err(Code::malformed, std::string("destination is not an ") + (v4 ? "IPv4" : "IPv6") + " address like the source: " + p.dst_ip);
  const std::size_t max = v4 ? kMaxUdpPayload : kMaxUdp6Payload;
  if (p.payload.size() > max)
    return err(Code::oversized, "UDP payload of " + std::to_string(p.payload.size()) + " bytes exceeds " + std::to_string(max));
  const std::size_t alen = v4 ? 4 : 16;
  const auto udp_len = static_cast<std::uint16_t>(8 + p.payload.size());

  Bytes f;
  f.reserve(14 + 40 + udp_len);
  // Locally administered unicast MACs derived from the addresses, so each host keeps one MAC.
  auto mac = [&](const std::uint8_t* a) {
    put_u8(f, 0x02);
    if (v4) {
      put_u8(f, 0);
      f.insert(f.end(), a, a + 4);
    } else {
      f.insert(f.end(), a + 11, a + 16);
    }
  };
  mac(dst);
  mac(src);
  put_u16(f, v4 ? 0x0800 : 0x86dd);
  const std::size_t ip_at = f.size();
  if (v4) {
    put_u8(f, 0x45);
    put_u8(f, 0);
    put_u16(f, static_cast<std::uint16_t>(20 + udp_len));
    put_u16(f, 0);       // identification: any value is fine for an atomic (DF) datagram, RFC 6864
    put_u16(f, 0x4000);  // DF
    put_u8(f, 64);
    put_u8(f, 17);
    put_u16(f, 0);
  } else {
    put_u8(f, 0x60);
    put_u8(f, 0);
    put_u16(f, 0);
    put_u16(f, udp_len);
    put_u8(f, 17);
    put_u8(f, 64);
  }
  const std::size_t src_at = f.size();
  f.insert(f.end(), src, src + alen);
  f.insert(f.end(), dst, dst + alen);
  if (v4) set16(f, ip_at + 10, fold(sum16(ByteView(f).subspan(ip_at, 20))));
  const std::size_t udp_at = f.size();
  put_u16(f, p.src_port);
  put_u16(f, p.dst_port);
  put_u16(f, udp_len);
  put_u16(f, 0);
  put_bytes(f, p.payload);
  // Pseudo-header: addresses, protocol, UDP length (the same sum for v4 and v6 layouts).
  std::uint32_t s = sum16(ByteView(f).subspan(src_at, 2 * alen));
  s += 17 + udp_len;
  std::uint16_t ck = fold(sum16(ByteView(f).subspan(udp_at), s));
  if (ck == 0) ck = 0xffff;  // 0 means "no checksum" (forbidden over IPv6)
  set16(f, udp_at + 6, ck);
  return f;
}

Result<Writer> Writer::open(const std::string& path, Resolution resolution) {
  if (path == "-") {
    const int fd = ::dup(STDOUT_FILENO);
    if (fd < 0) return err(Code::malformed, std::string("standard output: ") + std::strerror(errno));
    Writer w(fd, false, resolution);
    if (auto st = write_all_once(fd, file_header(resolution), "standard output"); !st) return st.error();
    return w;
  }
  struct stat st {};
  const bool existed = ::stat(path.c_str(), &st) == 0;
  if (existed && S_ISFIFO(st.st_mode) && ::lstat(path.c_str(), &st) == 0 && S_ISFIFO(st.st_mode)) {
    // Opened for reading too (O_RDWR, below), a FIFO would take the frames into its buffer and lose
    // them with it when nothing else reads it: opened as a writer only, and refused when no reader
    // is there (open's ENXIO) rather than waited for.
    const int fd = files::open_not_waiting(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0 && errno == ENXIO)
      return err(Code::malformed, path + ": a FIFO that nothing reads: its frames would be lost (start its reader first)");
    if (fd < 0) return err(Code::malformed, path + ": " + std::strerror(errno));
    Writer w(fd, false, resolution);
    w.header_pending_ = true;  // a new capture for its reader
    return w;
  }
  // Not through a symbolic link: its target could be any file the user may write.
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd < 0 && errno == ELOOP) return err(Code::malformed, path + ": a symbolic link: name the file itself");
  if (fd < 0) return err(Code::malformed, path + ": " + std::strerror(errno));
  Writer w(fd, false, resolution);  // closes fd on every error path below
  if (::fstat(fd, &st) != 0) return err(Code::malformed, path + ": " + std::strerror(errno));
  if (st.st_size == 0) {
    // The header goes out with the first record, in its write(); a file this writer created and
    // never wrote to is removed again, so a run that records nothing leaves the capture as it was.
    w.header_pending_ = true;
    if (!existed) w.created_ = path;
    return w;
  }
  std::uint8_t h[24];
  if (st.st_size < 24 || ::pread(fd, h, 24, 0) != 24)
    return err(Code::malformed, path + ": too short for a pcap file header, not appending");
  std::uint32_t magic, link;
  std::memcpy(&magic, h, 4);
  std::memcpy(&link, h + 20, 4);
  bool swapped = false;
  if (magic == bswap32(kMagicMicro) || magic == bswap32(kMagicNano)) {
    swapped = true;
    magic = bswap32(magic);
    link = bswap32(link);
  }
  if (magic != kMagicMicro && magic != kMagicNano) {
    if (magic == 0x0a0d0d0a) return err(Code::malformed, path + ": a pcapng file; kd appends only to classic pcap");
    return err(Code::malformed, path + ": not a pcap file (bad magic), not appending");
  }
  // The upper bits may carry FCS information; the link type is the low 16 bits.
  if ((link & 0xffff) != kWriteLinkEthernet)
    return err(Code::malformed, path + ": link type " + std::to_string(link & 0xffff) + ", not Ethernet (1); not appending");
  const auto get = [&](const std::uint8_t* b) {
    std::uint32_t v;
    std::memcpy(&v, b, 4);
    return swapped ? bswap32(v) : v;
  };
  const auto get16 = [&](const std::uint8_t* b) {
    return static_cast<unsigned>(swapped ? b[0] << 8 | b[1] : b[1] << 8 | b[0]);
  };
  // Other versions lay their records out otherwise (or readers refuse them).
  if (get16(h + 4) != 2 || get16(h + 6) != 4)
    return err(Code::malformed, path + ": pcap version " + std::to_string(get16(h + 4)) + "." +
                                    std::to_string(get16(h + 6)) + ", not 2.4; not appending");
  w.swapped_ = swapped;
  w.resolution_ = magic == kMagicNano ? Resolution::nano : Resolution::micro;
  // Readers cut a record to the file's snapshot length (0 or a larger one than theirs means theirs).
  const std::uint32_t snaplen = get(h + 16);
  w.snaplen_ = snaplen == 0 || snaplen > kSnaplen ? kSnaplen : snaplen;
  // The latest timestamp already in the file, record header by record header. A record appended
  // after a cut one would be read as its rest, and lost with every record after it: refused.
  std::uint8_t rh[16];
  off_t at = 24;
  for (; at + 16 <= st.st_size && ::pread(fd, rh, 16, at) == 16; at += 16 + static_cast<off_t>(get(rh + 8))) {
    if (at + 16 + static_cast<off_t>(get(rh + 8)) > st.st_size) break;
    const std::pair<std::int64_t, std::uint32_t> t{get(rh), w.resolution_ == Resolution::nano ? get(rh + 4) : get(rh + 4) * 1000u};
    if (!w.latest_ || t > *w.latest_) w.latest_ = t;
  }
  if (at != st.st_size)
    return err(Code::malformed, path + ": its last record is cut short at byte " + std::to_string(at) + " of " +
                                    std::to_string(st.st_size) + "; not appending");
  return w;
}

Writer::Writer(Writer&& o) noexcept
    : fd_(o.fd_), swapped_(o.swapped_), resolution_(o.resolution_), snaplen_(o.snaplen_), latest_(o.latest_),
      header_pending_(o.header_pending_), created_(std::move(o.created_)) {
  o.fd_ = -1;
  o.created_.clear();
}
Writer& Writer::operator=(Writer&& o) noexcept {
  if (this != &o) {
    close();
    fd_ = o.fd_;
    swapped_ = o.swapped_;
    resolution_ = o.resolution_;
    snaplen_ = o.snaplen_;
    latest_ = o.latest_;
    header_pending_ = o.header_pending_;
    created_ = std::move(o.created_);
    o.fd_ = -1;
    o.created_.clear();
  }
  return *this;
}
Writer::~Writer() { close(); }

void Writer::close() noexcept {
  if (fd_ < 0) return;
  struct stat st {};
  if (header_pending_ && !created_.empty() && ::fstat(fd_, &st) == 0 && st.st_size == 0) ::unlink(created_.c_str());
  ::close(fd_);
  fd_ = -1;
}

Result<Bytes> Writer::frame(const Packet& p) const {
  if (p.ts_sec < 0 || p.ts_sec > 0xffffffffLL)
    return err(Code::bad_length, "timestamp " + std::to_string(p.ts_sec) + " does not fit a pcap record");
  if (p.ts_nsec >= 1000000000u) return err(Code::bad_length, "nanoseconds " + std::to_string(p.ts_nsec) + " out of range");
  auto f = build_frame(p);
  if (f && f->size() > snaplen_)
    return err(Code::oversized, "a frame of " + std::to_string(f->size()) + " bytes exceeds the capture's snapshot length (" +
                                    std::to_string(snaplen_) + "); not appending");
  return f;
}

Status Writer::check(const Packet& p) const {
  if (auto f = frame(p); !f) return f.error();
  return Ok{};
}

Status Writer::write(const Packet& p) {
  if (fd_ < 0) return err(Code::malformed, "pcap writer is closed");
  auto frame = this->frame(p);
  if (!frame) return frame.error();
  const auto len = static_cast<std::uint32_t>(frame->size());
  Bytes rec;
  struct stat st {};
  if (header_pending_ && ::fstat(fd_, &st) == 0 && st.st_size == 0) rec = file_header(resolution_);
  rec.reserve(rec.size() + 16 + len);
  put32(rec, static_cast<std::uint32_t>(p.ts_sec), swapped_);
  put32(rec, resolution_ == Resolution::nano ? p.ts_nsec : p.ts_nsec / 1000, swapped_);
  put32(rec, len, swapped_);
  put32(rec, len, swapped_);
  rec.insert(rec.end(), frame->begin(), frame->end());
  if (auto w = write_all_once(fd_, rec, "pcap record"); !w) return w;
  header_pending_ = false;
  // As the file holds it (microseconds lose the rest).
  const std::pair<std::int64_t, std::uint32_t> t{p.ts_sec, resolution_ == Resolution::nano ? p.ts_nsec : p.ts_nsec / 1000 * 1000};
  if (!latest_ || t > *latest_) latest_ = t;
  return Ok{};
}

}  // namespace kd::capture
