// kd-decode's verifier: follows registrations through a stream of observed messages (any order a
// capture gives them) and checks what an observer can check: echoed nonces, Rand and lists, fresh
// nonces and Rand, timestamps within the window, and, with the keystore, the verification words,
// the sealed keys and the MAC. Pure: no I/O, the time comes with each message.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/bytes.hpp"
#include "flow/state.hpp"
#include "msg/message.hpp"

namespace kd::engine {

struct Check {
  std::string_view name;  // "nonce_echo", "authenticator", "mac", ... (kd-decode(1), CHECKS): a literal
  bool ok = true;
  std::string detail;     // why it failed; never a key
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

  // Checks one message; time: when it was captured (UNIX seconds), if known. checks is cleared, then
  // gets the message's checks (a caller reusing one vector keeps its capacity). Reports of the
  // registrations this message finished are appended to done.
  void observe(const msg::Message& m, std::optional<std::uint64_t> time, std::vector<Check>& checks,
               std::vector<RegistrationReport>& done);
  // The same, returning the checks.
  std::vector<Check> observe(const msg::Message& m, std::optional<std::uint64_t> time,
                             std::vector<RegistrationReport>& done);
  // Reports of every registration still open, at the end of the input, ordered by flow, IDc, peer.
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
  // A registration is named by its flow, IDc and peer (IDsp or IDss). Lookups go by KeyView, so
  // that finding the registration of a message copies no string.
  struct Key {
    msg::Flow flow;
    std::string idc, peer;
  };
  struct KeyView {
    msg::Flow flow;
    std::string_view idc, peer;
    KeyView(msg::Flow f, std::string_view i, std::string_view p) : flow(f), idc(i), peer(p) {}
    KeyView(const Key& k) : flow(k.flow), idc(k.idc), peer(k.peer) {}  // implicit: a Key hashes as its view
  };
  struct KeyHash {
    using is_transparent = void;
    std::size_t operator()(KeyView k) const noexcept;
  };
  struct KeyEqual {
    using is_transparent = void;
    bool operator()(KeyView a, KeyView b) const noexcept {
      return a.flow == b.flow && a.idc == b.idc && a.peer == b.peer;
    }
  };

  void fail(Reg& r, std::vector<Check>& checks, std::string_view name, std::string detail);
  void pass(std::vector<Check>& checks, std::string_view name);
  void check_keys(Reg& r, const msg::Message& m, std::vector<Check>& checks);
  // The last kMemory values of one kind (nonces, Rand), forgetting the oldest: memory stays flat.
  // An open-addressing table of fixed size (linear probing, at most half full, deletion by
  // backward shift) beside a ring of the values in insertion order: no rehash, no allocation
  // per value.
  class Recent {
  public:
    static constexpr std::size_t kMemory = 1 << 17;
    // True when v was remembered already; remembers it otherwise. Values are taken as 16 bytes
    // (nonces and Rand are 16 bytes, kd-protocol(7)): cut to 16, or padded with zeros.
    bool seen_before(const Bytes& v);

  private:
    struct Value {
      std::uint64_t lo = 0, hi = 0;
      bool zero() const noexcept { return (lo | hi) == 0; }
      bool operator==(const Value&) const = default;
    };
    static constexpr std::size_t kSlots = 2 * kMemory;  // a power of two
    std::size_t home(const Value& v) const noexcept;
    bool contains(const Value& v) const noexcept;
    void add(const Value& v);
    void remove(const Value& v) noexcept;

    // The table marks empty slots with the all-zero value, so that value is remembered apart.
    std::unique_ptr<Value[]> slots_;  // kSlots, allocated with the first value
    bool zero_seen_ = false;
    std::vector<Value> ring_;  // insertion order, kMemory at most
    std::size_t next_ = 0;     // the oldest, once the ring is full
  };

  const flow::Keystore* keys_;
  std::uint64_t skew_;
  std::unordered_map<Key, Reg, KeyHash, KeyEqual> regs_;
  Recent nonces_, rands_;
};

}  // namespace kd::engine
