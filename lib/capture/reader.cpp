// Reading captures: libpcap for the file formats (classic pcap records are read here in the common
// case, see PcapRecords), then link layer, IPv4/IPv6 (with fragment reassembly), UDP and TCP, one
// frame at a time so memory stays flat.
#include <arpa/inet.h>
#include <pcap/pcap.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "capture/internal.hpp"

namespace kd::capture {

using detail::be16;
using detail::be32;
using detail::FrameInfo;

namespace {

constexpr int kLinkNull = 0, kLinkEthernet = 1, kLinkRaw12 = 12, kLinkRaw14 = 14, kLinkRaw101 = 101,
              kLinkLoop = 108, kLinkSll = 113, kLinkIpv4 = 228, kLinkIpv6 = 229, kLinkSll2 = 276;
constexpr std::size_t kMaxDatagram = 65535;
constexpr int kMaxVlanTags = 4;
constexpr int kMaxIpv6Headers = 16;
// Distinct pieces one datagram may be in at once; real senders use a few dozen, and the bound keeps
// the per-fragment work small for a hostile capture.
constexpr std::size_t kMaxPieces = 512;

// Dotted decimal, as inet_ntop writes it, into out's own storage (15 characters at most: no
// allocation). inet_ntop goes through sprintf and was the reader's largest cost.
void ipv4_text(const std::uint8_t* a, std::string& out) {
  char buf[16];
  char* w = buf;
  for (int i = 0; i < 4; ++i) {
    const unsigned v = a[i];
    if (v >= 100) *w++ = static_cast<char>('0' + v / 100);
    if (v >= 10) *w++ = static_cast<char>('0' + v / 10 % 10);
    *w++ = static_cast<char>('0' + v % 10);
    if (i < 3) *w++ = '.';
  }
  out.assign(buf, static_cast<std::size_t>(w - buf));
}

// IPv6 text stays inet_ntop's (RFC 5952 form); the last few addresses are remembered because a
// capture repeats a handful of hosts.
class Ipv6Texts {
public:
  void text(const std::uint8_t* a, std::string& out) {
    for (std::size_t i = 0; i < used_; ++i)
      if (std::memcmp(slots_[i].addr, a, 16) == 0) return void(out.assign(slots_[i].text));
    char buf[INET6_ADDRSTRLEN];
    if (!inet_ntop(AF_INET6, a, buf, sizeof buf)) buf[0] = '\0';
    Slot& s = slots_[next_];
    next_ = (next_ + 1) % kSlots;
    if (used_ < kSlots) ++used_;
    std::memcpy(s.addr, a, 16);
    s.text.assign(buf);
    out.assign(s.text);
  }

private:
  static constexpr std::size_t kSlots = 4;
  struct Slot {
    std::uint8_t addr[16];
    std::string text;
  };
  Slot slots_[kSlots] = {};
  std::size_t used_ = 0, next_ = 0;
};

// One IP datagram being rebuilt from its fragments.
struct Reassembly {
  std::uint64_t first_frame = 0;
  Bytes data;
  std::vector<std::pair<std::size_t, std::size_t>> have;  // [begin, end) ranges received
  std::size_t total = 0;                                  // known once the last fragment is in
  bool have_last = false;
  int proto = -1;  // IPv6: the next header after the fragment header of the first fragment

  // Merges the ranges (so in-order fragments keep one range) and says whether [0, total) is covered.
  bool complete() {
    std::sort(have.begin(), have.end());
    std::size_t w = 0;
    for (std::size_t i = 1; i < have.size(); ++i) {
      if (have[i].first <= have[w].second) have[w].second = std::max(have[w].second, have[i].second);
      else have[++w] = have[i];
    }
    have.resize(w + 1);
    return have_last && have.size() == 1 && have[0].first == 0 && have[0].second >= total;
  }
};

// The records of a classic pcap file, read without libpcap. pcap_next_ex copies each record twice
// before we see it (the kernel into stdio's buffer, stdio into libpcap's) and costs a chain of
// calls per record; here the kernel copies into one large buffer (or the capture is already in
// memory) and records are parsed where they lie. Only what libpcap reads plainly is taken: a
// version 2.4 file with the standard or nanosecond magic, each record whole and within the
// snapshot length. Anything else (the end of the file, a cut record, a capture length libpcap
// would cut or refuse, a read error) stops next() at that record's offset, and libpcap reads on
// from there, so it reports the end or the damage in its own words, exactly as before.
class PcapRecords {
public:
  // Reads with pread() from fd (the file libpcap has open; its own position is left alone).
  PcapRecords(int fd, pcap_t* pc) : fd_(fd), buf_(std::make_unique_for_overwrite<std::uint8_t[]>(kBuffer)) {
    setup(pc);
  }
  // Reads from a capture in memory, which must outlive this.
  PcapRecords(ByteView mem, pcap_t* pc) : data_(mem.data()), end_(mem.size()), at_(mem.size()) { setup(pc); }

