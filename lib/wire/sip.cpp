#include "wire/sip.hpp"

#include <array>
#include <bit>
#include <cstdint>
#include <cstring>
#include <list>
#include <memory>
#include <type_traits>
#include <initializer_list>
#include <utility>
#include <vector>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "crypto/suite.hpp"

namespace kd::wire {

using msg::Field;
using msg::Flow;
using msg::Message;
using msg::Role;
using msg::StepSpec;

namespace {

constexpr bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
constexpr bool is_digit(char c) { return c >= '0' && c <= '9'; }
constexpr bool is_alnum(char c) { return is_alpha(c) || is_digit(c); }
bool is_hexdig(char c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

bool all_of(std::string_view s, bool (*pred)(char)) {
  for (char c : s)
    if (!pred(c)) return false;
  return true;
}

}  // namespace

namespace sip {

namespace {

bool is_ipv4(std::string_view s) {
  int parts = 0;
  while (true) {
    std::size_t dot = s.find('.');
    std::string_view p = s.substr(0, dot);
    if (p.empty() || p.size() > 3 || !all_of(p, is_digit)) return false;
    int v = 0;
    for (char c : p) v = v * 10 + (c - '0');
    if (v > 255) return false;
    ++parts;
    if (dot == std::string_view::npos) break;
    s.remove_prefix(dot + 1);
  }
  return parts == 4;
}

// Counts the 16-bit groups of a colon-separated run ("" counts none); -1 when a group is bad.
int ipv6_groups(std::string_view s, bool may_end_in_v4) {
  if (s.empty()) return 0;
  int n = 0;
  while (true) {
    std::size_t colon = s.find(':');
    std::string_view g = s.substr(0, colon);
    if (colon == std::string_view::npos && may_end_in_v4 && g.find('.') != std::string_view::npos)
      return is_ipv4(g) ? n + 2 : -1;
    if (g.empty() || g.size() > 4 || !all_of(g, is_hexdig)) return -1;
    ++n;
    if (colon == std::string_view::npos) return n;
    s.remove_prefix(colon + 1);
  }
}

bool is_ipv6(std::string_view s) {
  std::size_t dc = s.find("::");
  if (dc == std::string_view::npos) return ipv6_groups(s, true) == 8;
  if (s.find("::", dc + 1) != std::string_view::npos) return false;
  std::string_view left = s.substr(0, dc), right = s.substr(dc + 2);
  int l = ipv6_groups(left, false), r = ipv6_groups(right, true);
  return l >= 0 && r >= 0 && l + r <= 7;
}

bool is_hostname(std::string_view s) {
  if (s.empty() || s.size() > 255) return false;
  std::string_view last;
  while (true) {
    std::size_t dot = s.find('.');
    std::string_view label = s.substr(0, dot);
    if (label.empty() || label.size() > 63) return false;
    for (char c : label)
      if (!is_alnum(c) && c != '-') return false;
    if (label.front() == '-' || label.back() == '-') return false;
    last = label;
    if (dot == std::string_view::npos) break;
    s.remove_prefix(dot + 1);
  }
  return is_alpha(last.front());
}

bool is_host(std::string_view s) {
  if (s.size() > 2 && s.front() == '[' && s.back() == ']') return is_ipv6(s.substr(1, s.size() - 2));
  return is_hostname(s) || is_ipv4(s);
}

bool is_port(std::string_view s) {
  if (s.empty() || s.size() > 5 || !all_of(s, is_digit)) return false;
  unsigned v = 0;
  for (char c : s) v = v * 10 + static_cast<unsigned>(c - '0');
  return v <= 65535;
}

bool is_hostport(std::string_view s) {
  std::size_t colon;
  if (!s.empty() && s.front() == '[') {
    std::size_t close = s.find(']');
    if (close == std::string_view::npos) return false;
    colon = close + 1 < s.size() ? close + 1 : std::string_view::npos;
    if (colon != std::string_view::npos && s[colon] != ':') return false;
  } else {
    colon = s.find(':');
    if (colon != std::string_view::npos && s.find(':', colon + 1) != std::string_view::npos) return false;
  }
  if (colon == std::string_view::npos) return is_host(s);
  return is_host(s.substr(0, colon)) && is_port(s.substr(colon + 1));
}

}  // namespace

std::string host_for(std::string_view id) {
  if (is_host(id)) return std::string(id);
  std::size_t at = id.rfind('@');
  if (at != std::string_view::npos && is_host(id.substr(at + 1))) return std::string(id.substr(at + 1));
  return "invalid";
}

std::string escape_user(std::string_view id) {
  static constexpr std::string_view kUnreservedMarks = "-_.!~*'()&=+$,;?/";
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : id) {
    if (is_alnum(c) || kUnreservedMarks.find(c) != std::string_view::npos) {
      out += c;
    } else {
      const auto u = static_cast<unsigned char>(c);
      out += '%';
      out += kHex[u >> 4];
      out += kHex[u & 15];
    }
  }
  return out;
}

std::string q_text(std::uint16_t q) {
  if (q >= 1000) return "1";
  if (q == 0) return "0";
  std::string d = std::to_string(1000 + q).substr(1);  // three digits
  while (d.back() == '0') d.pop_back();
  return "0." + d;
}

std::optional<std::uint16_t> parse_q(std::string_view s) {
  if (s.empty() || (s[0] != '0' && s[0] != '1')) return std::nullopt;
  const bool one = s[0] == '1';
  std::string_view frac;
  if (s.size() > 1) {
    if (s[1] != '.') return std::nullopt;
    frac = s.substr(2);
  }
  if (frac.size() > 3 || !all_of(frac, is_digit)) return std::nullopt;
  std::uint16_t v = one ? 1000 : 0;
  std::uint16_t scale = 100;
  for (char c : frac) {
    if (one && c != '0') return std::nullopt;
    v = static_cast<std::uint16_t>(v + (c - '0') * scale);
    scale = static_cast<std::uint16_t>(scale / 10);
  }
  return v;
}

}  // namespace sip

namespace {

enum class Kind { request, challenge, success };

struct StepShape {
  Kind kind;
  int cseq;  // 1: the first REGISTER and its 401, 2: the second REGISTER and its 200
};

std::optional<StepShape> shape_of(const StepSpec& s) {
  if (s.flow == Flow::proxied) {
    switch (s.step) {
      case 1: case 2: return StepShape{Kind::request, 1};
      case 5: case 6: return StepShape{Kind::challenge, 1};
      case 7: case 8: return StepShape{Kind::request, 2};
      case 9: case 10: return StepShape{Kind::success, 2};
      default: return std::nullopt;
    }
  }
  switch (s.step) {
    case 1: return StepShape{Kind::request, 1};
    case 4: return StepShape{Kind::challenge, 1};
    case 5: return StepShape{Kind::request, 2};
    case 6: return StepShape{Kind::success, 2};
    default: return std::nullopt;
  }
}



// ---- envelope derivation ------------------------------------------------------------------

// Lowercase hex of SHA-256("kd-sip " || label || 0x00 part1 || 0x00 part2 ...), cut to n digits.
std::string derive(std::string_view label, std::initializer_list<std::string_view> parts, std::size_t n) {
  Bytes in = to_bytes("kd-sip ");
  put_str(in, label);
  for (auto p : parts) {
    put_u8(in, 0);
    put_str(in, p);
  }
  return to_hex(crypto::hash(crypto::HashId::sha256, in)).substr(0, n);
}

struct Envelope {
  std::string call_id, from_tag, to_tag, branch, sent_by, aor, request_uri;
};

Envelope envelope(const Message& m, const StepSpec& spec, const StepShape& sh) {
  const std::string& reg = m.flow == Flow::proxied ? *m.IDsp : *m.IDss;
  const std::string flow(msg::flow_name(m.flow));
  const std::string link = term_link(spec) ? "term" : "core";
  const std::string& suite = *m.suite;
  const std::string& idc = *m.IDc;
  const std::string cseq = std::to_string(sh.cseq);
  const std::string n1 = term_link(spec) ? to_hex(*m.N1) : std::string();
  const std::string host = sip::host_for(reg);
  Envelope e;
  e.call_id = derive("call-id", {flow, link, suite, idc, reg}, 32);
  e.from_tag = derive("from-tag", {flow, link, suite, idc, reg}, 16);
  e.to_tag = derive("to-tag", {flow, link, suite, idc, reg}, 16);
  e.branch = "z9hG4bK" + derive("branch", {flow, link, suite, idc, reg, cseq, n1}, 24);
  e.sent_by = sip::host_for(term_link(spec) ? idc : *m.IDsp);
  e.aor = std::string("sip:") + sip::escape_user(idc) + "@" + host;
  e.request_uri = std::string("sip:") + host;
  return e;
}

std::string mech_list_text(const msg::MechList& l) {
  std::string out;
  for (const auto& mech : l) {
    if (!out.empty()) out += ", ";
    out += mech.name + ";q=" + sip::q_text(mech.q);
  }
  return out;
}

// The hostport the Contact shows for IPc; kd-ipc carries IPc verbatim when this differs from it.
std::string contact_hostport(const std::string& ipc) {
  if (sip::is_hostport(ipc)) return ipc;
  if (sip::is_ipv6(ipc)) return "[" + ipc + "]";
  return "invalid";
}

std::string quoted(std::string_view s) {
  std::string out;  // appended, not added: GCC 12 -O3 reports a false -Werror=restrict on "x" + y
  out.reserve(s.size() + 2);
  out += '"';
  out += s;
  out += '"';
  return out;
}

std::string kd_params(const Message& m, const StepSpec& spec) {
  std::vector<std::string> p;
  p.push_back("username=" + quoted(*m.IDc));
  p.push_back("realm=" + quoted(m.flow == Flow::proxied ? *m.IDsp : *m.IDss));
  p.push_back("algorithm=" + *m.suite);
  p.push_back(std::string("kd-flow=") + std::string(msg::flow_name(m.flow)));
  if (m.Rand) p.push_back("nonce=" + quoted(to_hex(*m.Rand)));
  if (m.Authenticator_c) p.push_back("response=" + quoted(to_hex(*m.Authenticator_c)));
  if (m.N1) p.push_back("kd-n1=" + quoted(to_hex(*m.N1)));
  if (m.N2) p.push_back("kd-n2=" + quoted(to_hex(*m.N2)));
  for (const auto* ts : {&m.TS1, &m.TS2, &m.TS3, &m.TS4})
    if (*ts) p.push_back("kd-ts=" + std::to_string(**ts));
  if (m.EKc) p.push_back("kd-ekc=" + quoted(to_hex(*m.EKc)));
  if (m.EKsp) p.push_back("kd-eksp=" + quoted(to_hex(*m.EKsp)));
  if (m.EKss) p.push_back("kd-ekss=" + quoted(to_hex(*m.EKss)));
  if (m.SecMech) p.push_back("kd-mech=" + *m.SecMech);
  if (m.MAC) p.push_back("kd-mac=" + quoted(to_hex(*m.MAC)));
  if (m.IPc && has_field(spec, Field::IPc) && contact_hostport(*m.IPc) != *m.IPc)
    p.push_back("kd-ipc=" + quoted(*m.IPc));
  std::string out;
  for (const auto& s : p) {
    if (!out.empty()) out += ", ";
    out += s;
  }
  return out;
}

// ---- parsing ------------------------------------------------------------------------------
//
// decode() is on kd-decode's hot path (a million messages in one run), so parsing works on views
// into the wire bytes: nothing is copied but a folded header line (rare) or a quoted value with
// escapes, and header and parameter names are compared without lowering a copy. The error for
// each kind of bad input, and the order in which they are found, are those of kd-protocol(7).

char lower_ascii(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

std::string lower(std::string_view s) {  // for error messages only
  std::string out(s);
  for (char& c : out) c = lower_ascii(c);
  return out;
}

bool iequal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (lower_ascii(a[i]) != lower_ascii(b[i])) return false;
  return true;
}

// iequal for a name made only of token characters (checked before) and a lowercase name of
// letters, digits and '-': setting bit 5 lowers a letter, and maps no other token character onto
// a letter, a digit or '-', so one OR per character does.
bool token_iequal(std::string_view token, std::string_view lower_name) {
  const std::size_t n = token.size();
  if (n != lower_name.size()) return false;
  if (n == 0) return true;
  if ((token[0] | 0x20) != lower_name[0]) return false;  // most misses end here
  // Whole words at a time (overlapping at the end rather than a byte loop for the tail).
  auto differs = [&]<class W>(std::size_t at, W) {
    W a, b;
    std::memcpy(&a, token.data() + at, sizeof a);
    std::memcpy(&b, lower_name.data() + at, sizeof b);
    return ((a | static_cast<W>(0x2020202020202020ULL)) ^ b) != 0;
  };
  if (n >= 8) {
    for (std::size_t i = 0; i + 8 < n; i += 8)
      if (differs(i, std::uint64_t{})) return false;
    return !differs(n - 8, std::uint64_t{});
  }
  if (n >= 4) return !differs(0, std::uint32_t{}) && !differs(n - 4, std::uint32_t{});
  unsigned diff = 0;
  for (std::size_t i = 1; i < n; ++i)
    diff |= static_cast<unsigned char>(token[i] | 0x20) ^ static_cast<unsigned char>(lower_name[i]);
  return diff == 0;
}

bool is_lws(char c) { return c == ' ' || c == '\t'; }
bool is_trimmed(char c) { return is_lws(c) || c == '\r' || c == '\n'; }

[[gnu::always_inline]] inline std::string_view trim(std::string_view s) {
  std::size_t b = 0, e = s.size();
  while (b < e && is_trimmed(s[b])) ++b;
  while (e > b && is_trimmed(s[e - 1])) --e;
  return s.substr(b, e - b);
}

constexpr std::array<bool, 256> kTokenChars = [] {
  std::array<bool, 256> t{};
  for (int c = 0; c < 256; ++c) t[static_cast<std::size_t>(c)] = is_alnum(static_cast<char>(c));
  for (char c : std::string_view("-.!%*_+`'~")) t[static_cast<unsigned char>(c)] = true;
  return t;
}();

bool token_char(char c) { return kTokenChars[static_cast<unsigned char>(c)]; }

// The headers decode() reads; every other header is checked for syntax and skipped.
enum class Hdr : std::uint8_t {
  other, via, from, to, call_id, cseq, content_length, contact, require, authorization,
  proxy_authorization, www_authenticate, proxy_authenticate, authentication_info, security_client,
  security_verify, max_forwards, count_
};

constexpr std::pair<std::string_view, Hdr> kHeaderNames[] = {
    {"via", Hdr::via},
    {"from", Hdr::from},
    {"to", Hdr::to},
    {"call-id", Hdr::call_id},
    {"cseq", Hdr::cseq},
    {"content-length", Hdr::content_length},
    {"contact", Hdr::contact},
    {"require", Hdr::require},
    {"authorization", Hdr::authorization},
    {"proxy-authorization", Hdr::proxy_authorization},
    {"www-authenticate", Hdr::www_authenticate},
    {"proxy-authenticate", Hdr::proxy_authenticate},
    {"authentication-info", Hdr::authentication_info},
    {"security-client", Hdr::security_client},
    {"security-verify", Hdr::security_verify},
    {"max-forwards", Hdr::max_forwards},
};

std::string_view header_name(Hdr h) {
  for (const auto& [n, id] : kHeaderNames)
    if (id == h) return n;
  return "?";
}

// A header's name (token characters only), long or compact form (RFC 3261 7.3.3), in any case:
// looked up by its length first, as most names are compared on every line of every message.
Hdr classify(std::string_view name) {
  if (name.size() == 1) {
    switch (lower_ascii(name[0])) {
      case 'i': return Hdr::call_id;
      case 'v': return Hdr::via;
      case 'f': return Hdr::from;
      case 't': return Hdr::to;
      case 'l': return Hdr::content_length;
      case 'm': return Hdr::contact;
      default: return Hdr::other;
    }
  }
  static constexpr auto kByLength = [] {
    std::array<std::array<std::int8_t, 3>, 20> t{};  // up to 3 names per length, index + 1
    for (std::size_t i = 0; i < std::size(kHeaderNames); ++i)
      for (auto& slot : t[kHeaderNames[i].first.size()])
        if (slot == 0) {
          slot = static_cast<std::int8_t>(i + 1);
          break;
        }
    return t;
  }();
  if (name.size() >= kByLength.size()) return Hdr::other;
  for (std::int8_t slot : kByLength[name.size()]) {
    if (slot == 0) break;
    const auto& [n, id] = kHeaderNames[static_cast<std::size_t>(slot - 1)];
    if (token_iequal(name, n)) return id;
  }
  return Hdr::other;
}

// A vector that holds its first N elements in place: the headers and parameters of a message
// then cost no allocation, and a message with more still parses.
template <class T, std::size_t N>
class SmallVec {
public:
  void push_back(const T& v) {
    if (heap_.empty() && n_ < N) {
      store_.items[n_++] = v;
      return;
    }
    if (heap_.empty()) heap_.assign(store_.items, store_.items + n_);
    heap_.push_back(v);
    ++n_;
  }
  const T* begin() const { return heap_.empty() ? store_.items : heap_.data(); }
  const T* end() const { return begin() + n_; }
  std::size_t size() const { return n_; }
  void clear() {
    heap_.clear();
    n_ = 0;
  }

private:
  static_assert(std::is_trivially_copyable_v<T> && std::is_trivially_destructible_v<T>);
  union Store {  // not initialised: only the first n_ items are ever read
    Store() {}
    T items[N];
  } store_;
  std::vector<T> heap_;
  std::size_t n_ = 0;
};

struct SipText {
  bool request = false;
  std::string_view method;
  int status = 0;
  struct Header {
    Hdr id;
    std::string_view value;  // trimmed; into the wire, or into folded
  };
  SmallVec<Header, 24> headers;  // the ones decode() reads, in order
  std::array<std::uint16_t, static_cast<std::size_t>(Hdr::count_)> counts{};
  std::list<std::string> folded;  // header lines rebuilt from folded lines (stable addresses)

