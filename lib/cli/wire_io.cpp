#include "cli/wire_io.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <limits>

#include <poll.h>
#include <sys/stat.h>

#include "cli/io.hpp"
#include "json/keystore.hpp"
#include "json/message.hpp"
#include "wire/radius.hpp"

namespace kd::cli {

using codecs::all_signaling;
using codecs::kMaxRaw;

namespace {

bool capture_magic(const unsigned char* b, std::size_t n) {
  if (n < 4) return false;
  static constexpr std::array<std::array<unsigned char, 4>, 5> kMagic{{
      {0xd4, 0xc3, 0xb2, 0xa1}, {0xa1, 0xb2, 0xc3, 0xd4},  // pcap, microseconds
      {0x4d, 0x3c, 0xb2, 0xa1}, {0xa1, 0xb2, 0x3c, 0x4d},  // pcap, nanoseconds
      {0x0a, 0x0d, 0x0d, 0x0a},                            // pcapng section header block
  }};
  for (const auto& m : kMagic)
    if (std::memcmp(b, m.data(), 4) == 0) return true;
  return false;
}

// A stdio stream that yields the n bytes of head, then what is left of rest (which it does not
// close): standard input with the bytes read to recognise a capture put back.
struct Replay {
  unsigned char head[4];
  std::size_t n, used;
  std::FILE* rest;
};

ssize_t replay_read(void* cookie, char* buf, std::size_t size) {
  auto* r = static_cast<Replay*>(cookie);
  if (r->used < r->n) {
    const std::size_t k = std::min(size, r->n - r->used);
    std::memcpy(buf, r->head + r->used, k);
    r->used += k;
    return static_cast<ssize_t>(k);
  }
  const std::size_t k = std::fread(buf, 1, size, r->rest);
  if (k == 0 && std::ferror(r->rest)) return -1;
  return static_cast<ssize_t>(k);
}

int replay_close(void* cookie) {
  delete static_cast<Replay*>(cookie);
  return 0;
}

std::FILE* replay_then(const unsigned char* head, std::size_t n, std::FILE* rest) {
  auto* r = new Replay{{}, std::min(n, sizeof Replay::head), 0, rest};
  std::memcpy(r->head, head, r->n);
  std::FILE* f = fopencookie(r, "rb", cookie_io_functions_t{replay_read, nullptr, nullptr, replay_close});
  if (!f) delete r;
  return f;
}

// A wire line holds up to 65536 bytes as hex, plus its envelope.
constexpr std::size_t kMaxWireLine = 2 * json::kMaxLine + 256;

}  // namespace

Input::Input(const std::string& path, bool allow_raw, capture::Options options) : path_(path) {
  if (path != "-") check_readable(path, "input");
  file_ = path == "-" ? stdin : std::fopen(path.c_str(), "rb");
  if (!file_) throw IoError{"cannot open input " + path + ": " + std::strerror(errno)};
  unsigned char head[4];
  const std::size_t n = std::fread(head, 1, sizeof head, file_);
  if (capture_magic(head, n)) {
    Result<capture::Reader> r = err(Code::malformed, "");
    if (file_ == stdin) {
      // A pipe cannot be rewound: libpcap reads a stream that gives the sniffed bytes again and
      // then the rest of standard input, record by record, so a live capture streams too.
      std::FILE* replay = replay_then(head, n, stdin);
      if (!replay) throw IoError{"cannot read standard input: " + std::string(std::strerror(errno))};
      r = capture::Reader::from_stream(replay, "standard input", std::move(options));
    } else {
      std::fclose(file_);
      file_ = nullptr;
      r = capture::Reader::open(path, std::move(options));
    }
    if (!r) throw IoError{"capture " + r.error().detail};  // the reader names it
    reader_ = std::make_unique<capture::Reader>(std::move(*r));
    return;
  }
  prefix_.assign(reinterpret_cast<const char*>(head), n);
  if (allow_raw) {
    std::size_t i = 0;
    while (i < prefix_.size() && (prefix_[i] == ' ' || prefix_[i] == '\t' || prefix_[i] == '\r' || prefix_[i] == '\n')) ++i;
    raw_ = n > 0 && (i == prefix_.size() ? false : prefix_[i] != '{');
  }
}

Input::~Input() {
  if (file_ && file_ != stdin) std::fclose(file_);
}

bool Input::ready() const {
  if (reader_ || raw_ || done_ || !prefix_.empty()) return true;
#ifdef __GLIBC__
  if (file_->_IO_read_ptr < file_->_IO_read_end) return true;  // read ahead into stdio's buffer
#endif
  struct stat st {};
  if (::fstat(::fileno(file_), &st) == 0 && S_ISREG(st.st_mode)) return true;
  pollfd p{::fileno(file_), POLLIN, 0};
  return ::poll(&p, 1, 0) > 0;
}

const capture::Stats* Input::capture_stats() const { return reader_ ? &reader_->stats() : nullptr; }

// A read error ends the input as the end of the file does: it must not pass for one.
void Input::throw_if_failed() const {
  if (file_ && std::ferror(file_))
    throw IoError{"cannot read input " + (path_ == "-" ? std::string("(standard input)") : path_) + ": " +
                  std::strerror(errno)};
}

bool Input::read_line(std::string& line) {
  // Never holds more than kMaxWireLine + 1 bytes of one line: a longer one is truncated here and
  // refused as oversized by the decoder (a logical line over kMaxLine is refused too).
  line.clear();
  bool any = false, ended = false;
  auto take = [&](int ch) {
    any = true;
    if (ch == '\n') ended = true;
    else if (line.size() <= kMaxWireLine) line.push_back(static_cast<char>(ch));
  };
  std::size_t used = 0;  // bytes sniffed from standard input come first
  while (used < prefix_.size() && !ended) take(static_cast<unsigned char>(prefix_[used++]));
  prefix_.erase(0, used);
  for (int ch; !ended && (ch = std::fgetc(file_)) != EOF;) take(ch);
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return any;
}

bool Input::next(InputItem& item) {
  if (done_) return false;
  if (reader_) {
    item.kind = InputItem::Kind::packet;
    if (reader_->next(item.packet)) return true;
    done_ = true;
    if (auto e = reader_->error()) throw IoError{"capture " + (path_ == "-" ? "standard input" : path_) + ": " + e->detail};
    return false;
  }
  if (raw_) {
    done_ = true;
    item.kind = InputItem::Kind::raw;
    item.raw.assign(prefix_.begin(), prefix_.end());
    unsigned char buf[4096];
    std::size_t k;
    while ((k = std::fread(buf, 1, sizeof buf, file_)) > 0 && item.raw.size() <= kMaxRaw)
      item.raw.insert(item.raw.end(), buf, buf + k);
    throw_if_failed();
    return true;
  }
  item.kind = InputItem::Kind::line;
  while (read_line(item.line))
    if (item.line.find_first_not_of(" \t") != std::string::npos) return true;
  done_ = true;
  throw_if_failed();
  return false;
}

// ---- options ------------------------------------------------------------------------------------

std::string read_radius_secret(const std::string& path, std::string_view tool) {
  auto text = read_file(path, "RADIUS secret file");
  if (!text) throw IoError{"RADIUS secret file " + path + " does not exist"};
  warn_if_readable(tool, "", path);
  std::string secret = text->substr(0, text->find('\n'));
  if (!secret.empty() && secret.back() == '\r') secret.pop_back();
  secure_wipe(text->data(), text->size());
  if (secret.empty() || secret.size() > 128) {
    secure_wipe(secret.data(), secret.size());
    throw IoError{"RADIUS secret file " + path + ": the first line must hold 1 to 128 bytes"};
  }
  return secret;
}

flow::Keystore read_keystore(const std::string& path, std::string_view tool) {
  auto text = read_file(path, "keystore");
  if (!text) throw IoError{"keystore " + path + " does not exist (create it with kd-auc keys init)"};
  warn_if_readable(tool, "keystore", path);
  auto ks = json::decode_keystore(*text);
  secure_wipe(text->data(), text->size());
  if (!ks) throw IoError{"keystore " + path + ": " + ks.error().detail};
  return std::move(*ks);
}

std::optional<std::string> parse_addr(std::string_view arg, WireOptions& o) {
  const auto eq = arg.find('=');
  if (eq == std::string_view::npos) return "--addr wants ROLE=IP (e.g. switch=192.0.2.30)";
  const auto role = msg::parse_role(arg.substr(0, eq));
  if (!role) return "--addr: unknown role \"" + std::string(arg.substr(0, eq)) + "\" (term, proxy, switch, auc)";
  const std::string ip(arg.substr(eq + 1));
  capture::Packet probe;
  probe.src_ip = probe.dst_ip = ip;
  if (!capture::build_frame(probe)) return "--addr: \"" + ip + "\" is not an IPv4 or IPv6 address";
  o.addr[*role] = ip;
  return std::nullopt;
}

std::optional<std::string> parse_decode_as(std::string_view arg, WireOptions& o) {
  const auto eq = arg.find("==");
  const auto comma = eq == std::string_view::npos ? eq : arg.find(',', eq);
  if (comma == std::string_view::npos)
    return "--decode-as wants udp.port==PORT,BINDING or tcp.port==PORT,BINDING (e.g. udp.port==5080,sip), not \"" +
           std::string(arg) + "\"";
  const std::string what = "--decode-as " + std::string(arg) + ": ";
  DecodeAs d;
  const auto field = arg.substr(0, eq);
  if (field == "tcp.port") d.transport = capture::Transport::tcp;
  else if (field != "udp.port") return what + "the field must be udp.port or tcp.port";
  const auto digits = arg.substr(eq + 2, comma - eq - 2);
  unsigned port = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
  if (digits.empty() || ec != std::errc{} || end != digits.data() + digits.size() || port == 0 || port > 65535)
    return what + "the port must be 1 to 65535";
  d.port = static_cast<std::uint16_t>(port);
  const auto name = arg.substr(comma + 1);
  const auto b = wire::parse_binding(name);
  if (!b || *b == wire::Binding::json)
    return what + "unknown binding \"" + std::string(name) + "\" (" +
           wire::binding_names({wire::Carrier::signaling, wire::Carrier::auc_link}) + ")";
  d.binding = *b;
  if (d.transport == capture::Transport::tcp && wire::binding_info(*b).tcp == wire::Framing::none)
    return what + std::string(wire::binding_name(*b)) + " travels over UDP only";
  for (const auto& e : o.decode_as)
    if (e.transport == d.transport && e.port == d.port)
      return what + std::string(field) + "==" + std::to_string(port) + " is mapped twice";
  o.decode_as.push_back(d);
  return std::nullopt;
}

std::optional<std::string> check_decode_as(const WireOptions& o, std::string_view tool, bool auc_link) {
  for (const auto& d : o.decode_as) {
    const std::string what = "--decode-as " + std::string(d.transport == capture::Transport::tcp ? "tcp" : "udp") +
                             ".port==" + std::to_string(d.port) + "," + std::string(wire::binding_name(d.binding)) + ": ";
    if (d.binding == wire::Binding::radius) {
      if (!auc_link) return what + std::string(tool) + " does not read radius (only the AuC link speaks it)";
      if (o.radius_secret.empty() && !o.radius_unverified)
        return what + "reading RADIUS needs the shared secret (--radius-secret-file)";
    } else if (!all_signaling(o) && d.binding != o.binding) {
      return what + std::string(tool) + " does not read " + std::string(wire::binding_name(d.binding)) +
             " (--binding " + std::string(wire::binding_name(o.binding)) + ")";
    }
  }
  return std::nullopt;
}

capture::Options capture_options(const WireOptions& o) {
  capture::Options options;
  std::map<std::uint16_t, wire::Binding> tcp;
  for (const auto& d : o.decode_as)
    if (d.transport == capture::Transport::tcp) tcp[d.port] = d.binding;
  if (tcp.empty()) return options;
  options.framer = [tcp](std::uint16_t src, std::uint16_t dst) -> std::unique_ptr<capture::Framer> {
    auto it = tcp.find(std::min(src, dst));  // the lower port first, as for the codec
    if (it == tcp.end()) it = tcp.find(std::max(src, dst));
    if (it == tcp.end()) return capture::default_framer(src, dst);
    switch (wire::binding_info(it->second).tcp) {
      case wire::Framing::sip: return capture::make_sip_framer();
      case wire::Framing::tpkt: return capture::make_tpkt_framer();
      case wire::Framing::raw:
      case wire::Framing::none: break;  // (parse_decode_as refuses a UDP-only binding on TCP)
    }
    return capture::make_raw_framer();
  };
  return options;
}

}  // namespace kd::cli
