#include "wire/h248.hpp"

namespace kd::wire {

// Not implemented yet: carries nothing, so the tools refuse the binding.
bool H248Codec::carries(const msg::StepSpec&) const noexcept { return false; }
Result<Bytes> H248Codec::encode(const msg::Message&) const { return err(Code::malformed, "h248: not implemented"); }
Result<msg::Message> H248Codec::decode(ByteView) const { return err(Code::malformed, "h248: not implemented"); }
std::pair<std::uint16_t, std::uint16_t> H248Codec::ports(const msg::StepSpec&) const { return {0, 0}; }

}  // namespace kd::wire
