// What each role remembers between messages. Persisted by the tools (json/state_codec), never by the
// core: the core only transforms a State given to it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>

#include "core/bytes.hpp"
#include "core/string_hash.hpp"
#include "core/tracked_map.hpp"
#include "msg/message.hpp"

namespace kd::flow {

struct Entity {
  std::string id;
  msg::Role role;
  Secret key;  // long-term key shared with the AuC
};

struct Keystore {
  std::map<std::string, Entity, std::less<>> entities;  // transparent: find() builds no string
  const Entity* find(std::string_view id) const {
    auto it = entities.find(id);
    return it == entities.end() ? nullptr : &it->second;
  }
};

// The key of a nonce or a Rand in the state's maps, its hex, built on the stack: a std::string
// per lookup was a heap allocation per message. Not copyable (the view points into it).
class HexKey {
public:
  explicit HexKey(ByteView v) {
    if (v.size() <= kMax) text_ = to_hex(v, buf_);
    else text_ = long_ = to_hex(v);
  }
  HexKey(const HexKey&) = delete;
  HexKey& operator=(const HexKey&) = delete;
  std::string_view view() const noexcept { return text_; }

private:
  static constexpr std::size_t kMax = 32;  // nonces and Rand are 16 bytes; longer ones still work
  char buf_[2 * kMax];
  std::string long_;
  std::string_view text_;
};

// Keys (hex nonces, hex Rand) each kept until a time, with an index by that time, so that dropping
// what expired costs what expired: a walk over every entry once per clock second cost a service
// time in proportion to all the nonces of its window (perf on kd-proxy serve: _Rb_tree_increment
// under proxy_handle). The index points at the map's keys; a write it does not see (operator[],
// reset(), a copy) drops it, and the next drop_before() walks every entry once and rebuilds it.
// Memory: one set node (about 48 bytes) per entry while indexed.
class ExpiryMap {
public:
  using Map = TrackedMap<std::uint64_t>::Map;
  ExpiryMap() = default;
  ExpiryMap(const ExpiryMap& o) : map_(o.map_) {}
  ExpiryMap& operator=(const ExpiryMap& o) {
    if (this != &o) {
      map_ = o.map_;
      drop_index();
    }
    return *this;
  }
  ExpiryMap(ExpiryMap&&) noexcept = default;  // the nodes move with the map: the index stays right
  ExpiryMap& operator=(ExpiryMap&&) noexcept = default;

  const Map& all() const { return map_.all(); }
  std::size_t size() const { return map_.size(); }
  bool empty() const { return map_.empty(); }
  std::size_t count(std::string_view k) const { return map_.count(k); }
  TrackedMap<std::uint64_t>::const_iterator begin() const { return map_.begin(); }
  TrackedMap<std::uint64_t>::const_iterator find(std::string_view k) const { return map_.find(k); }
  TrackedMap<std::uint64_t>::const_iterator end() const { return map_.end(); }
  void reset(Map m) {
    map_.reset(std::move(m));
    drop_index();
  }
  template <class F>
  void changes(F f) const { map_.changes(f); }
  bool changed() const { return map_.changed(); }
  void mark_saved() { map_.mark_saved(); }
  void set_tracking(bool on) { map_.set_tracking(on); }
  bool operator==(const ExpiryMap& o) const { return map_ == o.map_; }