  std::size_t count(Hdr h) const { return counts[static_cast<std::size_t>(h)]; }
  // The first value of h; count(h) must be > 0.
  std::string_view first(Hdr h) const {
    for (const auto& x : headers)
      if (x.id == h) return x.value;
    return {};
  }
  template <class F>
  void each(Hdr h, F&& f) const {
    for (const auto& x : headers)
      if (x.id == h) f(x.value);
  }
};

Error malformed(std::string d) { return err(Code::malformed, std::move(d)); }

// The header section of text split into lines (each without its LF, nor a CR before it), up to
// the first empty line. Lines are short, so rather than a memchr per line one pass tests sixteen
// bytes at a time for LF and NUL where SSE2 is there (all x86-64), a byte at a time elsewhere.
struct HeaderSection {
  std::size_t end;  // just past the empty line's LF; without one, past the last LF
  bool ended;       // the empty line was found
  bool nul;         // a NUL byte comes before end
};

HeaderSection split_lines(std::string_view text, std::vector<std::string_view>& lines) {
  constexpr std::size_t npos = std::string_view::npos;
  std::size_t line_start = 0, first_nul = npos;
  auto at_lf = [&](std::size_t lf) {  // true at the empty line
    std::size_t end = lf;
    if (end > line_start && text[end - 1] == '\r') --end;
    if (end == line_start) return true;
    lines.push_back(text.substr(line_start, end - line_start));
    line_start = lf + 1;
    return false;
  };
  std::size_t i = 0;
#if defined(__SSE2__)
  const __m128i lf = _mm_set1_epi8('\n'), zero = _mm_setzero_si128();
  for (; i + 16 <= text.size(); i += 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(text.data() + i));
    auto lfs = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, lf)));
    const auto nuls = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, zero)));
    if (nuls && first_nul == npos) first_nul = i + static_cast<std::size_t>(std::countr_zero(nuls));
    for (; lfs; lfs &= lfs - 1) {
      const std::size_t at = i + static_cast<std::size_t>(std::countr_zero(lfs));
      if (at_lf(at)) return {at + 1, true, first_nul <= at};
    }
  }
