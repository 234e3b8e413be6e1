#include "crypto/suite.hpp"

#include <sys/random.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <initializer_list>
#include <stdexcept>
#include <variant>

#include <cryptopp/aes.h>
#include <cryptopp/gcm.h>
#define CRYPTOPP_ENABLE_NAMESPACE_WEAK 1
#include <cryptopp/md5.h>
#include <cryptopp/osrng.h>
#include <cryptopp/sha.h>
#include <cryptopp/sm3.h>
#include <cryptopp/sm4.h>

namespace kd::crypto {

namespace {

template <class F>
decltype(auto) with_hash(HashId h, F&& f) {
  switch (h) {
    case HashId::sha256: return f(CryptoPP::SHA256{});
    case HashId::sha384: return f(CryptoPP::SHA384{});
    case HashId::sm3: return f(CryptoPP::SM3{});
  }
  throw std::logic_error("unknown hash");
}

template <class F>
decltype(auto) with_cipher(CipherId c, F&& f) {
  switch (c) {
    case CipherId::aes: return f(CryptoPP::AES{});
    case CipherId::sm4: return f(CryptoPP::SM4{});
  }
  throw std::logic_error("unknown cipher");
}

thread_local OpCounts t_counts;

// HMAC (RFC 2104) over a Crypto++ hash with the key's two pads absorbed once: a MAC then costs two
// copies of a hash state, where a CryptoPP::HMAC object allocated a SecBlock, keyed and hashed
// both pads again on every call. The states stand for the key and are wiped with the hash objects
// (Crypto++ keeps them in SecBlocks).
template <class H>
class Pads {
public:
  static constexpr std::size_t digest_size = H::DIGESTSIZE;

  explicit Pads(ByteView key) {
    std::array<std::uint8_t, H::BLOCKSIZE> pad{};
    if (key.size() > pad.size()) H().CalculateDigest(pad.data(), key.data(), key.size());
    else std::copy(key.begin(), key.end(), pad.begin());
    for (auto& b : pad) b ^= 0x36;
    inner_.Update(pad.data(), pad.size());
    for (auto& b : pad) b ^= 0x36 ^ 0x5c;
    outer_.Update(pad.data(), pad.size());
    secure_wipe(pad.data(), pad.size());
  }

