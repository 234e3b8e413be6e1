// The transaction layer of a live service over UDP, pure: `now` comes in, deadlines go out, and no
// socket is touched (kd-live(7), TRANSACTIONS).
//
// Server side: a request is known by its bytes and the address it came from. A retransmission (the
// same bytes from the same address) is answered from the cached response, byte for byte, and never
// reaches the role again; while the role has not answered yet it is absorbed. On a socket matched
// by host (a TCP listener) the address is the host's, whatever connection (port) brings the request:
// a client sends it again on a new connection when its own broke, or after a restart. An answer the role
// produces later (the switch answers s2 once the AuC has answered s3) finds its transaction by a
// name (the terminal's IDc and the request's step).
//
// Client side: a request sent to a peer is resent on its Retransmission schedule until the answer
// that completes it arrives, or it times out; over TCP, it is sent again on a new connection when
// the one it went on broke (transport_failed()).
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/bytes.hpp"
#include "core/string_hash.hpp"
#include "net/endpoint.hpp"
#include "net/retransmit.hpp"

namespace kd::net {

using SocketId = std::uint32_t;

// A datagram to send: on which socket, to whom, what.
struct Outgoing {
  SocketId socket = 0;
  Address to;
  Bytes bytes;
};

// An answered server transaction, as the response journal keeps it (kd-live(7), DURABILITY).
struct Answered {
  Address from;
  Bytes request;
  SocketId socket = 0;
  Bytes response;
  std::uint64_t expires_ms = 0;  // in the transactions' time (the journal's file: Unix time)
};

// The same as the cache holds it, for the journal to encode in place (no copy); valid during the
// call it is handed to.
struct AnswerRef {
  const Address& from;
  ByteView request;
  SocketId socket = 0;
  ByteView response;
  std::uint64_t expires_ms = 0;
};

// Entries ordered by a time and, at equal times, by when they were put in (what a std::multimap by
// time keeps), without a tree: each entry carries its Hook, and the hooks sit in a few sorted
// lists, "lanes". An entry goes at the tail of the lane whose tail is the latest not after it, so
// that the times of one timeout (now plus a constant, now never going back) make one lane and each
// insertion is O(1): the tree's insertion, its rebalancing and its two allocations per entry were
// a service's largest cost in its transaction layer (kd-live(7), MEMORY). Times that fit no lane
// (a clock going back, more kinds of timeout than lanes) are put in order into one, walking back
// from its tail. The first entry and a walk in order merge the lanes' heads.
template <class Owner>
class TimeIndex {
public:
  static constexpr std::size_t kLanes = 8;
  struct Hook {
    Owner* owner = nullptr;
    std::uint64_t at = 0, seq = 0;
    Hook *prev = nullptr, *next = nullptr;
    std::uint8_t lane = kUnlinked;
    bool linked() const noexcept { return lane != kUnlinked; }
  };

