#include "wire/radius.hpp"

namespace kd::wire {

// Not implemented yet: carries nothing, so the tools refuse the binding.
bool RadiusCodec::carries(const msg::StepSpec&) const noexcept { return false; }
Result<Bytes> RadiusCodec::encode(const msg::Message&) const { return err(Code::malformed, "radius: not implemented"); }
Result<msg::Message> RadiusCodec::decode(ByteView) const { return err(Code::malformed, "radius: not implemented"); }
std::pair<std::uint16_t, std::uint16_t> RadiusCodec::ports(const msg::StepSpec&) const { return {0, 0}; }

}  // namespace kd::wire