  // A write the index does not see (loading, tests).
  std::uint64_t& operator[](std::string_view k) {
    drop_index();
    return map_[k];
  }
  // Keeps k until `until`.
  void set(std::string_view k, std::uint64_t until) {
    auto it = map_.entry(k);
    if (indexed_) {
      by_until_.erase({it->second, &it->first});  // none for an entry just added
      by_until_.emplace(until, &it->first);
    }
    it->second = until;
  }
  // Drops every entry kept until before limit.
  void drop_before(std::uint64_t limit) {
    if (!indexed_) {
      map_.erase_if([limit](const auto& kv) { return kv.second < limit; });
      // The index pays for itself only in a map dropped from again and again (a service, whose
      // clock moves): the first drop does without (a tool run, kd-bench's fixed clock).
      if (walked_) {
        for (const auto& [k, until] : map_.all()) by_until_.emplace(until, &k);
        indexed_ = true;
      }
      walked_ = true;
      return;
    }
    while (!by_until_.empty() && by_until_.begin()->first < limit) {
      const std::string* k = by_until_.begin()->second;
      by_until_.erase(by_until_.begin());
      map_.erase(*k);
    }
  }

private:
  void drop_index() {
    by_until_.clear();
    indexed_ = false;
  }
  TrackedMap<std::uint64_t> map_;
  std::set<std::pair<std::uint64_t, const std::string*>> by_until_;  // (until, key in map_)
  bool indexed_ = false;
  bool walked_ = false;  // drop_before() has walked every entry once
};

// Nonces (hex) seen within the window, each kept until the timestamp it came with goes stale.
struct ReplayCache {
  ExpiryMap expiry;
  // An entry that prune(now) would drop counts as not seen, so that a role can check an input
  // before it prunes, and prune only once it accepts (a refusal changes nothing).
  bool seen(const Bytes& nonce, std::uint64_t now) const {
    auto it = expiry.find(HexKey(nonce).view());
    return it != expiry.end() && it->second >= now;
  }
  void add(const Bytes& nonce, std::uint64_t until) { expiry.set(HexKey(nonce).view(), until); }
  void prune(std::uint64_t now) { expiry.drop_before(now); }
  bool operator==(const ReplayCache&) const = default;
};

// Expired entries are dropped at most once per clock value: a full walk on every message would cost
// time in proportion to the live set (kd-bench showed 68% of a registration at 1000 identities).
// Not persisted: a fresh load prunes once.
struct PruneClock {
  std::uint64_t at = 0;
  bool loaded = false;
  bool due(std::uint64_t now) {
    if (loaded && at == now) return false;
    at = now;
    loaded = true;
    return true;
  }
  bool operator==(const PruneClock&) const { return true; }  // not part of the state's value
};

// The terminal-facing half of an exchange, kept by the proxy (proxied flow) or by the switch
// (direct flow).
struct EdgeExchange {
  enum class Phase : std::uint8_t { awaiting_challenge, awaiting_answer, awaiting_result };
  Phase phase = Phase::awaiting_challenge;
  std::string suite;
  std::string ipc;
  Bytes term_n1;              // the terminal's latest N1, echoed in our next message
  std::optional<Bytes> n2;    // the N2 we sent in the challenge
  std::optional<Bytes> rand;  // the Rand we passed on
  msg::MechList mechs;        // the terminal's list (from its answer)
  std::string chosen;
  bool operator==(const EdgeExchange&) const = default;
};

struct TermRegistration {
  enum class Phase : std::uint8_t { awaiting_challenge, awaiting_result, registered };
  Phase phase = Phase::awaiting_challenge;
  msg::Flow flow = msg::Flow::proxied;
  std::string suite;
  std::string peer;     // IDsp (proxied) or IDss (direct)
  std::string contact;  // IPc
  msg::MechList mechs;
  Bytes n1;                   // N1 of our latest message
  std::optional<Bytes> rand;  // the challenge we answered
  std::string chosen;         // once registered
  std::uint64_t registered_at = 0;
  bool operator==(const TermRegistration&) const = default;
};

struct TermState {
  TrackedMap<TermRegistration> regs;  // by IDc
  ReplayCache seen_n2;
  PruneClock pruned;
  bool operator==(const TermState&) const = default;
};

struct ProxyState {
  TrackedMap<EdgeExchange> exchanges;  // by IDc
  ReplayCache seen_n1;
  PruneClock pruned;
  bool operator==(const ProxyState&) const = default;
};

struct Challenge {
  Bytes rand, authenticator, ekc, ekpeer;
  std::uint64_t expires = 0;
  bool operator==(const Challenge&) const = default;
};

struct SwitchRegistration {
  msg::Flow flow = msg::Flow::proxied;
  std::string suite;
  std::string peer;  // IDsp or IDss
  std::string ipc;
  std::optional<Challenge> challenge;
  EdgeExchange edge;  // direct flow only
  bool operator==(const SwitchRegistration&) const = default;
};

// Wrong verification words of one terminal, kept across re-registrations until the lockout ends,
// so that starting over does not reset the attempts limit.
struct Failures {
  std::uint32_t count = 0;
  std::uint64_t until = 0;
  bool operator==(const Failures&) const = default;
};

struct SwitchState {
  TrackedMap<SwitchRegistration> regs;  // by IDc
  TrackedMap<Failures> failures;        // by IDc
  ExpiryMap used_rands;  // hex Rand -> its challenge's expiry (kept one window past it)
  ReplayCache seen_n1;                              // direct flow
  PruneClock pruned;
  bool operator==(const SwitchState&) const = default;
};

struct IssuedChallenge {
  std::string idc, peer, suite;
  msg::Flow flow = msg::Flow::proxied;
  std::uint64_t expires = 0;
  bool answered = false;
  std::uint64_t seq = 0;  // issue order at this AuC: the oldest of a terminal is evicted first
  bool operator==(const IssuedChallenge&) const = default;
};

// How many challenges the AuC holds for one terminal (IDc); a new one evicts the oldest
// (kd-auc(1)). Without a bound a terminal that asks again and again grows the state for ever.
inline constexpr std::size_t kMaxChallengesPerTerminal = 8;

// The challenges the AuC holds, by hex Rand, with an index by expiry and one by terminal and issue
// order, so that lookup, insertion, eviction and pruning cost O(log n) each: a walk over all of
// them per message made a run of n requests cost n^2. The indexes point at the map's keys (the
// nodes of a hash table stay put): a copy builds its own.
class IssuedChallenges {
public:
  using Map = TrackedMap<IssuedChallenge>;
  IssuedChallenges() = default;
  IssuedChallenges(const IssuedChallenges& o) : by_rand_(o.by_rand_), next_seq_(o.next_seq_) { index(); }
  IssuedChallenges& operator=(const IssuedChallenges& o) {
    if (this != &o) {
      by_rand_ = o.by_rand_;
      next_seq_ = o.next_seq_;
      index();
    }
    return *this;
  }
  IssuedChallenges(IssuedChallenges&&) noexcept = default;  // the nodes move with the map
  IssuedChallenges& operator=(IssuedChallenges&&) noexcept = default;