#endif
  for (; i < text.size(); ++i) {
    if (text[i] == '\0' && first_nul == npos) first_nul = i;
    if (text[i] == '\n' && at_lf(i)) return {i + 1, true, first_nul <= i};
  }
  return {line_start, false, first_nul < line_start};
}

// One header line into t; the error's text, or nullptr. A name of token characters right before
// the colon is the usual form, read in one scan; anything else takes the general path.
const char* parse_header(SipText& t, std::string_view l) {
  std::size_t colon = 0;
  while (colon < l.size() && token_char(l[colon])) ++colon;
  std::string_view name = l.substr(0, colon);
  if (colon == 0 || colon == l.size() || l[colon] != ':') {  // white space around the name, or worse
    colon = l.find(':');
    if (colon == std::string_view::npos) return "a SIP header line without a colon";
    name = trim(l.substr(0, colon));
    if (name.empty()) return "a SIP header without a name";
    for (char c : name)
      if (!token_char(c)) return "a SIP header name with a bad character";
  }
  const Hdr id = classify(name);
  if (id == Hdr::other) return nullptr;
  ++t.counts[static_cast<std::size_t>(id)];
  t.headers.push_back({id, trim(l.substr(colon + 1))});
  return nullptr;
}

Status parse_text(ByteView wire, SipText& t) {
  if (wire.size() > sip::kMaxMessage)
    return err(Code::oversized, "the SIP message exceeds " + std::to_string(sip::kMaxMessage) + " bytes");
  std::string_view text(reinterpret_cast<const char*>(wire.data()), wire.size());
  while (!text.empty() && (text.front() == '\r' || text.front() == '\n')) text.remove_prefix(1);

  // First the header section's lines: a NUL or a missing end is found before anything else. The
  // line list is reused from message to message (decode runs a million times in a capture).
  thread_local std::vector<std::string_view> lines;
  lines.clear();
  const HeaderSection section = split_lines(text, lines);
  if (section.nul) return malformed("a NUL byte in the SIP headers");
  if (!section.ended) return malformed("truncated SIP message: the header section has no end");
  if (lines.empty()) return malformed("empty SIP message");
  const std::size_t body = text.size() - section.end;

  std::string_view start = lines[0];
  if (start.size() >= 8 && (start.starts_with("SIP/2.0 ") || iequal(start.substr(0, 8), "SIP/2.0 "))) {
    std::string_view r = start.substr(8);
    if (r.size() < 3 || !all_of(r.substr(0, 3), is_digit) || (r.size() > 3 && r[3] != ' '))
      return malformed("bad SIP status line");
    t.status = (r[0] - '0') * 100 + (r[1] - '0') * 10 + (r[2] - '0');
  } else {
    std::size_t sp1 = start.find(' ');
    std::size_t sp2 = sp1 == std::string_view::npos ? sp1 : start.find(' ', sp1 + 1);
    if (sp2 == std::string_view::npos || sp1 == 0 || sp2 == sp1 + 1 ||
        (start.substr(sp2 + 1) != "SIP/2.0" && !iequal(start.substr(sp2 + 1), "SIP/2.0")))
      return malformed("bad SIP request line");
    t.request = true;
    t.method = start.substr(0, sp1);
    for (char c : t.method)
      if (!token_char(c)) return malformed("bad SIP method");
    std::string_view uri = start.substr(sp1 + 1, sp2 - sp1 - 1);
    if (uri.find(':') == std::string_view::npos) return malformed("bad Request-URI");
  }

  // Then the headers. A line that starts with white space continues the header before it
  // (RFC 3261 7.3.1); only then is the header line copied, to join its parts with one space.
  std::string_view pending;  // the header line being gathered
  std::string* joined = nullptr;
  for (std::size_t i = 1; i < lines.size(); ++i) {
    std::string_view line = lines[i];
    if (is_lws(line.front()) && i > 1) {
      if (!joined) joined = &t.folded.emplace_back(pending);
      *joined += ' ';
      *joined += trim(line);
      pending = *joined;
      continue;
    }
    if (i > 1)
      if (const char* e = parse_header(t, pending)) return malformed(e);
    pending = line;
    joined = nullptr;
  }
  if (lines.size() > 1)
    if (const char* e = parse_header(t, pending)) return malformed(e);

  if (t.count(Hdr::content_length) > 1) return malformed("more than one Content-Length");
  if (t.count(Hdr::content_length) == 1) {
    std::string_view cl = t.first(Hdr::content_length);
    if (cl.empty() || cl.size() > 9 || !all_of(cl, is_digit)) return malformed("bad Content-Length");
    std::size_t n = 0;
    for (char c : cl) n = n * 10 + static_cast<std::size_t>(c - '0');
    if (n > body) return malformed("truncated SIP message: the body is shorter than Content-Length");
  }
  for (Hdr h : {Hdr::via, Hdr::from, Hdr::to, Hdr::call_id, Hdr::cseq}) {
    const auto name = [h] { return std::string(header_name(h)); };
    if (t.count(h) == 0) return malformed("the SIP message has no " + name() + " header");
    if (h != Hdr::via && t.count(h) > 1) return malformed("more than one " + name() + " header");
    if (t.first(h).empty()) return malformed("an empty " + name() + " header");
  }
  return Ok{};
}

