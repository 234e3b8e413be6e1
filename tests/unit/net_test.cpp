// lib/net's pure parts: endpoints, and the transaction layer under a fake clock.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/run_error.hpp"

#include "net/commit_window.hpp"
#include "net/endpoint.hpp"
#include "net/loop.hpp"
#include "net/stream.hpp"
#include "net/sync_thread.hpp"
#include "net/transactions.hpp"

namespace kd::net {
namespace {

// to_string(Address) writes what inet_ntop(3) writes, for every kind of IPv4 byte (no leading
// zeros, 0 and 255 whole) and for IPv6 (compressed, v4-mapped), with the transport and the port.
TEST(Endpoint, AddressTextIsInetNtops) {
  auto ntop = [](const Address& a) {
    char buf[INET6_ADDRSTRLEN] = {};
    inet_ntop(a.v6 ? AF_INET6 : AF_INET, a.ip.data(), buf, sizeof buf);
    return std::string(buf);
  };
  std::vector<Address> all;
  for (const int v : {0, 1, 9, 10, 99, 100, 127, 199, 200, 255}) {
    const auto b = static_cast<std::uint8_t>(v);
    Address a;
    a.ip = {b, static_cast<std::uint8_t>(255 - b), 0, b};
    a.port = static_cast<std::uint16_t>(v * 257);
    all.push_back(a);
  }
  Address v6;
  v6.v6 = true;
  v6.ip[15] = 1;  // ::1
  v6.port = 65535;
  all.push_back(v6);
  v6.ip = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xab, 0xcd};
  v6.port = 0;
  all.push_back(v6);
  v6.ip = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 7};
  all.push_back(v6);
  for (const auto& a : all) {
    const std::string host = a.v6 ? "[" + ntop(a) + "]" : ntop(a);
    EXPECT_EQ(to_string(a), "udp:" + host + ":" + std::to_string(a.port));
    EXPECT_EQ(to_string(a, Transport::tcp), "tcp:" + host + ":" + std::to_string(a.port));
  }
  Address a;
  a.ip = {192, 0, 2, 10};
  a.port = 5060;
  EXPECT_EQ(to_string(a), "udp:192.0.2.10:5060");
}

TEST(Endpoint, ParsesEachHostForm) {
  Endpoint e;
  ASSERT_FALSE(parse_endpoint("udp:127.0.0.1:5060", e));
  EXPECT_EQ(e.transport, Transport::udp);
  EXPECT_EQ(e.host, "127.0.0.1");
  EXPECT_EQ(e.port, 5060);
  ASSERT_FALSE(parse_endpoint("udp:[::1]:0", e));
  EXPECT_EQ(e.host, "::1");
  EXPECT_EQ(e.port, 0);
  EXPECT_EQ(to_string(e), "udp:[::1]:0");
  ASSERT_FALSE(parse_endpoint("tcp:localhost:65535", e));
  EXPECT_EQ(e.transport, Transport::tcp);
  EXPECT_EQ(e.host, "localhost");
  EXPECT_EQ(e.port, 65535);
}

TEST(Endpoint, RefusesWhatIsNotOne) {
  Endpoint e;
  e.host = "untouched";
  for (const char* bad : {"", "127.0.0.1:5060", "sctp:127.0.0.1:1", "udp:127.0.0.1", "udp::5060", "udp:::1:5060",
                          "udp:[::1:5060", "udp:[nonsense]:5060", "udp:127.0.0.1:65536", "udp:127.0.0.1:-1",
                          "udp:127.0.0.1:50x", "udp:127.0.0.1:", "udp:a b:1", "udp:\"x\":1"}) {
    auto why = parse_endpoint(bad, e);
    ASSERT_TRUE(why) << bad;
    EXPECT_NE(why->find("endpoint"), std::string::npos) << *why;
  }
  EXPECT_EQ(e.host, "untouched");
}

Address addr(std::uint8_t last, std::uint16_t port) {
  Address a;
  a.ip = {127, 0, 0, last};
  a.port = port;
  return a;
}

Bytes by(std::string_view s) { return Bytes(s.begin(), s.end()); }

// The time index of the transactions (TimeIndex) against the std::multimap by time it replaced:
// after any sequence of insertions (the timeouts of a service, a clock that goes back, more kinds
// of timeout than lanes) and removals, its first entry and its walk in order are the multimap's, so
// that expiry, eviction and the journal's compaction see the same order. An entry removed from the
// index and not found gone, or one out of place, fails it.
TEST(TimeIndex, KeepsTheOrderOfAMultimapByTime) {
  struct Item {
    TimeIndex<Item>::Hook hook;
    std::multimap<std::uint64_t, int>::iterator in_model;
    bool linked = false;
  };
  std::vector<Item> items(400);
  TimeIndex<Item> index;
  std::multimap<std::uint64_t, int> model;
  std::uint64_t rng = 12345, now = 1000;
  auto next = [&rng](std::uint64_t n) {
    rng = rng * 6364136223846793005u + 1442695040888963407u;
    return (rng >> 33) % n;
  };
  const std::uint64_t timeouts[] = {32000, 500, 4000, 32000, 64000, 1, 2, 3, 5, 7, 11, 13};
  auto check = [&](int step) {
    ASSERT_EQ(index.size(), model.size()) << step;
    ASSERT_EQ(index.empty(), model.empty()) << step;
    const auto* first = index.first();
    if (model.empty()) {
      ASSERT_EQ(first, nullptr) << step;
    } else {
      ASSERT_NE(first, nullptr) << step;
      ASSERT_EQ(first->owner, &items[static_cast<std::size_t>(model.begin()->second)]) << step;
      ASSERT_EQ(first->at, model.begin()->first) << step;
    }
    const std::uint64_t after = now - 1000 + next(70000);
    std::vector<const Item*> walked, expected;
    index.for_each_after(after, [&](const TimeIndex<Item>::Hook& h) { walked.push_back(h.owner); });
    for (auto m = model.upper_bound(after); m != model.end(); ++m)
      expected.push_back(&items[static_cast<std::size_t>(m->second)]);
    ASSERT_EQ(walked, expected) << step;
  };
  for (int step = 0; step < 20000; ++step) {
    Item& it = items[next(items.size())];
    const int id = static_cast<int>(&it - items.data());
    if (it.linked && next(3) == 0) {  // forgotten
      index.erase(it.hook);
      model.erase(it.in_model);
      it.linked = false;
      ASSERT_FALSE(it.hook.linked());
    } else {  // (again) kept until a time: the timeout of one kind of transaction, or any time
      if (it.linked) {
        index.erase(it.hook);
        model.erase(it.in_model);
      }
      const std::uint64_t at = next(20) == 0 ? next(now + 70000) : now + timeouts[next(step < 10000 ? 5 : 12)];
      index.insert(it.hook, &it, at);
      it.in_model = model.emplace(at, id);
      it.linked = true;
    }
    now += next(3);
    if (next(50) == 0) now -= std::min<std::uint64_t>(now, next(100));  // a clock that goes back
    if (step % 7 == 0) check(step);
    if (HasFatalFailure()) return;
  }
  while (!model.empty()) {  // emptied from its first, as expiry does
    const auto* first = index.first();
    ASSERT_NE(first, nullptr);
    ASSERT_EQ(first->owner, &items[static_cast<std::size_t>(model.begin()->second)]);
    index.erase(first->owner->hook);
    model.erase(model.begin());
  }
  EXPECT_TRUE(index.empty());
  EXPECT_EQ(index.first(), nullptr);
}

