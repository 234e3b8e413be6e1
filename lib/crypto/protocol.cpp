#include "crypto/protocol.hpp"

namespace kd::crypto {

Secret derive(const Suite& s, ByteView ikm, std::string_view label, std::size_t len) {
  static const Bytes salt = to_bytes("kd1");
  Bytes info = to_bytes("kd1 ");
  put_str(info, label);
  put_u8(info, 0);
  put_str(info, s.name);
  return hkdf(s.hash, ikm, salt, info, len);
}

Bytes authenticator(const Suite& s, ByteView long_term_key, ByteView rand, std::string_view idc) {
  Secret k = derive(s, long_term_key, "auth", s.hash_len);
  Bytes input;
  put_lp16(input, rand);
  put_lp16(input, idc);
  Bytes full = hmac(s.hash, k.view(), input);
  full.resize(s.auth_len);
  return full;
}

Bytes seal_aad(const Suite& s, const SealBinding& b) {
  Bytes aad = to_bytes("kd1 seal");
  put_u8(aad, 0);
  put_lp16(aad, s.name);
  put_u8(aad, static_cast<std::uint8_t>(b.flow));
  put_lp16(aad, b.idc);
  put_lp16(aad, b.peer);
  put_lp16(aad, b.rand);
  put_lp16(aad, msg::role_name(b.recipient));
  return aad;
}

Bytes seal_key(const Suite& s, ByteView long_term_key, const SealBinding& b, ByteView session_key,
               RandomSource& rng) {
  Secret k = derive(s, long_term_key, "seal", s.key_len);
  Bytes out = rng.draw(Purpose::seal_nonce, kAeadNonceLen);
  Bytes ct = gcm_seal(s.cipher, k.view(), out, seal_aad(s, b), session_key);
  put_bytes(out, ct);
  return out;
}

std::optional<Secret> open_key(const Suite& s, ByteView long_term_key, const SealBinding& b,
                               ByteView sealed) {
  if (sealed.size() != kAeadNonceLen + s.key_len + kAeadTagLen) return std::nullopt;
  Secret k = derive(s, long_term_key, "seal", s.key_len);
  return gcm_open(s.cipher, k.view(), sealed.first(kAeadNonceLen), seal_aad(s, b),
                  sealed.subspan(kAeadNonceLen));
}

Bytes message_mac(const Suite& s, ByteView session_key, const msg::Message& m) {
  Secret k = derive(s, session_key, "mac", s.hash_len);
  Bytes full = hmac(s.hash, k.view(), msg::canonical(m, false));
  full.resize(s.mac_len);
  return full;
}

}  // namespace kd::crypto