  // Whether the capture is one this class reads (decided once, from libpcap's view of its header).
  bool usable() const { return usable_; }
  // The file offset of the next record: where libpcap takes over once next() has said no.
  std::uint64_t offset() const { return at_ - (end_ - pos_); }

  // The next record, as pcap_next_ex would return it; false for a record left to libpcap.
  bool next(pcap_pkthdr& h, const std::uint8_t*& bytes) {
    if (!have(16)) return false;
    std::uint32_t w[4];  // seconds, micro- or nanoseconds, captured length, original length
    std::memcpy(w, data_ + pos_, sizeof w);
    if (swapped_)
      for (auto& v : w) v = __builtin_bswap32(v);
    if (w[2] > max_caplen_ || !have(16 + std::size_t{w[2]})) return false;
    // The same conversions as libpcap's: 32-bit signed fields, microseconds scaled to nanoseconds.
    h.ts.tv_sec = static_cast<std::int32_t>(w[0]);
    h.ts.tv_usec = static_cast<std::int32_t>(w[1]);
    if (!nano_) h.ts.tv_usec *= 1000;
    h.caplen = w[2];
    h.len = w[3];
    bytes = data_ + pos_ + 16;
    pos_ += 16 + std::size_t{w[2]};
    return true;
  }

private:
  // 1 MiB reads: fewer system calls than smaller ones, and every record (at most 256 KiB and its
  // header) fits.
  static constexpr std::size_t kBuffer = 1 << 20;
  static constexpr std::uint32_t kMaxSnaplen = 262144;  // libpcap's largest for the usual link types
  static constexpr std::size_t kFileHeader = 24;

  void setup(pcap_t* pc) {
    std::uint8_t magic[4];
    if (fd_ >= 0) {
      if (::pread(fd_, magic, sizeof magic, 0) != static_cast<ssize_t>(sizeof magic)) return;
      at_ = kFileHeader;
    } else {
      if (end_ < kFileHeader) return;
      std::memcpy(magic, data_, sizeof magic);
      pos_ = kFileHeader;
    }
    std::uint32_t m;
    std::memcpy(&m, magic, sizeof m);
    if (pcap_is_swapped(pc)) m = __builtin_bswap32(m);
    // Not the patched (Kuznetzov) magic, whose records are longer; not the older versions, whose
    // length fields may be swapped.
    if (m != 0xa1b2c3d4 && m != 0xa1b23c4d) return;
    if (pcap_major_version(pc) != 2 || pcap_minor_version(pc) != 4 || pcap_snapshot(pc) <= 0) return;
    swapped_ = pcap_is_swapped(pc);
    nano_ = m == 0xa1b23c4d;
    max_caplen_ = std::min(static_cast<std::uint32_t>(pcap_snapshot(pc)), kMaxSnaplen);
    usable_ = true;
  }

  // Whether n bytes from pos_ are available, reading more of the file as needed.
  bool have(std::size_t n) {
    if (end_ - pos_ >= n) return true;
    if (fd_ < 0) return false;  // the whole capture is in memory
    std::uint8_t* buf = buf_.get();
    std::memmove(buf, buf + pos_, end_ - pos_);  // the start of a record cut by the last read
    end_ -= pos_;
    pos_ = 0;
    data_ = buf;
    while (end_ - pos_ < n) {
      const ssize_t k = ::pread(fd_, buf + end_, kBuffer - end_, static_cast<off_t>(at_));
      if (k < 0 && errno == EINTR) continue;
      if (k <= 0) return false;  // the end of the file, or an error libpcap will meet and report
      end_ += static_cast<std::size_t>(k);
      at_ += static_cast<std::uint64_t>(k);
    }
    return true;
  }

