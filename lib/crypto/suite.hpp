// The primitives the named cipher suites are built from. Crypto++ stays inside crypto/.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "core/bytes.hpp"
#include "core/random.hpp"
#include "msg/suite.hpp"

namespace kd::crypto {

// The catalogue is the message model's (msg/suite.hpp); crypto implements what it names.
using msg::all_suites;
using msg::CipherId;
using msg::default_suite;
using msg::find_suite;
using msg::HashId;
using msg::kAeadNonceLen;
using msg::kAeadTagLen;
using msg::Suite;

// Generic primitives, parameterised by hash or cipher so the known-answer tests reach them directly.
Bytes hash(HashId h, ByteView msg);
Bytes hmac(HashId h, ByteView key, ByteView msg);
Secret hkdf(HashId h, ByteView ikm, ByteView salt, ByteView info, std::size_t len);

// An HMAC key with its inner and outer pads hashed once (RFC 2104, "implementation note"): for a key
// that MACs many messages (derive()'s constant salt "kd1"), each MAC then
// costs the message's blocks and one more, not two more. The hash states stand for the key: they
// live in wiping buffers and go with the object.
class HmacKey {
public:
  HmacKey(HashId h, ByteView key);
  HmacKey(HmacKey&&) noexcept;
  HmacKey& operator=(HmacKey&&) noexcept;
  ~HmacKey();

  HashId hash() const noexcept { return hash_; }
  // hmac(hash(), key, msg), counted as one hmac call.
  Bytes mac(ByteView msg) const;

private:
  friend Secret hkdf(const HmacKey& salt, ByteView ikm, ByteView info, std::size_t len);
  struct State;
  HashId hash_;
  std::unique_ptr<State> state_;
};
// hkdf(salt.hash(), ikm, salt's key, info, len).
Secret hkdf(const HmacKey& salt, ByteView ikm, ByteView info, std::size_t len);
// Returns ciphertext || 16-byte tag.
Bytes gcm_seal(CipherId c, ByteView key, ByteView nonce, ByteView aad, ByteView plaintext);
// nullopt when the tag does not verify.
std::optional<Secret> gcm_open(CipherId c, ByteView key, ByteView nonce, ByteView aad, ByteView ct_tag);
// A GCM key with its cipher's key schedule and GCM tables computed once, for a key that seals or
// opens many times (an entity's derived "seal" key). seal and open are gcm_seal and gcm_open under
// this key. The key and its schedule are wiped with the object. Not for concurrent use.
class AeadKey {
public:
  AeadKey(CipherId c, ByteView key);
  AeadKey(AeadKey&&) noexcept;
  AeadKey& operator=(AeadKey&&) noexcept;
  ~AeadKey();

  Bytes seal(ByteView nonce, ByteView aad, ByteView plaintext);
  std::optional<Secret> open(ByteView nonce, ByteView aad, ByteView ct_tag);
  // From now on the key is key, under cipher c: as a new AeadKey(c, key), but a direction already
  // keyed is keyed again in place, in the storage of its schedule and GCM tables (allocating them
  // anew, about 9 KB per GCM object, made glibc consolidate its free lists on every terminal key).
  void rekey(CipherId c, ByteView key);

private:
  struct State;
  std::unique_ptr<State> state_;
};
// One raw block, for the SM4 known-answer test.
Bytes block_encrypt(CipherId c, ByteView key, ByteView block);

// MD5 and HMAC-MD5, for RADIUS (RFC 2865, RFC 3579) only: no suite uses them, and they are not
// counted in op_counts().
Bytes md5(ByteView msg);
// md5 of the parts concatenated, into out: what RADIUS hashes (a packet with its authenticator field
// replaced, then the shared secret) without a copy of them that would hold the secret.
void md5(std::initializer_list<ByteView> parts, std::span<std::uint8_t, 16> out);
Bytes hmac_md5(ByteView key, ByteView msg);
// An HMAC-MD5 key with its pads hashed once, as HmacKey's are: the RADIUS shared secret, which
// keys every packet's Message-Authenticator. mac() is hmac_md5(key, the parts concatenated), so
// that a packet with a field replaced is MACed in place, without a copy.
class Md5HmacKey {
public:
  explicit Md5HmacKey(ByteView key);
  Md5HmacKey(Md5HmacKey&&) noexcept;
  Md5HmacKey& operator=(Md5HmacKey&&) noexcept;
  ~Md5HmacKey();

  Bytes mac(std::initializer_list<ByteView> parts) const;

private:
  struct State;
  std::unique_ptr<State> state_;
};

// Constant-time comparison; different lengths compare unequal (the length is not secret).
bool ct_equal(ByteView a, ByteView b) noexcept;

// How many primitive calls this thread has made: the benchmark prices one registration with it.
struct OpCounts {
  std::uint64_t hmac = 0, hkdf = 0, seal = 0, open = 0;
};
OpCounts& op_counts() noexcept;

// The operating system's random source; the purpose changes nothing.
class OsRandom final : public RandomSource {
public:
  void fill(Purpose p, std::span<std::uint8_t> out) override;
};

// Deterministic streams for --seed: one per purpose, each HMAC-SHA256 in counter mode under a key
// bound to (seed, role, identity, input, purpose). See kd-protocol(7), "Deterministic randomness".
class SeededRandom final : public RandomSource {
public:
  SeededRandom(ByteView seed, std::string_view role, std::string_view id, ByteView input);
  void fill(Purpose p, std::span<std::uint8_t> out) override;

private:
  struct Stream {
    Secret key;  // empty until the purpose's first draw
    std::uint64_t counter = 0;
    Bytes block;
    std::size_t used = 0;
  };
  Secret seed_;
  Bytes info_;  // the HKDF info without the purpose
  std::array<Stream, kPurposeCount> streams_;
};

}  // namespace kd::crypto