// Authentication parameters: names as written (compared without case), values as views into
// the header, or into unescaped when a quoted value holds a backslash escape.
// The authentication parameters decode() reads.
constexpr std::string_view kKdParams[] = {"kd-flow", "kd-n1", "kd-n2", "kd-ts", "nonce",
                                          "response", "algorithm", "username", "realm", "kd-mech",
                                          "kd-ipc", "kd-ekc", "kd-eksp", "kd-ekss", "kd-mac"};
consteval std::size_t kd_param(std::string_view name) {
  for (std::size_t k = 0; k < std::size(kKdParams); ++k)
    if (kKdParams[k] == name) return k;
  throw "not a KD parameter";
}


// The index in kKdParams of a parameter name (token characters only) in any case, or -1.
int kd_param_index(std::string_view name) {
  static constexpr auto kByLength = [] {  // index + 1 of each name, by length (5 to 9)
    std::array<std::array<std::int8_t, 6>, 10> t{};
    for (std::size_t k = 0; k < std::size(kKdParams); ++k)
      for (auto& slot : t[kKdParams[k].size()])
        if (slot == 0) {
          slot = static_cast<std::int8_t>(k + 1);
          break;
        }
    return t;
  }();
  if (name.size() >= kByLength.size()) return -1;
  for (std::int8_t slot : kByLength[name.size()]) {
    if (slot == 0) break;
    if (token_iequal(name, kKdParams[static_cast<std::size_t>(slot - 1)])) return slot - 1;
  }
  return -1;
}