  // Links h (unlinked) at time at, after every hook of a time not after at.
  void insert(Hook& h, Owner* owner, std::uint64_t at) {
    h.owner = owner;
    h.at = at;
    h.seq = ++seq_;
    Lane* fit = nullptr;
    Lane* empty = nullptr;
    Lane* closest = nullptr;  // when none fits: the one whose tail is the least after at
    for (std::size_t i = 0; i < used_; ++i) {
      Lane& l = lanes_[i];
      if (!l.tail) {
        if (!empty) empty = &l;
      } else if (l.tail->at <= at) {
        if (!fit || l.tail->at > fit->tail->at) fit = &l;
      } else if (!closest || l.tail->at < closest->tail->at) {
        closest = &l;
      }
    }
    if (!fit) fit = empty;
    if (!fit && used_ < kLanes) fit = &lanes_[used_++];
    Lane& l = fit ? *fit : *closest;
    h.lane = static_cast<std::uint8_t>(&l - lanes_.data());
    Hook* after = l.tail;
    while (after && after->at > at) after = after->prev;
    h.prev = after;
    h.next = after ? after->next : l.head;
    (h.next ? h.next->prev : l.tail) = &h;
    (after ? after->next : l.head) = &h;
    ++size_;
  }
  void erase(Hook& h) noexcept {
    if (!h.linked()) return;
    Lane& l = lanes_[h.lane];
    (h.prev ? h.prev->next : l.head) = h.next;
    (h.next ? h.next->prev : l.tail) = h.prev;
    h.prev = h.next = nullptr;
    h.lane = kUnlinked;
    --size_;
  }
  bool empty() const noexcept { return size_ == 0; }
  std::size_t size() const noexcept { return size_; }
  // The hook of the earliest time (of those equal, the first put in); nullptr when empty.
  const Hook* first() const noexcept {
    const Hook* best = nullptr;
    for (std::size_t i = 0; i < used_; ++i)
      if (const Hook* h = lanes_[i].head; h && (!best || before(*h, *best))) best = h;
    return best;
  }
  // f(hook) for each hook of a time after `after`, in order.
  template <class F>
  void for_each_after(std::uint64_t after, F&& f) const {
    std::array<const Hook*, kLanes> at{};
    for (std::size_t i = 0; i < used_; ++i) {
      const Hook* h = lanes_[i].head;
      while (h && h->at <= after) h = h->next;
      at[i] = h;
    }
    for (;;) {
      std::size_t best = kLanes;
      for (std::size_t i = 0; i < used_; ++i)
        if (at[i] && (best == kLanes || before(*at[i], *at[best]))) best = i;
      if (best == kLanes) return;
      const Hook* h = at[best];
      at[best] = h->next;
      f(*h);
    }
  }

private:
  static constexpr std::uint8_t kUnlinked = 0xff;
  struct Lane {
    Hook *head = nullptr, *tail = nullptr;
  };
  static bool before(const Hook& a, const Hook& b) noexcept { return a.at != b.at ? a.at < b.at : a.seq < b.seq; }
  std::array<Lane, kLanes> lanes_{};
  std::size_t used_ = 0, size_ = 0;
  std::uint64_t seq_ = 0;
};

class ServerTransactions {
public:
  // At most max_entries transactions are kept, holding at most max_bytes (bytes_held()) when they
  // open; beyond, the one that expires first goes. The bound in bytes is what bounds the memory
  // when the requests are large: every datagram opens a transaction, one that does not decode too.
  // The table is sized for max_entries (up to kReserved) at once: growing it, a rehash of every
  // transaction at each doubling, was a service's cost while its cache filled (kd-live(7), MEMORY).
  explicit ServerTransactions(std::size_t max_entries, std::size_t max_bytes = SIZE_MAX)
      : max_(max_entries), max_bytes_(max_bytes) {
    entries_.reserve(std::min(max_entries, kReserved));
  }
  static constexpr std::size_t kReserved = std::size_t{1} << 18;
  // The indexes point into the table's nodes: a copy would point into the original's.
  ServerTransactions(const ServerTransactions&) = delete;
  ServerTransactions& operator=(const ServerTransactions&) = delete;

  // Requests that come in on socket (a TCP listener) are known by the host they came from, not by
  // their connection (RFC 3261 17.2.3 matches a request's identity, whatever carries it). Set
  // before the socket's first request.
  void match_by_host(SocketId socket);
  // Whether an answer can go to `to` on socket now (a TCP listener's connection still open). An
  // answer goes where its request first came from while that is reachable, else where its latest
  // copy came from (RFC 3261 18.2.2). Unset: always.
  void set_reachable(std::function<bool(SocketId, const Address&)> reachable) { reachable_ = std::move(reachable); }