  // HMAC(key, the parts concatenated) into out, H::DIGESTSIZE bytes.
  void mac(std::initializer_list<ByteView> parts, std::uint8_t* out) const {
    std::array<std::uint8_t, H::DIGESTSIZE> inner_digest;
    H in(inner_);
    for (ByteView p : parts) in.Update(p.data(), p.size());
    in.Final(inner_digest.data());
    H outer(outer_);
    outer.Update(inner_digest.data(), inner_digest.size());
    outer.Final(out);
    secure_wipe(inner_digest.data(), inner_digest.size());
  }

private:
  H inner_, outer_;
};

// RFC 5869: extract under the salt's pads, then expand under the pseudorandom key's.
template <class H>
Secret hkdf_with(const Pads<H>& salt, ByteView ikm, ByteView info, std::size_t len) {
  constexpr std::size_t hash_len = H::DIGESTSIZE;
  if (len > 255 * hash_len) throw std::invalid_argument("hkdf: more than 255 blocks of output");
  std::array<std::uint8_t, hash_len> block;
  salt.mac({ikm}, block.data());
  const Pads<H> prk(block);
  Secret out(len);
  // T(i) = HMAC(PRK, T(i-1) || info || i), T(0) empty.
  for (std::size_t done = 0, i = 1; done < len; done += hash_len, ++i) {
    const std::uint8_t counter = static_cast<std::uint8_t>(i);
    prk.mac({ByteView(block).first(i > 1 ? hash_len : 0), info, ByteView(&counter, 1)}, block.data());
    std::copy_n(block.begin(), std::min(hash_len, len - done), out.data() + done);
  }
  secure_wipe(block.data(), block.size());
  return out;
}

}  // namespace

Bytes hash(HashId h, ByteView msg) {
  return with_hash(h, [&](auto tag) {
    using H = decltype(tag);
    H hf;
    Bytes out(H::DIGESTSIZE);
    hf.CalculateDigest(out.data(), msg.data(), msg.size());
    return out;
  });
}

Bytes hmac(HashId h, ByteView key, ByteView msg) {
  ++t_counts.hmac;
  return with_hash(h, [&](auto tag) {
    using H = decltype(tag);
    Bytes out(H::DIGESTSIZE);
    Pads<H>(key).mac({msg}, out.data());
    return out;
  });
}

Bytes md5(ByteView msg) {
  CryptoPP::Weak::MD5 h;
  Bytes out(CryptoPP::Weak::MD5::DIGESTSIZE);
  h.Update(msg.data(), msg.size());
  h.Final(out.data());
  return out;
}

void md5(std::initializer_list<ByteView> parts, std::span<std::uint8_t, 16> out) {
  static_assert(CryptoPP::Weak::MD5::DIGESTSIZE == 16);
  CryptoPP::Weak::MD5 h;
  for (ByteView p : parts) h.Update(p.data(), p.size());
  h.Final(out.data());
}

Bytes hmac_md5(ByteView key, ByteView msg) {
  Bytes out(CryptoPP::Weak::MD5::DIGESTSIZE);
  Pads<CryptoPP::Weak::MD5>(key).mac({msg}, out.data());
  return out;
}

struct Md5HmacKey::State {
  Pads<CryptoPP::Weak::MD5> pads;
};

Md5HmacKey::Md5HmacKey(ByteView key) : state_(std::make_unique<State>(State{Pads<CryptoPP::Weak::MD5>(key)})) {}
Md5HmacKey::Md5HmacKey(Md5HmacKey&&) noexcept = default;
Md5HmacKey& Md5HmacKey::operator=(Md5HmacKey&&) noexcept = default;
Md5HmacKey::~Md5HmacKey() = default;

Bytes Md5HmacKey::mac(std::initializer_list<ByteView> parts) const {
  Bytes out(CryptoPP::Weak::MD5::DIGESTSIZE);
  state_->pads.mac(parts, out.data());
  return out;
}

Secret hkdf(HashId h, ByteView ikm, ByteView salt, ByteView info, std::size_t len) {
  ++t_counts.hkdf;
  return with_hash(h, [&](auto tag) { return hkdf_with(Pads<decltype(tag)>(salt), ikm, info, len); });
}

struct HmacKey::State {
  std::variant<Pads<CryptoPP::SHA256>, Pads<CryptoPP::SHA384>, Pads<CryptoPP::SM3>> pads;
};

HmacKey::HmacKey(HashId h, ByteView key)
    : hash_(h), state_(with_hash(h, [&](auto tag) {
        return std::make_unique<State>(State{Pads<decltype(tag)>(key)});
      })) {}
HmacKey::HmacKey(HmacKey&&) noexcept = default;
HmacKey& HmacKey::operator=(HmacKey&&) noexcept = default;
HmacKey::~HmacKey() = default;

Bytes HmacKey::mac(ByteView msg) const {
  ++t_counts.hmac;
  return std::visit(
      [&](const auto& pads) {
        Bytes out(pads.digest_size);
        pads.mac({msg}, out.data());
        return out;
      },
      state_->pads);
}

Secret hkdf(const HmacKey& salt, ByteView ikm, ByteView info, std::size_t len) {
  ++t_counts.hkdf;
  return std::visit([&](const auto& pads) { return hkdf_with(pads, ikm, info, len); }, salt.state_->pads);
}

namespace {

template <class Enc>
Bytes seal_with(Enc& enc, ByteView nonce, ByteView aad, ByteView plaintext) {
  ++t_counts.seal;
  Bytes out(plaintext.size() + kAeadTagLen);
  enc.EncryptAndAuthenticate(out.data(), out.data() + plaintext.size(), kAeadTagLen, nonce.data(),
                             static_cast<int>(nonce.size()), aad.data(), aad.size(), plaintext.data(),
                             plaintext.size());
  return out;
}

template <class Dec>
std::optional<Secret> open_with(Dec& dec, ByteView nonce, ByteView aad, ByteView ct_tag) {
  ++t_counts.open;
  if (ct_tag.size() < kAeadTagLen) return std::nullopt;
  std::size_t n = ct_tag.size() - kAeadTagLen;
  Secret out(n);
  bool ok = dec.DecryptAndVerify(out.data(), ct_tag.data() + n, kAeadTagLen, nonce.data(),
                                 static_cast<int>(nonce.size()), aad.data(), aad.size(), ct_tag.data(), n);
  if (!ok) return std::nullopt;
  return out;
}

}  // namespace

Bytes gcm_seal(CipherId c, ByteView key, ByteView nonce, ByteView aad, ByteView plaintext) {
  return with_cipher(c, [&](auto tag) {
    typename CryptoPP::GCM<decltype(tag)>::Encryption enc;
    enc.SetKeyWithIV(key.data(), key.size(), nonce.data(), nonce.size());
    return seal_with(enc, nonce, aad, plaintext);
  });
}

std::optional<Secret> gcm_open(CipherId c, ByteView key, ByteView nonce, ByteView aad,
                               ByteView ct_tag) {
  if (ct_tag.size() < kAeadTagLen) {
    ++t_counts.open;
    return std::nullopt;
  }
  return with_cipher(c, [&](auto tag) {
    typename CryptoPP::GCM<decltype(tag)>::Decryption dec;
    dec.SetKeyWithIV(key.data(), key.size(), nonce.data(), nonce.size());
    return open_with(dec, nonce, aad, ct_tag);
  });
}

// Each direction is keyed on its first use: a holder of a key only seals (the AuC) or only opens.
// Crypto++ wants an IV with the key; every seal and open sets its own nonce before it starts.
template <class C>
struct Gcm {
  Secret key;
  std::optional<typename CryptoPP::GCM<C>::Encryption> enc;
  std::optional<typename CryptoPP::GCM<C>::Decryption> dec;