  int fd_ = -1;
  std::unique_ptr<std::uint8_t[]> buf_;
  const std::uint8_t* data_ = nullptr;  // the buffer, or the capture in memory
  std::size_t pos_ = 0, end_ = 0;        // the next record, the end of the bytes held, in data_
  std::uint64_t at_ = 0;                 // the file offset of data_[end_]
  bool usable_ = false, swapped_ = false, nano_ = false;
  std::uint32_t max_caplen_ = 0;
};

}  // namespace

struct Reader::Impl {
  pcap_t* pc = nullptr;
  Bytes mem;  // the capture for from_memory (fmemopen reads it in place)
  Options opt;
  Stats stats;
  std::optional<Error> error;
  int link = 0;
  bool nano = false;
  bool done = false;
  std::deque<Packet> ready;
  // While next() reads frames with nothing queued, a UDP datagram is written straight into the
  // caller's Packet, reusing its buffers (the caller's loop hands the same Packet back each time).
  Packet* direct = nullptr;
  bool filled = false;
  std::map<std::string, Reassembly> frags;
  detail::TcpStreams tcp{opt, stats};
  Ipv6Texts ipv6_texts;
  std::string tcp_src, tcp_dst;  // address texts handed to the TCP layer, kept to reuse their storage
  // For what libpcap reads (pcapng; classic pcap once PcapRecords has stopped): stdio's default
  // 4 KiB buffer costs a read() every few records; a file opened here gets this one, small enough
  // to stay in cache between the kernel's copy and libpcap's (64 KiB measured fastest: 4 KiB and
  // 1 MiB are both about 20% slower).
  static constexpr std::size_t kFileBuffer = 64 << 10;
  std::unique_ptr<char[]> file_buffer;
  // Classic pcap records read without libpcap until it has to take over (then reset).
  std::unique_ptr<PcapRecords> records;

  Impl(Options o) : opt(std::move(o)) {}
  ~Impl() {
    if (pc) pcap_close(pc);
  }