  // A request as it came: on which socket, where from, its bytes (which must outlive it), the
  // address its transaction is known by (from, or its host alone: match_by_host) and the hash of
  // both, computed once for every call about it (hashing the bytes at each call, and again at each
  // rehash, was a service's largest cost after the role's).
  struct Request {
    SocketId socket;
    Address from;
    Address key;
    ByteView bytes;
    std::size_t hash;
  };
  Request request(SocketId socket, const Address& from, ByteView bytes);
  enum class Seen : std::uint8_t { fresh, absorbed, answered, pending };
  // What a request is: fresh (no transaction has its bytes from its address), pending (one has,
  // open under a name: the role accepted it and will answer), absorbed (one has, unanswered and
  // unnamed, or answered by silence), answered (*response: the cached answer, to send back where
  // this copy came from). A copy from another connection of the host is noted as the latest.
  Seen lookup(const Request& r, std::uint64_t now_ms, const Bytes** response = nullptr);
  Seen lookup(SocketId socket, const Address& from, ByteView request, std::uint64_t now_ms,
              const Bytes** response = nullptr) {
    return lookup(this->request(socket, from, request), now_ms, response);
  }
  // Opens the transaction of a fresh request, unanswered until answer(); it is forgotten at
  // now_ms + wait_ms unless answered before. name (may be empty): how answer() finds it, replacing
  // an unanswered transaction of that name.
  void open(const Request& r, std::uint64_t now_ms, std::uint64_t wait_ms, std::string name);
  void open(const Address& from, ByteView request, SocketId socket, std::uint64_t now_ms, std::uint64_t wait_ms,
            std::string name) {
    open(this->request(socket, from, request), now_ms, wait_ms, std::move(name));
  }
  // The answer to the open transaction named name: where it goes, and it is kept until now_ms +
  // keep_ms for retransmissions of the request. nullopt when no transaction has that name.
  std::optional<Outgoing> answer(std::string_view name, Bytes response, std::uint64_t now_ms, std::uint64_t keep_ms);
  // The same for the transaction of that request (an empty response answers it by silence: its
  // retransmissions are absorbed).
  std::optional<Outgoing> answer(const Request& r, Bytes response, std::uint64_t now_ms, std::uint64_t keep_ms);
  std::optional<Outgoing> answer(SocketId socket, const Address& from, ByteView request, Bytes response,
                                 std::uint64_t now_ms, std::uint64_t keep_ms) {
    return answer(this->request(socket, from, request), std::move(response), now_ms, keep_ms);
  }
  // The request of the open, unanswered transaction named name, as it came: what the answer echoes
  // (Codec::encode_answer). Valid until the next change of the cache; empty when no transaction
  // has that name (answered, expired, evicted, or its name taken by a newer request), so nothing
  // kept for an answer outlives its transaction (kd-live(7), MEMORY).
  ByteView pending_request(std::string_view name) const;
  // Provisional answers in time (kd-live(7), TRANSACTIONS): a transaction opened under a name (the
  // role accepted the request and will answer it) and still unanswered delay_ms after it opened is
  // due one provisional answer, unless a retransmission of it found it pending first (it got one
  // then) or it lost its name to a newer request. 0 (the default): none. Set before the first
  // request.
  void provisional_after(std::uint64_t delay_ms) noexcept { provisional_ms_ = delay_ms; }
  // When the next provisional answer is due, if any: the loop waits for it with the other
  // deadlines, and calls take_late() then.
  std::optional<std::uint64_t> deadline() const;
  // A request whose provisional answer is due: where it came from first, and its bytes (what the
  // answer names). Valid during the call it is handed to.
  struct Late {
    SocketId socket;
    const Address& to;
    ByteView request;
  };
  // Hands f each request whose provisional answer is due by now_ms, once.
  void take_late(std::uint64_t now_ms, const std::function<void(const Late&)>& f);
  // How many requests were hashed (request()), for the test that each is hashed once.
  std::size_t hashes() const noexcept { return hashes_; }
  // Forgets what expired by now_ms.
  void expire(std::uint64_t now_ms);
  std::size_t size() const noexcept { return entries_.size(); }
  // Bytes held by the cache (requests, responses, names), for kd-live(7)'s memory figures.
  std::size_t bytes_held() const noexcept { return held_; }