struct Params {
  struct Param {
    std::string_view name, value;
    int kd = -1;  // index in kKdParams, or -1 for another parameter
  };
  SmallVec<Param, 16> list;
  std::array<std::int16_t, std::size(kKdParams)> at = make_unset();  // KD parameter -> index in list
  std::list<std::string> unescaped;

  static constexpr std::array<std::int16_t, std::size(kKdParams)> make_unset() {
    std::array<std::int16_t, std::size(kKdParams)> a{};
    for (auto& x : a) x = -1;
    return a;
  }
  void clear() {
    list.clear();
    at = make_unset();
    unescaped.clear();
  }
  // The value of the KD parameter k (kd_param()), or nullptr.
  const std::string_view* get(std::size_t k) const { return at[k] < 0 ? nullptr : &list.begin()[at[k]].value; }
};

// The index of the first '"' or '\\' in s from i on, or s.size(). Quoted values here are mostly
// long hex strings, so sixteen bytes are tested at a time where SSE2 is there (all x86-64).
std::size_t quote_or_backslash(std::string_view s, std::size_t i) {
#if defined(__SSE2__)
  const __m128i quote = _mm_set1_epi8('"'), backslash = _mm_set1_epi8('\\');
  for (; i + 16 <= s.size(); i += 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s.data() + i));
    const auto hit = static_cast<unsigned>(_mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash))));
    if (hit) return i + static_cast<std::size_t>(std::countr_zero(hit));
  }
#endif
  while (i < s.size() && s[i] != '"' && s[i] != '\\') ++i;
  return i;
}

// auth-param *(COMMA auth-param), values as tokens or quoted strings, into out (cleared first).
Status parse_params(std::string_view s, Params& out) {
  out.clear();
  std::size_t i = 0;
  auto skip_lws = [&] { while (i < s.size() && is_lws(s[i])) ++i; };
  while (true) {
    skip_lws();
    while (i < s.size() && (s[i] == ',' || is_lws(s[i]))) ++i;
    if (i >= s.size()) break;
    std::size_t n0 = i;
    while (i < s.size() && token_char(s[i])) ++i;
    if (i == n0) return malformed("bad authentication parameter");
    std::string_view name = s.substr(n0, i - n0);
    skip_lws();
    if (i >= s.size() || s[i] != '=') return malformed("authentication parameter " + lower(name) + " has no value");
    ++i;
    skip_lws();
    std::string_view value;
    if (i < s.size() && s[i] == '"') {
      const std::size_t v0 = ++i;
      const std::size_t stop = quote_or_backslash(s, v0);
      if (stop < s.size() && s[stop] == '"') {  // no escape: the text between the quotes
        value = s.substr(v0, stop - v0);
        i = stop + 1;
      } else {
        std::string& u = out.unescaped.emplace_back();
        bool closed = false;
        while (i < s.size()) {
          char c = s[i++];
          if (c == '"') { closed = true; break; }
          if (c == '\\') {
            if (i >= s.size()) break;
            c = s[i++];
          }
          u += c;
        }
        if (!closed) return malformed("unterminated quoted string in " + lower(name));
        value = u;
      }
    } else {
      std::size_t v0 = i;
      while (i < s.size() && token_char(s[i])) ++i;
      if (i == v0) return malformed("authentication parameter " + lower(name) + " has an empty value");
      value = s.substr(v0, i - v0);
    }
    const int kd = kd_param_index(name);
    bool twice = kd >= 0 && out.at[static_cast<std::size_t>(kd)] >= 0;
    if (kd < 0)  // another party's parameter: compared with the others' (KD names were checked above)
      for (const auto& earlier : out.list) twice = twice || (earlier.kd < 0 && iequal(earlier.name, name));
    if (twice) return malformed("authentication parameter " + lower(name) + " appears twice");
    if (kd >= 0) out.at[static_cast<std::size_t>(kd)] = static_cast<std::int16_t>(out.list.size());  // < 64 KiB / 4
    out.list.push_back({name, value, kd});
    skip_lws();
    if (i < s.size() && s[i] != ',') return malformed("authentication parameters must be separated by commas");
  }
  return Ok{};
}

// The parameters of a "KD ..." challenge or credentials value; nullopt when the scheme is another.
std::optional<std::string_view> kd_scheme_params(std::string_view v) {
  std::size_t sp = 0;
  while (sp < v.size() && token_char(v[sp])) ++sp;
  if (!iequal(v.substr(0, sp), "KD")) return std::nullopt;
  if (sp < v.size() && !is_lws(v[sp])) return std::nullopt;
  return v.substr(sp);
}

// Finds the one KD value among the given headers.
// Finds the one KD value among the given headers, parsed into out: false when there is none.
Result<bool> find_kd(const SipText& t, std::initializer_list<Hdr> names, bool schemeless, Params& out) {
  bool found = false;
  std::unique_ptr<Params> second;  // a candidate after the first one found, parsed to tell whether it is KD's
  for (Hdr n : names) {
    if (t.count(n) == 0) continue;
    for (const auto& h : t.headers) {
      if (h.id != n) continue;
      // Authentication-Info has no scheme (RFC 3261, RFC 7615); a leading "KD" is tolerated.
      std::optional<std::string_view> ps = kd_scheme_params(h.value);
      if (schemeless && !ps) ps = h.value;
      if (!ps) continue;
      if (found && !second) second = std::make_unique<Params>();
      Params& p = found ? *second : out;
      if (auto st = parse_params(*ps, p); !st) {
        // Someone else's Authentication-Info is skipped; one that names kd-flow is ours and broken.
        if (schemeless && ps->find("kd-flow") == std::string_view::npos) continue;
        return st.error();
      }
      if (schemeless && !p.get(kd_param("kd-flow"))) continue;
      if (found) return malformed("more than one KD " + std::string(header_name(n)) + " header");
      found = true;
    }
  }
  if (!found) out.clear();
  return found;
}

constexpr std::array<std::int8_t, 256> kLowerHex = [] {
  std::array<std::int8_t, 256> t{};
  for (auto& x : t) x = -1;
  for (int c = '0'; c <= '9'; ++c) t[static_cast<std::size_t>(c)] = static_cast<std::int8_t>(c - '0');
  for (int c = 'a'; c <= 'f'; ++c) t[static_cast<std::size_t>(c)] = static_cast<std::int8_t>(c - 'a' + 10);
  return t;
}();

// v as bytes into out (its buffer reused).
Status hex_value(std::string_view name, std::string_view v, Bytes& out) {
  if (v.size() % 2 == 0) {  // one pass for the good case; a bad digit shows as a negative nibble
    out.resize(v.size() / 2);
    int bad = 0;
    for (std::size_t i = 0; i < out.size(); ++i) {
      const int hi = kLowerHex[static_cast<unsigned char>(v[2 * i])];
      const int lo = kLowerHex[static_cast<unsigned char>(v[2 * i + 1])];
      bad |= hi | lo;
      out[i] = static_cast<std::uint8_t>(hi << 4 | lo);
    }
    if (bad >= 0) return Ok{};
  }
  for (char c : v)
    if (kLowerHex[static_cast<unsigned char>(c)] < 0) return malformed(std::string(name) + " must be lowercase hex");
  return malformed(std::string(name) + " has an odd number of hex digits");
}

