// kd-decode's verifier: follows registrations through a stream of observed messages (any order a
// capture gives them) and checks what an observer can check: echoed nonces, Rand and lists, fresh
// nonces and Rand, timestamps within the window, and, with the keystore, the verification words,
// the sealed keys and the MAC. Pure: no I/O, the time comes with each message.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include "core/bytes.hpp"
#include "flow/state.hpp"
#include "msg/message.hpp"

namespace kd::engine {

struct Check {
  std::string name;    // "nonce_echo", "authenticator", "mac", ... (kd-decode(1), CHECKS)
  bool ok = true;
  std::string detail;  // why it failed; never a key
};

struct RegistrationReport {
  msg::Flow flow = msg::Flow::proxied;
  std::string idc, peer, suite;
  std::vector<std::string> steps;  // in the order seen
  bool completed = false;          // the success message verified (or, without keys, was seen) and reported
  std::string stopped_at;          // the last step seen when not completed
  std::string reason;              // the first failed check, or what is missing
  std::string mech;                // the chosen mechanism, once known
  Secret session_key;              // recovered with the keystore; printed only with --show-key
};

class Verifier {
public:
  // keys: nullptr for checks without the keystore. skew: the timestamp window in seconds.
  Verifier(const flow::Keystore* keys, std::uint64_t skew);

  // Checks one message; time: when it was captured (UNIX seconds), if known. Reports of the
  // registrations this message finished are appended to done.
  std::vector<Check> observe(const msg::Message& m, std::optional<std::uint64_t> time,
                             std::vector<RegistrationReport>& done);
  // Reports of every registration still open, at the end of the input.
  std::vector<RegistrationReport> finish();

private:
  struct Reg {
    RegistrationReport report;
    std::optional<Bytes> n1, n2, rand, auth_c, ekc_seen;
    std::optional<msg::MechList> list;
    Secret ks;
    bool failed = false;
    bool success_seen = false, report_seen = false;
  };
  using Key = std::pair<int, std::pair<std::string, std::string>>;  // flow, IDc, peer

  void fail(Reg& r, std::vector<Check>& checks, std::string name, std::string detail);
  void pass(std::vector<Check>& checks, std::string name);
  void check_keys(Reg& r, const msg::Message& m, std::vector<Check>& checks);
  // The last kMemory values of one kind (nonces, Rand), forgetting the oldest: memory stays flat.
  class Recent {
  public:
    static constexpr std::size_t kMemory = 1 << 17;
    // True when v was remembered already; remembers it otherwise.
    bool seen_before(const Bytes& v);

  private:
    using Key = std::array<std::uint8_t, 16>;  // nonces and Rand are 16 bytes (kd-protocol(7))
    struct Hash {
      std::size_t operator()(const Key& k) const noexcept;
    };
    std::unordered_set<Key, Hash> set_;
    std::vector<Key> ring_;  // insertion order, kMemory at most
    std::size_t next_ = 0;
  };

  const flow::Keystore* keys_;
  std::uint64_t skew_;
  std::map<Key, Reg> regs_;
  Recent nonces_, rands_;
};

}  // namespace kd::engine