  // Persistence (the response journal): each answer given is handed to sink as it is given (an
  // empty sink: none), the journal writing it into its batch without a copy of it.
  using AnswerSink = std::function<void(const AnswerRef&)>;
  void record_answers(AnswerSink sink) { sink_ = std::move(sink); }
  // Every answered transaction not expired by now_ms, in the order they expire, handed to f as
  // the cache holds it (the journal's compaction encodes them straight from here).
  void for_each_answered(std::uint64_t now_ms, const std::function<void(const AnswerRef&)>& f) const;
  // The same, copied.
  std::vector<Answered> answered(std::uint64_t now_ms) const;
  // An answered transaction from the journal, kept until expires_ms; the bound holds as in open().
  // It replaces a transaction of the same request from the same address (a later batch's answer).
  void restore(Answered a);

private:
  // A request's key keeps its hash: the map never hashes the bytes again (a lookup by a key it
  // holds, a rehash).
  struct Key {
    Address from;
    std::string request;
    std::size_t hash = 0;
  };
  // A request looked up as it arrived, without copying its bytes into a Key.
  struct KeyView {
    const Address& from;
    std::string_view request;
    std::size_t hash;
  };
  struct KeyHash {
    using is_transparent = void;
    std::size_t operator()(const Key& k) const noexcept { return k.hash; }
    std::size_t operator()(const KeyView& k) const noexcept { return k.hash; }
  };
  struct KeyEqual {
    using is_transparent = void;
    bool operator()(const Key& a, const Key& b) const noexcept {
      return &a == &b || (a.hash == b.hash && a.from == b.from && a.request == b.request);
    }
    bool operator()(const KeyView& a, const Key& b) const noexcept {
      return a.hash == b.hash && a.from == b.from && a.request == b.request;
    }
    bool operator()(const Key& a, const KeyView& b) const noexcept { return (*this)(b, a); }
  };
  struct Entry;
  // The time indexes point at the map's nodes (which stay put), so that a walk over them (the
  // journal's compaction) finds each entry without a lookup.
  using Node = std::pair<const Key, Entry>;
  using Times = TimeIndex<Node>;
  struct Entry {
    SocketId socket = 0;
    Address first, latest;  // where the request came from first, and its latest copy
    bool answered = false;
    Bytes response;
    std::string name;
    Times::Hook expiry;
    Times::Hook late;  // unlinked: no provisional answer due
  };
  using Map = std::unordered_map<Key, Entry, KeyHash, KeyEqual>;
  // The address a request from `from` on socket is known by: from, or its host alone.
  Address key_address(SocketId socket, const Address& from) const;
  static std::size_t hash_of(const Address& key, ByteView bytes) noexcept;
  Map::iterator find(const Request& r) { return entries_.find(KeyView{r.key, as_view(r.bytes), r.hash}); }
  static std::string_view as_view(ByteView b) noexcept { return {reinterpret_cast<const char*>(b.data()), b.size()}; }
  void set_expiry(Map::iterator it, std::uint64_t at);
  // Room for one more transaction holding `adding` bytes: the ones that expire first go.
  void make_room(std::size_t adding);
  void drop_late(Entry& e);
  void erase(Map::iterator it);
  std::optional<Outgoing> settle(Map::iterator it, Bytes response, std::uint64_t now_ms, std::uint64_t keep_ms);

