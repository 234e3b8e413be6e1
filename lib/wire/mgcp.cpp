#include "wire/mgcp.hpp"

namespace kd::wire {

// Not implemented yet: carries nothing, so the tools refuse the binding.
bool MgcpCodec::carries(const msg::StepSpec&) const noexcept { return false; }
Result<Bytes> MgcpCodec::encode(const msg::Message&) const { return err(Code::malformed, "mgcp: not implemented"); }
Result<msg::Message> MgcpCodec::decode(ByteView) const { return err(Code::malformed, "mgcp: not implemented"); }
std::pair<std::uint16_t, std::uint16_t> MgcpCodec::ports(const msg::StepSpec&) const { return {0, 0}; }

}  // namespace kd::wire