// The transactions expire, are evicted and are handed to the journal in the order of their expiry
// (equal times: the one set first), whatever the timeouts mixed.
TEST(ServerTransactions, ExpireEvictAndCompactInTheOrderOfExpiry) {
  ServerTransactions st(6);
  const Address from = addr(1, 7);
  auto req = [](int i) { return by("R" + std::to_string(i)); };
  st.open(from, req(0), 0, 0, 4000, "");      // expires 4000
  st.open(from, req(1), 0, 0, 500, "n1");     // 500
  st.open(from, req(2), 0, 10, 32000, "");    // 32010
  st.open(from, req(3), 0, 10, 500, "n3");    // 510
  st.answer("n1", by("A1"), 20, 32000);        // 32020
  st.answer(0, from, req(0), by("A0"), 20, 32000);  // 32020, after R1
  st.answer("n3", by("A3"), 30, 100);          // 130
  st.open(from, req(4), 0, 40, 90, "");       // 130, after R3
  st.answer(0, from, req(4), by("A4"), 40, 90);     // 130, after R3 (set again)
  std::vector<std::string> order;
  for (const auto& a : st.answered(0)) order.emplace_back(a.request.begin(), a.request.end());
  EXPECT_EQ(order, (std::vector<std::string>{"R3", "R4", "R1", "R0"}));
  // The bound: the one that expires first goes (R3, then R4).
  st.open(from, req(5), 0, 50, 1000, "");
  st.open(from, req(6), 0, 50, 1000, "");
  EXPECT_EQ(st.lookup(0, from, req(3), 60), ServerTransactions::Seen::fresh);
  EXPECT_EQ(st.lookup(0, from, req(4), 60), ServerTransactions::Seen::answered);
  st.open(from, req(7), 0, 50, 1000, "");
  EXPECT_EQ(st.lookup(0, from, req(4), 60), ServerTransactions::Seen::fresh);
  EXPECT_EQ(st.size(), 6u);
  // Expiry forgets what expired by then, and only that.
  st.expire(1050);
  EXPECT_EQ(st.size(), 3u);  // R0, R1, R2
  order.clear();
  for (const auto& a : st.answered(0)) order.emplace_back(a.request.begin(), a.request.end());
  EXPECT_EQ(order, (std::vector<std::string>{"R1", "R0"}));
  st.expire(32020);
  EXPECT_EQ(st.size(), 0u);
}

TEST(ServerTransactions, RetransmissionGetsTheCachedAnswerByteForByte) {
  ServerTransactions st(16);
  const Address from = addr(1, 4000);
  EXPECT_EQ(st.lookup(3, from, by("REGISTER 1"), 0), ServerTransactions::Seen::fresh);
  st.open(from, by("REGISTER 1"), 3, 0, 1000, "alice/s1");
  // No answer yet: a retransmission finds it pending (the service sends a provisional answer).
  EXPECT_EQ(st.lookup(3, from, by("REGISTER 1"), 10), ServerTransactions::Seen::pending);
  auto out = st.answer("alice/s1", by("401 challenge"), 20, 500);
  ASSERT_TRUE(out);
  EXPECT_EQ(out->socket, 3u);
  EXPECT_EQ(out->to, from);
  EXPECT_EQ(out->bytes, by("401 challenge"));
  const Bytes* cached = nullptr;
  EXPECT_EQ(st.lookup(3, from, by("REGISTER 1"), 30, &cached), ServerTransactions::Seen::answered);
  ASSERT_NE(cached, nullptr);
  EXPECT_EQ(*cached, by("401 challenge"));
  // Another source, or other bytes, is another request.
  EXPECT_EQ(st.lookup(3, addr(2, 4000), by("REGISTER 1"), 30), ServerTransactions::Seen::fresh);
  EXPECT_EQ(st.lookup(3, from, by("REGISTER 2"), 30), ServerTransactions::Seen::fresh);
  // The name is used up: a second answer finds nothing.
  EXPECT_FALSE(st.answer("alice/s1", by("again"), 40, 500));
  // Kept keep_ms after the answer, then forgotten.
  EXPECT_EQ(st.lookup(3, from, by("REGISTER 1"), 519), ServerTransactions::Seen::answered);
  EXPECT_EQ(st.lookup(3, from, by("REGISTER 1"), 520), ServerTransactions::Seen::fresh);
  st.expire(520);
  EXPECT_EQ(st.size(), 0u);
  EXPECT_EQ(st.bytes_held(), 0u);
}

TEST(ServerTransactions, SilenceAndBounds) {
  ServerTransactions st(2);
  st.open(addr(1, 1), by("a"), 0, 0, 100, "");
  EXPECT_TRUE(st.answer(0, addr(1, 1), by("a"), {}, 5, 100));  // answered by silence
  EXPECT_EQ(st.lookup(0, addr(1, 1), by("a"), 6), ServerTransactions::Seen::absorbed);
  st.open(addr(1, 1), by("b"), 0, 0, 50, "");
  st.open(addr(1, 1), by("c"), 0, 0, 200, "");  // the bound: the one that expires first goes
  EXPECT_EQ(st.size(), 2u);
  EXPECT_EQ(st.lookup(0, addr(1, 1), by("b"), 6), ServerTransactions::Seen::fresh);
  EXPECT_EQ(st.lookup(0, addr(1, 1), by("c"), 6), ServerTransactions::Seen::absorbed);
  // A new request under a name takes it from an unanswered one, which no answer will end: its
  // retransmissions are absorbed, the new one's find it pending.
  ServerTransactions named(16);
  named.open(addr(1, 2), by("x"), 0, 0, 100, "bob/s2");
  EXPECT_EQ(named.lookup(0, addr(1, 2), by("x"), 1), ServerTransactions::Seen::pending);
  named.open(addr(1, 3), by("y"), 1, 0, 100, "bob/s2");
  EXPECT_EQ(named.lookup(0, addr(1, 2), by("x"), 1), ServerTransactions::Seen::absorbed);
  EXPECT_EQ(named.lookup(0, addr(1, 3), by("y"), 1), ServerTransactions::Seen::pending);
  st.open(addr(1, 2), by("x"), 0, 0, 100, "bob/s2");
  st.open(addr(1, 3), by("y"), 1, 0, 100, "bob/s2");
  auto out = st.answer("bob/s2", by("ok"), 1, 100);
  ASSERT_TRUE(out);
  EXPECT_EQ(out->to, addr(1, 3));
}

// What the transactions hold is bounded in bytes too (kd-live(7), MEMORY): large requests that
// only open a transaction (a flood of datagrams that do not decode) evict the ones that expire
// first, as the bound on their number does, before the bytes held pass the bound.
TEST(ServerTransactions, TheBytesHeldAreBounded) {
  ServerTransactions st(1000, 250);
  const Bytes big(100, 'x');
  for (std::uint8_t i = 0; i < 10; ++i) {
    Bytes r = big;
    r[0] = i;
    st.open(addr(1, 1), r, 0, i, 1000, "");
    EXPECT_LE(st.bytes_held(), 250u) << int(i);
  }
  EXPECT_EQ(st.size(), 2u);
  Bytes last = big, first = big;
  last[0] = 9;
  first[0] = 0;
  EXPECT_EQ(st.lookup(0, addr(1, 1), last, 20), ServerTransactions::Seen::absorbed);
  EXPECT_EQ(st.lookup(0, addr(1, 1), first, 20), ServerTransactions::Seen::fresh);
  // An answered one restored from the journal is held under the same bound.
  st.restore(Answered{addr(1, 2), Bytes(120, 'q'), 0, Bytes(60, 'a'), 2000});
  EXPECT_LE(st.bytes_held(), 250u);
  EXPECT_EQ(st.lookup(0, addr(1, 2), Bytes(120, 'q'), 20), ServerTransactions::Seen::answered);
}

// The request an answer echoes (its identity as it came: requestSeqNum, transaction id, Via) is the
// open transaction's own bytes, so nothing that holds it outlives the transaction (kd-live(7),
// MEMORY): a service that never answers forgets it when the transaction expires.
TEST(ServerTransactions, TheRequestToEchoGoesWithItsTransaction) {
  auto text = [](ByteView v) { return std::string(v.begin(), v.end()); };
  ServerTransactions st(16);
  const Address from = addr(1, 4000);
  st.open(from, by("RRQ 7"), 3, 0, 1000, "alice/s1");
  EXPECT_EQ(text(st.pending_request("alice/s1")), "RRQ 7");
  EXPECT_TRUE(st.pending_request("bob/s1").empty());
  // Never answered: gone with its transaction, and no byte of it is held.
  st.expire(1000);
  EXPECT_TRUE(st.pending_request("alice/s1").empty());
  EXPECT_EQ(st.bytes_held(), 0u);
  // Answered: the answer echoed it; it is no longer pending.
  st.open(from, by("RRQ 8"), 3, 2000, 1000, "alice/s1");
  ASSERT_TRUE(st.answer("alice/s1", by("RCF"), 2010, 500));
  EXPECT_TRUE(st.pending_request("alice/s1").empty());
  // A newer request under the name (a new registration of the terminal) is the one echoed.
  st.open(from, by("RRQ 9"), 3, 3000, 1000, "alice/s1");
  st.open(from, by("RRQ 10"), 3, 3001, 1000, "alice/s1");
  EXPECT_EQ(text(st.pending_request("alice/s1")), "RRQ 10");
  // Evicted by the bound: forgotten too.
  ServerTransactions small(1);
  small.open(from, by("RRQ 11"), 3, 0, 1000, "carol/s1");
  small.open(from, by("RRQ 12"), 3, 0, 2000, "dave/s1");
  EXPECT_TRUE(small.pending_request("carol/s1").empty());
  EXPECT_EQ(text(small.pending_request("dave/s1")), "RRQ 12");
}