  bool read_one();
  // PcapRecords hands over timestamps in nanoseconds, as libpcap does when asked for them.
  void use_records(std::unique_ptr<PcapRecords> r) {
    if (nano && r->usable()) records = std::move(r);
  }
  void frame(const pcap_pkthdr& h, const std::uint8_t* bytes);
  void ipv4(ByteView d, bool cut, const FrameInfo& fi);
  void ipv6(ByteView d, bool cut, const FrameInfo& fi);
  void transport(int proto, int family, const std::uint8_t* src, const std::uint8_t* dst, ByteView seg,
                 const FrameInfo& fi);
  std::optional<Bytes> reassemble(const std::string& key, std::size_t off, ByteView part, bool more, int proto,
                                  const FrameInfo& fi, int* proto_out);
  void ip_text(int family, const std::uint8_t* a, std::string& out) {
    if (family == AF_INET) ipv4_text(a, out);
    else ipv6_texts.text(a, out);
  }
  // A header runs past the captured bytes: the snapshot length cut it, or it lies.
  void short_header(bool cut) { ++(cut ? stats.truncated : stats.bad_headers); }
  void finish() {
    stats.reassembly_dropped += frags.size();
    frags.clear();
    tcp.finish();
  }
};

void Reader::Impl::frame(const pcap_pkthdr& h, const std::uint8_t* bytes) {
  FrameInfo fi;
  fi.frame = stats.frames;
  // A record's sub-second field may hold a second or more (or, read as libpcap reads it, be
  // negative): carried into the seconds in 64 bits, so the time never wraps.
  constexpr std::int64_t kNs = 1000000000;
  const std::int64_t sub = static_cast<std::int64_t>(h.ts.tv_usec) * (nano ? 1 : 1000);
  const std::int64_t carry = sub >= 0 ? sub / kNs : -((-sub + kNs - 1) / kNs);
  fi.ts_sec = static_cast<std::int64_t>(h.ts.tv_sec) + carry;
  fi.ts_nsec = static_cast<std::uint32_t>(sub - carry * kNs);
  const bool cut = h.caplen < h.len;
  ByteView d(bytes, h.caplen);

  std::uint16_t type = 0;  // an ethertype, or 0 for "IP, look at the version nibble"
  switch (link) {
    case kLinkEthernet: {
      if (d.size() < 14) return short_header(cut);
      type = be16(&d[12]);
      d = d.subspan(14);
      for (int tags = 0; type == 0x8100 || type == 0x88a8 || type == 0x9100; ++tags) {
        if (tags == kMaxVlanTags) return void(++stats.bad_headers);
        if (d.size() < 4) return short_header(cut);
        type = be16(&d[2]);
        d = d.subspan(4);
      }
      break;
    }
    case kLinkSll:
      if (d.size() < 16) return short_header(cut);
      type = be16(&d[14]);
      d = d.subspan(16);
      break;
    case kLinkSll2:
      if (d.size() < 20) return short_header(cut);
      type = be16(&d[0]);
      d = d.subspan(20);
      break;
    case kLinkRaw12:
    case kLinkRaw14:
    case kLinkRaw101:
    case kLinkIpv4:
    case kLinkIpv6:
      break;
    case kLinkNull:
    case kLinkLoop: {
      if (d.size() < 4) return short_header(cut);
      // DLT_NULL holds the capturing host's AF_ value in its own byte order; DLT_LOOP in network order.
      std::uint32_t af = be32(&d[0]);
      if (link == kLinkNull && af > 0xffff) af = static_cast<std::uint32_t>(d[0] | d[1] << 8 | d[2] << 16 | d[3] << 24);
      d = d.subspan(4);
      if (af == 2) type = 0x0800;
      else if (af == 10 || af == 24 || af == 28 || af == 30) type = 0x86dd;  // Linux, BSDs, macOS
      else return void(++stats.skipped_non_ip);
      break;
    }
    default:
      ++stats.skipped_other;
      return;
  }
  if (type != 0 && type != 0x0800 && type != 0x86dd) return void(++stats.skipped_non_ip);
  if (d.empty()) return short_header(cut);
  const int version = d[0] >> 4;
  if ((type == 0x0800 && version != 4) || (type == 0x86dd && version != 6)) return void(++stats.bad_headers);
  if (version == 4) ipv4(d, cut, fi);
  else if (version == 6) ipv6(d, cut, fi);
  else ++stats.bad_headers;
}

void Reader::Impl::ipv4(ByteView d, bool cut, const FrameInfo& fi) {
  if (d.size() < 20) return short_header(cut);
  const std::size_t ihl = (d[0] & 0x0fu) * 4;
  const std::size_t total = be16(&d[2]);
  if (ihl < 20 || total < ihl) return void(++stats.bad_headers);
  if (total > d.size()) return short_header(cut);
  d = d.first(total);  // drops link-layer padding
  const int proto = d[9];
  const std::uint16_t frag = be16(&d[6]);
  ByteView payload = d.subspan(ihl);
  Bytes whole;
  if (frag & 0x3fff) {  // MF set or a non-zero offset
    std::string key(reinterpret_cast<const char*>(&d[4]), 2);  // identification
    key.append(reinterpret_cast<const char*>(&d[12]), 8);     // source, destination
    key.push_back(static_cast<char>(proto));
    key.push_back('4');
    auto r = reassemble(key, static_cast<std::size_t>(frag & 0x1fff) * 8, payload, frag & 0x2000, proto, fi, nullptr);
    if (!r) return;
    whole = std::move(*r);
    payload = whole;
  }
  transport(proto, AF_INET, &d[12], &d[16], payload, fi);
}

void Reader::Impl::ipv6(ByteView d, bool cut, const FrameInfo& fi) {
  if (d.size() < 40) return short_header(cut);
  const std::size_t plen = be16(&d[4]);
  if (plen == 0) return void(++stats.skipped_other);  // a jumbogram (or nothing at all)
  if (40 + plen > d.size()) return short_header(cut);
  d = d.first(40 + plen);
  const std::uint8_t* src = &d[8];
  const std::uint8_t* dst = &d[24];
  int nh = d[6];
  ByteView rest = d.subspan(40);
  Bytes whole;
  for (int n = 0; n < kMaxIpv6Headers; ++n) {
    switch (nh) {
      case 0:    // hop-by-hop options
      case 43:   // routing
      case 60: { // destination options
        if (rest.size() < 2 || rest.size() < (rest[1] + 1u) * 8) return void(++stats.bad_headers);
        nh = rest[0];
        rest = rest.subspan((rest[1] + 1u) * 8);
        continue;
      }
      case 51: {  // authentication header: its length counts 4-byte units, minus 2
        if (rest.size() < 2 || rest.size() < (rest[1] + 2u) * 4) return void(++stats.bad_headers);
        nh = rest[0];
        rest = rest.subspan((rest[1] + 2u) * 4);
        continue;
      }
      case 44: {
        if (rest.size() < 8 || !whole.empty()) return void(++stats.bad_headers);
        const std::uint16_t om = be16(&rest[2]);
        const std::size_t off = om & 0xfff8u;
        const bool more = om & 1;
        const int next = rest[0];
        ByteView part = rest.subspan(8);
        if (off == 0 && !more) {  // an atomic fragment (RFC 6946): nothing to reassemble
          nh = next;
          rest = part;
          continue;
        }
        std::string key(reinterpret_cast<const char*>(&rest[4]), 4);  // identification
        key.append(reinterpret_cast<const char*>(src), 32);
        key.push_back('6');
        int proto = -1;
        auto r = reassemble(key, off, part, more, off == 0 ? next : -1, fi, &proto);
        if (!r) return;
        whole = std::move(*r);
        rest = whole;
        nh = proto;
        continue;
      }
      default:
        return transport(nh, AF_INET6, src, dst, rest, fi);
    }
  }
  ++stats.bad_headers;  // an absurd chain of extension headers
}

std::optional<Bytes> Reader::Impl::reassemble(const std::string& key, std::size_t off, ByteView part, bool more,
                                              int proto, const FrameInfo& fi, int* proto_out) {
  ++stats.fragments;
  // Give up datagrams whose fragments stopped coming.
  for (auto it = frags.begin(); it != frags.end();) {
    if (fi.frame - it->second.first_frame > opt.limits.reassembly_frames) {
      ++stats.reassembly_dropped;
      it = frags.erase(it);
    } else {
      ++it;
    }
  }
  auto it = frags.find(key);
  if (it == frags.end()) {
    if (frags.size() >= opt.limits.max_reassemblies) {
      auto oldest = std::min_element(frags.begin(), frags.end(), [](const auto& a, const auto& b) {
        return a.second.first_frame < b.second.first_frame;
      });
      if (oldest == frags.end()) return std::nullopt;  // max_reassemblies == 0: no reassembly at all
      ++stats.reassembly_dropped;
      frags.erase(oldest);
    }
    it = frags.emplace(key, Reassembly{}).first;
    it->second.first_frame = fi.frame;
  }
  Reassembly& r = it->second;
  const std::size_t end = off + part.size();
  // Too big for any datagram, or a second "last" fragment that disagrees: the datagram is lost.
  if (end > kMaxDatagram || (!more && r.have_last && end != r.total) || (r.have_last && end > r.total)) {
    ++stats.reassembly_dropped;
    frags.erase(it);
    return std::nullopt;
  }
  if (!more) {
    r.have_last = true;
    r.total = end;
  }
  if (proto >= 0) r.proto = proto;
  if (r.data.size() < end) r.data.resize(end);
  std::copy(part.begin(), part.end(), r.data.begin() + static_cast<std::ptrdiff_t>(off));
  r.have.emplace_back(off, end);
  if (!r.complete()) {
    if (r.have.size() > kMaxPieces) {
      ++stats.reassembly_dropped;
      frags.erase(it);
    }
    return std::nullopt;
  }
  if (proto_out) {
    if (r.proto < 0) {  // can not happen with a first fragment present; kept for safety
      ++stats.reassembly_dropped;
      frags.erase(it);
      return std::nullopt;
    }
    *proto_out = r.proto;
  }
  Bytes whole = std::move(r.data);
  whole.resize(r.total);
  frags.erase(it);
  ++stats.reassembled;
  return whole;
}

void Reader::Impl::transport(int proto, int family, const std::uint8_t* src, const std::uint8_t* dst, ByteView seg,
                             const FrameInfo& fi) {
  if (proto == 17) {
    if (seg.size() < 8) return void(++stats.bad_headers);
    const std::size_t ulen = be16(&seg[4]);
    if (ulen < 8 || ulen > seg.size()) return void(++stats.bad_headers);
    const bool straight = direct && !filled && ready.empty();
    Packet& p = straight ? *direct : ready.emplace_back();
    p.frame = fi.frame;
    p.ts_sec = fi.ts_sec;
    p.ts_nsec = fi.ts_nsec;
    ip_text(family, src, p.src_ip);
    ip_text(family, dst, p.dst_ip);
    p.src_port = be16(&seg[0]);
    p.dst_port = be16(&seg[2]);
    p.transport = Transport::udp;
    p.payload.assign(seg.begin() + 8, seg.begin() + static_cast<std::ptrdiff_t>(ulen));
    filled = filled || straight;
  } else if (proto == 6) {
    ip_text(family, src, tcp_src);
    ip_text(family, dst, tcp_dst);
    tcp.segment(tcp_src, tcp_dst, seg, fi, ready);
  } else {
    ++stats.skipped_transport;
  }
}

// Reads one record; false at the end or at an error.
bool Reader::Impl::read_one() {
  if (records) {
    pcap_pkthdr rh;
    const std::uint8_t* rb = nullptr;
    if (records->next(rh, rb)) {
      ++stats.frames;
      frame(rh, rb);
      return true;
    }
    // libpcap reads on from the record PcapRecords left (it has read nothing past the header).
    const std::uint64_t at = records->offset();
    records.reset();
    if (fseeko(pcap_file(pc), static_cast<off_t>(at), SEEK_SET) != 0) {
      error = err(Code::malformed, std::string("corrupt capture at frame ")
                                       .append(std::to_string(stats.frames + 1))
                                       .append(" (cannot seek: ")
                                       .append(std::strerror(errno))
                                       .append(")"));
      done = true;
      finish();
      return false;
    }
  }
  pcap_pkthdr* h = nullptr;
  const u_char* bytes = nullptr;
  const int rc = pcap_next_ex(pc, &h, &bytes);
  if (rc == 1) {
    ++stats.frames;
    frame(*h, bytes);
    return true;
  }
  if (rc == 0) return true;  // live captures only
  if (rc != PCAP_ERROR_BREAK) {
    const std::string why = pcap_geterr(pc);
    const std::string frame_no = std::to_string(stats.frames + 1);
    error = why.find("truncated") != std::string::npos
                ? err(Code::malformed, "truncated capture record at frame " + frame_no + " (" + why + ")")
                : err(Code::malformed, "corrupt capture at frame " + frame_no + " (" + why + ")");
  }
  done = true;
  finish();
  return false;
}

Reader::Reader(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Reader::Reader(Reader&&) noexcept = default;
Reader& Reader::operator=(Reader&&) noexcept = default;
Reader::~Reader() = default;

namespace {

// Why libpcap would not open the capture called name, naming it once (libpcap names a file it could
// not open itself) and calling a cut file header what it is, as a cut record is called.
Error open_error(const std::string& name, std::string_view why) {
  if (why.size() > name.size() + 1 && why.substr(0, name.size()) == name && why.substr(name.size(), 2) == ": ")
    why.remove_prefix(name.size() + 2);
  if (why.find("truncated") != std::string_view::npos)
    return err(Code::malformed, name + ": truncated capture file header (" + std::string(why) + ")");
  return err(Code::malformed, name + ": " + std::string(why));
}

}  // namespace

Result<Reader> Reader::open(const std::string& path, Options options) {
  auto impl = std::make_unique<Impl>(std::move(options));
  char errbuf[PCAP_ERRBUF_SIZE] = {};
  pcap_t* pc = nullptr;
  // A file is opened here to give it a large stdio buffer, then handed to libpcap as
  // pcap_open_offline would. Standard input, or a file that will not open, goes through
  // pcap_open_offline itself, so every error reads as it always did.
  std::FILE* f = path == "-" ? nullptr : std::fopen(path.c_str(), "rb");
  if (f) {
    impl->file_buffer = std::make_unique<char[]>(Impl::kFileBuffer);
    std::setvbuf(f, impl->file_buffer.get(), _IOFBF, Impl::kFileBuffer);
    pc = pcap_fopen_offline_with_tstamp_precision(f, PCAP_TSTAMP_PRECISION_NANO, errbuf);
    if (!pc) std::fclose(f);  // libpcap leaves a stream it was handed to its caller on failure
  } else {
    pc = pcap_open_offline_with_tstamp_precision(path.c_str(), PCAP_TSTAMP_PRECISION_NANO, errbuf);
  }
  if (!pc) return open_error(path == "-" ? std::string("standard input") : path, errbuf);
  impl->pc = pc;
  impl->link = pcap_datalink(pc);
  impl->nano = pcap_get_tstamp_precision(pc) == PCAP_TSTAMP_PRECISION_NANO;
  // Records of a regular file are read at offsets (pread); a pipe or terminal stays with libpcap.
  struct stat st;
  if (f && ::fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode))
    impl->use_records(std::make_unique<PcapRecords>(fileno(f), pc));
  return Reader(std::move(impl));
}

Result<Reader> Reader::from_stream(std::FILE* f, const std::string& name, Options options) {
  auto impl = std::make_unique<Impl>(std::move(options));
  char errbuf[PCAP_ERRBUF_SIZE] = {};
  pcap_t* pc = pcap_fopen_offline_with_tstamp_precision(f, PCAP_TSTAMP_PRECISION_NANO, errbuf);
  if (!pc) {
    std::fclose(f);  // libpcap leaves a stream it was handed to its caller on failure
    return open_error(name, errbuf);
  }
  impl->pc = pc;  // libpcap reads the stream record by record (a pipe is never read whole)
  impl->link = pcap_datalink(pc);
  impl->nano = pcap_get_tstamp_precision(pc) == PCAP_TSTAMP_PRECISION_NANO;
  return Reader(std::move(impl));
}

Result<Reader> Reader::from_memory(ByteView capture, Options options) {
  if (capture.empty()) return err(Code::malformed, "empty capture");
  auto impl = std::make_unique<Impl>(std::move(options));
  impl->mem.assign(capture.begin(), capture.end());
  FILE* f = fmemopen(impl->mem.data(), impl->mem.size(), "rb");
  if (!f) return err(Code::malformed, std::string("fmemopen: ") + std::strerror(errno));
  char errbuf[PCAP_ERRBUF_SIZE] = {};
  pcap_t* pc = pcap_fopen_offline_with_tstamp_precision(f, PCAP_TSTAMP_PRECISION_NANO, errbuf);
  if (!pc) {
    std::fclose(f);  // libpcap leaves a stream it was handed to its caller on failure
    return open_error("capture in memory", errbuf);
  }
  impl->pc = pc;
  impl->link = pcap_datalink(pc);
  impl->nano = pcap_get_tstamp_precision(pc) == PCAP_TSTAMP_PRECISION_NANO;
  impl->use_records(std::make_unique<PcapRecords>(impl->mem, pc));
  return Reader(std::move(impl));
}

bool Reader::next(Packet& out) {
  if (!impl_) return false;
  Impl& im = *impl_;
  if (im.ready.empty()) {
    im.direct = &out;
    im.filled = false;
    while (!im.filled && im.ready.empty() && !im.done && im.read_one()) {
    }
    im.direct = nullptr;
    if (im.filled) {
      ++im.stats.packets;
      return true;
    }
    if (im.ready.empty()) return false;
  }
  out = std::move(im.ready.front());
  im.ready.pop_front();
  ++im.stats.packets;
  return true;
}

const Stats& Reader::stats() const {
  static const Stats none;
  return impl_ ? impl_->stats : none;
}
std::optional<Error> Reader::error() const { return impl_ ? impl_->error : std::nullopt; }
int Reader::link_type() const { return impl_ ? impl_->link : -1; }

std::string describe_losses(const Stats& s) {
  std::string out;
  auto add = [&](std::uint64_t n, const char* one, const char* many) {
    if (n == 0) return;
    if (!out.empty()) out += ", ";
    out += std::to_string(n);
    out += n == 1 ? one : many;
  };
  add(s.reassembly_dropped, " IP datagram never reassembled", " IP datagrams never reassembled");
  add(s.tcp_gaps, " TCP hole given up", " TCP holes given up");
  add(s.framing_errors, " TCP stream framing error (a SIP header block over 64 KiB, a bad Content-Length, a bad TPKT header)",
      " TCP stream framing errors (a SIP header block over 64 KiB, a bad Content-Length, a bad TPKT header)");
  add(s.tcp_streams_dropped, " TCP stream evicted (too many streams or bytes held)", " TCP streams evicted (too many streams or bytes held)");
  add(s.tcp_bytes_dropped, " TCP byte dropped", " TCP bytes dropped");
  return out;
}

}  // namespace kd::capture
