// The H.323 RAS binding (H.225.0, ASN.1 aligned PER).
#pragma once

#include "wire/codec.hpp"

namespace kd::wire {

class H323Codec final : public Codec {
public:
  Binding binding() const noexcept override { return Binding::h323; }
  bool carries(const msg::StepSpec& s) const noexcept override;
  Result<Bytes> encode(const msg::Message& m) const override;
  Result<msg::Message> decode(ByteView wire) const override;
  std::pair<std::uint16_t, std::uint16_t> ports(const msg::StepSpec& s) const override;
};

}  // namespace kd::wire
