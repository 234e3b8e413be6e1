// kd's protocol crypto: key derivation, the verification word f, key sealing E and the MAC fm.
// Every byte is specified in kd-protocol(7), "Cryptography".
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/bytes.hpp"
#include "core/random.hpp"
#include "core/string_hash.hpp"
#include "crypto/suite.hpp"
#include "msg/message.hpp"

namespace kd::crypto {

// HKDF(H, salt = "kd1", ikm, info = "kd1 " || label || 0x00 || suite name, len).
Secret derive(const Suite& s, ByteView ikm, std::string_view label, std::size_t len);

// The two derivations of a long-term key: "auth" (hash_len bytes) and "seal" (key_len bytes).
// They depend on nothing but the key and the suite, so a holder of many exchanges derives each
// once (DerivedKeys) and passes it to the *_derived functions below.
enum class KeyUse : std::uint8_t { auth, seal };
Secret derive_key(const Suite& s, ByteView long_term_key, KeyUse use);

// derive_key() results kept per holder (an entity of a keystore), so that a registration costs
// the two "mac" derivations of its session key instead of eight. Not a global: whoever holds a
// keystore for a run of inputs holds one (the engine, the benchmark) and hands it to the roles
// through flow::Context; a new keystore object with a new cache starts empty. Each entry keeps a
// copy of the long-term key it was derived from and is derived again when the holder's key is not
// those bytes any more (a keystore changed in place), so a stale key is never used.
// Memory: one entry per holder looked up, each a copy of its long-term key (32 bytes from kd-auc
// keys) plus, per suite used, hash_len + key_len bytes (at most 48 + 32): at most 272 bytes of
// key material per holder with all three suites, all in wiping buffers. Not for concurrent use.
class DerivedKeys {
public:
  // derive_key(s, long_term_key, use) for the holder id; the view is valid until the next call
  // for the same id.
  ByteView get(std::string_view id, ByteView long_term_key, const Suite& s, KeyUse use);
  // The "seal" key ready to use, its cipher's key schedule and GCM tables computed once: for a
  // holder whose key seals or opens on every input (a proxy, a switch). Valid until the next call
  // for the same id. It adds the cipher's and GCM's state (about a kilobyte) per suite used.
  AeadKey& seal_key(std::string_view id, ByteView long_term_key, const Suite& s);
  // seal_key, derived already, keyed in the one object the cache keeps for holders it does not
  // keep keyed (terminals, one of many): valid until the next call. Rekeying it reuses its
  // schedule's storage, where a fresh GCM object allocated about 9 KB per terminal key.
  AeadKey& rekeyed(const Suite& s, ByteView seal_key);
  std::size_t size() const noexcept { return by_id_.size(); }

private:
  struct Derived {
    Secret auth, seal;  // empty until first used
    std::optional<AeadKey> aead;
  };
  struct Entry {
    Secret long_term_key;
    std::vector<Derived> by_suite;  // catalogue order; empty until first used
  };
  Derived& derived(std::string_view id, ByteView long_term_key, const Suite& s);
  // Hashed: a tree of 1000 terminal ids sharing a prefix cost a string compare per level.
  std::unordered_map<std::string, Entry, StringHash, std::equal_to<>> by_id_;
  std::optional<AeadKey> rekeyed_;
};

// f(Kc, Rand, IDc) = HMAC(derive(Kc, "auth"), lp16(Rand) || lp16(IDc)) truncated to auth_len.
Bytes authenticator(const Suite& s, ByteView long_term_key, ByteView rand, std::string_view idc);
// The same from auth_key = derive_key(s, Kc, KeyUse::auth).
Bytes authenticator_derived(const Suite& s, ByteView auth_key, ByteView rand, std::string_view idc);

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
// The same from seal_key = derive_key(s, K, KeyUse::seal).
Bytes seal_key_derived(const Suite& s, ByteView seal_key, const SealBinding& b, ByteView session_key,
                       RandomSource& rng);
std::optional<Secret> open_key_derived(const Suite& s, ByteView seal_key, const SealBinding& b,
                                       ByteView sealed);
Bytes seal_key_derived(const Suite& s, AeadKey& seal_key, const SealBinding& b, ByteView session_key,
                       RandomSource& rng);
std::optional<Secret> open_key_derived(const Suite& s, AeadKey& seal_key, const SealBinding& b,
                                       ByteView sealed);

// fm(K, message) = HMAC(derive(K, "mac"), canonical(message without MAC)) truncated to mac_len.
Bytes message_mac(const Suite& s, ByteView session_key, const msg::Message& m);

}  // namespace kd::crypto
