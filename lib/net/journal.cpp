#include "net/journal.hpp"

#include <algorithm>
#include <array>

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
  for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
void put_bytes(std::string& out, ByteView b) {
  put(out, b.size(), 4);
  out.append(reinterpret_cast<const char*>(b.data()), b.size());
}

void put_record(std::string& out, const std::string& payload) {
  put(out, payload.size(), 4);
  put(out, crc32(ByteView(reinterpret_cast<const std::uint8_t*>(payload.data()), payload.size())), 4);
  out += payload;
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
};

bool parse_answer(std::string_view payload, Answered& a) {
  Reader r{payload, 1};
  a.expires_ms = r.num(8);
  a.socket = static_cast<SocketId>(r.num(4));
  const auto family = r.num(1);
  const Bytes ip = r.bytes(16);
  a.from.port = static_cast<std::uint16_t>(r.num(2));
  a.request = r.counted();
  a.response = r.counted();
  if (!r.ok || r.pos != payload.size() || (family != 4 && family != 6)) return false;
  a.from.v6 = family == 6;
  std::copy(ip.begin(), ip.end(), a.from.ip.begin());
  return true;
}

bool all_zero(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c == 0; });
}

}  // namespace

std::uint32_t crc32(ByteView data) {
  const auto& t = kCrcTables;
  std::uint32_t c = 0xFFFFFFFFu;
  const std::uint8_t* p = data.data();
  std::size_t n = data.size();
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
  std::string p(1, kind);
  put(p, digest.size(), 1);
  p.append(reinterpret_cast<const char*>(digest.data()), digest.size());
  put_record(out, p);
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

void encode_batch(std::string& out, const std::vector<Answered>& answers, const std::string* changes) {
  std::string p;
  for (const auto& a : answers) {
    p.assign(1, 'A');
    put(p, a.expires_ms, 8);
    put(p, a.socket, 4);
    put(p, a.from.v6 ? 6 : 4, 1);
    p.append(reinterpret_cast<const char*>(a.from.ip.data()), a.from.ip.size());
    put(p, a.from.port, 2);
    put_bytes(p, a.request);
    put_bytes(p, a.response);
    put_record(out, p);
  }
  if (changes) put_record(out, "S" + *changes);
  put_record(out, "C");
}

std::optional<std::string> decode_journal(std::string_view text, ByteView state_digest, JournalContents& out) {
  out = JournalContents{};
  if (text.empty()) return std::nullopt;
  if (!text.starts_with(kJournalMagic)) {
    if (text.starts_with("KDJRNL"))
      return "a journal of another version of kd (" + printable(text.substr(0, 7)) + ", this kd writes KDJRNL2)";
    return std::string("not a kd journal (it does not begin with KDJRNL2)");
  }
  struct Batch {
    std::vector<Answered> answers;
    std::vector<std::string> changes;
  };
  std::vector<Batch> batches;
  // Base and snapshot records: the digest, and how many batches came before it.
  std::vector<std::pair<Bytes, std::size_t>> marks;
  Batch open;
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
      } else if (payload[0] == 'C' && payload.size() == 1) {
        batches.push_back(std::move(open));
        open = Batch{};
      } else if ((payload[0] == 'B' || payload[0] == 'N') && digest_record(payload, digest)) {
        if (payload[0] == 'B' && pos != kJournalMagic.size()) why = "a base record after the first";
        else if (payload[0] == 'N' && marks.empty()) why = "a snapshot record before the base";
        else marks.emplace_back(std::move(digest), batches.size());
      } else
        why = "a record of no known kind";
      if (why.empty() && (payload[0] == 'A' || payload[0] == 'S') && !open_used) {
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
    // The last record, or zeros to the end: a write the crash cut short.
    if (rest.size() <= kRecordHeader + len || all_zero(rest)) {
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
  for (std::size_t i = 0; i < batches.size(); ++i) {
    for (auto& a : batches[i].answers) out.answers.push_back(std::move(a));
    if (i >= *from)
      for (auto& c : batches[i].changes) out.changes.push_back(std::move(c));
  }
  return std::nullopt;
}

}  // namespace kd::net
