#include "codecs/codecs.hpp"

#include "json/message.hpp"

namespace kd::codecs {

Result<Bytes> JsonCodec::encode(const msg::Message& m) const { return to_bytes(encode_line(m)); }

Result<msg::Message> JsonCodec::decode(ByteView wire) const {
  return decode_line(std::string_view(reinterpret_cast<const char*>(wire.data()), wire.size()), nullptr);
}

Result<msg::Message> JsonCodec::decode_line(std::string_view line, std::string* step, msg::Sizes sizes) const {
  return json::decode_message(line, step, sizes);
}

std::string JsonCodec::encode_line(const msg::Message& m, std::string_view txn) const { return json::encode_message(m, txn); }

std::unique_ptr<wire::Codec> make_codec(wire::Binding b, const wire::CodecOptions& options) {
  if (b == wire::Binding::json) return std::make_unique<JsonCodec>();
  return wire::make_codec(b, options);
}

}  // namespace kd::codecs