Result<std::uint64_t> uint_value(std::string_view name, std::string_view v) {
  if (v.empty() || !all_of(v, is_digit) || (v.size() > 1 && v[0] == '0'))
    return malformed(std::string(name) + " must be a decimal number without leading zeros");
  if (v.size() > 19) return err(Code::bad_length, std::string(name) + " is out of range");
  std::uint64_t x = 0;
  for (char c : v) x = x * 10 + static_cast<std::uint64_t>(c - '0');
  return x;
}

// Calls f with each item of a header value split at commas outside quotes and angle brackets
// (trimmed, empty ones included); stops early when f returns false.
template <class F>
void each_item(std::string_view s, F&& f) {
  bool q = false;
  int angle = 0;
  std::size_t from = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '"' && (i == 0 || s[i - 1] != '\\')) q = !q;
    else if (!q && c == '<') ++angle;
    else if (!q && c == '>' && angle > 0) --angle;
    else if (!q && angle == 0 && c == ',') {
      if (!f(trim(s.substr(from, i - from)))) return;
      from = i + 1;
    }
  }
  f(trim(s.substr(from)));
}

// The mechanisms of every h header, into out (cleared first; its buffer is reused).
Status parse_mechs(const SipText& t, Hdr h, std::string_view header, msg::MechList& out) {
  out.clear();
  Status st = Ok{};
  t.each(h, [&](std::string_view v) {
    each_item(v, [&](std::string_view e) {
      if (!st) return false;
      if (e.empty()) return true;
      std::size_t semi = e.find(';');
      msg::Mech mech;
      mech.name = std::string(trim(e.substr(0, semi)));
      if (mech.name.empty()) {
        st = malformed(std::string(header) + " names an empty mechanism");
        return false;
      }
      bool have_q = false;
      while (semi != std::string_view::npos) {
        e.remove_prefix(semi + 1);
        semi = e.find(';');
        std::string_view p = trim(e.substr(0, semi));
        std::size_t eq = p.find('=');
        if (!iequal(trim(p.substr(0, eq)), "q")) continue;
        if (have_q) {
          st = malformed(std::string(header) + ": q appears twice for " + mech.name);
          return false;
        }
        auto q = eq == std::string_view::npos ? std::nullopt : sip::parse_q(trim(p.substr(eq + 1)));
        if (!q) {
          st = malformed(std::string(header) + ": bad q-value for " + mech.name);
          return false;
        }
        mech.q = *q;
        have_q = true;
      }
      if (out.size() >= msg::kMaxMechs) {
        st = err(Code::bad_length, "SecMechList must hold 1 to 16 mechanisms");
        return false;
      }
      out.push_back(std::move(mech));
      return true;
    });
  });
  return st;
}

// The hostport of the first Contact's URI.
Result<std::string> contact_host(std::string_view v) {
  std::string_view c;
  each_item(v, [&](std::string_view e) {
    c = e;
    return false;
  });
  std::string_view uri;
  std::size_t lt = c.find('<');
  if (lt != std::string_view::npos) {
    std::size_t gt = c.find('>', lt);
    if (gt == std::string_view::npos) return malformed("Contact: unterminated <");
    uri = c.substr(lt + 1, gt - lt - 1);
  } else {
    uri = c.substr(0, c.find(';'));
  }
  uri = trim(uri);
  std::size_t colon = uri.find(':');
  if (colon == std::string_view::npos || (!iequal(uri.substr(0, colon), "sip") && !iequal(uri.substr(0, colon), "sips")))
    return malformed("Contact is not a SIP URI");
  uri.remove_prefix(colon + 1);
  std::size_t params = 0;  // (find_first_of calls memchr once per character: a loop is cheaper)
  while (params < uri.size() && uri[params] != ';' && uri[params] != '?') ++params;
  uri = uri.substr(0, params);
  std::size_t at = uri.rfind('@');
  if (at != std::string_view::npos) uri.remove_prefix(at + 1);
  if (uri.empty()) return malformed("Contact has no host");
  return std::string(uri);
}

// The transaction a message carries when it is sent after prev, the message it answers or
// forwards (RFC 3261 8.2.6, 16.6, 16.7): a forwarded request keeps prev's From, To, Call-ID and
// CSeq and adds the proxy's own Via above prev's; a response echoes prev's Vias, From, Call-ID
// and CSeq, and its To with the registrar's tag added; a forwarded response drops the top Via.
struct Echo {
  std::vector<std::string_view> vias;  // one via-parm each, top first
  std::string_view from, to, call_id, cseq;
  unsigned max_forwards = 70;
  bool own_via = false, add_to_tag = false;
};

bool has_tag(std::string_view name_addr) {
  // The tag parameter follows the URI: after its closing '>', or anywhere in a bare URI's params.
  std::size_t gt = name_addr.rfind('>');
  std::string_view params = gt == std::string_view::npos ? name_addr : name_addr.substr(gt + 1);
  for (std::size_t i = 0; i + 5 <= params.size(); ++i)
    if (params[i] == ';' && iequal(trim(params.substr(i + 1, 3)), "tag")) return true;
  return false;
}

std::optional<Echo> echo_of(const SipText& prev, Kind kind) {
  Echo e;
  prev.each(Hdr::via, [&](std::string_view v) {
    each_item(v, [&](std::string_view via) {
      if (!via.empty()) e.vias.push_back(via);
      return true;
    });
  });
  if (prev.request && kind == Kind::request) {  // a proxy forwarding the request
    e.own_via = true;
    if (prev.count(Hdr::max_forwards) == 1) {
      std::string_view mf = prev.first(Hdr::max_forwards);
      if (mf.empty() || mf.size() > 3 || !all_of(mf, is_digit)) return std::nullopt;
      unsigned v = 0;
      for (char c : mf) v = v * 10 + static_cast<unsigned>(c - '0');
      e.max_forwards = v > 0 ? v - 1 : 0;
    }
  } else if (prev.request) {  // the registrar answering it
    e.add_to_tag = !has_tag(prev.first(Hdr::to));
  } else if (kind != Kind::request && e.vias.size() > 1) {  // a proxy forwarding the response
    e.vias.erase(e.vias.begin());
  } else {
    return std::nullopt;
  }
  if (e.vias.empty()) return std::nullopt;
  e.from = prev.first(Hdr::from);
  e.to = prev.first(Hdr::to);
  e.call_id = prev.first(Hdr::call_id);
  e.cseq = prev.first(Hdr::cseq);
  return e;
}

