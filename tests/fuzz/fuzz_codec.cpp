// libFuzzer target for one wire codec (KD_FUZZ_BINDING names it): decoding arbitrary bytes must
// return a value or an error, never crash, hang or grow without bound; and whatever decodes must
// survive a round trip: encode(decode(x)) decodes to the same message.
#include <cstdint>
#include <cstdlib>
#include <cstdio>

#include "msg/message.hpp"
#include "wire/codec.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const auto codec = kd::wire::make_codec(kd::wire::Binding::KD_FUZZ_BINDING, {"fuzz-secret"});
  auto m = codec->decode(kd::ByteView(data, size));
  if (!m) return 0;
  if (auto st = kd::msg::validate(*m); !st) {
    std::fprintf(stderr, "decode returned a message that does not validate: %s\n", st.error().detail.c_str());
    std::abort();
  }
  auto again = codec->encode(*m);
  if (!again) {
    std::fprintf(stderr, "a decoded message does not encode: %s\n", again.error().detail.c_str());
    std::abort();
  }
  auto back = codec->decode(*again);
  if (!back || !(*back == *m)) {
    std::fprintf(stderr, "encode(decode(x)) does not decode to the same message\n");
    std::abort();
  }
  return 0;
}
