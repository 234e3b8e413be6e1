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

std::unique_ptr<Codec> make_codec(Binding b, const CodecOptions& options) {
  switch (b) {
    case Binding::json: return nullptr;
    case Binding::sip: return std::make_unique<SipCodec>();
    case Binding::mgcp: return std::make_unique<MgcpCodec>();
    case Binding::h248: return std::make_unique<H248Codec>();
    case Binding::h323: return std::make_unique<H323Codec>();
    case Binding::radius:
      if (options.radius_secret.empty()) return nullptr;
      return std::make_unique<RadiusCodec>(options.radius_secret);
  }
  return nullptr;
}

}  // namespace kd::wire
