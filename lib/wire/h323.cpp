#include "wire/h323.hpp"

namespace kd::wire {

// Not implemented yet: carries nothing, so the tools refuse the binding.
bool H323Codec::carries(const msg::StepSpec&) const noexcept { return false; }
Result<Bytes> H323Codec::encode(const msg::Message&) const { return err(Code::malformed, "h323: not implemented"); }
Result<msg::Message> H323Codec::decode(ByteView) const { return err(Code::malformed, "h323: not implemented"); }
std::pair<std::uint16_t, std::uint16_t> H323Codec::ports(const msg::StepSpec&) const { return {0, 0}; }

}  // namespace kd::wire
