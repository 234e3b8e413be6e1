// kd's protocol crypto: key derivation, the verification word f, key sealing E and the MAC fm.
// Every byte is specified in kd-protocol(7), "Cryptography".
#pragma once

#include <optional>
#include <string_view>

#include "core/bytes.hpp"
#include "core/random.hpp"
#include "crypto/suite.hpp"
#include "msg/message.hpp"

namespace kd::crypto {

// HKDF(H, salt = "kd1", ikm, info = "kd1 " || label || 0x00 || suite name, len).
Secret derive(const Suite& s, ByteView ikm, std::string_view label, std::size_t len);

// f(Kc, Rand, IDc) = HMAC(derive(Kc, "auth"), lp16(Rand) || lp16(IDc)) truncated to auth_len.
Bytes authenticator(const Suite& s, ByteView long_term_key, ByteView rand, std::string_view idc);

// What a sealed session key is bound to: the associated data of the AEAD.
struct SealBinding {
  msg::Flow flow;
  std::string_view idc;
  std::string_view peer;  // IDsp (proxied) or IDss (direct)
  ByteView rand;
  msg::Role recipient;    // term, proxy or switch
};
Bytes seal_aad(const Suite& s, const SealBinding& b);

// E_K[Ks] = nonce(12) || AEAD(derive(K, "seal"), nonce, aad, Ks).
Bytes seal_key(const Suite& s, ByteView long_term_key, const SealBinding& b, ByteView session_key,
               RandomSource& rng);
// nullopt when the sealed key does not open under this key and binding.
std::optional<Secret> open_key(const Suite& s, ByteView long_term_key, const SealBinding& b,
                               ByteView sealed);

// fm(K, message) = HMAC(derive(K, "mac"), canonical(message without MAC)) truncated to mac_len.
Bytes message_mac(const Suite& s, ByteView session_key, const msg::Message& m);

}  // namespace kd::crypto