// A pending request (named: the role will answer it) still unanswered after the provisional delay
// gets one provisional answer unprompted (H.248.1 Annex D.1.4 and E.2.1, H.225.0's
// RequestInProgress): the layer reports when, under a fake clock, and what is due then, once.
TEST(ServerTransactions, AProvisionalAnswerIsDueWhenTheAnswerIsLate) {
  auto text = [](ByteView v) { return std::string(v.begin(), v.end()); };
  struct Due {
    SocketId socket;
    Address to;
    std::string request;
  };
  auto take = [&](ServerTransactions& st, std::uint64_t now) {
    std::vector<Due> due;
    st.take_late(now, [&](const ServerTransactions::Late& l) { due.push_back({l.socket, l.to, text(l.request)}); });
    return due;
  };
  ServerTransactions st(16);
  EXPECT_EQ(st.deadline(), std::nullopt);
  st.provisional_after(1000);
  const Address from = addr(1, 4000);
  st.open(from, by("RRQ 1"), 3, 100, 30000, "alice/s1");
  st.open(from, by("RRQ 2"), 3, 300, 30000, "bob/s1");
  st.open(from, by("bad"), 3, 200, 30000, "");  // refused (no name): nothing will answer it
  EXPECT_EQ(st.deadline(), 1100u);
  EXPECT_TRUE(take(st, 1099).empty());
  auto due = take(st, 1100);
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].socket, 3u);
  EXPECT_EQ(due[0].to, from);
  EXPECT_EQ(due[0].request, "RRQ 1");
  // One each: alice's is not due again; bob's is next.
  EXPECT_EQ(st.deadline(), 1300u);
  // bob's answer comes first: nothing is due any more.
  ASSERT_TRUE(st.answer("bob/s1", by("RCF"), 1200, 9000));
  EXPECT_EQ(st.deadline(), std::nullopt);
  EXPECT_TRUE(take(st, 5000).empty());
  // A retransmission that found the request pending got the provisional answer already.
  st.open(from, by("RRQ 3"), 3, 6000, 30000, "carol/s1");
  EXPECT_EQ(st.lookup(3, from, by("RRQ 3"), 6500), ServerTransactions::Seen::pending);
  EXPECT_EQ(st.deadline(), std::nullopt);
  // A request whose name a newer one took (no answer will come to it) gets none; the newer does.
  st.open(from, by("RRQ 4"), 3, 7000, 30000, "dave/s1");
  st.open(from, by("RRQ 5"), 3, 7100, 30000, "dave/s1");
  due = take(st, 9000);
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].request, "RRQ 5");
  // Forgotten (expired, evicted) before the delay: none.
  st.open(from, by("RRQ 6"), 3, 10000, 500, "erin/s1");
  st.expire(10500);
  EXPECT_EQ(st.deadline(), std::nullopt);
  // No delay set: none at all.
  ServerTransactions plain(16);
  plain.open(from, by("RRQ 7"), 3, 0, 30000, "frank/s1");
  EXPECT_EQ(plain.deadline(), std::nullopt);
  EXPECT_TRUE(take(plain, 100000).empty());
}

// A request's bytes are hashed once, however many calls concern it and however the cache grows
// (hashing them at each call, and at each rehash, took about 5% of kd-proxy serve's CPU time).
TEST(ServerTransactions, HashesEachRequestOnce) {
  ServerTransactions st(1 << 12);
  std::vector<Bytes> reqs;
  for (int i = 0; i < 1000; ++i) reqs.push_back(by("REGISTER sip:ss1 " + std::to_string(i)));
  for (std::size_t i = 0; i < reqs.size(); ++i) {
    const auto r = st.request(1, addr(1, 4000), reqs[i]);
    ASSERT_EQ(st.lookup(r, 0), ServerTransactions::Seen::fresh);
    st.open(r, 0, 100, "t" + std::to_string(i));
    ASSERT_EQ(st.lookup(r, 1), ServerTransactions::Seen::pending);  // named: the role will answer it
    if (i % 2 == 0) ASSERT_TRUE(st.answer("t" + std::to_string(i), by("200"), 1, 100));
    else ASSERT_TRUE(st.answer(r, by("200"), 1, 100));
    ASSERT_EQ(st.lookup(r, 2), ServerTransactions::Seen::answered);
  }
  EXPECT_EQ(st.answered(50).size(), reqs.size());
  st.expire(200);
  EXPECT_EQ(st.size(), 0u);
  EXPECT_EQ(st.hashes(), reqs.size());
  // The same results as the calls that take the address and the bytes.
  st.open(addr(1, 1), by("a"), 0, 0, 100, "");
  EXPECT_EQ(st.lookup(st.request(0, addr(1, 1), by("a")), 5), ServerTransactions::Seen::absorbed);
  EXPECT_EQ(st.lookup(st.request(0, addr(1, 2), by("a")), 5), ServerTransactions::Seen::fresh);
  EXPECT_EQ(st.lookup(st.request(0, addr(1, 1), by("b")), 5), ServerTransactions::Seen::fresh);
}

// Over TCP a client sends a request again on a new connection (its own broke, or it restarted):
// from another port of its host. On a socket matched by host that is the same request.
TEST(ServerTransactions, OnAStreamListenerACopyOnANewConnectionIsTheSameRequest) {
  ServerTransactions st(16);
  constexpr SocketId tcp = 7, udp = 3;
  st.match_by_host(tcp);
  std::set<Address> open = {addr(1, 4001)};  // the first connection (port 4000) is gone
  st.set_reachable([&open](SocketId s, const Address& a) { return s != tcp || open.contains(a); });
  const Address first = addr(1, 4000), second = addr(1, 4001);
  st.open(first, by("REGISTER 1"), tcp, 0, 1000, "alice/s1");
  // Pending: the copy on a new connection is the same request, never fresh (the role would run again).
  EXPECT_EQ(st.lookup(tcp, second, by("REGISTER 1"), 10), ServerTransactions::Seen::pending);
  // Another host, or other bytes, is another request.
  EXPECT_EQ(st.lookup(tcp, addr(2, 4000), by("REGISTER 1"), 10), ServerTransactions::Seen::fresh);
  EXPECT_EQ(st.lookup(tcp, second, by("REGISTER 2"), 10), ServerTransactions::Seen::fresh);
  // The first connection gone, the answer goes on the latest copy's.
  std::vector<Answered> kept;
  st.record_answers([&kept](const AnswerRef& a) {
    kept.push_back(Answered{a.from, Bytes(a.request.begin(), a.request.end()), a.socket,
                            Bytes(a.response.begin(), a.response.end()), a.expires_ms});
  });
  auto out = st.answer("alice/s1", by("401"), 20, 500);
  ASSERT_TRUE(out);
  EXPECT_EQ(out->socket, tcp);
  EXPECT_EQ(out->to, second);
  // Answered: a copy on a third connection gets the cached answer.
  const Bytes* cached = nullptr;
  EXPECT_EQ(st.lookup(tcp, addr(1, 4002), by("REGISTER 1"), 30, &cached), ServerTransactions::Seen::answered);
  ASSERT_NE(cached, nullptr);
  EXPECT_EQ(*cached, by("401"));
  // The journal keeps where the request first came from; restored, it is matched by host again.
  ASSERT_EQ(kept.size(), 1u);
  EXPECT_EQ(kept[0].from, first);
  ASSERT_EQ(st.answered(30).size(), 1u);  // the compaction's walk says the same
  EXPECT_EQ(st.answered(30)[0].from, first);
  ServerTransactions after(16);
  after.match_by_host(tcp);
  after.restore(kept[0]);
  EXPECT_EQ(after.lookup(tcp, addr(1, 5000), by("REGISTER 1"), 30, &cached), ServerTransactions::Seen::answered);
  // UDP keeps its rule: another port is another source.
  st.open(addr(1, 6000), by("REGISTER 1"), udp, 0, 1000, "");
  EXPECT_EQ(st.lookup(udp, addr(1, 6000), by("REGISTER 1"), 10), ServerTransactions::Seen::absorbed);
  EXPECT_EQ(st.lookup(udp, addr(1, 6001), by("REGISTER 1"), 10), ServerTransactions::Seen::fresh);
}

