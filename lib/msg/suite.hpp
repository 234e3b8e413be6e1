// The named cipher suites as messages name them: the catalogue number, the algorithms a name
// stands for and the lengths it gives the fields (kd-protocol(7)). msg::validate() checks lengths
// by it; crypto/ implements the algorithms and takes the catalogue from here, so that the message
// model does not depend on the crypto that depends on it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace kd::msg {

enum class HashId : std::uint8_t { sha256, sha384, sm3 };
enum class CipherId : std::uint8_t { aes, sm4 };

struct Suite {
  std::uint8_t code;          // catalogue number (kd-protocol(7)); messages name the suite
  std::string_view name;      // e.g. "KD-AES128GCM-SHA256"
  CipherId cipher;
  std::size_t key_len;        // AEAD key and session key length
  HashId hash;
  std::size_t hash_len;       // digest length of the suite's hash
  std::size_t auth_len;       // length of Authenticator_c
  std::size_t mac_len;        // length of the MAC on the success message
};

inline constexpr std::size_t kAeadNonceLen = 12;
inline constexpr std::size_t kAeadTagLen = 16;

std::span<const Suite> all_suites() noexcept;
const Suite* find_suite(std::string_view name) noexcept;
const Suite& default_suite() noexcept;

}  // namespace kd::msg