  template <class Dir>
  Dir& keyed(std::optional<Dir>& d) {
    if (!d) {
      d.emplace();
      rekey(d);
    }
    return *d;
  }
  // A direction keyed already is keyed again with key (SetKey writes over its schedule and tables).
  template <class Dir>
  void rekey(std::optional<Dir>& d) {
    static constexpr std::array<std::uint8_t, kAeadNonceLen> kNoNonceYet{};
    if (d) d->SetKeyWithIV(key.data(), key.size(), kNoNonceYet.data(), kNoNonceYet.size());
  }
};

struct AeadKey::State {
  std::variant<Gcm<CryptoPP::AES>, Gcm<CryptoPP::SM4>> gcm;
};

AeadKey::AeadKey(CipherId c, ByteView key)
    : state_(with_cipher(c, [&](auto tag) {
        auto st = std::make_unique<State>();
        st->gcm.emplace<Gcm<decltype(tag)>>().key = Secret(key);
        return st;
      })) {}
AeadKey::AeadKey(AeadKey&&) noexcept = default;
AeadKey& AeadKey::operator=(AeadKey&&) noexcept = default;
AeadKey::~AeadKey() = default;

void AeadKey::rekey(CipherId c, ByteView key) {
  with_cipher(c, [&](auto tag) {
    using G = Gcm<decltype(tag)>;
    auto* g = std::get_if<G>(&state_->gcm);
    if (!g) {  // another cipher: nothing to reuse
      state_->gcm.template emplace<G>().key = Secret(key);
      return;
    }
    g->key = Secret(key);  // the old one wiped
    g->rekey(g->enc);
    g->rekey(g->dec);
  });
}

Bytes AeadKey::seal(ByteView nonce, ByteView aad, ByteView plaintext) {
  return std::visit([&](auto& g) { return seal_with(g.keyed(g.enc), nonce, aad, plaintext); }, state_->gcm);
}

std::optional<Secret> AeadKey::open(ByteView nonce, ByteView aad, ByteView ct_tag) {
  if (ct_tag.size() < kAeadTagLen) {
    ++t_counts.open;
    return std::nullopt;
  }
  return std::visit([&](auto& g) { return open_with(g.keyed(g.dec), nonce, aad, ct_tag); }, state_->gcm);
}

Bytes block_encrypt(CipherId c, ByteView key, ByteView block) {
  return with_cipher(c, [&](auto tag) {
    using C = decltype(tag);
    typename C::Encryption e(key.data(), key.size());
    Bytes out(C::BLOCKSIZE);
    e.ProcessBlock(block.data(), out.data());
    return out;
  });
}

bool ct_equal(ByteView a, ByteView b) noexcept {
  if (a.size() != b.size()) return false;
  volatile std::uint8_t acc = 0;
  for (std::size_t i = 0; i < a.size(); ++i) acc = static_cast<std::uint8_t>(acc | (a[i] ^ b[i]));
  return acc == 0;
}

OpCounts& op_counts() noexcept { return t_counts; }

void OsRandom::fill(Purpose, std::span<std::uint8_t> out) {
  // getrandom(2): one system call per draw. Crypto++'s OS_GenerateRandomBlock opens, reads and
  // closes /dev/urandom for every call, three system calls per nonce on a live service's hot path.
  std::size_t done = 0;
  while (done < out.size()) {
    const ssize_t n = getrandom(out.data() + done, out.size() - done, 0);
    if (n > 0) {
      done += static_cast<std::size_t>(n);
    } else if (n < 0 && errno != EINTR) {  // a kernel without getrandom: the old way
      CryptoPP::OS_GenerateRandomBlock(false, out.data() + done, out.size() - done);
      return;
    }
  }
}

SeededRandom::SeededRandom(ByteView seed, std::string_view role, std::string_view id, ByteView input)
    : seed_(seed) {
  info_ = to_bytes("kd1 rng");
  put_u8(info_, 0);
  put_lp16(info_, role);
  put_lp16(info_, id);
  put_bytes(info_, hash(HashId::sha256, input));
}

void SeededRandom::fill(Purpose p, std::span<std::uint8_t> out) {
  Stream& st = streams_.at(static_cast<std::size_t>(p));
  if (st.key.empty()) {  // a purpose that is never drawn costs no HKDF
    Bytes info = info_;
    put_lp16(info, purpose_label(p));
    st.key = hkdf(HashId::sha256, seed_.view(), {}, info, 32);
  }
  for (auto& b : out) {
    if (st.used == st.block.size()) {
      Bytes ctr;
      put_u64(ctr, st.counter++);
      st.block = hmac(HashId::sha256, st.key.view(), ctr);
      st.used = 0;
    }
    b = st.block[st.used++];
  }
}

}  // namespace kd::crypto
