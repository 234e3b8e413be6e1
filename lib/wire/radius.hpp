// The AuC link over RADIUS (RFC 2865, 2866, 3579).
#pragma once

#include "wire/codec.hpp"

namespace kd::wire {

class RadiusCodec final : public Codec {
public:
  explicit RadiusCodec(std::string secret) : secret_(std::move(secret)) {}
  Binding binding() const noexcept override { return Binding::radius; }
  bool carries(const msg::StepSpec& s) const noexcept override;
  Result<Bytes> encode(const msg::Message& m) const override;
  Result<msg::Message> decode(ByteView wire) const override;
  std::pair<std::uint16_t, std::uint16_t> ports(const msg::StepSpec& s) const override;

private:
  std::string secret_;
};

}  // namespace kd::wire
