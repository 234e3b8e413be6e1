#include "crypto/suite.hpp"

#include <sys/random.h>

#include <array>
#include <cerrno>
#include <stdexcept>

#include <cryptopp/aes.h>
#include <cryptopp/gcm.h>
#include <cryptopp/hkdf.h>
#include <cryptopp/hmac.h>
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
    CryptoPP::HMAC<H> mac(key.data(), key.size());
    Bytes out(H::DIGESTSIZE);
    mac.CalculateDigest(out.data(), msg.data(), msg.size());
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

Bytes hmac_md5(ByteView key, ByteView msg) {
  CryptoPP::HMAC<CryptoPP::Weak::MD5> h(key.data(), key.size());
  Bytes out(CryptoPP::Weak::MD5::DIGESTSIZE);
  h.Update(msg.data(), msg.size());
  h.Final(out.data());
  return out;
}

Secret hkdf(HashId h, ByteView ikm, ByteView salt, ByteView info, std::size_t len) {
  ++t_counts.hkdf;
  return with_hash(h, [&](auto tag) {
    using H = decltype(tag);
    Secret out(len);
    CryptoPP::HKDF<H> kdf;
    kdf.DeriveKey(out.data(), out.size(), ikm.data(), ikm.size(), salt.data(), salt.size(),
                  info.data(), info.size());
    return out;
  });
}

Bytes gcm_seal(CipherId c, ByteView key, ByteView nonce, ByteView aad, ByteView plaintext) {
  ++t_counts.seal;
  return with_cipher(c, [&](auto tag) {
    using C = decltype(tag);
    typename CryptoPP::GCM<C>::Encryption enc;
    enc.SetKeyWithIV(key.data(), key.size(), nonce.data(), nonce.size());
    Bytes out(plaintext.size() + kAeadTagLen);
    enc.EncryptAndAuthenticate(out.data(), out.data() + plaintext.size(), kAeadTagLen, nonce.data(),
                               static_cast<int>(nonce.size()), aad.data(), aad.size(),
                               plaintext.data(), plaintext.size());
    return out;
  });
}

std::optional<Secret> gcm_open(CipherId c, ByteView key, ByteView nonce, ByteView aad,
                               ByteView ct_tag) {
  ++t_counts.open;
  if (ct_tag.size() < kAeadTagLen) return std::nullopt;
  return with_cipher(c, [&](auto tag) -> std::optional<Secret> {
    using C = decltype(tag);
    typename CryptoPP::GCM<C>::Decryption dec;
    dec.SetKeyWithIV(key.data(), key.size(), nonce.data(), nonce.size());
    std::size_t n = ct_tag.size() - kAeadTagLen;
    Secret out(n);
    bool ok = dec.DecryptAndVerify(out.data(), ct_tag.data() + n, kAeadTagLen, nonce.data(),
                                   static_cast<int>(nonce.size()), aad.data(), aad.size(),
                                   ct_tag.data(), n);
    if (!ok) return std::nullopt;
    return out;
  });
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