  const Map& all() const { return by_rand_; }
  Map& tracked() { return by_rand_; }  // changes() and mark_saved() only
  const IssuedChallenge* find(std::string_view rand) const {
    auto it = by_rand_.find(rand);
    return it == by_rand_.end() ? nullptr : &it->second;
  }
  // Records c under rand, giving it the next issue number unless it has one (c.seq 0), and evicts
  // the terminal's oldest challenges beyond kMaxChallengesPerTerminal.
  void add(std::string_view rand, IssuedChallenge c);
  void mark_answered(std::string_view rand);
  // Drops every challenge with expires + skew < now.
  void prune(std::uint64_t now, std::uint64_t skew);
  // How many terminals hold a challenge (the index by terminal; for tests).
  std::size_t terminals() const { return by_idc_.size(); }
  bool operator==(const IssuedChallenges& o) const { return by_rand_ == o.by_rand_; }

private:
  using Key = const std::string*;  // a key of by_rand_
  void erase(Map::iterator it);    // marks it
  void index();                    // builds the indexes from by_rand_
  Map by_rand_;
  std::set<std::pair<std::uint64_t, Key>> by_expiry_;                                   // (expires, Rand)
  std::unordered_map<std::string, std::set<std::pair<std::uint64_t, Key>>, StringHash, std::equal_to<>>
      by_idc_;  // (seq, Rand)
  std::uint64_t next_seq_ = 1;
};

struct AucRecord {
  std::string peer, ipc, suite;
  msg::Flow flow = msg::Flow::proxied;
  std::uint64_t at = 0;
  bool operator==(const AucRecord&) const = default;
};

struct AucState {
  IssuedChallenges issued;
  TrackedMap<AucRecord> registered;  // by IDc
  bool operator==(const AucState&) const = default;
};

}  // namespace kd::flow
