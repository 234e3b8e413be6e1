// The SIP binding's inside, shared by its files (not for other parts): a message's text read as
// views into the wire bytes (sip_text.cpp), its SSE2 scanners (sip_scan.cpp), the KD
// authentication parameters (sip_params.cpp), the transaction a reply echoes (sip_echo.cpp).
// decode() is on kd-decode's hot path (a million messages in one run), so nothing is copied but a
// folded header line (rare) or a quoted value with escapes, and names are compared without
// lowering a copy. The error for each kind of bad input, and the order in which they are found,
// are those of kd-protocol(7).
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <list>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "core/bytes.hpp"
#include "core/error.hpp"
#include "msg/message.hpp"
#include "wire/sip_fields.hpp"
#include "wire/text.hpp"

namespace kd::wire::sip::detail {

// The three kinds of SIP message kd's steps become.
enum class Kind { request, challenge, success };

struct StepShape {
  Kind kind;
  int cseq;  // 1: the first REGISTER and its 401, 2: the second REGISTER and its 200
};
std::optional<StepShape> shape_of(const msg::StepSpec& s);
// The kind as the field table's header entries name it (FieldEntry::in).
constexpr std::uint8_t table_kind(Kind k) {
  return k == Kind::request ? sip_register : k == Kind::challenge ? sip_challenge : sip_ok;
}

// ---- characters and names ----------------------------------------------------------------------

constexpr std::array<bool, 256> kTokenChars = [] {
  std::array<bool, 256> t{};
  for (int c = 0; c < 256; ++c) t[static_cast<std::size_t>(c)] = text::is_alnum(static_cast<char>(c));
  for (char c : std::string_view("-.!%*_+`'~")) t[static_cast<unsigned char>(c)] = true;
  return t;
}();
inline bool token_char(char c) { return kTokenChars[static_cast<unsigned char>(c)]; }

// iequal for a name made only of token characters (checked before) and a lowercase name of
// letters, digits and '-': setting bit 5 lowers a letter, and maps no other token character onto
// a letter, a digit or '-', so one OR per character does.
inline bool token_iequal(std::string_view token, std::string_view lower_name) {
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

// Calls f with each item of a header value split at commas outside quotes and angle brackets
// (trimmed, empty ones included); stops early when f returns false.
// The characters that matter to it: the rest (most of a Via, a Contact) is passed over with one
// look-up each, not four compares (a proxy splits the Vias of each message it forwards).
inline constexpr std::array<bool, 256> kItemChars = [] {
  std::array<bool, 256> t{};
  for (char c : std::string_view("\"<>,")) t[static_cast<unsigned char>(c)] = true;
  return t;
}();
template <class F>
void each_item(std::string_view s, F&& f) {
  bool q = false;
  int angle = 0;
  std::size_t from = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (!kItemChars[static_cast<unsigned char>(c)]) continue;
    if (c == '"' && (i == 0 || s[i - 1] != '\\')) q = !q;
    else if (!q && c == '<') ++angle;
    else if (!q && c == '>' && angle > 0) --angle;
    else if (!q && angle == 0 && c == ',') {
      if (!f(text::trim(s.substr(from, i - from)))) return;
      from = i + 1;
    }
  }
  f(text::trim(s.substr(from)));
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

// ---- the message text (sip_text.cpp) ---------------------------------------------------------

// The headers decode() reads; every other header is checked for syntax and skipped.
enum class Hdr : std::uint8_t {
  other, via, from, to, call_id, cseq, content_length, contact, require, authorization,
  proxy_authorization, www_authenticate, proxy_authenticate, authentication_info, security_client,
  security_verify, max_forwards, count_
};
std::string_view header_name(Hdr h);  // lowercase
Hdr header_id(std::string_view name);  // in any case; Hdr::other for a header decode() skips

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

  void clear() {  // as constructed, its buffers kept
    request = false;
    method = {};
    status = 0;
    headers.clear();
    counts = {};
    folded.clear();
  }

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

// The start line and the headers, checked as far as kd-protocol(7) asks of any SIP message.
Status parse_text(ByteView wire, SipText& t);
// The same, for a message read again: a proxy decodes each message it forwards, then encodes the
// next step after it (its Vias, From, To, Call-ID and CSeq), and parsing it twice was the largest
// single cost of its SIP codec (callgrind, kd-proxy serve). The last message read successfully is
// kept with a copy of its bytes on this thread; the same bytes again get its text without a
// second parse, any other bytes are parsed (and kept when they parse). *out is valid until the
// next call on this thread; on error it is not set.
Status parse_text_kept(ByteView wire, const SipText*& out);

// ---- scanners (sip_scan.cpp) -----------------------------------------------------------------

struct HeaderSection {
  std::size_t end;  // just past the empty line's LF; without one, past the last LF
  bool ended;       // the empty line was found
  bool nul;         // a NUL byte comes before end
};
// The header section of text split into lines (each without its LF, nor a CR before it), up to
// the first empty line.
HeaderSection split_lines(std::string_view text, std::vector<std::string_view>& lines);
// The index of the first '"' or '\\' in s from i on, or s.size().
std::size_t quote_or_backslash(std::string_view s, std::size_t i);

// ---- the KD authentication parameters (sip_params.cpp) ---------------------------------------

// The index in kParams of a KD parameter's name, at compile time.
consteval std::size_t kd_param(std::string_view name) {
  for (std::size_t k = 0; k < kParams.count; ++k)
    if (kParams.names[k] == name) return k;
  throw "not a KD parameter";
}

// Authentication parameters: names as written (compared without case), values as views into the
// header, or into unescaped when a quoted value holds a backslash escape.
struct Params {
  struct Param {
    std::string_view name, value;
    int kd = -1;  // index in kParams, or -1 for another parameter
  };
  SmallVec<Param, 16> list;
  std::array<std::int16_t, kParams.count> at = make_unset();  // KD parameter -> index in list
  std::list<std::string> unescaped;

  static constexpr std::array<std::int16_t, kParams.count> make_unset() {
    std::array<std::int16_t, kParams.count> a{};
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

// Finds the one KD value among the given headers, parsed into out: false when there is none.
// schemeless: Authentication-Info, whose value has no scheme, is KD's when it names kd-flow.
Result<bool> find_kd(const SipText& t, std::initializer_list<Hdr> names, bool schemeless, Params& out);

// ---- replies and forwarded requests (sip_echo.cpp) -------------------------------------------

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
std::optional<Echo> echo_of(const SipText& prev, Kind kind);

// ---- encoding (sip_encode.cpp) ---------------------------------------------------------------

// A request as a new transaction (SipCodec::encode_fresh): each value, when not empty, in place of
// the derived one. branch: of the sender's own Via; call_id and from_tag: of a request that is
// not forwarded (the terminal's own: its registration's); sent_by: of the sender's own Via, which
// then carries rport (RFC 3581) too.
struct Fresh {
  std::string_view branch, call_id, from_tag, sent_by;
};
// prev: the parsed message m answers or forwards, or nullptr. transport: named in the sender's
// own Via.
Result<Bytes> encode(const msg::Message& m, const SipText* prev, const Fresh& fresh = {},
                     Transport transport = Transport::udp);
// The hostport the Contact shows for IPc; kd-ipc carries IPc verbatim when this differs from it.
std::string contact_hostport(const std::string& ipc);

}  // namespace kd::wire::sip::detail
