#include "wire/envelope_id.hpp"

#include <array>

#include "crypto/suite.hpp"

namespace kd::wire {

Bytes envelope_digest(std::string_view prefix, std::string_view label, std::initializer_list<std::string_view> parts) {
  // The input is written into a buffer kept for the next one: built anew, it was allocated and
  // grown part by part for every envelope value (the fields it hashes are not secret).
  thread_local Bytes in;
  in.clear();
  put_str(in, prefix);
  put_str(in, label);
  for (auto p : parts) {
    put_u8(in, 0);
    put_str(in, p);
  }
  return crypto::hash(crypto::HashId::sha256, in);
}

std::string envelope_hex(std::string_view prefix, std::string_view label, std::initializer_list<std::string_view> parts,
                         std::size_t n) {
  std::array<char, 64> hex;  // a SHA-256 digest's
  const std::string_view all = to_hex(envelope_digest(prefix, label, parts), hex);
  return std::string(all.substr(0, n));
}

}  // namespace kd::wire
