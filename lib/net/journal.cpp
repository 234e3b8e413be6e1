#include "net/journal.hpp"

#include <algorithm>
#include <array>
#include <map>
#include <optional>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace kd::net {

namespace {

// CRC-32 eight bytes at a time (slicing-by-8): table k gives the CRC of a byte followed by k zero
// bytes. The byte-at-a-time loop was the largest single cost of a service's commit.
constexpr std::array<std::array<std::uint32_t, 256>, 8> kCrcTables = [] {
  std::array<std::array<std::uint32_t, 256>, 8> t{};
  for (std::uint32_t i = 0; i < 256; ++i) {
    std::uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    t[0][i] = c;
  }
  for (std::size_t k = 1; k < 8; ++k)
    for (std::size_t i = 0; i < 256; ++i) t[k][i] = (t[k - 1][i] >> 8) ^ t[0][t[k - 1][i] & 0xff];
  return t;
}();

// A record no larger than this is believed; a larger length is damage (a UDP datagram is < 64 KiB).
constexpr std::uint32_t kMaxRecord = 1u << 20;
constexpr std::size_t kRecordHeader = 8;

void put(std::string& out, std::uint64_t v, int bytes) {
  char b[8];
  for (int i = 0; i < bytes; ++i) b[i] = static_cast<char>((v >> (8 * (bytes - 1 - i))) & 0xff);
  out.append(b, static_cast<std::size_t>(bytes));
}
void put_bytes(std::string& out, ByteView b) {
  put(out, b.size(), 4);
  out.append(reinterpret_cast<const char*>(b.data()), b.size());
}

// A record is written in place: its header first, filled in by end_record() once the payload
// follows it in out (a payload string per record, then its copy, cost a service as much as the
// CRC).
std::size_t begin_record(std::string& out, char kind) {
  const std::size_t at = out.size();
  out.append(kRecordHeader, '\0');
  out.push_back(kind);
  return at;
}
void end_record(std::string& out, std::size_t at) {
  const std::size_t n = out.size() - at - kRecordHeader;
  const std::uint32_t crc = crc32(ByteView(reinterpret_cast<const std::uint8_t*>(out.data() + at + kRecordHeader), n));
  for (int i = 0; i < 4; ++i) {
    out[at + static_cast<std::size_t>(i)] = static_cast<char>((n >> (8 * (3 - i))) & 0xff);
    out[at + 4 + static_cast<std::size_t>(i)] = static_cast<char>((crc >> (8 * (3 - i))) & 0xff);
  }
}

// Reads big-endian fields from a payload; any read past its end makes ok false.
struct Reader {
  std::string_view s;
  std::size_t pos = 0;
  bool ok = true;
  std::uint64_t num(int bytes) {
    if (!ok || s.size() - pos < static_cast<std::size_t>(bytes)) return ok = false, 0;
    std::uint64_t v = 0;
    for (int i = 0; i < bytes; ++i) v = (v << 8) | static_cast<std::uint8_t>(s[pos++]);
    return v;
  }
  Bytes bytes(std::size_t n) {
    if (!ok || s.size() - pos < n) return ok = false, Bytes{};
    Bytes b(s.begin() + static_cast<std::ptrdiff_t>(pos), s.begin() + static_cast<std::ptrdiff_t>(pos + n));
    pos += n;
    return b;
  }
  Bytes counted() { return bytes(num(4)); }
  std::string text(int len_bytes) {
    const Bytes b = bytes(num(len_bytes));
    return std::string(b.begin(), b.end());
  }
  Address address() {
    Address a;
    const auto family = num(1);
    const Bytes ip = bytes(16);
    a.port = static_cast<std::uint16_t>(num(2));
    if (family != 4 && family != 6) ok = false;
    if (!ok) return a;
    a.v6 = family == 6;
    std::copy(ip.begin(), ip.end(), a.ip.begin());
    return a;
  }
};

bool parse_pending(std::string_view payload, PendingRequest& r) {
  Reader in{payload, 1};
  r.name = in.text(2);
  r.expires_ms = in.num(8);
  r.socket = static_cast<SocketId>(in.num(4));
  r.from = in.address();
  r.request = in.counted();
  r.txn = in.text(1);
  return in.ok && in.pos == payload.size();
}
bool parse_sent(std::string_view payload, SentRequest& r) {
  Reader in{payload, 1};
  r.key = in.text(2);
  r.label = in.text(1);
  r.peer = in.text(1);
  r.request = in.counted();
  return in.ok && in.pos == payload.size();
}
bool parse_settled(std::string_view payload, Settled& x) {
  if (payload.size() < 2 || (payload[1] != 'P' && payload[1] != 'Q')) return false;
  x.kind = payload[1];
  Reader in{payload, 2};
  x.key = in.text(2);
  return in.ok && in.pos == payload.size();
}

void put_address(std::string& out, const Address& a) {
  put(out, a.v6 ? 6 : 4, 1);
  out.append(reinterpret_cast<const char*>(a.ip.data()), a.ip.size());
  put(out, a.port, 2);
}
// A short string after its length in len_bytes bytes (longer strings are cut: keys and labels are
// kd's own, well under the limit).
void put_text(std::string& out, std::string_view t, int len_bytes) {
  const std::size_t max = len_bytes == 1 ? 0xff : 0xffff;
  const std::size_t n = std::min(t.size(), max);
  put(out, n, len_bytes);
  out.append(t.substr(0, n));
}

bool parse_answer(std::string_view payload, Answered& a) {
  Reader r{payload, 1};
  a.expires_ms = r.num(8);
  a.socket = static_cast<SocketId>(r.num(4));
  a.from = r.address();
  a.request = r.counted();
  a.response = r.counted();
  return r.ok && r.pos == payload.size();
}

bool all_zero(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c == 0; });
}