Result<Bytes> encode_sip(const Message& m, const SipText* prev) {
  const StepSpec* spec = msg::find_step(m.flow, m.step);
  if (!spec) return err(Code::unknown_step, "no such step");
  auto sh = shape_of(*spec);
  if (!sh) return err(Code::unknown_step, std::string(spec->name) + " does not travel over SIP");
  if (auto st = msg::validate(m, msg::Sizes::loose); !st) return st.error();
  const Envelope e = envelope(m, *spec, *sh);
  const std::optional<Echo> echo = prev ? echo_of(*prev, sh->kind) : std::nullopt;
  // [0140]: toward the terminal of the proxied flow it is the proxy that challenges, so s6 is a 407
  // with Proxy-Authenticate and the terminal answers (s7) with Proxy-Authorization.
  const bool by_proxy = m.flow == Flow::proxied && (m.step == 6 || m.step == 7);

  std::string out;
  auto line = [&](std::string_view a, std::string_view b = {}) {
    out += a;
    out += b;
    out += "\r\n";
  };
  switch (sh->kind) {
    case Kind::request: line("REGISTER ", e.request_uri + " SIP/2.0"); break;
    case Kind::challenge:
      line(by_proxy ? "SIP/2.0 407 Proxy Authentication Required" : "SIP/2.0 401 Unauthorized");
      break;
    case Kind::success: line("SIP/2.0 200 OK"); break;
  }
  if (!echo || echo->own_via) line("Via: SIP/2.0/UDP ", e.sent_by + ";branch=" + e.branch);
  if (echo)
    for (std::string_view via : echo->vias) line("Via: ", via);
  if (sh->kind == Kind::request) line("Max-Forwards: ", std::to_string(echo ? echo->max_forwards : 70));
  if (echo) {
    line("From: ", echo->from);
    std::string to(echo->to);
    if (echo->add_to_tag) to += ";tag=" + e.to_tag;
    line("To: ", to);
    line("Call-ID: ", echo->call_id);
    line("CSeq: ", echo->cseq);
  } else {
    line("From: <", e.aor + ">;tag=" + e.from_tag);
    line("To: <", e.aor + (sh->kind == Kind::request ? ">" : ">;tag=" + e.to_tag));
    line("Call-ID: ", e.call_id);
    line("CSeq: ", std::to_string(sh->cseq) + " REGISTER");
  }
  const std::string user = sip::escape_user(*m.IDc);
  const std::string params = kd_params(m, *spec);
  switch (sh->kind) {
    case Kind::request:
      line("Contact: <sip:", user + "@" + contact_hostport(*m.IPc) + ">");
      line("Expires: 3600");
      line(by_proxy ? "Proxy-Authorization: KD " : "Authorization: KD ", params);
      if (m.SecMechList) {
        line("Security-Client: ", mech_list_text(*m.SecMechList));
        line("Require: sec-agree");
        line("Proxy-Require: sec-agree");
      }
      break;
    case Kind::challenge:
      line(by_proxy ? "Proxy-Authenticate: KD " : "WWW-Authenticate: KD ", params);
      if (m.SecMechReq) line("Require: sec-agree");
      break;
    case Kind::success:
      line("Contact: <", e.aor + ">;expires=3600");
      line("Authentication-Info: ", params);
      if (m.SecMechList) line("Security-Verify: ", mech_list_text(*m.SecMechList));
      break;
  }
  line("Content-Length: 0");
  line("");
  return Bytes(out.begin(), out.end());
}

}  // namespace

bool SipCodec::carries(const StepSpec& s) const noexcept { return shape_of(s).has_value(); }

Result<Bytes> SipCodec::encode(const Message& m) const { return encode_sip(m, nullptr); }

Result<Bytes> SipCodec::encode_after(const Message& m, ByteView previous) const {
  SipText prev;
  if (previous.empty() || !parse_text(previous, prev)) return encode_sip(m, nullptr);
  return encode_sip(m, &prev);
}

Result<Message> SipCodec::decode(ByteView wire) const {
  Message m;
  if (auto st = decode_into(wire, m); !st) return st.error();
  return m;
}

namespace {

// The buffers of the fields that a reused Message no longer carries, kept for the next message
// that does (kd-decode decodes a million messages into a few thousand Messages, and each step
// carries other fields): without them most fields of most messages would be allocated anew.
// One set per decoding thread, of a bounded size.
class FieldBuffers {
public:
  // Makes out hold a value, with a kept buffer when there is one.
  template <class T>
  void fill(std::optional<T>& out) {
    if (out) return;
    std::vector<T>& kept = pool<T>();
    if (kept.empty()) {
      out.emplace();
    } else {
      out.emplace(std::move(kept.back()));
      kept.pop_back();
    }
  }
  // Empties value, keeping its buffer when it is a string, bytes or a list (a short string has
  // none: its characters are inside it).
  template <class T>
  void take(std::optional<T>& value) {
    if constexpr (std::is_same_v<T, std::string> || std::is_same_v<T, Bytes> || std::is_same_v<T, msg::MechList>) {
      std::vector<T>& kept = pool<T>();
      if (value && kept.size() < kMax && value->capacity() > T().capacity()) kept.push_back(std::move(*value));
    }
    value.reset();
  }

private:
  static constexpr std::size_t kMax = 64;
  template <class T>
  std::vector<T>& pool() {
    if constexpr (std::is_same_v<T, std::string>) return strings_;
    else if constexpr (std::is_same_v<T, Bytes>) return bytes_;
    else return lists_;
  }
  std::vector<std::string> strings_;
  std::vector<Bytes> bytes_;
  std::vector<msg::MechList> lists_;
};
thread_local FieldBuffers field_buffers;

}  // namespace

