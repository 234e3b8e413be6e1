// A minimal schedule (doubling from initial to max, giving up at the timeout or after count sends;
// SIP's timers for every binding, no jitter), so that live mode builds and runs; the per-binding
// defaults of each standard come with issue 12's timer work.
#include "net/retransmit.hpp"

#include <algorithm>
#include <charconv>

namespace kd::net {

Timers default_timers(wire::Binding) noexcept { return Timers{}; }

std::optional<std::string> parse_timers(std::string_view spec, Timers& t) {
  Timers out = t;
  while (!spec.empty()) {
    const auto comma = spec.find(',');
    const std::string_view item = spec.substr(0, comma);
    spec = comma == std::string_view::npos ? std::string_view() : spec.substr(comma + 1);
    const auto eq = item.find('=');
    if (eq == std::string_view::npos)
      return "--retransmit: \"" + std::string(item) + "\" is not KEY=VALUE (initial, max, count, timeout, keep)";
    const std::string_view key = item.substr(0, eq), value = item.substr(eq + 1);
    std::uint64_t v = 0;
    const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
    if (value.empty() || ec != std::errc() || end != value.data() + value.size())
      return "--retransmit: " + std::string(key) + "=" + std::string(value) + ": not a decimal number";
    if (key == "count") {
      if (v > 1000) return "--retransmit: count must be 0 (no limit) to 1000";
      out.max_sends = static_cast<std::uint32_t>(v);
      continue;
    }
    if (v == 0 || v > 3600000) return "--retransmit: " + std::string(key) + " must be 1 to 3600000 ms";
    if (key == "initial") out.initial_ms = v;
    else if (key == "max") out.max_interval_ms = v;
    else if (key == "timeout") out.timeout_ms = v;
    else if (key == "keep") out.keep_response_ms = v;
    else return "--retransmit: unknown key \"" + std::string(key) + "\" (initial, max, count, timeout, keep)";
  }
  if (out.max_interval_ms < out.initial_ms) return "--retransmit: max must not be below initial";
  t = out;
  return std::nullopt;
}

Retransmission::Retransmission(const Timers& t, std::uint64_t first_send_ms, std::uint64_t)
    : t_(t), first_(first_send_ms), interval_(t.initial_ms) {
  deadline_ = std::min(first_ + interval_, first_ + t_.timeout_ms);
}

std::uint64_t Retransmission::deadline() const noexcept { return deadline_; }
std::uint32_t Retransmission::sends() const noexcept { return sends_; }

Retransmission::Action Retransmission::on_deadline(std::uint64_t now_ms) noexcept {
  const std::uint64_t end = first_ + t_.timeout_ms;
  if (now_ms >= end || (t_.max_sends != 0 && sends_ >= t_.max_sends)) {
    deadline_ = end;
    return Action::give_up;
  }
  ++sends_;
  interval_ = std::min(interval_ * 2, t_.max_interval_ms);
  deadline_ = std::min(now_ms + interval_, end);
  return Action::resend;
}

}  // namespace kd::net
