// Every binding's codec behind one interface (wire::Codec), the logical JSON form included: the
// pipeline is bytes -> codec -> Message -> role -> Message(s) -> codec -> bytes whichever binding
// the bytes are in.
//
// Why a part of its own: json/ and wire/ are both layer 4 and may not include each other. The Codec
// interface and the binding table stay in wire/, where the signaling codecs read them (ports, names);
// the JSON form's codec wraps json/'s message line, so it, and the one factory that knows every
// codec, sit here, one layer above both.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "core/bytes.hpp"
#include "core/error.hpp"
#include "msg/message.hpp"
#include "wire/codec.hpp"

namespace kd::codecs {

// The message line (kd-protocol(7), JSON): every step has one. Its bytes are the JSON line, without
// a line end.
class JsonCodec final : public wire::Codec {
public:
  wire::Binding binding() const noexcept override { return wire::Binding::json; }
  bool carries(const msg::StepSpec&) const noexcept override { return true; }
  Result<Bytes> encode(const msg::Message& m) const override;
  Result<msg::Message> decode(ByteView wire) const override;
  // decode() of a line, which also says, when the line could be read that far, the step it claimed
  // (for the error line of a refused input). sizes: msg::validate()'s.
  Result<msg::Message> decode_line(std::string_view line, std::string* step,
                                   msg::Sizes sizes = msg::Sizes::exact) const;
  // txn, when not empty: the line's transaction member (json::kTxnMember; kd-live(7), TRANSACTIONS).
  std::string encode_line(const msg::Message& m, std::string_view txn = {}) const;
};

// The codec of binding b: JSON's, or wire::make_codec()'s (nullptr for radius without a secret,
// unless options.radius_unverified).
std::unique_ptr<wire::Codec> make_codec(wire::Binding b, const wire::CodecOptions& options = {});

}  // namespace kd::codecs
