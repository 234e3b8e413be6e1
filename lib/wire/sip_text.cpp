// A SIP message's start line and headers (RFC 3261 7), as views into the wire bytes.
#include <utility>

#include "wire/sip.hpp"
#include "wire/sip_text.hpp"

namespace kd::wire::sip::detail {

using text::all_of;
using text::iequal;
using text::is_digit;
using text::is_wsp;
using text::malformed;
using text::trim;

namespace {

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

// A header's name (token characters only), long or compact form (RFC 3261 7.3.3), in any case:
// looked up by its length first, as most names are compared on every line of every message.
Hdr classify(std::string_view name) {
  if (name.size() == 1) {
    switch (text::lower_ascii(name[0])) {
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

}  // namespace

std::string_view header_name(Hdr h) {
  for (const auto& [n, id] : kHeaderNames)
    if (id == h) return n;
  return "?";
}

Hdr header_id(std::string_view name) { return classify(name); }

Status parse_text_kept(ByteView wire, const SipText*& out) {
  struct Kept {
    Bytes bytes;
    SipText text;
    bool valid = false;
  };
  thread_local Kept kept;
  if (kept.valid && kept.bytes.size() == wire.size() &&
      (wire.empty() || std::memcmp(kept.bytes.data(), wire.data(), wire.size()) == 0)) {
    out = &kept.text;
    return Ok{};
  }
  kept.valid = false;
  kept.bytes.assign(wire.begin(), wire.end());
  kept.text.clear();
  if (auto st = parse_text(kept.bytes, kept.text); !st) return st;
  kept.valid = true;
  out = &kept.text;
  return Ok{};
}

Status parse_text(ByteView wire, SipText& t) {
  if (wire.size() > kMaxMessage)
    return err(Code::oversized, "the SIP message exceeds " + std::to_string(kMaxMessage) + " bytes");
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
    if (is_wsp(line.front()) && i > 1) {
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

}  // namespace kd::wire::sip::detail
