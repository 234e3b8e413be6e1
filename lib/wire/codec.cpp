#include "wire/codec.hpp"

#include <array>

#include "wire/h248.hpp"
#include "wire/h323.hpp"
#include "wire/mgcp.hpp"
#include "wire/radius.hpp"
#include "wire/sip.hpp"

namespace kd::wire {

namespace {
constexpr std::array<std::string_view, 6> kNames{"json", "sip", "mgcp", "h248", "h323", "radius"};
}

std::string_view binding_name(Binding b) noexcept {
  const auto i = static_cast<std::size_t>(b);
  return i < kNames.size() ? kNames[i] : std::string_view("?");
}

std::optional<Binding> parse_binding(std::string_view s) noexcept {
  for (std::size_t i = 0; i < kNames.size(); ++i)
    if (kNames[i] == s) return static_cast<Binding>(i);
  return std::nullopt;
}

std::optional<Phase> phase_of(const msg::StepSpec& s) noexcept {
  if (s.flow == msg::Flow::proxied) {
    switch (s.step) {
      case 1: case 2: return Phase::start;
      case 5: case 6: return Phase::challenge;
      case 7: case 8: return Phase::answer;
      case 9: case 10: return Phase::success;
      default: return std::nullopt;
    }
  }
  switch (s.step) {
    case 1: return Phase::start;
    case 4: return Phase::challenge;
    case 5: return Phase::answer;
    case 6: return Phase::success;
    default: return std::nullopt;
  }
}

bool term_link(const msg::StepSpec& s) noexcept { return s.from == msg::Role::term || s.to == msg::Role::term; }

bool has_field(const msg::StepSpec& s, msg::Field f) noexcept {
  for (msg::Field g : s.fields)
    if (g == f) return true;
  return false;
}

std::unique_ptr<Codec> make_codec(Binding b, const CodecOptions& options) {
  switch (b) {
    case Binding::json: return nullptr;
    case Binding::sip: return std::make_unique<SipCodec>();
    case Binding::mgcp: return std::make_unique<MgcpCodec>();
    case Binding::h248: return std::make_unique<H248Codec>();
    case Binding::h323: return std::make_unique<H323Codec>();
    case Binding::radius:
      if (options.radius_secret.empty())
        return options.radius_unverified ? std::make_unique<RadiusCodec>("", true) : nullptr;
      return std::make_unique<RadiusCodec>(options.radius_secret);
  }
  return nullptr;
}

}  // namespace kd::wire