TEST(ServerTransactions, AnAnswerGoesOnTheFirstConnectionWhileItIsOpen) {
  ServerTransactions st(16);
  constexpr SocketId tcp = 1;
  st.match_by_host(tcp);
  bool first_open = true;
  st.set_reachable([&first_open](SocketId, const Address& a) { return a.port != 4000 || first_open; });
  st.open(addr(1, 4000), by("a"), tcp, 0, 1000, "bob/s2");
  EXPECT_EQ(st.lookup(tcp, addr(1, 4001), by("a"), 10), ServerTransactions::Seen::pending);
  auto out = st.answer("bob/s2", by("ok"), 20, 500);
  ASSERT_TRUE(out);
  EXPECT_EQ(out->to, addr(1, 4000));  // RFC 3261 18.2.2: the original's connection, still open
  // Answered by silence (a refusal) on a stream: its copies from any connection are absorbed.
  st.open(addr(1, 4000), by("b"), tcp, 0, 1000, "");
  EXPECT_TRUE(st.answer(tcp, addr(1, 4003), by("b"), {}, 5, 100));
  EXPECT_EQ(st.lookup(tcp, addr(1, 4004), by("b"), 6), ServerTransactions::Seen::absorbed);
}

TEST(ClientTransactions, ResendsOnTheScheduleUntilAnsweredOrTimedOut) {
  Timers t;
  t.initial_ms = 100;
  t.max_interval_ms = 400;
  t.timeout_ms = 1000;
  ClientTransactions ct;
  ct.start("alice/s6", "s1", Outgoing{1, addr(9, 5060), by("s1 bytes")}, t, 0);
  ct.start("bob/s6", "s1", Outgoing{1, addr(9, 5060), by("bob")}, t, 0);
  EXPECT_TRUE(ct.complete("bob/s6"));
  EXPECT_FALSE(ct.complete("bob/s6"));
  std::vector<std::uint64_t> sent_at;
  std::vector<ClientTransactions::Txn> gave_up;
  for (std::uint64_t now = 0; now <= 1200 && gave_up.empty(); now += 10) {
    std::vector<Outgoing> resend;
    ct.on_time(now, resend, gave_up);
    for (const auto& r : resend) {
      EXPECT_EQ(r.bytes, by("s1 bytes"));
      sent_at.push_back(now);
    }
  }
  // Doubling from 100 ms, capped at 400 ms, giving up 1000 ms after the first send.
  EXPECT_EQ(sent_at, (std::vector<std::uint64_t>{100, 300, 700}));
  ASSERT_EQ(gave_up.size(), 1u);
  EXPECT_EQ(gave_up[0].label, "s1");
  EXPECT_EQ(gave_up[0].schedule.sends(), 4u);
  EXPECT_EQ(ct.size(), 0u);
  EXPECT_FALSE(ct.deadline());
}

// A provisional answer (kd-live(7), TRANSACTIONS) names its request by the identity start() was
// given: that transaction stops resending and waits; an identity no transaction or more than one
// has (kd-term load's terminals share a socket) holds none.
TEST(ClientTransactions, AProvisionalAnswerHoldsTheTransactionItNames) {
  Timers t;
  t.initial_ms = 100;
  t.max_interval_ms = 400;
  t.timeout_ms = 1000;
  ClientTransactions ct;
  ct.start("alice/s6", "s1", Outgoing{1, addr(9, 2727), by("alice")}, t, 0, 4711);
  ct.start("bob/s6", "s1", Outgoing{1, addr(9, 2727), by("bob")}, t, 0, 17);
  ct.start("carol/s6", "s1", Outgoing{1, addr(9, 2727), by("carol")}, t, 0, 17);
  ct.start("dave/s6", "s1", Outgoing{1, addr(9, 2727), by("dave")}, t, 0);
  EXPECT_EQ(ct.provisional(99, addr(9, 2727), 50, 5000), nullptr);
  EXPECT_EQ(ct.provisional(17, addr(9, 2727), 50, 5000), nullptr);  // two transactions: ambiguous
  // From elsewhere than where the request went: anyone who guessed its identity could hold it.
  EXPECT_EQ(ct.provisional(4711, addr(9, 2728), 50, 5000), nullptr);
  EXPECT_EQ(ct.provisional(4711, addr(8, 2727), 50, 5000), nullptr);
  const auto* held = ct.provisional(4711, addr(9, 2727), 50, 5000);
  ASSERT_NE(held, nullptr);
  EXPECT_EQ(held->key, "alice/s6");
  std::vector<std::string> resent, timed_out;
  for (std::uint64_t now = 0; now <= 11000; now += 10) {
    std::vector<Outgoing> resend;
    std::vector<ClientTransactions::Txn> gave_up;
    ct.on_time(now, resend, gave_up);
    for (const auto& r : resend) resent.emplace_back(r.bytes.begin(), r.bytes.end());
    for (const auto& g : gave_up) timed_out.push_back(g.key + "@" + std::to_string(now));
  }
  // Held before its first resend; sent once more when the wait ends, then given up a wait later.
  EXPECT_EQ(std::count(resent.begin(), resent.end(), "alice"), 1);
  EXPECT_EQ(std::count(resent.begin(), resent.end(), "bob"), 3);
  EXPECT_EQ(timed_out, (std::vector<std::string>{"bob/s6@1000", "carol/s6@1000", "dave/s6@1000", "alice/s6@10050"}));
  // Once ended, its identity names nothing.
  ct.start("erin/s6", "s1", Outgoing{1, addr(9, 2727), by("erin")}, t, 0, 5);
  EXPECT_TRUE(ct.complete("erin/s6"));
  EXPECT_EQ(ct.provisional(5, addr(9, 2727), 10, 100), nullptr);
}

// Over TCP (kd-live(7), TRANSPORTS): sent once, then again on a new connection after each
// transport failure, with a doubling backoff, at most kMaxReconnects times, within the timeout.
TEST(ClientTransactions, SendsAgainAfterATransportFailureWithBackoff) {
  Timers t;
  t.timeout_ms = 60000;
  ClientTransactions ct;
  ct.start("alice/s5", "s2", Outgoing{3, addr(9, 5060), by("s2 bytes")}, without_retransmission(t), 0);
  ct.start("bob/s5", "s2", Outgoing{4, addr(9, 5061), by("other socket")}, without_retransmission(t), 0);
  std::vector<ClientTransactions::Txn> gave_up;
  std::vector<std::uint64_t> sent_at;
  std::uint64_t now = 1000;
  EXPECT_EQ(ct.transport_failed(3, now, gave_up), 1u);  // bob's socket is not concerned
  while (gave_up.empty() && now < 60000) {
    std::vector<Outgoing> resend;
    ct.on_time(now, resend, gave_up);
    for (const auto& r : resend) {
      EXPECT_EQ(r.bytes, by("s2 bytes"));
      EXPECT_EQ(r.socket, 3u);
      sent_at.push_back(now);
      // Each new connection fails at once (nobody listens): the next failure.
      ct.transport_failed(3, now, gave_up);
    }
    // A failure of a connection it is not waiting on leaves a scheduled resend where it is.
    EXPECT_EQ(ct.transport_failed(3, now, gave_up), 0u);
    now += 10;
  }
  EXPECT_EQ(reconnect_delay(1), 100u);
  EXPECT_EQ(reconnect_delay(5), 1600u);
  EXPECT_EQ(reconnect_delay(6), 2000u);
  EXPECT_EQ(sent_at, (std::vector<std::uint64_t>{1100, 1300, 1700, 2500, 4100, 6100, 8100, 10100}));
  ASSERT_EQ(gave_up.size(), 1u);
  EXPECT_EQ(gave_up[0].key, "alice/s5");
  EXPECT_EQ(gave_up[0].failures, kMaxReconnects + 1);
  EXPECT_EQ(gave_up[0].sends(), 1 + kMaxReconnects);
  EXPECT_TRUE(ct.find("bob/s5"));
  EXPECT_EQ(ct.size(), 1u);
}

TEST(ClientTransactions, ATransportFailureKeepsTheTimeoutAndAnAnswerEndsIt) {
  Timers t;
  t.timeout_ms = 1000;
  ClientTransactions ct;
  ct.start("alice/s6", "s1", Outgoing{1, addr(9, 5060), by("s1")}, without_retransmission(t), 0);
  std::vector<ClientTransactions::Txn> gave_up;
  std::vector<Outgoing> resend;
  ct.transport_failed(1, 950, gave_up);  // the resend would come after the timeout: none
  EXPECT_EQ(ct.deadline(), 1000u);
  ct.on_time(999, resend, gave_up);
  EXPECT_TRUE(resend.empty());
  ct.on_time(1000, resend, gave_up);
  ASSERT_EQ(gave_up.size(), 1u);
  EXPECT_EQ(gave_up[0].sends(), 1u);

  ct.start("bob/s6", "s1", Outgoing{1, addr(9, 5060), by("s1")}, without_retransmission(t), 0);
  ct.transport_failed(1, 10, gave_up);
  ct.on_time(110, resend, gave_up);
  ASSERT_EQ(resend.size(), 1u);
  EXPECT_EQ(ct.deadline(), 1000u);  // the original give-up time
  EXPECT_TRUE(ct.complete("bob/s6"));
  EXPECT_FALSE(ct.deadline());
}

