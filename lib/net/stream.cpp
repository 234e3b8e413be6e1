#include "net/stream.hpp"

#include <algorithm>

#include "capture/capture.hpp"

namespace kd::net {

namespace {

// JSON over TCP: a message per line. The capture readers have no such framer because no standard
// binding is framed by lines; this one is bounded as theirs are (a line longer than the limit is
// cut off, never held).
class LineFramer final : public capture::Framer {
public:
  std::size_t push(ByteView data, std::vector<Bytes>& out) override {
    for (const auto b : data) {
      if (b != '\n') {
        if (buf_.size() == kMaxStreamMessage) return reset() + 1;
        buf_.push_back(b);
        continue;
      }
      if (!buf_.empty() && buf_.back() == '\r') buf_.pop_back();
      if (!buf_.empty()) out.push_back(std::move(buf_));
      buf_.clear();
    }
    return 0;
  }
  std::size_t pending() const override { return buf_.size(); }
  std::size_t reset() override {
    const std::size_t n = buf_.size();
    Bytes().swap(buf_);  // a long line must not pin its memory for the connection's life
    return n;
  }
  bool discarded_overlong() const override { return true; }  // a line is cut only for its length

private:
  Bytes buf_;
};

}  // namespace

std::optional<StreamFraming> stream_framing(wire::Binding b) noexcept {
  if (b == wire::Binding::json) return StreamFraming::lines;
  switch (wire::binding_info(b).tcp) {
    case wire::Framing::sip: return StreamFraming::sip;
    case wire::Framing::tpkt: return StreamFraming::tpkt;
    // MGCP's row frames a captured stream as it comes, for reading what others send; RFC 3435
    // (section 3.5) defines MGCP over UDP, so kd does not send it over TCP.
    case wire::Framing::raw:
    case wire::Framing::none: break;
  }
  return std::nullopt;
}

std::string stream_binding_names() {
  std::string names;
  for (const auto& row : wire::bindings())
    if (row.binding != wire::Binding::json && stream_framing(row.binding))
      names += std::string(row.name) + ", ";
  return names + "json";
}

std::unique_ptr<capture::Framer> make_stream_framer(StreamFraming f) {
  switch (f) {
    case StreamFraming::sip: return capture::make_sip_framer(kMaxStreamMessage);
    case StreamFraming::tpkt: return capture::make_tpkt_framer();
    case StreamFraming::lines: break;
  }
  return std::make_unique<LineFramer>();
}

std::optional<std::string> append_framed(StreamFraming f, ByteView message, Bytes& out) {
  switch (f) {
    case StreamFraming::sip: break;  // the message carries its Content-Length
    case StreamFraming::tpkt: {
      // RFC 1006 section 6: version 3, a reserved byte, the length of the whole packet.
      const std::size_t len = message.size() + 4;
      if (len > 0xffff) return "a message of " + std::to_string(message.size()) + " bytes does not fit a TPKT packet";
      const std::uint8_t head[4] = {3, 0, static_cast<std::uint8_t>(len >> 8), static_cast<std::uint8_t>(len & 0xff)};
      out.insert(out.end(), head, head + 4);
      break;
    }
    case StreamFraming::lines:
      if (std::find(message.begin(), message.end(), std::uint8_t{'\n'}) != message.end())
        return std::string("a JSON message holding a line break cannot travel as one line");
      out.insert(out.end(), message.begin(), message.end());
      out.push_back('\n');
      return std::nullopt;
  }
  out.insert(out.end(), message.begin(), message.end());
  return std::nullopt;
}

Timers without_retransmission(Timers t) noexcept {
  // The first deadline is the timeout: the schedule gives up there instead of resending.
  t.initial_ms = t.max_interval_ms = t.timeout_ms;
  t.jitter_permille = 0;
  return t;
}

}  // namespace kd::net