// The payload of the record at the start of text when it is whole: a length kd writes (1 to
// kMaxRecord), all of it there, its checksum right.
std::optional<std::string_view> whole_record(std::string_view text) {
  if (text.size() < kRecordHeader) return std::nullopt;
  Reader h{text};
  const std::size_t len = h.num(4);
  const auto crc = static_cast<std::uint32_t>(h.num(4));
  if (len == 0 || len > kMaxRecord || text.size() - kRecordHeader < len) return std::nullopt;
  const std::string_view payload = text.substr(kRecordHeader, len);
  if (crc32(ByteView(reinterpret_cast<const std::uint8_t*>(payload.data()), payload.size())) != crc) return std::nullopt;
  return payload;
}

// Whether text, from a record that is not whole to the end, is what a crash can leave: a header cut
// short, zeros to the end, or a record of a length kd writes with nothing but zeros after that
// length (the journal is written in place over zeros it was extended by) or running past the end.
bool crash_tail(std::string_view text) {
  if (text.size() < kRecordHeader || all_zero(text)) return true;
  Reader h{text};
  const std::size_t len = h.num(4);
  return len != 0 && len <= kMaxRecord && all_zero(text.substr(std::min(text.size(), kRecordHeader + len)));
}

// Whether whole records, a commit record among them, run from some byte of text on to a tail a
// crash could leave (crash_tail). A record cut short is a torn write only if nothing was written
// after it; a length field damaged to run past the end, or into the zeros after the last record,
// looks the same, but the committed batches within it tell it apart.
bool committed_records_within(std::string_view text) {
  for (std::size_t q = 0; q + kRecordHeader < text.size(); ++q) {
    std::size_t p = q;
    bool commit = false;
    while (const auto payload = whole_record(text.substr(p))) {
      commit = commit || (payload->size() == 1 && (*payload)[0] == 'C');
      p += kRecordHeader + payload->size();
    }
    if (commit && crash_tail(text.substr(p))) return true;
  }
  return false;
}

}  // namespace