// A TCP connection to the loopback at port (a descriptor; -1 when it could not be made).
int connect_loopback(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd >= 0 && ::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0) return fd;
  if (fd >= 0) ::close(fd);
  return -1;
}

long ms_since(std::chrono::steady_clock::time_point from) {
  return static_cast<long>(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - from).count());
}

// Runs a loop until a client thread says it is done (10 s at most), keeping the stream faults
// reported on the way.
struct UntilDone final : Loop::Handler {
  Loop& loop;
  std::atomic<bool>& done;
  std::vector<std::pair<StreamFault, std::string>> faults;
  std::uint64_t give_up = Loop::now_ms() + 10000;
  UntilDone(Loop& l, std::atomic<bool>& d) : loop(l), done(d) {}
  void on_datagrams(std::vector<Datagram>&, std::uint64_t) override {}
  void on_stream_fault(SocketId, const Address&, StreamFault f, const std::string& why) override {
    faults.emplace_back(f, why);
  }
  std::optional<std::uint64_t> deadline() override { return Loop::now_ms() + 20; }
  void on_deadline(std::uint64_t now) override {
    if (done || now > give_up) loop.stop();
  }
};

// The loop on the loopback (kd-live(7), TRANSPORTS): a listener closes a connection left idle;
// RFC 5626 keep-alives (CRLF) are activity and hold it open.
TEST(Loop, ClosesAnIdleListenerConnectionButNotOneKeptAlive) {
  Loop loop;
  loop.set_stream_idle(300);
  SocketId id = 0;
  Address bound;
  ASSERT_FALSE(loop.listen(Endpoint{Transport::tcp, "127.0.0.1", 0}, id, bound, StreamFraming::sip));
  std::atomic<bool> done{false};
  bool open_while_kept_alive = false;
  long closed_after_ms = -1;
  std::thread client([&] {
    if (const int fd = connect_loopback(bound.port); fd >= 0) {
      char c = 0;
      for (int i = 0; i < 8; ++i) {  // 1.2 s of keep-alives, four times the idle time
        (void)!::send(fd, "\r\n\r\n", 4, MSG_NOSIGNAL);
        std::this_thread::sleep_for(std::chrono::milliseconds(150));
      }
      open_while_kept_alive = ::recv(fd, &c, 1, MSG_DONTWAIT) < 0 && errno == EAGAIN;
      timeval tv{3, 0};
      ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
      const auto from = std::chrono::steady_clock::now();
      if (::recv(fd, &c, 1, 0) == 0) closed_after_ms = ms_since(from);
      ::close(fd);
    }
    done = true;
  });
  UntilDone handler(loop, done);
  loop.run(handler, 8);
  client.join();
  EXPECT_TRUE(open_while_kept_alive);
  EXPECT_GE(closed_after_ms, 0) << "the connection was not closed";
  EXPECT_LE(closed_after_ms, 1500);
  EXPECT_TRUE(handler.faults.empty()) << "an idle connection is closed quietly";
}

// Slowloris (kd-live(7), TRANSPORTS): bytes a second keep a connection active, but a message begun
// must end within its bound, or the listener closes the connection and says why.
TEST(Loop, ClosesAListenerConnectionWhoseMessageDoesNotEnd) {
  Loop loop;
  loop.set_stream_message_time(400);
  SocketId id = 0;
  Address bound;
  ASSERT_FALSE(loop.listen(Endpoint{Transport::tcp, "127.0.0.1", 0}, id, bound, StreamFraming::sip));
  std::atomic<bool> done{false};
  long closed_after_ms = -1;
  std::thread client([&] {
    if (const int fd = connect_loopback(bound.port); fd >= 0) {
      const auto from = std::chrono::steady_clock::now();
      (void)!::send(fd, "REGISTER sip:kd SIP/2.0\r\nVia: ", 31, MSG_NOSIGNAL);
      for (int i = 0; i < 30; ++i) {  // a byte every 100 ms, for 3 s at most
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        if (::send(fd, "x", 1, MSG_NOSIGNAL) != 1) break;
        char c = 0;
        if (::recv(fd, &c, 1, MSG_DONTWAIT) == 0) {
          closed_after_ms = ms_since(from);
          break;
        }
      }
      ::close(fd);
    }
    done = true;
  });
  UntilDone handler(loop, done);
  loop.run(handler, 8);
  client.join();
  EXPECT_GE(closed_after_ms, 300) << "the connection was not closed, or too soon";
  EXPECT_LE(closed_after_ms, 1500);
  ASSERT_EQ(handler.faults.size(), 1u);
  EXPECT_EQ(handler.faults[0].first, StreamFault::framing);
  EXPECT_NE(handler.faults[0].second.find("not complete"), std::string::npos) << handler.faults[0].second;
}

// Group commit (kd-live(7), DURABILITY): the datagrams ready on all of a service's UDP sockets are
// handled in one batch, up to its bound, in arrival order per socket; each datagram's bytes are its
// own, in buffers reused from batch to batch.
TEST(Loop, OneBatchTakesWhatEveryUdpSocketHasReady) {
  Loop loop;
  SocketId a = 0, c = 0, b = 0;
  Address at_a, at_b;
  ASSERT_FALSE(loop.listen(Endpoint{Transport::udp, "127.0.0.1", 0}, a, at_a));
  ASSERT_FALSE(loop.open_client(at_a, c));  // a third socket, with nothing to read
  ASSERT_FALSE(loop.listen(Endpoint{Transport::udp, "127.0.0.1", 0}, b, at_b));
  const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  ASSERT_GE(fd, 0);
  auto send_to = [fd](const Address& to, std::string_view text) {
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(to.port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::sendto(fd, text.data(), text.size(), 0, reinterpret_cast<sockaddr*>(&sa), sizeof sa),
              static_cast<ssize_t>(text.size()));
  };
  // Ready before the loop runs: 3 on a, 2 on b.
  send_to(at_a, "a1: the first datagram, the longest of all");
  send_to(at_b, "b1");
  send_to(at_a, "a2");
  send_to(at_b, "b2: longer");
  send_to(at_a, "a3");
  struct Collect final : Loop::Handler {
    Loop& loop;
    std::function<void()> then;
    std::vector<std::vector<std::string>> batches;
    std::size_t seen = 0, want = 7;
    std::uint64_t give_up = Loop::now_ms() + 5000;
    explicit Collect(Loop& l) : loop(l) {}
    void on_datagrams(std::vector<Datagram>& batch, std::uint64_t) override {
      batches.emplace_back();
      for (const auto& d : batch) batches.back().push_back(std::to_string(d.socket) + ":" +
                                                           std::string(d.data.begin(), d.data.end()));
      seen += batch.size();
      if (batches.size() == 1 && then) then();
      if (seen >= want) loop.stop();
    }
    std::optional<std::uint64_t> deadline() override { return give_up; }
    void on_deadline(std::uint64_t) override { loop.stop(); }
  } h(loop);
  // Then two short ones on a, into buffers that held the longer ones.
  h.then = [&] {
    send_to(at_a, "x");
    send_to(at_a, "yy");
  };
  loop.run(h, 4);
  ::close(fd);
  ASSERT_EQ(h.seen, 7u);
  ASSERT_GE(h.batches.size(), 2u);
  // The first batch: its bound (4), whichever socket woke the loop, each socket in its order.
  ASSERT_EQ(h.batches[0].size(), 4u);
  std::vector<std::string> all;
  for (const auto& batch : h.batches) all.insert(all.end(), batch.begin(), batch.end());
  auto on = [&all](SocketId id) {
    std::vector<std::string> out;
    for (const auto& d : all)
      if (d.starts_with(std::to_string(id) + ":")) out.push_back(d.substr(d.find(':') + 1));
    return out;
  };
  EXPECT_EQ(on(a), (std::vector<std::string>{"a1: the first datagram, the longest of all", "a2", "a3", "x", "yy"}));
  EXPECT_EQ(on(b), (std::vector<std::string>{"b1", "b2: longer"}));
  EXPECT_TRUE(on(c).empty());
  // Both sockets in the first batch: one commit for what was ready on either.
  bool a_first = false, b_first = false;
  for (const auto& d : h.batches[0]) (d.starts_with(std::to_string(a) + ":") ? a_first : b_first) = true;
  EXPECT_TRUE(a_first && b_first) << "the first batch took one socket's datagrams only";
}

