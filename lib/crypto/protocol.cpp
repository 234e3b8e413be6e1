#include "crypto/protocol.hpp"

#include <stdexcept>

namespace kd::crypto {

namespace {

// derive()'s salt is a constant, so its HMAC pads are hashed once per hash and process.
const HmacKey& kd1_salt(HashId h) {
  static const Bytes salt = to_bytes("kd1");
  static const HmacKey sha256(HashId::sha256, salt), sha384(HashId::sha384, salt), sm3(HashId::sm3, salt);
  switch (h) {
    case HashId::sha256: return sha256;
    case HashId::sha384: return sha384;
    case HashId::sm3: return sm3;
  }
  throw std::logic_error("unknown hash");
}

}  // namespace

Secret derive(const Suite& s, ByteView ikm, std::string_view label, std::size_t len) {
  Bytes info;
  info.reserve(4 + label.size() + 1 + s.name.size());  // one allocation, not one per append
  put_str(info, "kd1 ");
  put_str(info, label);
  put_u8(info, 0);
  put_str(info, s.name);
  return hkdf(kd1_salt(s.hash), ikm, info, len);
}

Secret derive_key(const Suite& s, ByteView long_term_key, KeyUse use) {
  if (use == KeyUse::auth) return derive(s, long_term_key, "auth", s.hash_len);
  return derive(s, long_term_key, "seal", s.key_len);
}

DerivedKeys::Derived& DerivedKeys::derived(std::string_view id, ByteView long_term_key, const Suite& s) {
  const auto suites = all_suites();
  std::size_t suite_index = 0;
  while (suite_index < suites.size() && &suites[suite_index] != &s) ++suite_index;
  if (suite_index == suites.size()) throw std::logic_error("DerivedKeys: a suite outside the catalogue");
  auto it = by_id_.find(id);
  if (it == by_id_.end()) it = by_id_.emplace(std::string(id), Entry{}).first;
  Entry& e = it->second;
  if (e.by_suite.empty() || !ct_equal(e.long_term_key.view(), long_term_key)) {
    e.long_term_key = Secret(long_term_key);
    e.by_suite.clear();
    e.by_suite.resize(suites.size());
  }
  return e.by_suite[suite_index];
}

ByteView DerivedKeys::get(std::string_view id, ByteView long_term_key, const Suite& s, KeyUse use) {
  Derived& d = derived(id, long_term_key, s);
  Secret& k = use == KeyUse::auth ? d.auth : d.seal;
  if (k.empty()) k = derive_key(s, long_term_key, use);
  return k.view();
}

AeadKey& DerivedKeys::seal_key(std::string_view id, ByteView long_term_key, const Suite& s) {
  Derived& d = derived(id, long_term_key, s);
  if (!d.aead) {
    if (d.seal.empty()) d.seal = derive_key(s, long_term_key, KeyUse::seal);
    d.aead.emplace(s.cipher, d.seal.view());
  }
  return *d.aead;
}

AeadKey& DerivedKeys::rekeyed(const Suite& s, ByteView seal_key) {
  if (rekeyed_) rekeyed_->rekey(s.cipher, seal_key);
  else rekeyed_.emplace(s.cipher, seal_key);
  return *rekeyed_;
}

Bytes authenticator(const Suite& s, ByteView long_term_key, ByteView rand, std::string_view idc) {
  return authenticator_derived(s, derive_key(s, long_term_key, KeyUse::auth).view(), rand, idc);
}

Bytes authenticator_derived(const Suite& s, ByteView auth_key, ByteView rand, std::string_view idc) {
  Bytes input;
  input.reserve(2 + rand.size() + 2 + idc.size());
  put_lp16(input, rand);
  put_lp16(input, idc);
  Bytes full = hmac(s.hash, auth_key, input);
  full.resize(s.auth_len);
  return full;
}

Bytes seal_aad(const Suite& s, const SealBinding& b) {
  const std::string_view recipient = msg::role_name(b.recipient);
  Bytes aad;
  aad.reserve(9 + 2 + s.name.size() + 1 + 2 + b.idc.size() + 2 + b.peer.size() + 2 + b.rand.size() + 2 +
              recipient.size());
  put_str(aad, "kd1 seal");
  put_u8(aad, 0);
  put_lp16(aad, s.name);
  put_u8(aad, static_cast<std::uint8_t>(b.flow));
  put_lp16(aad, b.idc);
  put_lp16(aad, b.peer);
  put_lp16(aad, b.rand);
  put_lp16(aad, recipient);
  return aad;
}

Bytes seal_key(const Suite& s, ByteView long_term_key, const SealBinding& b, ByteView session_key,
               RandomSource& rng) {
  return seal_key_derived(s, derive_key(s, long_term_key, KeyUse::seal).view(), b, session_key, rng);
}

namespace {

// nonce || AEAD(key, nonce, aad, Ks), the key a byte string or an AeadKey.
template <class Seal>
Bytes sealed_key(RandomSource& rng, Seal&& seal) {
  Bytes out = rng.draw(Purpose::seal_nonce, kAeadNonceLen);
  Bytes ct = seal(ByteView(out));
  out.reserve(out.size() + ct.size());
  put_bytes(out, ct);
  return out;
}

}  // namespace

Bytes seal_key_derived(const Suite& s, ByteView seal_key, const SealBinding& b, ByteView session_key,
                       RandomSource& rng) {
  return sealed_key(rng, [&](ByteView nonce) { return gcm_seal(s.cipher, seal_key, nonce, seal_aad(s, b), session_key); });
}

Bytes seal_key_derived(const Suite& s, AeadKey& seal_key, const SealBinding& b, ByteView session_key,
                       RandomSource& rng) {
  return sealed_key(rng, [&](ByteView nonce) { return seal_key.seal(nonce, seal_aad(s, b), session_key); });
}

std::optional<Secret> open_key(const Suite& s, ByteView long_term_key, const SealBinding& b,
                               ByteView sealed) {
  // The length is checked before the derivation, which a sealed key of the wrong size never costs.
  if (sealed.size() != kAeadNonceLen + s.key_len + kAeadTagLen) return std::nullopt;
  return open_key_derived(s, derive_key(s, long_term_key, KeyUse::seal).view(), b, sealed);
}

std::optional<Secret> open_key_derived(const Suite& s, ByteView seal_key, const SealBinding& b,
                                       ByteView sealed) {
  if (sealed.size() != kAeadNonceLen + s.key_len + kAeadTagLen) return std::nullopt;
  return gcm_open(s.cipher, seal_key, sealed.first(kAeadNonceLen), seal_aad(s, b), sealed.subspan(kAeadNonceLen));
}

std::optional<Secret> open_key_derived(const Suite& s, AeadKey& seal_key, const SealBinding& b,
                                       ByteView sealed) {
  if (sealed.size() != kAeadNonceLen + s.key_len + kAeadTagLen) return std::nullopt;
  return seal_key.open(sealed.first(kAeadNonceLen), seal_aad(s, b), sealed.subspan(kAeadNonceLen));
}

Bytes message_mac(const Suite& s, ByteView session_key, const msg::Message& m) {
  Secret k = derive(s, session_key, "mac", s.hash_len);
  Bytes full = hmac(s.hash, k.view(), msg::canonical(m, false));
  full.resize(s.mac_len);
  return full;
}

}  // namespace kd::crypto
