// The H.248 / MEGACO text binding (RFC 3525, H.248.1).
#pragma once

#include "wire/codec.hpp"

namespace kd::wire {

class H248Codec final : public Codec {
public:
  Binding binding() const noexcept override { return Binding::h248; }
  bool carries(const msg::StepSpec& s) const noexcept override;
  Result<Bytes> encode(const msg::Message& m) const override;
  Result<msg::Message> decode(ByteView wire) const override;
  std::pair<std::uint16_t, std::uint16_t> ports(const msg::StepSpec& s) const override;
};

}  // namespace kd::wire
