#include "wire/envelope_id.hpp"

#include "crypto/suite.hpp"

namespace kd::wire {

Bytes envelope_digest(std::string_view prefix, std::string_view label, std::initializer_list<std::string_view> parts) {
  Bytes in = to_bytes(prefix);
  put_str(in, label);
  for (auto p : parts) {
    put_u8(in, 0);
    put_str(in, p);
  }
  return crypto::hash(crypto::HashId::sha256, in);
}

std::string envelope_hex(std::string_view prefix, std::string_view label, std::initializer_list<std::string_view> parts,
                         std::size_t n) {
  return to_hex(envelope_digest(prefix, label, parts)).substr(0, n);
}

}  // namespace kd::wire