#if defined(__x86_64__)
namespace {

// CRC-32 by carry-less multiplication (Intel, "Fast CRC Computation for Generic Polynomials Using
// PCLMULQDQ", 2009; the bit-reflected constants of its appendix, as in zlib and Linux): 64 bytes
// folded at a time, then 16, then a Barrett reduction. n >= 64 and a multiple of 16; c is the
// running register (not inverted), and so is the result. Ten times the tables' speed, where the
// tables were still the largest user-space cost of a service's commit and journal rewrite.
__attribute__((target("pclmul,sse4.1"))) inline __m128i fold(__m128i x, __m128i k, __m128i next) {
  return _mm_xor_si128(_mm_xor_si128(_mm_clmulepi64_si128(x, k, 0x11), _mm_clmulepi64_si128(x, k, 0x00)), next);
}
inline __m128i load(const std::uint8_t* at) { return _mm_loadu_si128(reinterpret_cast<const __m128i*>(at)); }

__attribute__((target("pclmul,sse4.1"))) std::uint32_t crc32_clmul(std::uint32_t c, const std::uint8_t* p,
                                                                   std::size_t n) {
  const __m128i k1k2 = _mm_set_epi64x(0x01c6e41596, 0x0154442bd4);
  const __m128i k3k4 = _mm_set_epi64x(0x00ccaa009e, 0x01751997d0);
  const __m128i k5 = _mm_set_epi64x(0, 0x0163cd6124);
  const __m128i poly = _mm_set_epi64x(0x01f7011641, 0x01db710641);
  __m128i x1 = _mm_xor_si128(load(p), _mm_cvtsi32_si128(static_cast<int>(c)));
  __m128i x2 = load(p + 16), x3 = load(p + 32), x4 = load(p + 48);
  p += 64, n -= 64;
  for (; n >= 64; p += 64, n -= 64) {
    x1 = fold(x1, k1k2, load(p));
    x2 = fold(x2, k1k2, load(p + 16));
    x3 = fold(x3, k1k2, load(p + 32));
    x4 = fold(x4, k1k2, load(p + 48));
  }
  x1 = fold(fold(fold(x1, k3k4, x2), k3k4, x3), k3k4, x4);
  for (; n >= 16; p += 16, n -= 16) x1 = fold(x1, k3k4, load(p));
  // 128 bits to 64, then to 32 (Barrett).
  const __m128i low32 = _mm_setr_epi32(~0, 0, ~0, 0);
  x1 = _mm_xor_si128(_mm_srli_si128(x1, 8), _mm_clmulepi64_si128(x1, k3k4, 0x10));
  x1 = _mm_xor_si128(_mm_clmulepi64_si128(_mm_and_si128(x1, low32), k5, 0x00), _mm_srli_si128(x1, 4));
  __m128i x = _mm_clmulepi64_si128(_mm_and_si128(x1, low32), poly, 0x10);
  x = _mm_clmulepi64_si128(_mm_and_si128(x, low32), poly, 0x00);
  return static_cast<std::uint32_t>(_mm_extract_epi32(_mm_xor_si128(x1, x), 1));
}

const bool kHaveClmul = __builtin_cpu_supports("pclmul") && __builtin_cpu_supports("sse4.1");

}  // namespace
#endif

