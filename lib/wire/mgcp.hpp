// The MGCP binding (RFC 3435).
#pragma once

#include "wire/codec.hpp"

namespace kd::wire {

class MgcpCodec final : public Codec {
public:
  Binding binding() const noexcept override { return Binding::mgcp; }
  bool carries(const msg::StepSpec& s) const noexcept override;
  Result<Bytes> encode(const msg::Message& m) const override;
  Result<msg::Message> decode(ByteView wire) const override;
  std::pair<std::uint16_t, std::uint16_t> ports(const msg::StepSpec& s) const override;
};

}  // namespace kd::wire