// Decodes into m, reusing the buffers of the fields it had (kd-decode decodes a million messages
// into a few thousand Messages): each field is assigned in place, and every field the message does
// not carry is cleared at the end. On error m holds no particular message.
Status SipCodec::decode_into(ByteView wire, Message& m) const {
  SipText t;
  if (auto st = parse_text(wire, t); !st) return st.error();

  // CSeq: number and method.
  std::string_view cseq = t.first(Hdr::cseq);
  std::size_t sp = 0;
  while (sp < cseq.size() && is_digit(cseq[sp])) ++sp;
  if (sp == 0 || sp > 10 || sp >= cseq.size() || !is_lws(cseq[sp])) return malformed("bad CSeq");
  std::string_view cmethod = trim(cseq.substr(sp));
  if (cmethod.empty()) return malformed("bad CSeq");
  if (t.request && cmethod != t.method) return malformed("the CSeq method differs from the request's");

  Kind kind;
  if (t.request) {
    if (t.method != "REGISTER")
      return err(Code::unknown_step, "a SIP " + std::string(t.method) + " is no step of kd's flows");
    kind = Kind::request;
  } else {
    if (cmethod != "REGISTER")
      return err(Code::unknown_step, "a response to " + std::string(cmethod) + " is no step of kd's flows");
    if (t.status == 401 || t.status == 407) kind = Kind::challenge;
    else if (t.status == 200) kind = Kind::success;
    else return err(Code::unknown_step, "SIP status " + std::to_string(t.status) + " is no step of kd's flows");
  }

  Params creds_p, chal_p, info_p;
  auto creds = find_kd(t, {Hdr::authorization, Hdr::proxy_authorization}, false, creds_p);
  if (!creds) return creds.error();
  auto chal = find_kd(t, {Hdr::www_authenticate, Hdr::proxy_authenticate}, false, chal_p);
  if (!chal) return chal.error();
  auto info = find_kd(t, {Hdr::authentication_info}, true, info_p);
  if (!info) return info.error();
  const bool have = kind == Kind::request ? *creds : kind == Kind::challenge ? *chal : *info;
  const char* header_name = kind == Kind::request     ? "Authorization: KD"
                            : kind == Kind::challenge ? "WWW-Authenticate: KD"
                                                      : "Authentication-Info with kd-flow";
  if (!have) {
    if (*creds || *chal || *info)
      return err(Code::unknown_step, std::string(t.request ? "a REGISTER" : "SIP " + std::to_string(t.status)) +
                                         " carrying another kind of KD header is no step of kd's flows");
    return err(Code::missing_field, std::string("the message has no ") + header_name + " header");
  }
  const Params& p = kind == Kind::request ? creds_p : kind == Kind::challenge ? chal_p : info_p;
  auto get = [&](std::size_t k) { return p.get(k); };

  const std::string_view* flow_s = get(kd_param("kd-flow"));
  if (!flow_s) return err(Code::missing_field, std::string(header_name) + " has no kd-flow");
  auto flow = msg::parse_flow(*flow_s);
  if (!flow) return malformed("kd-flow must be proxied or direct");

  const bool tl = *flow == Flow::direct || get(kd_param("kd-n1")) || get(kd_param("kd-n2")) || get(kd_param("kd-ts"));
  std::array<bool, msg::kFieldCount + 1> set{};  // the fields this message carries
  auto mark = [&](Field fl) { set[static_cast<std::size_t>(fl)] = true; };
  m.flow = *flow;
  switch (kind) {
    case Kind::request: {
      const bool second = get(kd_param("nonce")) || get(kd_param("response"));
      if (*flow == Flow::proxied) m.step = second ? (tl ? 7 : 8) : (tl ? 1 : 2);
      else m.step = second ? 5 : 1;
      break;
    }
    case Kind::challenge: m.step = *flow == Flow::proxied ? (tl ? 6 : 5) : 4; break;
    case Kind::success: m.step = *flow == Flow::proxied ? (tl ? 10 : 9) : 6; break;
  }
  const StepSpec& spec = *msg::find_step(m.flow, m.step);

  Status st = Ok{};
  FieldBuffers& spare = field_buffers;
  auto str = [&](std::size_t k, Field fl, std::optional<std::string>& out) {
    const std::string_view* v = get(k);
    if (!v) return;
    spare.fill(out);
    out->assign(*v);
    mark(fl);
  };
  auto hex = [&](std::size_t k, Field fl, std::optional<Bytes>& out) {
    const std::string_view* v = get(k);
    if (!v || !st) return;
    spare.fill(out);
    if (auto h = hex_value(kKdParams[k], *v, *out); !h) st = h.error();
    mark(fl);
  };
  str(kd_param("algorithm"), Field::suite, m.suite);
  str(kd_param("username"), Field::IDc, m.IDc);
  if (*flow == Flow::proxied) str(kd_param("realm"), Field::IDsp, m.IDsp);
  else str(kd_param("realm"), Field::IDss, m.IDss);
  str(kd_param("kd-mech"), Field::SecMech, m.SecMech);
  str(kd_param("kd-ipc"), Field::IPc, m.IPc);
  hex(kd_param("nonce"), Field::Rand, m.Rand);
  hex(kd_param("response"), Field::Authenticator_c, m.Authenticator_c);
  hex(kd_param("kd-n1"), Field::N1, m.N1);
  hex(kd_param("kd-n2"), Field::N2, m.N2);
  hex(kd_param("kd-ekc"), Field::EKc, m.EKc);
  hex(kd_param("kd-eksp"), Field::EKsp, m.EKsp);
  hex(kd_param("kd-ekss"), Field::EKss, m.EKss);
  hex(kd_param("kd-mac"), Field::MAC, m.MAC);
  if (!st) return st.error();
  if (const std::string_view* ts = get(kd_param("kd-ts"))) {
    auto v = uint_value("kd-ts", *ts);
    if (!v) return v.error();
    std::optional<std::uint64_t>* slot = nullptr;
    Field which = Field::TS1;
    if (has_field(spec, Field::TS1)) slot = &m.TS1;
    else if (has_field(spec, Field::TS2)) slot = &m.TS2, which = Field::TS2;
    else if (has_field(spec, Field::TS3)) slot = &m.TS3, which = Field::TS3;
    else if (has_field(spec, Field::TS4)) slot = &m.TS4, which = Field::TS4;
    if (!slot) return malformed(std::string("kd-ts does not belong in ") + std::string(spec.name));
    *slot = *v;
    mark(which);
  }

  if (has_field(spec, Field::IPc) && !set[static_cast<std::size_t>(Field::IPc)]) {
    if (t.count(Hdr::contact) == 0) return err(Code::missing_field, std::string(spec.name) + " needs IPc (a Contact)");
    auto h = contact_host(t.first(Hdr::contact));
    if (!h) return h.error();
    m.IPc = std::move(*h);
    mark(Field::IPc);
  }
  if (has_field(spec, Field::SecMechList)) {
    const Hdr hn = kind == Kind::request ? Hdr::security_client : Hdr::security_verify;
    if (t.count(hn) > 0) {
      spare.fill(m.SecMechList);
      auto l = parse_mechs(t, hn, kind == Kind::request ? "Security-Client" : "Security-Verify", *m.SecMechList);
      if (!l) return l.error();
      mark(Field::SecMechList);
    }
  }
  if (has_field(spec, Field::SecMechReq)) {
    t.each(Hdr::require, [&](std::string_view v) {
      each_item(v, [&](std::string_view tag) {
        if (iequal(tag, "sec-agree")) {
          m.SecMechReq = true;
          mark(Field::SecMechReq);
        }
        return true;
      });
    });
  }

  msg::for_each_field(m, [&](Field fl, auto& value) {
    if (!set[static_cast<std::size_t>(fl)]) spare.take(value);
  });
  if (auto vs = msg::validate(m); !vs) return vs.error();
  return Ok{};
}

}  // namespace kd::wire