  std::size_t max_, max_bytes_, held_ = 0, hashes_ = 0;
  std::uint64_t provisional_ms_ = 0;
  std::vector<SocketId> by_host_;
  std::function<bool(SocketId, const Address&)> reachable_;
  AnswerSink sink_;
  Map entries_;
  Times by_expiry_;
  Times by_late_;  // pending, by when their provisional answer is due
  // By name, looked up by a string_view (answer(), pending_request()) without building a string.
  std::unordered_map<std::string, const Key*, StringHash, std::equal_to<>> named_;
};

// A request sent on a connection that broke, or could not be opened, is sent again on a new one
// (kd-live(7), TRANSPORTS): the n-th time reconnect_delay(n) after the failure, at most
// kMaxReconnects times; at the next failure it gives up.
inline constexpr std::uint32_t kMaxReconnects = 8;
inline constexpr std::uint64_t kReconnectFirstMs = 100;  // doubling ...
inline constexpr std::uint64_t kReconnectMaxMs = 2000;   // ... up to this
std::uint64_t reconnect_delay(std::uint32_t attempt) noexcept;

class ClientTransactions {
public:
  struct Txn {
    std::string key;    // what the awaited answer is known by
    std::string label;  // for reports: the step sent ("s3")
    Outgoing out;
    Retransmission schedule;
    std::uint32_t failures = 0;  // of the connections it was sent on (transport_failed())
    std::uint32_t resends = 0;   // sends on a new connection after one of them
    std::uint32_t sends() const noexcept { return schedule.sends() + resends; }
  };
  // Sends are the caller's: start() records out, already sent once at now_ms. A transaction under
  // the same key is replaced. ref: the identity a provisional answer names the request by
  // (wire::request_transaction), when its binding has provisional answers.
  void start(std::string key, std::string label, Outgoing out, const Timers& t, std::uint64_t now_ms,
             std::optional<std::uint32_t> ref = std::nullopt);
  // A provisional answer naming ref, from `from` (kd-live(7), TRANSACTIONS): the one transaction
  // started under ref stops resending and waits wait_ms from now_ms (Retransmission::on_provisional).
  // nullptr, and nothing held, when no transaction or more than one has ref, or when its request
  // went elsewhere than `from` (an identity is short and guessable: only the peer asked may hold it).
  const Txn* provisional(std::uint32_t ref, const Address& from, std::uint64_t now_ms, std::uint64_t wait_ms);
  // Ends the transaction key (its answer came): true when it was pending.
  bool complete(std::string_view key);
  const Txn* find(std::string_view key) const;
  std::optional<std::uint64_t> deadline() const;
  // Runs the schedules due by now_ms: what to send again into resend, what timed out into gave_up.
  void on_time(std::uint64_t now_ms, std::vector<Outgoing>& resend, std::vector<Txn>& gave_up);
  // The connection of socket (a reliable transport's) broke or could not be opened: the transport
  // error of RFC 3261 17.1.2.2. Each transaction sent on socket is sent again by on_time() on a
  // new connection after reconnect_delay(), within its own timeout (which stays); one that failed
  // more than kMaxReconnects times gives up now, into gave_up. One already waiting to be sent again
  // is left as it is (it was not on that connection). Returns how many transactions it concerned.
  std::size_t transport_failed(SocketId socket, std::uint64_t now_ms, std::vector<Txn>& gave_up);
  std::size_t size() const noexcept { return txns_.size(); }

private:
  struct Slot {
    Txn txn;
    std::multimap<std::uint64_t, const std::string*>::iterator at;
    std::optional<std::uint64_t> resend_at;  // after a transport failure
    std::optional<std::uint32_t> ref;        // start()'s
    std::uint64_t deadline() const noexcept {
      return resend_at ? std::min(*resend_at, txn.schedule.deadline()) : txn.schedule.deadline();
    }
  };
  std::map<std::string, Slot, std::less<>> txns_;
  std::multimap<std::uint64_t, const std::string*> by_deadline_;
  std::unordered_multimap<std::uint32_t, const std::string*> by_ref_;
  void erase(std::map<std::string, Slot, std::less<>>::iterator it);
};

}  // namespace kd::net