// The group-commit window's rule on a fake clock (kd-live(7), DURABILITY): it opens with the
// first batch that waits for a sync and ends at its length or at its bound, whichever comes first;
// a batch with nothing to sync is committed at once, and window 0 commits every batch.
TEST(CommitWindow, OpensWithTheFirstBatchToSyncAndEndsAtItsLengthOrBound) {
  CommitWindow none(0, 64);
  none.handled(1, true, 1000);
  EXPECT_TRUE(none.due(1000)) << "window 0: every batch at once";

  CommitWindow w(500, 64);
  w.handled(2, false, 900);
  EXPECT_TRUE(w.due(900)) << "nothing to sync: nothing waits";
  w.handled(1, true, 1000);
  EXPECT_FALSE(w.due(1000));
  w.handled(3, true, 1300);  // a second batch within the window shares its sync
  EXPECT_FALSE(w.due(1499));
  EXPECT_EQ(w.deadline_us(), 1500u) << "the window runs from the first batch that waits, not the last";
  EXPECT_TRUE(w.due(1500));
  EXPECT_EQ(w.room(), 58u);
  w.committed();
  EXPECT_TRUE(w.due(1600)) << "committed: nothing waits";
  w.handled(40, true, 2000);
  EXPECT_FALSE(w.due(2000));
  w.handled(24, false, 2100);
  EXPECT_TRUE(w.due(2100)) << "64 datagrams: the bound ends the window early";
  EXPECT_EQ(w.room(), 0u);
}

// A handler shaped as a service's (service.cpp's Live): what it handles is answered at the commit,
// to the far end's socket fd. It records the order of the loop's calls, and whether any answer had
// already reached the far end when a later batch of the same window was handled.
struct Committing final : Loop::Handler {
  Loop& loop;
  int far = -1;               // the far end: sends the requests, receives the answers
  Address listener;
  bool sync = true;           // wants_sync()
  std::function<void(std::size_t)> on_batch;  // after the n-th batch is handled (from 1)
  std::vector<std::string> calls;  // "D<n>" a batch of n datagrams, "C" a commit
  std::vector<Outgoing> outbox;
  std::size_t held = 0, want = 2;
  bool answer_left_early = false;
  std::uint64_t first_us = 0, commit_us = 0;
  std::uint64_t give_up = Loop::now_ms() + 5000;
  Committing(Loop& l, int fd, Address at) : loop(l), far(fd), listener(at) {}
  void on_datagrams(std::vector<Datagram>& batch, std::uint64_t) override {
    if (first_us == 0) first_us = Loop::now_us();
    char c = 0;
    if (::recv(far, &c, 1, MSG_DONTWAIT | MSG_PEEK) >= 0) answer_left_early = true;
    calls.push_back("D" + std::to_string(batch.size()));
    for (const auto& d : batch) {
      Bytes answer = d.data;
      answer.insert(answer.begin(), '=');
      outbox.push_back({d.socket, d.from, std::move(answer)});
    }
    held += batch.size();
    const std::size_t n = std::count_if(calls.begin(), calls.end(), [](const auto& k) { return k[0] == 'D'; });
    if (on_batch) on_batch(n);
  }
  bool wants_sync() override { return sync && !outbox.empty(); }
  void on_commit() override {
    calls.push_back("C");
    if (commit_us == 0) commit_us = Loop::now_us();
    loop.send_all(outbox, [](const std::string&) {});
    outbox.clear();
    if (held >= want) loop.stop();
  }
  std::optional<std::uint64_t> deadline() override { return give_up; }
  void on_deadline(std::uint64_t) override { loop.stop(); }
};

// loop listening on a UDP socket of 127.0.0.1 at a port the system picks: its address in at.
bool listening(Loop& loop, Address& at) {
  SocketId socket = 0;
  return !loop.listen(Endpoint{Transport::udp, "127.0.0.1", 0}, socket, at);
}

// A UDP socket of the loopback to play the far end; sends text to `to`.
int far_end() { return ::socket(AF_INET, SOCK_DGRAM, 0); }
void send_text(int fd, const Address& to, std::string_view text) {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(to.port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::sendto(fd, text.data(), text.size(), 0, reinterpret_cast<sockaddr*>(&sa), sizeof sa),
            static_cast<ssize_t>(text.size()));
}
// What fd has received by now (within 2 s for the first datagram), in order.
std::vector<std::string> received(int fd, std::size_t want) {
  std::vector<std::string> got;
  timeval tv{2, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  char buf[256];
  while (got.size() < want) {
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n < 0) break;
    got.emplace_back(buf, static_cast<std::size_t>(n));
  }
  return got;
}

// Group commit with a window (kd-live(7), DURABILITY): a datagram that comes while the window of
// the batch before is open is handled before the one commit of both, and nothing either answers
// leaves before that commit. The window is long (2 s): its bound (2 datagrams) ends it.
TEST(Loop, TwoBatchesWithinTheWindowShareOneCommitAndNothingLeavesBeforeIt) {
  Loop loop;
  loop.set_commit_window(2000000);
  Address at;
  ASSERT_TRUE(listening(loop, at));
  const int fd = far_end();
  ASSERT_GE(fd, 0);
  send_text(fd, at, "one");
  Committing h(loop, fd, at);
  h.on_batch = [&](std::size_t n) {
    if (n == 1) send_text(fd, at, "two");  // while the first batch's window is open
  };
  loop.run(h, 2);
  EXPECT_EQ(h.calls, (std::vector<std::string>{"D1", "D1", "C"}));
  EXPECT_FALSE(h.answer_left_early) << "an answer left before its commit";
  EXPECT_EQ(received(fd, 2), (std::vector<std::string>{"=one", "=two"}));
  EXPECT_LT(h.commit_us - h.first_us, 1000000u) << "the bound did not end the window";
  ::close(fd);
}

// Window 0 is one commit per batch; a window with nothing more coming ends at its length; a batch
// with nothing to sync is committed at once whatever the window.
TEST(Loop, TheWindowEndsAtItsLengthAndOnlyABatchToSyncWaits) {
  {
    Loop loop;
    Address at;
    ASSERT_TRUE(listening(loop, at));
    const int fd = far_end();
    send_text(fd, at, "one");
    Committing h(loop, fd, at);
    h.on_batch = [&](std::size_t n) {
      if (n == 1) send_text(fd, at, "two");
    };
    loop.run(h, 2);
    EXPECT_EQ(h.calls, (std::vector<std::string>{"D1", "C", "D1", "C"})) << "window 0";
    ::close(fd);
  }
  {
    Loop loop;
    loop.set_commit_window(100000);
    Address at;
    ASSERT_TRUE(listening(loop, at));
    const int fd = far_end();
    send_text(fd, at, "one");
    Committing h(loop, fd, at);
    h.want = 1;
    loop.run(h, 64);
    EXPECT_EQ(h.calls, (std::vector<std::string>{"D1", "C"}));
    EXPECT_GE(h.commit_us - h.first_us, 100000u) << "the window ended before its length";
    EXPECT_LT(h.commit_us - h.first_us, 2000000u);
    EXPECT_EQ(received(fd, 1), (std::vector<std::string>{"=one"}));
    ::close(fd);
  }
  {
    Loop loop;
    loop.set_commit_window(2000000);
    Address at;
    ASSERT_TRUE(listening(loop, at));
    const int fd = far_end();
    send_text(fd, at, "one");
    Committing h(loop, fd, at);
    h.sync = false;
    h.want = 1;
    loop.run(h, 64);
    EXPECT_EQ(h.calls, (std::vector<std::string>{"D1", "C"}));
    EXPECT_LT(h.commit_us - h.first_us, 1000000u) << "a batch with nothing to sync waited for the window";
    ::close(fd);
  }
}

// A fake disk for SyncThread: each sync records its bytes once it returns; the first one returns
// only once the test releases it (or after 3 s, which the test takes for a loop that waited).
struct FakeDisk {
  std::mutex m;
  std::condition_variable cv;
  bool released = false, timed_out = false, started = false;
  std::vector<std::string> synced;  // the bytes of each sync that returned, in order
  SyncThread::Sync sync() {
    return [this](std::string_view bytes) {
      std::unique_lock lock(m);
      started = true;
      cv.notify_all();
      if (synced.empty() && !cv.wait_for(lock, std::chrono::seconds(3), [this] { return released; })) timed_out = true;
      synced.emplace_back(bytes);
    };
  }
  // Until the first sync has begun (at most 3 s): what is written after waits for the next.
  void wait_started() {
    std::unique_lock lock(m);
    cv.wait_for(lock, std::chrono::seconds(3), [this] { return started; });
  }
  void release() {
    std::lock_guard lock(m);
    released = true;
    cv.notify_all();
  }
  // Whether bytes have come back from a sync: a batch's records, written before what it sends.
  bool durable(const std::string& bytes) {
    std::lock_guard lock(m);
    std::string all;
    for (const auto& s : synced) all += s;
    return all.find(bytes) != std::string::npos;
  }
};

