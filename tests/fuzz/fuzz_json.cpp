// libFuzzer target for the JSON forms: message lines, wire lines, keystores and the four state
// files. Each decoder returns a value or an error, never crashes; a decoded message re-encodes to
// a line that decodes to the same message.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "json/keystore.hpp"
#include "json/message.hpp"
#include "json/state.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto m = kd::json::decode_message(text)) {
    auto back = kd::json::decode_message(kd::json::encode_message(*m));
    if (!back || !(*back == *m)) {
      std::fprintf(stderr, "a decoded message does not survive encode and decode\n");
      std::abort();
    }
  }
  (void)kd::json::decode_wire_line(text);
  (void)kd::json::decode_keystore(text);
  (void)kd::json::decode_term_state(text);
  (void)kd::json::decode_proxy_state(text);
  (void)kd::json::decode_switch_state(text);
  (void)kd::json::decode_auc_state(text);
  return 0;
}