std::uint32_t crc32(ByteView data) {
  const auto& t = kCrcTables;
  std::uint32_t c = 0xFFFFFFFFu;
  const std::uint8_t* p = data.data();
  std::size_t n = data.size();
#if defined(__x86_64__)
  if (n >= 64 && kHaveClmul) {
    const std::size_t whole = n & ~std::size_t{15};
    c = crc32_clmul(c, p, whole);
    p += whole, n -= whole;
  }
#endif
  for (; n >= 8; p += 8, n -= 8) {
    const std::uint32_t lo = c ^ (std::uint32_t{p[0]} | std::uint32_t{p[1]} << 8 | std::uint32_t{p[2]} << 16 |
                                  std::uint32_t{p[3]} << 24);
    c = t[7][lo & 0xff] ^ t[6][(lo >> 8) & 0xff] ^ t[5][(lo >> 16) & 0xff] ^ t[4][lo >> 24] ^ t[3][p[4]] ^
        t[2][p[5]] ^ t[1][p[6]] ^ t[0][p[7]];
  }
  for (; n > 0; ++p, --n) c = t[0][(c ^ *p) & 0xff] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

namespace {

void put_digest_record(std::string& out, char kind, ByteView digest) {
  const std::size_t at = begin_record(out, kind);
  put(out, digest.size(), 1);
  out.append(reinterpret_cast<const char*>(digest.data()), digest.size());
  end_record(out, at);
}

bool digest_record(std::string_view payload, Bytes& digest) {
  if (payload.size() < 2 || payload.size() != std::size_t{2} + static_cast<std::uint8_t>(payload[1])) return false;
  Reader r{payload, 2};
  digest = r.bytes(payload.size() - 2);
  return true;
}

}  // namespace

void encode_base(std::string& out, ByteView state_digest) { put_digest_record(out, 'B', state_digest); }
void encode_snapshot(std::string& out, ByteView state_digest) { put_digest_record(out, 'N', state_digest); }

void encode_answer(std::string& out, const AnswerRef& a) {
  const std::size_t at = begin_record(out, 'A');
  put(out, a.expires_ms, 8);
  put(out, a.socket, 4);
  put_address(out, a.from);
  put_bytes(out, a.request);
  put_bytes(out, a.response);
  end_record(out, at);
}

void encode_changes(std::string& out, const std::function<void(std::string&)>& write) {
  const std::size_t at = begin_record(out, 'S');
  try {
    write(out);
  } catch (...) {
    out.resize(at);  // no record begun and left unended in a batch that may yet be appended
    throw;
  }
  end_record(out, at);
}

void end_batch(std::string& out, const Batch& b) {
  if (b.changes) encode_changes(out, [&b](std::string& o) { o += *b.changes; });
  for (const auto& r : b.pending) {
    const std::size_t at = begin_record(out, 'P');
    put_text(out, r.name, 2);
    put(out, r.expires_ms, 8);
    put(out, r.socket, 4);
    put_address(out, r.from);
    put_bytes(out, r.request);
    put_text(out, r.txn, 1);
    end_record(out, at);
  }
  for (const auto& r : b.sent) {
    const std::size_t at = begin_record(out, 'Q');
    put_text(out, r.key, 2);
    put_text(out, r.label, 1);
    put_text(out, r.peer, 1);
    put_bytes(out, r.request);
    end_record(out, at);
  }
  for (const auto& [role, port] : b.ports) {
    const std::size_t at = begin_record(out, 'L');
    put_text(out, role, 1);
    put(out, port, 2);
    end_record(out, at);
  }
  for (const auto& x : b.settled) {
    const std::size_t at = begin_record(out, 'X');
    out.push_back(x.kind);
    put_text(out, x.key, 2);
    end_record(out, at);
  }
  end_record(out, begin_record(out, 'C'));
}

void encode_batch(std::string& out, const Batch& b) {
  for (const auto& a : b.answers) encode_answer(out, AnswerRef{a.from, a.request, a.socket, a.response, a.expires_ms});
  end_batch(out, b);
}

std::optional<std::string> decode_journal(std::string_view text, ByteView state_digest, JournalContents& out) {
  out = JournalContents{};
  if (text.empty()) return std::nullopt;
  if (!text.starts_with(kJournalMagic)) {
    if (text.size() < kJournalMagic.size() && kJournalMagic.starts_with(text))
      return "cut short in its header (" + std::to_string(text.size()) + " of its first " +
             std::to_string(kJournalMagic.size()) + " bytes, KDJRNL2 and a line end; kd replaces a journal whole, so "
             "something else wrote it)";
    if (text.starts_with("KDJRNL"))
      return "a journal of another version of kd (" + printable(text.substr(0, 7)) + ", this kd writes KDJRNL2)";
    return std::string("not a kd journal (it does not begin with KDJRNL2)");
  }
  struct Read {
    std::vector<Answered> answers;
    std::vector<std::string> changes;
    std::vector<PendingRequest> pending;
    std::vector<SentRequest> sent;
    std::vector<Settled> settled;
  };
  std::vector<Read> batches;
  // Base and snapshot records: the digest, and how many batches came before it.
  std::vector<std::pair<Bytes, std::size_t>> marks;
  Read open;
  bool open_used = false;
  std::size_t pos = kJournalMagic.size(), open_at = pos;
  while (pos < text.size()) {
    const std::string_view rest = text.substr(pos);
    std::string why;
    std::size_t len = 0;
    if (rest.size() < kRecordHeader) why = "a record header cut short";
    else {
      Reader h{rest};
      len = h.num(4);
      const auto crc = static_cast<std::uint32_t>(h.num(4));
      const std::string_view payload = rest.substr(kRecordHeader, std::min<std::size_t>(len, rest.size() - kRecordHeader));
      Bytes digest;
      if (len == 0 || len > kMaxRecord) why = "a record length of " + std::to_string(len);
      else if (payload.size() < len) why = "a record cut short";
      else if (crc32(ByteView(reinterpret_cast<const std::uint8_t*>(payload.data()), payload.size())) != crc)
        why = "a record that fails its checksum";
      else if (payload[0] == 'A') {
        Answered a;
        if (parse_answer(payload, a)) open.answers.push_back(std::move(a));
        else why = "an answer record that does not parse";
      } else if (payload[0] == 'S') {
        open.changes.emplace_back(payload.substr(1));
      } else if (payload[0] == 'P') {
        PendingRequest r;
        if (parse_pending(payload, r)) open.pending.push_back(std::move(r));
        else why = "a pending request record that does not parse";
      } else if (payload[0] == 'Q') {
        SentRequest r;
        if (parse_sent(payload, r)) open.sent.push_back(std::move(r));
        else why = "a sent request record that does not parse";
      } else if (payload[0] == 'L') {
        Reader in{payload, 1};
        std::string role = in.text(1);
        const auto port = static_cast<std::uint16_t>(in.num(2));
        if (in.ok && in.pos == payload.size()) out.ports[std::move(role)] = port;
        else why = "a port record that does not parse";
      } else if (payload[0] == 'X') {
        Settled x;
        if (parse_settled(payload, x)) open.settled.push_back(std::move(x));
        else why = "a settled record that does not parse";
      } else if (payload[0] == 'C' && payload.size() == 1) {
        batches.push_back(std::move(open));
        open = Read{};
      } else if ((payload[0] == 'B' || payload[0] == 'N') && digest_record(payload, digest)) {
        if (payload[0] == 'B' && pos != kJournalMagic.size()) why = "a base record after the first";
        else if (payload[0] == 'N' && marks.empty()) why = "a snapshot record before the base";
        else marks.emplace_back(std::move(digest), batches.size());
      } else
        why = "a record of no known kind";
      if (why.empty() && std::string_view("ASPQXL").find(payload[0]) != std::string_view::npos && !open_used) {
        open_used = true;
        open_at = pos;
      }
      if (why.empty() && payload[0] == 'C') open_used = false;
    }
    if (why.empty() && marks.empty()) why = "no base record first";
    if (why.empty()) {
      pos += kRecordHeader + len;
      continue;
    }
    // The last record, or zeros to the end: a write the crash cut short. The last record is one
    // with nothing but zeros after the length it claims (the journal is written in place over
    // zeros it was extended by, so a write cut short is followed by zeros, not by the file's end).
    // Not a length kd never writes (it would make any damage "the last record", hiding the
    // committed batches after it), and not the base record, which kd writes only whole
    // (rewrite(): an atomic replace).
    // Nor a record whose claimed length covers whole records after it, a commit among them: its
    // length field was damaged (a crash leaves nothing written after the record it cut short),
    // whether that length runs past the file's end or into the zeros after the last record.
    const bool possible = rest.size() >= kRecordHeader && len != 0 && len <= kMaxRecord;
    if (possible && committed_records_within(rest.substr(kRecordHeader)))
      return "damaged at byte " + std::to_string(pos) + ": " + why + " (a record length of " + std::to_string(len) +
             "), with whole records after it (committed batches)";
    if (pos != kJournalMagic.size() && crash_tail(rest)) {
      out.torn_at = pos;
      break;
    }
    return "damaged at byte " + std::to_string(pos) + ": " + why + ", with records after it";
  }
  // Records of a batch with no commit record: never acted on (its answers were never sent).
  if (open_used && !out.torn_at) out.torn_at = open_at;
  else if (open_used) out.torn_at = std::min(*out.torn_at, open_at);
  std::optional<std::size_t> from;
  for (const auto& [digest, before] : marks)
    if (std::equal(digest.begin(), digest.end(), state_digest.begin(), state_digest.end())) from = before;
  out.batches_kept = batches.size();
  if (!from) {
    out.state_matched = false;
    for (const auto& b : batches) out.changes_unmatched += b.changes.empty() ? 0 : 1;
    out.batches_kept = 0;
    return std::nullopt;
  }
  // Requests under way: opened and not settled since, in the order they were opened.
  std::map<std::string, PendingRequest> pending;
  std::map<std::string, SentRequest> sent;
  std::vector<std::pair<char, std::string>> order;
  for (std::size_t i = 0; i < batches.size(); ++i) {
    for (auto& a : batches[i].answers) out.answers.push_back(std::move(a));
    if (i >= *from)
      for (auto& c : batches[i].changes) out.changes.push_back(std::move(c));
    for (auto& r : batches[i].pending) {
      order.emplace_back('P', r.name);
      pending[r.name] = std::move(r);
    }
    for (auto& r : batches[i].sent) {
      order.emplace_back('Q', r.key);
      sent[r.key] = std::move(r);
    }
    for (const auto& x : batches[i].settled) (x.kind == 'P' ? pending.erase(x.key) : sent.erase(x.key));
  }
  for (const auto& [kind, key] : order) {
    if (kind == 'P') {
      if (auto it = pending.find(key); it != pending.end()) {
        out.pending.push_back(std::move(it->second));
        pending.erase(it);
      }
    } else if (auto it = sent.find(key); it != sent.end()) {
      out.sent.push_back(std::move(it->second));
      sent.erase(it);
    }
  }
  return std::nullopt;
}

}  // namespace kd::net