// A handler shaped as a service with a journal (service.cpp's Live, kd-live(7) DURABILITY): each
// batch of one datagram writes its records ("<n>"), and what it answers waits for them (then()).
struct Journaling final : Loop::Handler {
  Loop& loop;
  FakeDisk& disk;
  SyncThread sync;
  int far = -1;
  Address listener;
  std::size_t batches = 0, delivered = 0, want = 3;
  std::vector<Outgoing> outbox;
  bool answer_left_early = false, sent_before_sync = false;
  std::uint64_t give_up = Loop::now_ms() + 5000;
  Journaling(Loop& l, FakeDisk& d, int fd, Address at)
      : loop(l), disk(d), sync(d.sync(), [&l](std::function<void()> f) { l.post(std::move(f)); }), far(fd),
        listener(at) {}
  void on_datagrams(std::vector<Datagram>& batch, std::uint64_t) override {
    ++batches;
    char c = 0;
    if (::recv(far, &c, 1, MSG_DONTWAIT | MSG_PEEK) >= 0 && !disk.durable("<1>")) answer_left_early = true;
    for (const auto& d : batch) {
      Bytes answer = d.data;
      answer.insert(answer.begin(), '=');
      outbox.push_back({d.socket, d.from, std::move(answer)});
    }
    if (batches == 1) {
      send_text(far, listener, "two");  // handled while the first batch's sync runs
      send_text(far, listener, "three");
    }
  }
  bool wants_sync() override { return true; }
  void on_commit() override {
    std::string records = "<" + std::to_string(batches) + ">";
    sync.write(records);
    sync.then([this, out = std::move(outbox), records = "<" + std::to_string(batches) + ">"] {
      if (!disk.durable(records)) sent_before_sync = true;
      loop.send_all(out, [](const std::string&) {});
      if (++delivered == want) loop.stop();
    });
    outbox.clear();
    if (batches == 1) disk.wait_started();
    // The third batch's records wait behind the first's sync, with the second's: release it.
    if (batches == 3) disk.release();
  }
  std::optional<std::uint64_t> deadline() override { return give_up; }
  void on_deadline(std::uint64_t) override { loop.stop(); }
};

// The journal's sync off the loop's thread (kd-live(7), DURABILITY): while the first batch's sync
// runs, the next two batches are handled (the first sync returns only once the third is), none of
// their answers nor the first's leaves before its own records are synced, the two batches queued
// meanwhile share one write and sync, and the answers leave in order.
TEST(SyncThread, TheNextBatchesAreHandledWhileASyncRunsAndNothingLeavesBeforeItsOwnSync) {
  Loop loop;
  Address at;
  ASSERT_TRUE(listening(loop, at));
  const int fd = far_end();
  ASSERT_GE(fd, 0);
  send_text(fd, at, "one");
  FakeDisk disk;
  {
    Journaling h(loop, disk, fd, at);
    loop.run(h, 1);  // a batch per datagram
    EXPECT_EQ(h.batches, 3u);
    EXPECT_EQ(h.delivered, 3u);
    EXPECT_FALSE(h.answer_left_early) << "an answer reached the far end before the first sync returned";
    EXPECT_FALSE(h.sent_before_sync) << "a batch's answer was sent before its records were synced";
  }
  EXPECT_FALSE(disk.timed_out) << "the loop waited for the sync instead of handling the next batches";
  EXPECT_EQ(disk.synced, (std::vector<std::string>{"<1>", "<2><3>"}));
  EXPECT_EQ(received(fd, 3), (std::vector<std::string>{"=one", "=two", "=three"}));
  ::close(fd);
}

// What waits for a sync runs in the order given, at once when nothing is under way; drain() waits
// for the syncs and runs it. A sync that fails is rethrown on the caller's thread, and what waits
// for it never runs (nothing depending on it is sent).
TEST(SyncThread, ThenRunsInOrderAfterTheSyncAndAFailedSyncIsRethrownNotActedOn) {
  std::mutex m;
  std::vector<std::function<void()>> posted;
  const SyncThread::Post post = [&](std::function<void()> f) {
    std::lock_guard lock(m);
    posted.push_back(std::move(f));
  };
  {
    FakeDisk disk;
    SyncThread t(disk.sync(), post);
    std::vector<int> ran;
    t.then([&] { ran.push_back(0); });
    EXPECT_EQ(ran, std::vector<int>{0}) << "nothing was under way";
    std::string bytes = "<1>";
    t.write(bytes);
    EXPECT_TRUE(bytes.empty());
    t.then([&] { ran.push_back(1); });
    t.then([&] { ran.push_back(2); });
    EXPECT_TRUE(t.busy());
    EXPECT_EQ(ran, std::vector<int>{0}) << "ran before its sync";
    disk.release();
    t.drain();
    EXPECT_EQ(ran, (std::vector<int>{0, 1, 2}));
    EXPECT_FALSE(t.busy());
    EXPECT_FALSE(disk.timed_out);
    EXPECT_EQ(disk.synced, std::vector<std::string>{"<1>"});
  }
  {
    SyncThread t([](std::string_view) { throw IoError{"cannot sync journal j: No space left on device"}; }, post);
    bool ran = false;
    std::string bytes = "<1>";
    t.write(bytes);
    t.then([&] { ran = true; });
    try {
      t.drain();
      ADD_FAILURE() << "a failed sync was not rethrown";
    } catch (const IoError& e) {
      EXPECT_EQ(e.what, "cannot sync journal j: No space left on device");
    }
    EXPECT_FALSE(ran) << "what waited for a failed sync ran";
    std::string more = "<2>";
    EXPECT_THROW(t.write(more), IoError);
  }
}

// A batch's messages go in order, a run on one socket by one system call; a datagram refused
// (too long for UDP) is reported as send() would, and those after it still go.
TEST(Loop, SendAllSendsEveryMessageInOrderAndReportsEachRefused) {
  Loop loop;
  SocketId a = 0, b = 0, from_a = 0, from_b = 0;
  Address at_a, at_b;
  ASSERT_FALSE(loop.listen(Endpoint{Transport::udp, "127.0.0.1", 0}, a, at_a));
  ASSERT_FALSE(loop.listen(Endpoint{Transport::udp, "127.0.0.1", 0}, b, at_b));
  ASSERT_FALSE(loop.open_client(at_a, from_a));
  ASSERT_FALSE(loop.open_client(at_b, from_b));
  auto bytes = [](std::string_view t) { return Bytes(t.begin(), t.end()); };
  const std::vector<Outgoing> out{{from_a, at_a, bytes("1")},          {from_a, at_a, bytes("2")},
                                  {from_a, at_a, Bytes(70000, 'x')},    {from_a, at_a, bytes("3")},
                                  {from_b, at_b, bytes("b1")},          {from_a, at_a, bytes("4")}};
  std::vector<std::string> failed;
  loop.send_all(out, [&](const std::string& why) { failed.push_back(why); });
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_EQ(failed[0], "sending to " + to_string(at_a) + ": Message too long");
  struct Collect final : Loop::Handler {
    Loop& loop;
    std::vector<std::string> got;
    std::uint64_t give_up = Loop::now_ms() + 5000;
    explicit Collect(Loop& l) : loop(l) {}
    void on_datagrams(std::vector<Datagram>& batch, std::uint64_t) override {
      for (const auto& d : batch) got.push_back(std::to_string(d.socket) + ":" + std::string(d.data.begin(), d.data.end()));
      if (got.size() >= 5) loop.stop();
    }
    std::optional<std::uint64_t> deadline() override { return give_up; }
    void on_deadline(std::uint64_t) override { loop.stop(); }
  } h(loop);
  loop.run(h, 64);
  std::vector<std::string> on_a, on_b;
  for (const auto& g : h.got) (g.starts_with(std::to_string(a) + ":") ? on_a : on_b).push_back(g.substr(g.find(':') + 1));
  EXPECT_EQ(on_a, (std::vector<std::string>{"1", "2", "3", "4"}));
  EXPECT_EQ(on_b, (std::vector<std::string>{"b1"}));
}


