// kd-decode's verifier: follows registrations through a stream of observed messages (any order a
// capture gives them) and checks what an observer can check: echoed nonces, Rand and lists, fresh
// nonces and Rand, timestamps within the window, and, with the keystore, the verification words,
// the sealed keys and the MAC. Pure: no I/O, the time comes with each message.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/bytes.hpp"
#include "core/recent.hpp"
#include "flow/state.hpp"
#include "json/decoded.hpp"
#include "msg/message.hpp"

namespace kd::verify {

using json::Check;
using json::RegistrationReport;

// The step's position in the flow: 1 start, 2 forwarded start, 3 AuC request, 4 AuC answer,
// 5 challenge to the proxy, 6 challenge to the terminal, 7 answer, 8 forwarded answer,
// 9 success to the proxy, 10 success to the terminal, 11 report to the AuC. Direct steps map onto
// the same positions (d1 1, d2 3, d3 4, d4 6, d5 7, d6 10, d7 11).
int position(const msg::Message& m);

class Verifier {
public:
  // keys: nullptr for checks without the keystore. skew: the timestamp window in seconds.
  Verifier(const flow::Keystore* keys, std::uint64_t skew);

  // Checks one message; time: when it was captured (UNIX seconds), if known. checks is cleared, then
  // gets the message's checks (a caller reusing one vector keeps its capacity). Reports of the
  // registrations this message finished are appended to done. unverified: what the decoder could
  // not verify in m (RADIUS without the secret): carried to its registration's report, never
  // counted as a check.
  void observe(const msg::Message& m, std::optional<std::uint64_t> time, std::vector<Check>& checks,
               std::vector<RegistrationReport>& done, std::span<const std::string_view> unverified = {});
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
  const flow::Keystore* keys_;
  std::uint64_t skew_;
  using Regs = std::unordered_map<Key, Reg, KeyHash, KeyEqual>;
  // Opens the registration of m (not in regs_), in the node of the last one ended if there is one.
  Regs::iterator open_reg(const msg::Message& m);
  // Takes a finished registration out of regs_, keeping its node (cleared) for the next one.
  void close_reg(Regs::iterator it);

  Regs regs_;
  Regs::node_type spare_;  // a registration ends about as often as one starts: no allocation each
  Recent nonces_, rands_;
};

}  // namespace kd::verify
