// Framers: cut an in-order TCP byte stream into messages (SIP, TPKT, raw).
#include <algorithm>
#include <cstring>
#include <string_view>

#include "capture/capture.hpp"

namespace kd::capture {

namespace {

constexpr std::size_t kMaxSipHeader = 64 << 10;

// A buffer that drops consumed bytes from its front.
class Buffer {
public:
  void append(ByteView d) { b_.insert(b_.end(), d.begin(), d.end()); }
  std::size_t size() const { return b_.size(); }
  const std::uint8_t* data() const { return b_.data(); }
  std::uint8_t operator[](std::size_t i) const { return b_[i]; }
  Bytes take(std::size_t from, std::size_t to) {
    Bytes m(b_.begin() + static_cast<std::ptrdiff_t>(from), b_.begin() + static_cast<std::ptrdiff_t>(to));
    drop(to);
    return m;
  }
  void drop(std::size_t n) { b_.erase(b_.begin(), b_.begin() + static_cast<std::ptrdiff_t>(n)); }
  std::size_t clear() {
    const std::size_t n = b_.size();
    b_.clear();
    b_.shrink_to_fit();  // one huge message must not pin its memory for the stream's life
    return n;
  }

private:
  Bytes b_;
};

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return (x >= 'A' && x <= 'Z' ? x + 32 : x) == (y >= 'A' && y <= 'Z' ? y + 32 : y);
         });
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// The Content-Length of a SIP header block: 0 when absent (RFC 3261 18.3 makes it mandatory over
// TCP, so absence can only mean no body), nullopt when present but not a number; a number of more
// than 9 digits reads as kTooLong, above any framer's limit.
constexpr std::size_t kTooLong = 1'000'000'000;
std::optional<std::size_t> content_length(std::string_view head) {
  while (!head.empty()) {
    const std::size_t eol = head.find("\r\n");
    const std::string_view line = head.substr(0, eol);
    head = eol == std::string_view::npos ? std::string_view() : head.substr(eol + 2);
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    const std::string_view name = trim(line.substr(0, colon));
    if (!iequals(name, "content-length") && !iequals(name, "l")) continue;
    const std::string_view v = trim(line.substr(colon + 1));
    if (v.empty()) return std::nullopt;
    std::size_t n = 0;
    for (char c : v) {
      if (c < '0' || c > '9') return std::nullopt;
      n = std::min(n * 10 + static_cast<std::size_t>(c - '0'), kTooLong);
    }
    return n;
  }
  return 0;
}

class SipFramer final : public Framer {
public:
  explicit SipFramer(std::size_t max_body) : max_body_(max_body) {}

  std::size_t push(ByteView data, std::vector<Bytes>& out) override {
    buf_.append(data);
    while (true) {
      if (head_end_ == 0) {
        // CRLF keep-alives (RFC 5626) sit between messages.
        std::size_t lead = 0;
        while (lead < buf_.size() && (buf_[lead] == '\r' || buf_[lead] == '\n')) ++lead;
        if (lead) {
          buf_.drop(lead);
          scanned_ = 0;
        }
        const auto* p = buf_.data();
        const std::string_view s(reinterpret_cast<const char*>(p), buf_.size());
        const std::size_t at = s.find("\r\n\r\n", scanned_ >= 3 ? scanned_ - 3 : 0);
        if (at == std::string_view::npos) {
          scanned_ = buf_.size();
          if (buf_.size() > kMaxSipHeader) return fail(true);
          return 0;
        }
        if (at + 4 > kMaxSipHeader) return fail(true);
        const auto cl = content_length(s.substr(0, at + 2));
        if (!cl) return fail(false);
        if (*cl > max_body_) return fail(true);
        head_end_ = at + 4;
        body_ = *cl;
      }
      if (buf_.size() < head_end_ + body_) return 0;
      out.push_back(buf_.take(0, head_end_ + body_));
      head_end_ = body_ = scanned_ = 0;
    }
  }
  std::size_t pending() const override { return buf_.size(); }
  std::size_t reset() override {
    head_end_ = body_ = scanned_ = 0;
    return buf_.clear();
  }
  bool discarded_overlong() const override { return overlong_; }

private:
  std::size_t fail(bool overlong) {
    overlong_ = overlong;
    return reset();
  }

  std::size_t max_body_;
  Buffer buf_;
  std::size_t scanned_ = 0;   // bytes already searched for CRLFCRLF (avoids quadratic rescans)
  std::size_t head_end_ = 0;  // end of the current header block, 0 while not found
  std::size_t body_ = 0;
  bool overlong_ = false;  // what fail() discarded
};

class TpktFramer final : public Framer {
public:
  std::size_t push(ByteView data, std::vector<Bytes>& out) override {
    buf_.append(data);
    while (buf_.size() >= 4) {
      if (buf_[0] != 3) return buf_.clear();  // not version 3: the stream is not TPKT or lost sync
      const std::size_t len = static_cast<std::size_t>(buf_[2] << 8 | buf_[3]);
      if (len < 4) return buf_.clear();
      if (buf_.size() < len) break;
      if (len == 4) buf_.drop(4);  // an empty packet carries no message
      else out.push_back(buf_.take(4, len));
    }
    return 0;
  }
  std::size_t pending() const override { return buf_.size(); }
  std::size_t reset() override { return buf_.clear(); }

private:
  Buffer buf_;
};

class RawFramer final : public Framer {
public:
  std::size_t push(ByteView data, std::vector<Bytes>& out) override {
    if (!data.empty()) out.emplace_back(data.begin(), data.end());
    return 0;
  }
  std::size_t pending() const override { return 0; }
  std::size_t reset() override { return 0; }
};

}  // namespace

std::unique_ptr<Framer> make_sip_framer(std::size_t max_body) { return std::make_unique<SipFramer>(max_body); }
std::unique_ptr<Framer> make_tpkt_framer() { return std::make_unique<TpktFramer>(); }
std::unique_ptr<Framer> make_raw_framer() { return std::make_unique<RawFramer>(); }

std::unique_ptr<Framer> default_framer(std::uint16_t src_port, std::uint16_t dst_port) {
  auto is = [&](std::uint16_t a, std::uint16_t b) { return src_port == a || src_port == b || dst_port == a || dst_port == b; };
  if (is(5060, 5061)) return make_sip_framer();
  if (is(2944, 2945)) return make_tpkt_framer();
  return make_raw_framer();
}

}  // namespace kd::capture