// The deadline timer stays set for an earlier time when a batch moves the handler's deadline later
// (it was a timerfd_settime(2) per batch): on_deadline() still comes only once the deadline is due,
// and the timer moves when a batch brings the deadline earlier.
TEST(Loop, OnDeadlineComesWhenTheDeadlineIsDueWhereverABatchMovesIt) {
  struct Moving final : Loop::Handler {
    Loop& loop;
    std::uint64_t start = Loop::now_ms(), first = 0, moved = 0, called_at = 0;
    std::size_t calls = 0;
    bool moved_yet = false;  // the datagram came: the deadline is `moved`
    Moving(Loop& l, std::uint64_t f, std::uint64_t m) : loop(l), first(start + f), moved(start + m) {}
    void on_datagrams(std::vector<Datagram>&, std::uint64_t) override { moved_yet = true; }
    std::optional<std::uint64_t> deadline() override {
      if (Loop::now_ms() > start + 5000) return Loop::now_ms();  // the test's bound
      return moved_yet ? moved : first;
    }
    void on_deadline(std::uint64_t now) override {
      ++calls;
      called_at = now;
      loop.stop();
    }
  };
  for (const auto& [first, moved] : {std::pair<std::uint64_t, std::uint64_t>{100, 400}, {3000, 100}}) {
    Loop loop;
    Address at;
    ASSERT_TRUE(listening(loop, at));
    const int fd = far_end();
    ASSERT_GE(fd, 0);
    send_text(fd, at, "move");  // handled as the loop starts, its timer already set for `first`
    Moving h(loop, first, moved);
    loop.run(h, 64);
    ASSERT_EQ(h.calls, 1u) << first << " -> " << moved;
    EXPECT_GE(h.called_at, h.moved) << first << " -> " << moved << ": on_deadline before its deadline";
    EXPECT_LT(h.called_at, h.moved + 2000) << first << " -> " << moved << ": the timer did not move earlier";
    ::close(fd);
  }
}

// The receive path (kd-live(7), MEMORY): datagrams ready at once on several sockets, from several
// sources, more than a batch holds, of every size from empty to the largest UDP carries, come
// whole, in their order per socket, each with the address it came from and the socket it came on.
TEST(Loop, DatagramsSentAtOnceArriveWholeInOrderWithTheirSources) {
  Loop loop;
  struct Listener {
    SocketId id = 0;
    Address at;
  };
  std::vector<Listener> listeners(2);
  ASSERT_FALSE(loop.listen(Endpoint{Transport::udp, "127.0.0.1", 0}, listeners[0].id, listeners[0].at));
  ASSERT_FALSE(loop.listen(Endpoint{Transport::udp, "127.0.0.1", 0}, listeners[1].id, listeners[1].at));
  Listener v6;
  const bool have_v6 = !loop.listen(Endpoint{Transport::udp, "::1", 0}, v6.id, v6.at);
  if (have_v6) listeners.push_back(v6);
  // Senders on two ports of 127.0.0.1 and one of 127.0.0.2 (and one of ::1): each is told apart.
  struct Sender {
    int fd = -1;
    Address at;
  };
  auto sender = [](const char* ip, bool is_v6) {
    Sender s;
    s.fd = ::socket(is_v6 ? AF_INET6 : AF_INET, SOCK_DGRAM, 0);
    sockaddr_storage ss{};
    socklen_t len = 0;
    if (is_v6) {
      auto& sa = reinterpret_cast<sockaddr_in6&>(ss);
      sa.sin6_family = AF_INET6;
      ::inet_pton(AF_INET6, ip, &sa.sin6_addr);
      len = sizeof sa;
    } else {
      auto& sa = reinterpret_cast<sockaddr_in&>(ss);
      sa.sin_family = AF_INET;
      ::inet_pton(AF_INET, ip, &sa.sin_addr);
      len = sizeof sa;
    }
    if (::bind(s.fd, reinterpret_cast<sockaddr*>(&ss), len) != 0 ||
        ::getsockname(s.fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0)
      return Sender{};
    s.at.v6 = is_v6;
    if (is_v6) {
      const auto& sa = reinterpret_cast<const sockaddr_in6&>(ss);
      std::memcpy(s.at.ip.data(), &sa.sin6_addr, 16);
      s.at.port = ntohs(sa.sin6_port);
    } else {
      const auto& sa = reinterpret_cast<const sockaddr_in&>(ss);
      std::memcpy(s.at.ip.data(), &sa.sin_addr, 4);
      s.at.port = ntohs(sa.sin_port);
    }
    return s;
  };
  std::vector<Sender> v4_senders{sender("127.0.0.1", false), sender("127.0.0.1", false), sender("127.0.0.2", false)};
  Sender v6_sender = have_v6 ? sender("::1", true) : Sender{};
  for (const auto& s : v4_senders) ASSERT_GE(s.fd, 0);
  if (have_v6) {
    ASSERT_GE(v6_sender.fd, 0);
  }
  auto send_to = [](const Sender& from, const Address& to, const Bytes& data) {
    sockaddr_storage ss{};
    socklen_t len = 0;
    if (to.v6) {
      auto& sa = reinterpret_cast<sockaddr_in6&>(ss);
      sa.sin6_family = AF_INET6;
      sa.sin6_port = htons(to.port);
      std::memcpy(&sa.sin6_addr, to.ip.data(), 16);
      len = sizeof sa;
    } else {
      auto& sa = reinterpret_cast<sockaddr_in&>(ss);
      sa.sin_family = AF_INET;
      sa.sin_port = htons(to.port);
      std::memcpy(&sa.sin_addr, to.ip.data(), 4);
      len = sizeof sa;
    }
    return ::sendto(from.fd, data.data(), data.size(), 0, reinterpret_cast<sockaddr*>(&ss), len) ==
           static_cast<ssize_t>(data.size());
  };
  // 150 datagrams ready before the loop runs (each socket's under its receive buffer): sizes 0 to
  // about 1.4 KB, and one of 65507 bytes, each with its number in its bytes.
  std::map<SocketId, std::vector<std::string>> sent;
  std::size_t total = 0;
  for (std::size_t i = 0; i < 150; ++i) {
    const Listener& to = listeners[i % listeners.size()];
    const Sender& from = to.at.v6 ? v6_sender : v4_senders[(i / listeners.size()) % v4_senders.size()];
    const std::size_t size = i == 7 ? 65507 : (i * 37) % 1400;
    Bytes data(size, static_cast<std::uint8_t>('a' + i % 26));
    const std::string tag = std::to_string(i);
    std::copy_n(tag.begin(), std::min(tag.size(), size), data.begin());
    ASSERT_TRUE(send_to(from, to.at, data)) << "datagram " << i << ": " << std::strerror(errno);
    sent[to.id].push_back(to_string(from.at) + " " + std::string(data.begin(), data.end()));
    ++total;
  }
  struct Collect final : Loop::Handler {
    Loop& loop;
    std::map<SocketId, std::vector<std::string>> got;
    std::vector<std::size_t> batches;
    std::size_t seen = 0, want = 0;
    std::uint64_t give_up = Loop::now_ms() + 5000;
    explicit Collect(Loop& l) : loop(l) {}
    void on_datagrams(std::vector<Datagram>& batch, std::uint64_t) override {
      batches.push_back(batch.size());
      for (const auto& d : batch)
        got[d.socket].push_back(to_string(d.from) + " " + std::string(d.data.begin(), d.data.end()));
      seen += batch.size();
      if (seen >= want) loop.stop();
    }
    std::optional<std::uint64_t> deadline() override { return give_up; }
    void on_deadline(std::uint64_t) override { loop.stop(); }
  } h(loop);
  h.want = total;
  loop.run(h, 64);
  for (const auto& s : v4_senders) ::close(s.fd);
  if (have_v6) ::close(v6_sender.fd);
  EXPECT_EQ(h.seen, total);
  ASSERT_FALSE(h.batches.empty());
  EXPECT_EQ(h.batches[0], 64u) << "the first batch is not full";
  for (const std::size_t n : h.batches) EXPECT_LE(n, 64u);
  for (const auto& l : listeners) {
    const auto& want = sent[l.id];
    const auto& got = h.got[l.id];
    ASSERT_EQ(got.size(), want.size()) << "on " << to_string(l.at);
    for (std::size_t k = 0; k < want.size(); ++k)
      EXPECT_TRUE(got[k] == want[k]) << "on " << to_string(l.at) << ", datagram " << k << ": got "
                                      << got[k].substr(0, 40) << "..., sent " << want[k].substr(0, 40) << "...";
  }
}

}  // namespace
}  // namespace kd::net
