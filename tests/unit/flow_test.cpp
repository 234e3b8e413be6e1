// The four roles in process (lib/flow/roles.hpp): complete registrations in both flows and every
// suite, with seeded randomness and a fixed clock, checked against values computed here from the
// primitives alone (whose known answers kat_test.cpp checks); then one rejection per security
// check, each with its exact code and, unless the code documents otherwise, an unchanged state.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <deque>
#include <functional>
#include <map>
#include <random>
#include <set>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "crypto/protocol.hpp"
#include "crypto/suite.hpp"
#include "engine/engine.hpp"
#include "flow/roles.hpp"
#include "json/message.hpp"
#include "json/state.hpp"

namespace {

using kd::Bytes;
using kd::Code;
using kd::Secret;
using kd::flow::Output;
using kd::msg::Field;
using kd::msg::Flow;
using kd::msg::Message;
using kd::msg::Role;

// A JSON line to an engine as the tools feed one: decoded at the edge, then the message, or the
// decoding error, goes to the role.
kd::engine::Outcome feed_line(kd::engine::RoleEngine& e, const std::string& line) {
  std::string step;
  auto m = kd::json::decode_message(line, &step);
  return m ? e.feed_message(*m) : e.reject(m.error(), step);
}

constexpr std::uint64_t kNow = 1700000000;
const std::string kIdc = "alice@example.org";
const std::string kProxy = "sbc1.example.org";
const std::string kSwitch = "ss1.example.org";
const std::string kAuc = "auc1.example.org";
const std::string kContact = "192.0.2.10:5060";
const Bytes kSeed = kd::to_bytes("kd-unit-seed");

Bytes pattern(std::uint8_t start, std::size_t n) {
  Bytes b(n);
  for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<std::uint8_t>(start + i);
  return b;
}

const Bytes kTermKey = pattern(0x10, 32);
const Bytes kProxyKey = pattern(0x40, 32);
const Bytes kSwitchKey = pattern(0x70, 32);

void add(kd::flow::Keystore& ks, const std::string& id, Role role, const Bytes& key) {
  ks.entities[id] = kd::flow::Entity{id, role, Secret(key)};
}

std::string name_of(const Message& m) { return std::string(kd::msg::spec_of(m).name); }

// Step names by their part in the exchange, for either flow.
struct Names {
  const char *reg, *vector, *challenge, *answer, *result, *success, *report;
};
Names names(Flow f) {
  if (f == Flow::proxied) return {"s1", "s4", "s6", "s7", "s9", "s10", "s11"};
  return {"d1", "d3", "d4", "d5", "d5", "d6", "d7"};
}

// Four roles wired together in memory. Each role has its own keystore (the AuC's holds all three
// entities; each other role holds only its own key, as `kd-auc keys export` would give it), its
// own clock, and its own seeded random stream.
struct Net {
  const kd::crypto::Suite* suite;
  Flow flow;
  kd::flow::Keystore auc_keys, term_keys, proxy_keys, switch_keys;
  kd::flow::Policy policy;
  kd::flow::TermState term;
  kd::flow::ProxyState proxy;
  kd::flow::SwitchState sw;
  kd::flow::AucState auc;
  std::map<Role, std::uint64_t> clock;
  std::map<Role, kd::crypto::SeededRandom> rng;
  std::string observed_source;
  kd::msg::MechList mechs{{"tls", 500}, {"ipsec-3gpp", 1000}, {"null", 1000}};

  std::deque<Message> pending;
  std::map<std::string, Message> last;  // the latest message of each step
  std::vector<kd::flow::Event> events;

  explicit Net(const kd::crypto::Suite& s = kd::crypto::default_suite(), Flow f = Flow::proxied,
               const Bytes& seed = kSeed)
      : suite(&s), flow(f) {
    add(auc_keys, kIdc, Role::term, kTermKey);
    add(auc_keys, kProxy, Role::proxy, kProxyKey);
    add(auc_keys, kSwitch, Role::sw, kSwitchKey);
    add(term_keys, kIdc, Role::term, kTermKey);
    add(proxy_keys, kProxy, Role::proxy, kProxyKey);
    add(switch_keys, kSwitch, Role::sw, kSwitchKey);
    for (Role r : {Role::term, Role::proxy, Role::sw, Role::auc}) {
      clock[r] = kNow;
      rng.emplace(r, kd::crypto::SeededRandom(seed, kd::msg::role_name(r), self(r), {}));
    }
  }

  const std::string& peer() const { return flow == Flow::proxied ? kProxy : kSwitch; }
  const Bytes& peer_key() const { return flow == Flow::proxied ? kProxyKey : kSwitchKey; }
  Role peer_role() const { return flow == Flow::proxied ? Role::proxy : Role::sw; }
  Names n() const { return names(flow); }

  static const std::string& self(Role r) {
    switch (r) {
      case Role::term: return kIdc;
      case Role::proxy: return kProxy;
      case Role::sw: return kSwitch;
      case Role::auc: break;
    }
    return kAuc;
  }

  kd::flow::Context ctx(Role r) {
    kd::flow::Context c;
    c.now = clock[r];
    c.rng = &rng.at(r);
    c.policy = &policy;
    c.self_id = r == Role::term ? std::string() : self(r);
    switch (r) {
      case Role::term: c.keys = &term_keys; break;
      case Role::proxy: c.keys = &proxy_keys; c.observed_source = observed_source; break;
      case Role::sw: c.keys = &switch_keys; break;
      case Role::auc: c.keys = &auc_keys; break;
    }
    return c;
  }

  Output deliver_to(Role r, const Message& m) {
    auto c = ctx(r);
    switch (r) {
      case Role::term: return kd::flow::term_handle(term, m, c);
      case Role::proxy: return kd::flow::proxy_handle(proxy, m, c);
      case Role::sw: return kd::flow::switch_handle(sw, m, c);
      case Role::auc: break;
    }
    return kd::flow::auc_handle(auc, m, c);
  }
  Output deliver(const Message& m) { return deliver_to(kd::msg::spec_of(m).to, m); }

  void absorb(const Output& o) {
    for (const auto& m : o.messages) {
      pending.push_back(m);
      last[name_of(m)] = m;
    }
    for (const auto& e : o.events) events.push_back(e);
  }

  kd::flow::StartParams params() const {
    kd::flow::StartParams p;
    p.idc = kIdc;
    if (flow == Flow::proxied) p.via = kProxy;
    p.sw = kSwitch;
    p.suite = std::string(suite->name);
    p.mechs = mechs;
    p.contact = kContact;
    return p;
  }

  Output start() {
    auto c = ctx(Role::term);
    Output o = kd::flow::term_start(term, params(), c);
    EXPECT_FALSE(o.error) << "start refused: " << (o.error ? o.error->detail : "");
    absorb(o);
    return o;
  }

  // Delivers the next pending message; a rejection is a test failure.
  bool step() {
    Message m = pending.front();
    pending.pop_front();
    Output o = deliver(m);
    if (o.error) {
      ADD_FAILURE() << name_of(m) << " refused: " << kd::code_name(o.error->code) << ": " << o.error->detail;
      return false;
    }
    absorb(o);
    return true;
  }

  // Runs until the next message due is `step`, and takes it out of the queue (so that a test can
  // tamper with it before delivering it itself).
  Message take(std::string_view step) {
    while (!pending.empty() && name_of(pending.front()) != step)
      if (!this->step()) break;
    if (pending.empty() || name_of(pending.front()) != step) {
      ADD_FAILURE() << "the exchange never reached " << step;
      return Message{};
    }
    Message m = pending.front();
    pending.pop_front();
    return m;
  }

  void run_all() {
    while (!pending.empty())
      if (!step()) break;
  }

  const kd::flow::Event* event(std::string_view name) const {
    for (const auto& e : events)
      if (e.name == name) return &e;
    return nullptr;
  }

  kd::crypto::SealBinding binding(const Bytes& rand, Role recipient) const {
    return {flow, kIdc, peer(), rand, recipient};
  }

  // The session key, as the terminal would find it in the AuC's vector.
  Secret session_key() const {
    const Message& v = last.at(n().vector);
    auto k = kd::crypto::open_key(*suite, kTermKey, binding(*v.Rand, Role::term), *v.EKc);
    EXPECT_TRUE(k.has_value());
    return k ? *k : Secret();
  }
};

// ---- values computed from the primitives alone, following kd-protocol(7) -----------------

Bytes info_for(const kd::crypto::Suite& s, std::string_view label) {
  Bytes info = kd::to_bytes("kd1 ");
  kd::put_str(info, label);
  kd::put_u8(info, 0);
  kd::put_str(info, s.name);
  return info;
}

Secret derive_by_hand(const kd::crypto::Suite& s, const Bytes& ikm, std::string_view label, std::size_t len) {
  return kd::crypto::hkdf(s.hash, ikm, kd::to_bytes("kd1"), info_for(s, label), len);
}

Bytes mac_by_hand(const kd::crypto::Suite& s, const Secret& k, const Message& m) {
  Secret mk = derive_by_hand(s, Bytes(k.view().begin(), k.view().end()), "mac", s.hash_len);
  Bytes full = kd::crypto::hmac(s.hash, mk.view(), kd::msg::canonical(m, false));
  full.resize(s.mac_len);
  return full;
}

Bytes lp16(const Bytes& b) {
  Bytes out;  // pushed, not braced: GCC 12 -O3 gives a false -Werror=restrict on the braced form
  out.reserve(b.size() + 2);
  out.push_back(static_cast<std::uint8_t>(b.size() >> 8));
  out.push_back(static_cast<std::uint8_t>(b.size()));
  out.insert(out.end(), b.begin(), b.end());
  return out;
}
Bytes lp16(std::string_view s) { return lp16(kd::to_bytes(s)); }
void append(Bytes& out, const Bytes& b) { out.insert(out.end(), b.begin(), b.end()); }

Bytes authenticator_by_hand(const kd::crypto::Suite& s, const Bytes& key, const Bytes& rand, std::string_view idc) {
  Secret ak = derive_by_hand(s, key, "auth", s.hash_len);
  Bytes input = lp16(rand);
  append(input, lp16(idc));
  Bytes full = kd::crypto::hmac(s.hash, ak.view(), input);
  full.resize(s.auth_len);
  return full;
}

Bytes aad_by_hand(const kd::crypto::Suite& s, Flow f, const Bytes& rand, std::string_view peer, std::string_view role) {
  Bytes aad = kd::to_bytes("kd1 seal");
  aad.push_back(0);
  append(aad, lp16(s.name));
  aad.push_back(static_cast<std::uint8_t>(f));
  append(aad, lp16(kIdc));
  append(aad, lp16(peer));
  append(aad, lp16(rand));
  append(aad, lp16(role));
  return aad;
}

// ---- checks shared by the rejection tests -------------------------------------------------

#define EXPECT_REJECTED(out, want)                                                           \
  do {                                                                                       \
    const Output& o_ = (out);                                                                \
    ASSERT_TRUE(o_.error.has_value()) << "accepted, expected " << kd::code_name(want);       \
    EXPECT_EQ(kd::code_name(o_.error->code), kd::code_name(want)) << o_.error->detail;       \
    EXPECT_TRUE(o_.messages.empty()) << "a rejection sent " << name_of(o_.messages.front()); \
    EXPECT_TRUE(o_.events.empty());                                                          \
    EXPECT_FALSE(o_.keep_state_on_error);                                                    \
  } while (0)

void flip(std::optional<Bytes>& b, std::size_t i = 0, std::uint8_t mask = 0x01) { (*b)[i] ^= mask; }

std::string suite_flow_name(const testing::TestParamInfo<std::tuple<int, Flow>>& info) {
  std::string s(kd::crypto::all_suites()[std::get<0>(info.param)].name);
  std::string out;
  for (char c : s)
    if (std::isalnum(static_cast<unsigned char>(c))) out += c;
  return out + (std::get<1>(info.param) == Flow::proxied ? "Proxied" : "Direct");
}

// ---- complete registrations ---------------------------------------------------------------

class Registration : public testing::TestWithParam<std::tuple<int, Flow>> {
protected:
  Registration() : net(kd::crypto::all_suites()[std::get<0>(GetParam())], std::get<1>(GetParam())) {
    net.start();
    net.run_all();
  }
  Net net;
};

TEST_P(Registration, BothEndsHoldTheSameSessionKey) {
  const auto* reg = net.event("registered");
  const auto* est = net.event("key-established");
  ASSERT_NE(reg, nullptr);
  ASSERT_NE(est, nullptr);
  EXPECT_EQ(reg->session_key.size(), net.suite->key_len);
  EXPECT_EQ(kd::to_hex(reg->session_key.view()), kd::to_hex(est->session_key.view()));
  EXPECT_EQ(reg->step->name, net.n().success);
  EXPECT_EQ(est->step->name, net.n().success);
  EXPECT_EQ(reg->peer, net.peer());
  EXPECT_EQ(est->peer, net.peer());
  EXPECT_EQ(reg->suite, net.suite->name);
}

TEST_P(Registration, BothSealedKeysOpenToTheSessionKeyUnderTheirOwnBindingOnly) {
  const auto* reg = net.event("registered");
  ASSERT_NE(reg, nullptr);
  const Message& v = net.last.at(net.n().vector);
  const Bytes& ekpeer = net.flow == Flow::proxied ? *v.EKsp : *v.EKss;
  auto kc = kd::crypto::open_key(*net.suite, kTermKey, net.binding(*v.Rand, Role::term), *v.EKc);
  auto kp = kd::crypto::open_key(*net.suite, net.peer_key(), net.binding(*v.Rand, net.peer_role()), ekpeer);
  ASSERT_TRUE(kc.has_value());
  ASSERT_TRUE(kp.has_value());
  EXPECT_EQ(kd::to_hex(kc->view()), kd::to_hex(reg->session_key.view()));
  EXPECT_EQ(kd::to_hex(kp->view()), kd::to_hex(reg->session_key.view()));
  // The same bytes do not open under any other binding.
  EXPECT_FALSE(kd::crypto::open_key(*net.suite, kTermKey, net.binding(*v.Rand, net.peer_role()), *v.EKc));
  EXPECT_FALSE(kd::crypto::open_key(*net.suite, net.peer_key(), net.binding(*v.Rand, Role::term), ekpeer));
  EXPECT_FALSE(kd::crypto::open_key(*net.suite, net.peer_key(), net.binding(*v.Rand, net.peer_role()), *v.EKc));
  Bytes other_rand = *v.Rand;
  other_rand[0] ^= 1;
  EXPECT_FALSE(kd::crypto::open_key(*net.suite, kTermKey, net.binding(other_rand, Role::term), *v.EKc));
  auto other_flow = net.binding(*v.Rand, Role::term);
  other_flow.flow = net.flow == Flow::proxied ? Flow::direct : Flow::proxied;
  EXPECT_FALSE(kd::crypto::open_key(*net.suite, kTermKey, other_flow, *v.EKc));
  auto other_idc = net.binding(*v.Rand, Role::term);
  other_idc.idc = "bob";
  EXPECT_FALSE(kd::crypto::open_key(*net.suite, kTermKey, other_idc, *v.EKc));
}

TEST_P(Registration, SuccessMacVerifiesWhenRecomputedFromThePrimitives) {
  const Message& s = net.last.at(net.n().success);
  Secret k = net.session_key();
  ASSERT_EQ(s.MAC->size(), net.suite->mac_len);
  EXPECT_EQ(kd::to_hex(*s.MAC), kd::to_hex(mac_by_hand(*net.suite, k, s)));
  EXPECT_EQ(kd::to_hex(*s.MAC), kd::to_hex(kd::crypto::message_mac(*net.suite, k.view(), s)));
}

TEST_P(Registration, AuthenticatorIsTheDocumentedFunctionOfKcRandAndIDc) {
  const Message& v = net.last.at(net.n().vector);
  const Message& a = net.last.at(net.n().answer);
  EXPECT_EQ(kd::to_hex(*v.Authenticator_c), kd::to_hex(authenticator_by_hand(*net.suite, kTermKey, *v.Rand, kIdc)));
  EXPECT_EQ(*a.Authenticator_c, *v.Authenticator_c);
  EXPECT_EQ(*a.Rand, *v.Rand);
}

TEST_P(Registration, MechanismIsChosenByPriorityAndEchoedWithTheList) {
  const auto* reg = net.event("registered");
  const auto* est = net.event("key-established");
  ASSERT_NE(reg, nullptr);
  ASSERT_NE(est, nullptr);
  // tls:0.5, ipsec-3gpp:1, null:1 -> ipsec-3gpp (null is never chosen).
  EXPECT_EQ(reg->mech, "ipsec-3gpp");
  EXPECT_EQ(est->mech, "ipsec-3gpp");
  const Message& s = net.last.at(net.n().success);
  EXPECT_EQ(*s.SecMech, "ipsec-3gpp");
  EXPECT_EQ(*s.SecMechList, net.mechs);
}

TEST_P(Registration, EveryMessageValidatesAndSurvivesTheJsonCodec) {
  ASSERT_EQ(net.last.size(), net.flow == Flow::proxied ? 11u : 7u);
  for (const auto& [name, m] : net.last) {
    auto st = kd::msg::validate(m);
    EXPECT_TRUE(st.ok()) << name << ": " << (st.ok() ? "" : st.error().detail);
    auto back = kd::json::decode_message(kd::json::encode_message(m));
    ASSERT_TRUE(back.ok()) << name;
    EXPECT_EQ(*back, m) << name;
  }
}

TEST_P(Registration, EveryRoleEndsInItsFinalState) {
  ASSERT_EQ(net.term.regs.count(kIdc), 1u);
  const auto& t = net.term.regs.at(kIdc);
  EXPECT_EQ(t.phase, kd::flow::TermRegistration::Phase::registered);
  EXPECT_EQ(t.chosen, "ipsec-3gpp");
  EXPECT_EQ(t.registered_at, kNow);
  EXPECT_TRUE(net.proxy.exchanges.empty());
  EXPECT_TRUE(net.sw.regs.empty());
  EXPECT_TRUE(net.sw.failures.empty());
  ASSERT_EQ(net.auc.registered.count(kIdc), 1u);
  EXPECT_EQ(net.auc.registered.at(kIdc).peer, net.peer());
  EXPECT_EQ(net.auc.registered.at(kIdc).ipc, kContact);
  const auto* rec = net.event("registration-recorded");
  ASSERT_NE(rec, nullptr);
  EXPECT_EQ(rec->ipc, kContact);
  EXPECT_TRUE(rec->session_key.empty());
}

TEST_P(Registration, SameSeedAndClockGiveTheSameTranscriptAnotherSeedAnother) {
  Net again(*net.suite, net.flow);
  again.start();
  again.run_all();
  EXPECT_EQ(again.last, net.last);
  Net other(*net.suite, net.flow, kd::to_bytes("another seed"));
  other.start();
  other.run_all();
  ASSERT_EQ(other.last.size(), net.last.size());
  EXPECT_NE(*other.last.at(net.n().vector).Rand, *net.last.at(net.n().vector).Rand);
}

INSTANTIATE_TEST_SUITE_P(AllSuitesBothFlows, Registration,
                         testing::Combine(testing::Values(0, 1, 2), testing::Values(Flow::proxied, Flow::direct)),
                         suite_flow_name);

TEST(Suites, ThreeNamedSuitesWithTheirSizes) {
  auto all = kd::crypto::all_suites();
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].name, "KD-AES128GCM-SHA256");
  EXPECT_EQ(all[0].key_len, 16u);
  EXPECT_EQ(all[1].name, "KD-AES256GCM-SHA384");
  EXPECT_EQ(all[1].key_len, 32u);
  EXPECT_EQ(all[1].hash, kd::crypto::HashId::sha384);
  EXPECT_EQ(all[2].name, "KD-SM4GCM-SM3");
  EXPECT_EQ(all[2].cipher, kd::crypto::CipherId::sm4);
  EXPECT_EQ(all[2].hash, kd::crypto::HashId::sm3);
  for (const auto& s : all) {
    EXPECT_GE(s.mac_len, 8u);
    EXPECT_EQ(kd::crypto::find_suite(s.name), &s);
  }
  EXPECT_EQ(kd::crypto::find_suite("KD-NULL"), nullptr);
}

// ---- deterministic randomness and the AuC's draws -----------------------------------------

// Streams of kd-protocol(7) "Deterministic randomness", computed with python3 (hmac, hashlib):
// key(purpose) = HKDF-SHA256(ikm=seed, salt="",
//                            info="kd1 rng" 00 lp16(role) lp16(id) SHA256(input) lp16(purpose), 32),
// stream(purpose) = HMAC-SHA256(key, u64be(0)) || HMAC-SHA256(key, u64be(1)) || ...
TEST(SeededRandom, StreamsMatchIndependentComputation) {
  using kd::Purpose;
  kd::crypto::SeededRandom a(kSeed, "auc", kAuc, {});
  EXPECT_EQ(kd::to_hex(a.draw(Purpose::rand, 48)),
            "96cf7a70ba1b289c41ca7205c8533dcd69ebc9602bec235fc8cd5343ae7b4ab1"
            "f233c84ab0082fca008bc57d409705d5");
  EXPECT_EQ(kd::to_hex(a.draw(Purpose::session_key, 16)), "fd6e551af33d87060218c399c9354a5a");
  EXPECT_EQ(kd::to_hex(a.draw(Purpose::seal_nonce, 24)), "66fd0c354d820c7dc9aba0af96a104ddf0738c97682581f5");
  EXPECT_EQ(kd::to_hex(a.draw(Purpose::session_key, 16)), "35a286e4e3dbe488262f6517330bb8a7");  // continues
  EXPECT_EQ(kd::to_hex(a.draw(Purpose::long_term_key, 32)),
            "2de639fc3a30fd095bdd4ebbe9f1aa8a9bea964e811a8faeaf216dc83f63618b");
  kd::crypto::SeededRandom b(kSeed, "term", kIdc, kd::to_bytes("abc"));
  Bytes first = b.draw(Purpose::nonce, 7);
  Bytes rest = b.draw(Purpose::nonce, 13);  // draws continue the stream, whatever their sizes
  append(first, rest);
  EXPECT_EQ(kd::to_hex(first), "5b9175160fb708afcecd55d3c1a68d704998f34d");
}

// Issue 10 item 2: each purpose has its own stream, so what one purpose draws never shows up in
// another's, however the draws interleave.
TEST(SeededRandom, PurposesDrawUnrelatedStreams) {
  using kd::Purpose;
  const Purpose all[] = {Purpose::nonce, Purpose::rand, Purpose::session_key, Purpose::seal_nonce,
                         Purpose::long_term_key};
  kd::crypto::SeededRandom src(kSeed, "auc", kAuc, kd::to_bytes("input"));
  std::map<Purpose, std::string> drawn;
  for (int round = 0; round < 8; ++round)
    for (Purpose p : all) drawn[p] += kd::to_hex(src.draw(p, 16));
  for (Purpose p : all)
    for (Purpose q : all) {
      if (p == q) continue;
      for (std::size_t i = 0; i + 32 <= drawn[p].size(); i += 32)  // every 16-byte draw of p
        EXPECT_EQ(drawn[q].find(drawn[p].substr(i, 32)), std::string::npos)
            << kd::purpose_label(p) << " draw " << i / 32 << " appears in " << kd::purpose_label(q);
    }
  // A purpose's stream does not depend on what the others drew before it.
  kd::crypto::SeededRandom fresh(kSeed, "auc", kAuc, kd::to_bytes("input"));
  EXPECT_EQ(kd::to_hex(fresh.draw(Purpose::session_key, 128)), drawn[Purpose::session_key]);
}

TEST(AucVector, DrawsRandKAndTheTwoSealNoncesFromTheirStreamsAndSealsAsDocumented) {
  for (Flow f : {Flow::proxied, Flow::direct}) {
    for (const auto& s : kd::crypto::all_suites()) {
      SCOPED_TRACE(std::string(s.name) + (f == Flow::proxied ? " proxied" : " direct"));
      Net net(s, f);
      net.start();
      Message req = net.take(f == Flow::proxied ? "s3" : "d2");
      kd::crypto::SeededRandom mirror = net.rng.at(Role::auc);
      Output o = net.deliver(req);
      ASSERT_FALSE(o.error);
      ASSERT_EQ(o.messages.size(), 1u);
      const Message& v = o.messages[0];
      const Bytes rand = mirror.draw(kd::Purpose::rand, 16);
      const Bytes k = mirror.draw(kd::Purpose::session_key, s.key_len);
      const Bytes nonce_c = mirror.draw(kd::Purpose::seal_nonce, 12);
      const Bytes nonce_p = mirror.draw(kd::Purpose::seal_nonce, 12);
      EXPECT_EQ(*v.Rand, rand);

      Secret sk_c = derive_by_hand(s, kTermKey, "seal", s.key_len);
      Bytes ekc = nonce_c;
      append(ekc, kd::crypto::gcm_seal(s.cipher, sk_c.view(), nonce_c, aad_by_hand(s, f, rand, net.peer(), "term"), k));
      EXPECT_EQ(kd::to_hex(*v.EKc), kd::to_hex(ekc));

      Secret sk_p = derive_by_hand(s, net.peer_key(), "seal", s.key_len);
      Bytes ekp = nonce_p;
      append(ekp, kd::crypto::gcm_seal(s.cipher, sk_p.view(), nonce_p,
                                       aad_by_hand(s, f, rand, net.peer(), f == Flow::proxied ? "proxy" : "switch"), k));
      EXPECT_EQ(kd::to_hex(f == Flow::proxied ? *v.EKsp : *v.EKss), kd::to_hex(ekp));
    }
  }
}

// ---- wrong verification word --------------------------------------------------------------

TEST(BadAuthenticator, GetsAFreshChallengeAndTheFailureIsKept) {
  Net net;
  net.start();
  Message s7 = net.take("s7");
  flip(s7.Authenticator_c);
  net.absorb(net.deliver(s7));  // the proxy cannot check it and forwards it
  Message s8 = net.take("s8");
  const Bytes first_rand = *s8.Rand;
  auto before = net.sw;
  Output o = net.deliver(s8);
  ASSERT_TRUE(o.error);
  EXPECT_EQ(kd::code_name(o.error->code), "bad_authenticator");
  EXPECT_TRUE(o.keep_state_on_error);
  ASSERT_EQ(o.messages.size(), 1u);
  EXPECT_EQ(name_of(o.messages[0]), "s3");
  EXPECT_EQ(*o.messages[0].IDc, kIdc);
  EXPECT_EQ(*o.messages[0].IDsp, kProxy);
  EXPECT_TRUE(o.events.empty());
  // What the rejection changes: the attempt is counted, the challenge retired.
  ASSERT_EQ(net.sw.failures.count(kIdc), 1u);
  EXPECT_EQ(net.sw.failures.at(kIdc).count, 1u);
  ASSERT_EQ(net.sw.regs.count(kIdc), 1u);
  EXPECT_FALSE(net.sw.regs.at(kIdc).challenge.has_value());
  EXPECT_EQ(net.sw.used_rands.count(kd::to_hex(first_rand)), 1u);
  EXPECT_NE(net.sw, before);

  // The terminal answers the fresh challenge correctly and registers.
  net.absorb(o);
  net.run_all();
  EXPECT_NE(*net.last.at("s4").Rand, first_rand);
  ASSERT_NE(net.event("registered"), nullptr);
  ASSERT_NE(net.event("key-established"), nullptr);
  EXPECT_TRUE(net.sw.failures.empty());
}

TEST(BadAuthenticator, ThirdWrongWordIsTooManyAttemptsAndLocksTheTerminalOut) {
  Net net;
  net.start();
  for (int attempt = 1; attempt <= 3; ++attempt) {
    SCOPED_TRACE("attempt " + std::to_string(attempt));
    Message s7 = net.take("s7");
    flip(s7.Authenticator_c, s7.Authenticator_c->size() - 1, 0x80);
    net.absorb(net.deliver(s7));
    Output o = net.deliver(net.take("s8"));
    ASSERT_TRUE(o.error);
    EXPECT_TRUE(o.keep_state_on_error);
    if (attempt < 3) {
      EXPECT_EQ(kd::code_name(o.error->code), "bad_authenticator");
      ASSERT_EQ(o.messages.size(), 1u);
    } else {
      EXPECT_EQ(kd::code_name(o.error->code), "too_many_attempts");
      EXPECT_TRUE(o.messages.empty());
    }
    net.absorb(o);
  }
  EXPECT_TRUE(net.pending.empty());
  EXPECT_EQ(net.sw.regs.count(kIdc), 0u);
  EXPECT_EQ(net.sw.failures.at(kIdc).count, 3u);

  // Starting over does not reset the count while the lockout lasts...
  net.start();
  Message s2 = net.take("s2");
  auto before = net.sw;
  EXPECT_REJECTED(net.deliver(s2), Code::too_many_attempts);
  EXPECT_EQ(net.sw, before);
  // ...and once it has passed, the terminal may register again.
  net.clock[Role::sw] = kNow + net.policy.lockout + 1;
  Output o = net.deliver(s2);
  EXPECT_FALSE(o.error) << kd::code_name(o.error->code);
}

// ---- tampering on the way back ------------------------------------------------------------

struct AtSuccess {
  Net net;
  Message msg;
  kd::flow::TermState before;
  explicit AtSuccess(Flow f = Flow::proxied) : net(kd::crypto::default_suite(), f) {
    net.start();
    msg = net.take(net.n().success);
    before = net.term;
  }
  Output deliver() { return net.deliver(msg); }
  void remac() { msg.MAC = kd::crypto::message_mac(*net.suite, net.session_key().view(), msg); }
};

TEST(TamperedSuccess, UntamperedRegisters) {
  for (Flow f : {Flow::proxied, Flow::direct}) {
    AtSuccess t(f);
    Output o = t.deliver();
    EXPECT_FALSE(o.error);
    ASSERT_EQ(o.events.size(), 1u);
    EXPECT_EQ(o.events[0].name, "registered");
  }
}

TEST(TamperedSuccess, FlippedBitInEKcIsBadSealAtTheTerminal) {
  for (Flow f : {Flow::proxied, Flow::direct})
    for (std::size_t i : {std::size_t{0}, std::size_t{20}, std::size_t{43}}) {  // nonce, key, tag
      SCOPED_TRACE(i);
      AtSuccess t(f);
      flip(t.msg.EKc, i);
      EXPECT_REJECTED(t.deliver(), Code::bad_seal);
      EXPECT_EQ(t.net.term, t.before);
    }
}

TEST(TamperedSuccess, EKcSealedForAnotherPartyIsBadSeal) {
  AtSuccess t;
  t.msg.EKc = t.net.last.at("s4").EKsp;  // the proxy's copy: right length, wrong key and binding
  EXPECT_REJECTED(t.deliver(), Code::bad_seal);
  EXPECT_EQ(t.net.term, t.before);
}

TEST(TamperedSuccess, FlippedBitInTheMacIsBadMac) {
  for (Flow f : {Flow::proxied, Flow::direct})
    for (std::size_t i : {std::size_t{0}, std::size_t{15}}) {
      AtSuccess t(f);
      flip(t.msg.MAC, i, 0x40);
      EXPECT_REJECTED(t.deliver(), Code::bad_mac);
      EXPECT_EQ(t.net.term, t.before);
    }
}

TEST(TamperedSuccess, ChangedEchoedListIsBadMacBecauseTheMacCoversIt) {
  std::vector<std::function<void(kd::msg::MechList&)>> edits = {
      [](kd::msg::MechList& l) { l[0].q = 1000; },
      [](kd::msg::MechList& l) { l.erase(l.begin()); },
      [](kd::msg::MechList& l) { std::swap(l[0], l[1]); },
      [](kd::msg::MechList& l) { l.push_back({"kd-app", 1}); },
  };
  for (std::size_t i = 0; i < edits.size(); ++i) {
    SCOPED_TRACE(i);
    AtSuccess t;
    edits[i](*t.msg.SecMechList);
    EXPECT_REJECTED(t.deliver(), Code::bad_mac);
    EXPECT_EQ(t.net.term, t.before);
  }
}

TEST(TamperedSuccess, OtherFieldsUnderTheMacAreBadMac) {
  {
    AtSuccess t;
    t.msg.SecMech = "tls";
    EXPECT_REJECTED(t.deliver(), Code::bad_mac);
  }
  {
    AtSuccess t;
    *t.msg.TS4 += 1;
    EXPECT_REJECTED(t.deliver(), Code::bad_mac);
  }
  {
    AtSuccess t;
    flip(t.msg.N2);
    EXPECT_REJECTED(t.deliver(), Code::bad_mac);
    EXPECT_EQ(t.net.term, t.before);
  }
}

TEST(TamperedSuccess, ChangedListWithAValidMacIsMechanismDowngrade) {
  // Whoever holds K (a compromised proxy) can re-MAC; the terminal still compares with its list.
  std::vector<std::function<void(kd::msg::MechList&)>> edits = {
      [](kd::msg::MechList& l) { l = {{"tls", 1000}}; },
      [](kd::msg::MechList& l) { l[1].q = 100; },
      [](kd::msg::MechList& l) { l.pop_back(); },
  };
  for (std::size_t i = 0; i < edits.size(); ++i) {
    SCOPED_TRACE(i);
    AtSuccess t;
    edits[i](*t.msg.SecMechList);
    t.remac();
    EXPECT_REJECTED(t.deliver(), Code::mechanism_downgrade);
    EXPECT_EQ(t.net.term, t.before);
  }
}

TEST(TamperedSuccess, ChosenMechanismNotOfferedOrForbiddenWithAValidMacIsMechanismDowngrade) {
  for (const char* mech : {"kd-app", "null"}) {  // not offered; offered at q=1 but forbidden
    SCOPED_TRACE(mech);
    AtSuccess t;
    t.msg.SecMech = mech;
    t.remac();
    EXPECT_REJECTED(t.deliver(), Code::mechanism_downgrade);
    EXPECT_EQ(t.net.term, t.before);
  }
}

TEST(TamperedSuccess, ReplayedSuccessIsReplayedNonce) {
  AtSuccess t;
  ASSERT_FALSE(t.deliver().error);
  auto after = t.net.term;
  EXPECT_REJECTED(t.deliver(), Code::replayed_nonce);
  EXPECT_EQ(t.net.term, after);
}

TEST(TamperedProxyLeg, FlippedBitInEKspIsBadSealAtTheProxy) {
  for (std::size_t i : {std::size_t{0}, std::size_t{12}, std::size_t{43}}) {
    SCOPED_TRACE(i);
    Net net;
    net.start();
    Message s9 = net.take("s9");
    auto before = net.proxy;
    flip(s9.EKsp, i);
    EXPECT_REJECTED(net.deliver(s9), Code::bad_seal);
    EXPECT_EQ(net.proxy, before);
  }
}

TEST(TamperedProxyLeg, EKspSealedForTheTerminalIsBadSeal) {
  Net net;
  net.start();
  Message s9 = net.take("s9");
  auto before = net.proxy;
  s9.EKsp = s9.EKc;
  EXPECT_REJECTED(net.deliver(s9), Code::bad_seal);
  EXPECT_EQ(net.proxy, before);
}

// ---- replays ------------------------------------------------------------------------------

TEST(Replay, ReplayedRegisterIsReplayedNonce) {
  for (Flow f : {Flow::proxied, Flow::direct}) {
    Net net(kd::crypto::default_suite(), f);
    net.start();
    Message first = net.take(net.n().reg);
    ASSERT_FALSE(net.deliver(first).error);
    const Role at = f == Flow::proxied ? Role::proxy : Role::sw;
    auto proxy_before = net.proxy;
    auto sw_before = net.sw;
    EXPECT_REJECTED(net.deliver_to(at, first), Code::replayed_nonce);
    EXPECT_EQ(net.proxy, proxy_before);
    EXPECT_EQ(net.sw, sw_before);
  }
}

TEST(Replay, AnswerReplayedWhileANewChallengeIsOutIsReplayedNonce) {
  Net net;
  net.start();
  Message old_s7 = net.take("s7");
  net.absorb(net.deliver(old_s7));
  net.run_all();
  ASSERT_NE(net.event("registered"), nullptr);
  // The terminal registers again; while the proxy's new challenge is out, the old answer comes back.
  net.start();
  net.take("s6");
  auto before = net.proxy;
  EXPECT_REJECTED(net.deliver(old_s7), Code::replayed_nonce);
  EXPECT_EQ(net.proxy, before);
}

TEST(Replay, AnswerReplayedRightAfterItWasAcceptedIsReplayedNonce) {
  Net net;
  net.start();
  Message s7 = net.take("s7");
  ASSERT_FALSE(net.deliver(s7).error);
  auto before = net.proxy;
  EXPECT_REJECTED(net.deliver(s7), Code::replayed_nonce);
  EXPECT_EQ(net.proxy, before);
}

TEST(Replay, ChallengeReplayedToTheTerminalIsReplayedNonce) {
  Net net;
  net.start();
  Message s6 = net.take("s6");
  ASSERT_FALSE(net.deliver(s6).error);
  auto before = net.term;
  EXPECT_REJECTED(net.deliver(s6), Code::replayed_nonce);
  EXPECT_EQ(net.term, before);
}

// ---- a second use of Rand, an expired challenge --------------------------------------------

TEST(Challenge, AnswerReplayedAfterSuccessIsReusedChallenge) {
  for (Flow f : {Flow::proxied, Flow::direct}) {
    SCOPED_TRACE(f == Flow::proxied ? "proxied" : "direct");
    Net net(kd::crypto::default_suite(), f);
    net.start();
    net.run_all();
    ASSERT_NE(net.event("registered"), nullptr);
    const Message& answer = net.last.at(f == Flow::proxied ? "s8" : "d5");
    auto before = net.sw;
    EXPECT_REJECTED(net.deliver(answer), Code::reused_challenge);
    EXPECT_EQ(net.sw, before);
  }
}

TEST(Challenge, OldAnswerDuringTheNextRegistrationIsReusedChallenge) {
  Net net;
  net.start();
  net.run_all();
  const Message old_s8 = net.last.at("s8");
  net.start();
  net.take("s6");  // the switch holds a new live challenge for the same terminal
  auto before = net.sw;
  EXPECT_REJECTED(net.deliver(old_s8), Code::reused_challenge);
  EXPECT_EQ(net.sw, before);
}

TEST(Challenge, ReportReplayedToTheAucIsReusedChallenge) {
  for (Flow f : {Flow::proxied, Flow::direct}) {
    Net net(kd::crypto::default_suite(), f);
    net.start();
    net.run_all();
    ASSERT_NE(net.event("registration-recorded"), nullptr);
    auto before = net.auc;
    EXPECT_REJECTED(net.deliver(net.last.at(net.n().report)), Code::reused_challenge);
    EXPECT_EQ(net.auc, before);
  }
}

TEST(Challenge, AnswerAtTheEndOfTheLifetimeIsAcceptedOneSecondLaterExpired) {
  for (Flow f : {Flow::proxied, Flow::direct}) {
    SCOPED_TRACE(f == Flow::proxied ? "proxied" : "direct");
    Net late(kd::crypto::default_suite(), f);
    late.start();
    Message answer = late.take(f == Flow::proxied ? "s8" : "d5");
    Net edge = late;
    edge.clock[Role::sw] = kNow + edge.policy.challenge_ttl;
    EXPECT_FALSE(edge.deliver(answer).error);
    late.clock[Role::sw] = kNow + late.policy.challenge_ttl + 1;
    auto before = late.sw;
    EXPECT_REJECTED(late.deliver(answer), Code::expired_challenge);
    EXPECT_EQ(late.sw, before);
  }
}

TEST(Challenge, AnswerWithAnotherRandIsUnknownChallenge) {
  Net net;
  net.start();
  Message s8 = net.take("s8");
  flip(s8.Rand);
  auto before = net.sw;
  EXPECT_REJECTED(net.deliver(s8), Code::unknown_challenge);
  EXPECT_EQ(net.sw, before);
}

// ---- timestamps at the window's edges -----------------------------------------------------

struct TsCase {
  Flow flow;
  const char* step;
  std::optional<std::uint64_t> Message::*ts;
  bool mac;  // the field is under the MAC: re-MAC after the change, so only the time is wrong
};

std::string ts_name(const TsCase& c) { return std::string(c.step); }
void PrintTo(const TsCase& c, std::ostream* os) { *os << c.step; }

class Timestamp : public testing::TestWithParam<TsCase> {};

TEST_P(Timestamp, EdgesOfTheWindowAreAcceptedOneSecondPastIsRejected) {
  const TsCase& c = GetParam();
  struct Shift {
    std::int64_t by;
    std::optional<Code> want;
  };
  // A message stamped `by` seconds from the receiver's clock: a receiver whose clock is ahead
  // sees a stale message, one whose clock is behind a message from the future.
  for (Shift s : {Shift{-300, std::nullopt}, Shift{-301, Code::stale_timestamp}, Shift{300, std::nullopt},
                  Shift{301, Code::future_timestamp}}) {
    SCOPED_TRACE("shift " + std::to_string(s.by));
    Net net(kd::crypto::default_suite(), c.flow);
    net.start();
    Message m = net.take(c.step);
    m.*(c.ts) = static_cast<std::uint64_t>(static_cast<std::int64_t>(kNow) + s.by);
    if (c.mac) m.MAC = kd::crypto::message_mac(*net.suite, net.session_key().view(), m);
    auto term = net.term;
    auto proxy = net.proxy;
    auto sw = net.sw;
    Output o = net.deliver(m);
    if (!s.want) {
      EXPECT_FALSE(o.error) << kd::code_name(o.error->code) << ": " << o.error->detail;
    } else {
      EXPECT_REJECTED(o, *s.want);
      EXPECT_EQ(net.term, term);
      EXPECT_EQ(net.proxy, proxy);
      EXPECT_EQ(net.sw, sw);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(EveryTimestampedStep, Timestamp,
                         testing::Values(TsCase{Flow::proxied, "s1", &Message::TS1, false},
                                         TsCase{Flow::proxied, "s6", &Message::TS2, false},
                                         TsCase{Flow::proxied, "s7", &Message::TS3, false},
                                         TsCase{Flow::proxied, "s10", &Message::TS4, true},
                                         TsCase{Flow::direct, "d1", &Message::TS1, false},
                                         TsCase{Flow::direct, "d4", &Message::TS2, false},
                                         TsCase{Flow::direct, "d5", &Message::TS3, false},
                                         TsCase{Flow::direct, "d6", &Message::TS4, true}),
                         [](const testing::TestParamInfo<TsCase>& i) { return ts_name(i.param); });

TEST(TimestampSkew, ConfiguredSkewIsHonoured) {
  Net net;
  net.policy.skew = 10;
  net.start();
  Message s1 = net.take("s1");
  *s1.TS1 = kNow - 11;
  EXPECT_REJECTED(net.deliver(s1), Code::stale_timestamp);
  *s1.TS1 = kNow - 10;
  EXPECT_FALSE(net.deliver(s1).error);
}

// ---- identities ---------------------------------------------------------------------------

TEST(Identity, RegisterAddressedToAnotherProxyIsIdentityMismatch) {
  Net net;
  net.start();
  Message s1 = net.take("s1");
  s1.IDsp = "sbc2.example.org";
  auto before = net.proxy;
  EXPECT_REJECTED(net.deliver(s1), Code::identity_mismatch);
  EXPECT_EQ(net.proxy, before);
}

TEST(Identity, RegisterAddressedToAnotherSwitchIsIdentityMismatch) {
  Net net(kd::crypto::default_suite(), Flow::direct);
  net.start();
  Message d1 = net.take("d1");
  d1.IDss = "ss2.example.org";
  auto before = net.sw;
  EXPECT_REJECTED(net.deliver(d1), Code::identity_mismatch);
  EXPECT_EQ(net.sw, before);
}

TEST(Identity, WrongIDspLaterInTheExchangeIsIdentityMismatch) {
  {  // the failure response at the proxy
    Net net;
    net.start();
    Message s5 = net.take("s5");
    s5.IDsp = "sbc2.example.org";
    auto before = net.proxy;
    EXPECT_REJECTED(net.deliver(s5), Code::identity_mismatch);
    EXPECT_EQ(net.proxy, before);
  }
  {  // the challenge at the terminal
    Net net;
    net.start();
    Message s6 = net.take("s6");
    s6.IDsp = "sbc2.example.org";
    auto before = net.term;
    EXPECT_REJECTED(net.deliver(s6), Code::identity_mismatch);
    EXPECT_EQ(net.term, before);
  }
  {  // the forwarded answer at the switch
    Net net;
    net.start();
    Message s8 = net.take("s8");
    s8.IDsp = "sbc2.example.org";
    auto before = net.sw;
    EXPECT_REJECTED(net.deliver(s8), Code::identity_mismatch);
    EXPECT_EQ(net.sw, before);
  }
}

TEST(Identity, UnknownOrMiscastIdentityAtTheAucIsUnknownIdentity) {
  struct C {
    std::string idc, peer;
  };
  for (const C& c : {C{"mallory", kProxy}, C{kProxy, kProxy}, C{kIdc, "sbc9"}, C{kIdc, kSwitch}, C{kIdc, kIdc}}) {
    SCOPED_TRACE(c.idc + " via " + c.peer);
    Net net;
    net.start();
    Message s3 = net.take("s3");
    s3.IDc = c.idc;
    s3.IDsp = c.peer;
    auto before = net.auc;
    EXPECT_REJECTED(net.deliver(s3), Code::unknown_identity);
    EXPECT_EQ(net.auc, before);
  }
  Net direct(kd::crypto::default_suite(), Flow::direct);
  direct.start();
  Message d2 = direct.take("d2");
  d2.IDss = kProxy;  // a proxy where a switch belongs
  auto before = direct.auc;
  EXPECT_REJECTED(direct.deliver(d2), Code::unknown_identity);
  EXPECT_EQ(direct.auc, before);
}

TEST(Identity, TerminalWithoutAKeyCannotStart) {
  Net net;
  net.term_keys.entities.clear();
  auto c = net.ctx(Role::term);
  auto before = net.term;
  EXPECT_REJECTED(kd::flow::term_start(net.term, net.params(), c), Code::unknown_identity);
  EXPECT_EQ(net.term, before);
}

// ---- mechanisms ---------------------------------------------------------------------------

TEST(Mechanism, OnlyForbiddenOrUnsupportedOffersAreNoAcceptableMechanism) {
  for (Flow f : {Flow::proxied, Flow::direct}) {
    SCOPED_TRACE(f == Flow::proxied ? "proxied" : "direct");
    Net net(kd::crypto::default_suite(), f);
    net.mechs = {{"null", 1000}, {"digest", 900}, {"quic-x", 800}, {"tls", 0}};
    net.policy.supported.push_back("null");  // even when configured, null is never chosen
    net.start();
    Message answer = net.take(net.n().answer);
    auto proxy = net.proxy;
    auto sw = net.sw;
    EXPECT_REJECTED(net.deliver(answer), Code::no_acceptable_mechanism);
    EXPECT_EQ(net.proxy, proxy);
    EXPECT_EQ(net.sw, sw);
  }
}

TEST(Mechanism, ListStrippedOnTheWayToTheProxyIsCaughtByTheTerminal) {
  Net net;
  net.start();
  Message s7 = net.take("s7");
  s7.SecMechList = kd::msg::MechList{{"tls", 1000}};  // s7 carries no MAC: an attacker can do this
  net.absorb(net.deliver(s7));
  Message s10 = net.take("s10");
  EXPECT_EQ(*s10.SecMech, "tls");
  auto before = net.term;
  EXPECT_REJECTED(net.deliver(s10), Code::mechanism_downgrade);
  EXPECT_EQ(net.term, before);
}

// ---- recipients and NAT -------------------------------------------------------------------

TEST(Recipient, MessageForAnotherRoleIsWrongRecipient) {
  Net net;
  net.start();
  Message s1 = net.take("s1");
  auto t = net.term;
  auto p = net.proxy;
  auto s = net.sw;
  auto a = net.auc;
  EXPECT_REJECTED(net.deliver_to(Role::term, s1), Code::wrong_recipient);
  EXPECT_REJECTED(net.deliver_to(Role::sw, s1), Code::wrong_recipient);
  EXPECT_REJECTED(net.deliver_to(Role::auc, s1), Code::wrong_recipient);
  net.absorb(net.deliver(s1));
  Message s2 = net.take("s2");
  p = net.proxy;
  EXPECT_REJECTED(net.deliver_to(Role::proxy, s2), Code::wrong_recipient);
  EXPECT_REJECTED(net.deliver_to(Role::auc, s2), Code::wrong_recipient);
  EXPECT_EQ(net.term, t);
  EXPECT_EQ(net.proxy, p);
  EXPECT_EQ(net.sw, s);
  EXPECT_EQ(net.auc, a);

  Net direct(kd::crypto::default_suite(), Flow::direct);
  direct.start();
  Message d1 = direct.take("d1");
  EXPECT_REJECTED(direct.deliver_to(Role::proxy, d1), Code::wrong_recipient);
}

TEST(Nat, ProxyReportsTheAddressItSawNotTheOneClaimed) {
  Net net;
  net.observed_source = "198.51.100.7:40000";
  net.start();
  net.run_all();
  EXPECT_EQ(*net.last.at("s1").IPc, kContact);
  EXPECT_EQ(*net.last.at("s2").IPc, "198.51.100.7:40000");
  EXPECT_EQ(*net.last.at("s8").IPc, "198.51.100.7:40000");
  EXPECT_EQ(*net.last.at("s11").IPc, "198.51.100.7:40000");
  EXPECT_EQ(net.auc.registered.at(kIdc).ipc, "198.51.100.7:40000");
}

// ---- the roles as the tools run them: one seeded stream per input line --------------------

struct Engines {
  kd::flow::Keystore term_keys, proxy_keys, switch_keys, auc_keys;
  std::map<std::string, std::unique_ptr<kd::engine::RoleEngine>> by_role;
  std::deque<std::string> lines;
  std::vector<std::string> events, errors, seen;
  std::function<void(kd::engine::RoleEngine&)> after_feed;  // called after each input a role took

  Flow flow;

  // seeded false: the operating system's randomness, which calls no primitive the op counters see.
  explicit Engines(Flow f, bool seeded = true) : flow(f) {
    add(term_keys, kIdc, Role::term, kTermKey);
    add(proxy_keys, kProxy, Role::proxy, kProxyKey);
    add(switch_keys, kSwitch, Role::sw, kSwitchKey);
    add(auc_keys, kIdc, Role::term, kTermKey);
    add(auc_keys, kProxy, Role::proxy, kProxyKey);
    add(auc_keys, kSwitch, Role::sw, kSwitchKey);
    auto make = [&](Role r, const kd::flow::Keystore& ks, const std::string& id) {
      kd::engine::Settings s;
      if (seeded) s.seed = kSeed;  // every process of a run may be given the same seed
      s.now = kNow;
      s.self_id = id;
      auto e = kd::engine::make_engine(r, ks, s, "");
      EXPECT_TRUE(e.ok());
      by_role[std::string(kd::msg::role_name(r))] = std::move(*e);
    };
    make(Role::term, term_keys, "");
    make(Role::proxy, proxy_keys, kProxy);
    make(Role::sw, switch_keys, kSwitch);
    make(Role::auc, auc_keys, kAuc);
    start();
  }

  void start() {
    kd::flow::StartParams p;
    p.idc = kIdc;
    if (flow == Flow::proxied) p.via = kProxy;
    p.sw = kSwitch;
    p.suite = "KD-AES128GCM-SHA256";
    p.mechs = {{"tls", 1000}};
    p.contact = kContact;
    auto o = by_role["term"]->start(p);
    for (auto& l : kd::engine::json_lines(o, true)) lines.push_back(std::move(l));
  }

  // Routes every line on "to" until none is left; `edit` may change a message before delivery.
  void run(const std::function<void(Message&)>& edit) {
    for (int guard = 0; guard < 200 && !lines.empty(); ++guard) {
      std::string line = lines.front();
      lines.pop_front();
      if (line.rfind(R"({"event":"error")", 0) == 0) {
        errors.push_back(line);
        continue;
      }
      if (line.rfind(R"({"event":)", 0) == 0) {
        events.push_back(line);
        continue;
      }
      auto m = kd::json::decode_message(line);
      ASSERT_TRUE(m.ok()) << line;
      edit(*m);
      seen.push_back(kd::json::encode_message(*m));
      auto& role = *by_role[std::string(kd::msg::role_name(kd::msg::spec_of(*m).to))];
      auto o = feed_line(role, kd::json::encode_message(*m));
      if (after_feed) after_feed(role);
      for (auto& l : kd::engine::json_lines(o, true)) lines.push_back(std::move(l));
    }
  }
};

// A service saves only what each input changed (kd-live(7), DURABILITY): the changes, applied one
// input after another to the file as first saved, give what a whole save gives, in both flows,
// through a wrong verification word (the switch's failures), re-registration, and expiry (prunes).
TEST(StateChanges, AppliedInOrderTheyGiveTheWholeState) {
  for (Flow f : {Flow::proxied, Flow::direct}) {
    SCOPED_TRACE(kd::msg::flow_name(f));
    Engines e(f);
    std::map<kd::engine::RoleEngine*, std::string> saved;
    for (auto& [name, eng] : e.by_role) {
      if (name == "term") eng->mark_saved();  // its start, made by Engines
      saved[eng.get()] = eng->state_text();
      EXPECT_FALSE(eng->changed()) << name;
      EXPECT_EQ(eng->state_changes(), "{}") << name;
    }
    int applied = 0;
    e.after_feed = [&](kd::engine::RoleEngine& r) {
      const std::string changes = r.state_changes();
      EXPECT_EQ(r.changed(), changes != "{}");
      auto next = kd::json::apply_state_changes(saved[&r], changes);
      ASSERT_TRUE(next.ok()) << next.error().detail;
      saved[&r] = *next;
      r.mark_saved();
      EXPECT_FALSE(r.changed());
      EXPECT_EQ(saved[&r], r.state_text()) << "after " << changes;
      applied += changes != "{}";
    };
    bool tampered = false;
    e.run([&](Message& m) {
      if (!tampered && m.Authenticator_c && kd::msg::spec_of(m).from == Role::term) {
        (*m.Authenticator_c)[0] ^= 1;
        tampered = true;
      }
    });
    for (auto& [name, eng] : e.by_role) eng->settings().now = kNow + 3600;
    e.start();  // again, later: prunes what expired
    e.after_feed(*e.by_role["term"]);
    e.run([](Message&) {});
    EXPECT_GT(applied, 10);
    for (auto& [name, eng] : e.by_role) EXPECT_EQ(saved[eng.get()], eng->state_text()) << name;
  }
}

// A service without --state never saves its state, so its engines track no change (a copy of
// every entry changed, kept for ever): through the same registrations, a wrong verification word
// and a later one that prunes, each role's state is byte for byte what a tracking engine's is,
// and none reports a change.
TEST(StateChanges, AnUntrackedEngineHoldsTheSameStateAndReportsNoChange) {
  for (Flow f : {Flow::proxied, Flow::direct}) {
    SCOPED_TRACE(kd::msg::flow_name(f));
    Engines tracked(f), untracked(f);
    for (auto& [name, eng] : untracked.by_role) eng->set_tracking(false);
    for (auto* e : {&tracked, &untracked}) {
      bool tampered = false;
      e->run([&](Message& m) {
        if (!tampered && m.Authenticator_c && kd::msg::spec_of(m).from == Role::term) {
          (*m.Authenticator_c)[0] ^= 1;
          tampered = true;
        }
      });
      for (auto& [name, eng] : e->by_role) eng->settings().now = kNow + 3600;
      e->start();
      e->run([](Message&) {});
    }
    EXPECT_EQ(tracked.seen, untracked.seen);
    for (auto& [name, eng] : untracked.by_role) {
      EXPECT_EQ(eng->state_text(), tracked.by_role.at(name)->state_text()) << name;
      if (f == Flow::proxied || name != "proxy") {  // the direct flow has no proxy
        EXPECT_TRUE(tracked.by_role.at(name)->changed()) << name;
      }
      EXPECT_FALSE(eng->changed()) << name;
      EXPECT_EQ(eng->state_changes(), "{}") << name;
    }
  }
}

TEST(SeededEngines, CompleteRegistrationWithTheSameSeedInEveryRole) {
  Engines e(Flow::proxied);
  e.run([](Message&) {});
  EXPECT_TRUE(e.errors.empty()) << e.errors.front();
  ASSERT_EQ(e.events.size(), 3u);
}

TEST(SeededEngines, RetryAfterAWrongVerificationWordGetsAFreshChallengeAndCompletes) {
  Engines e(Flow::proxied);
  bool tampered = false;
  std::vector<Bytes> rands;
  e.run([&](Message& m) {
    if (m.step == 4) rands.push_back(*m.Rand);
    if (m.step == 7 && !tampered) {
      (*m.Authenticator_c)[0] ^= 1;
      tampered = true;
    }
  });
  ASSERT_EQ(rands.size(), 2u);
  EXPECT_NE(rands[0], rands[1]) << "the AuC issued the same Rand (and session key) twice";
  ASSERT_GE(e.errors.size(), 1u);
  EXPECT_NE(e.errors[0].find("bad_authenticator"), std::string::npos) << e.errors[0];
  for (std::size_t i = 1; i < e.errors.size(); ++i) ADD_FAILURE() << "then: " << e.errors[i];
  bool registered = false;
  for (const auto& ev : e.events) registered |= ev.find(R"("event":"registered")") != std::string::npos;
  EXPECT_TRUE(registered);
}

// Issue 10 item 2: under --seed the same request to the AuC starts the same input's streams again.
// Whatever it redraws, no Rand (which travels in clear) may equal a session key it issued, and no
// session key or seal nonce (under the same long-term key) may come back.
TEST(SeededEngines, ARepeatedRequestNeverShowsAnEarlierKeyAsRandNorReusesAKeyOrNonce) {
  for (const auto& s : kd::crypto::all_suites()) {
    SCOPED_TRACE(std::string(s.name));
    kd::flow::Keystore keys;
    add(keys, kIdc, Role::term, kTermKey);
    add(keys, kProxy, Role::proxy, kProxyKey);
    kd::engine::Settings set;
    set.seed = kSeed;
    set.now = kNow;
    set.self_id = kAuc;
    auto auc = kd::engine::make_engine(Role::auc, keys, set, "");
    ASSERT_TRUE(auc.ok());
    Message s3;
    s3.step = 3;
    s3.flow = Flow::proxied;
    s3.suite = std::string(s.name);
    s3.IDc = kIdc;
    s3.IDsp = kProxy;
    const std::string line = kd::json::encode_message(s3);
    std::vector<std::string> rands, keys_hex, nonces;
    for (int i = 0; i < 4; ++i) {
      auto o = feed_line(**auc, line);
      ASSERT_FALSE(o.error) << o.error->detail;
      ASSERT_EQ(o.sent.size(), 1u);
      const Message& v = o.sent[0].message;
      kd::crypto::SealBinding b{Flow::proxied, kIdc, kProxy, *v.Rand, Role::term};
      auto k = kd::crypto::open_key(s, kTermKey, b, *v.EKc);
      ASSERT_TRUE(k);
      rands.push_back(kd::to_hex(*v.Rand));
      keys_hex.push_back(kd::to_hex(Bytes(k->view().begin(), k->view().end())));
      nonces.push_back(kd::to_hex(Bytes(v.EKc->begin(), v.EKc->begin() + 12)));
      nonces.push_back(kd::to_hex(Bytes(v.EKsp->begin(), v.EKsp->begin() + 12)));
    }
    for (std::size_t i = 0; i < rands.size(); ++i) {
      for (std::size_t j = 0; j < keys_hex.size(); ++j)
        EXPECT_EQ(keys_hex[j].find(rands[i]), std::string::npos) << "Rand " << i << " is inside K " << j;
      for (std::size_t j = 0; j < i; ++j) {
        EXPECT_NE(rands[i], rands[j]);
        EXPECT_NE(keys_hex[i], keys_hex[j]) << "the session key of request " << j << " came back";
      }
    }
    for (std::size_t i = 0; i < nonces.size(); ++i)
      for (std::size_t j = 0; j < i; ++j) EXPECT_NE(nonces[i], nonces[j]) << "seal nonce " << i << " repeats " << j;
  }
}

// ---- the AuC's challenges: bounded per terminal (issue 10 item 8) ------------------------

struct AucRig {
  kd::flow::Keystore keys;
  std::unique_ptr<kd::engine::RoleEngine> auc;
  explicit AucRig(std::uint64_t now = kNow, const std::string& state = "") {
    add(keys, kIdc, Role::term, kTermKey);
    add(keys, "bob@example.org", Role::term, kSwitchKey);
    add(keys, kProxy, Role::proxy, kProxyKey);
    kd::engine::Settings set;  // the operating system's randomness
    set.now = now;
    set.self_id = kAuc;
    auto e = kd::engine::make_engine(Role::auc, keys, set, state);
    EXPECT_TRUE(e.ok());
    auc = std::move(*e);
  }
  static std::string line(int step, const std::string& idc, const std::optional<Bytes>& rand = {}) {
    Message m;
    m.step = static_cast<std::uint8_t>(step);
    m.flow = Flow::proxied;
    m.suite = "KD-AES128GCM-SHA256";
    m.IDc = idc;
    m.IDsp = kProxy;
    if (rand) {
      m.Rand = *rand;
      m.IPc = kContact;
    }
    return kd::json::encode_message(m);
  }
  Bytes challenge(const std::string& idc) {
    auto o = feed_line(*auc, line(3, idc));
    EXPECT_FALSE(o.error);
    return o.sent.empty() ? Bytes{} : *o.sent.at(0).message.Rand;
  }
  kd::engine::Outcome report(const std::string& idc, const Bytes& rand) { return feed_line(*auc, line(11, idc, rand)); }
  std::size_t held() const {
    const std::string t = auc->state_text();
    std::size_t n = 0;
    for (auto at = t.find("\"idc\":"); at != std::string::npos; at = t.find("\"idc\":", at + 1)) ++n;
    return n;
  }
};

TEST(AucBound, ATerminalHoldsAtMostEightChallengesAndItsOldestIsRefused) {
  AucRig rig;
  const Bytes bobs = rig.challenge("bob@example.org");
  std::vector<Bytes> rands;
  for (int i = 0; i < 30; ++i) rands.push_back(rig.challenge(kIdc));
  EXPECT_EQ(rig.held(), 8u + 1u) << "alice's 8 newest and bob's one (kd-auc(1): 8 per terminal)";
  // The 22 oldest were superseded: their reports name a challenge the AuC no longer holds.
  for (int i : {0, 1, 21}) {
    auto o = rig.report(kIdc, rands[static_cast<std::size_t>(i)]);
    ASSERT_TRUE(o.error) << "challenge " << i;
    EXPECT_EQ(kd::code_name(o.error->code), "unknown_challenge");
  }
  EXPECT_FALSE(rig.report(kIdc, rands[22]).error) << "the oldest of the 8 held";
  EXPECT_FALSE(rig.report(kIdc, rands.back()).error);
  EXPECT_FALSE(rig.report("bob@example.org", bobs).error) << "another terminal's challenge is not evicted";
}

TEST(AucBound, TheBoundAndTheOrderSurviveTheStateFile) {
  std::vector<Bytes> rands;
  std::string text;
  {
    AucRig rig;
    for (int i = 0; i < 8; ++i) rands.push_back(rig.challenge(kIdc));
    text = rig.auc->state_text();
  }
  AucRig again(kNow, text);  // same second: only the issue order tells the oldest
  rands.push_back(again.challenge(kIdc));
  EXPECT_EQ(again.held(), 8u);
  auto o = again.report(kIdc, rands[0]);
  ASSERT_TRUE(o.error);
  EXPECT_EQ(kd::code_name(o.error->code), "unknown_challenge");
  EXPECT_FALSE(again.report(kIdc, rands[1]).error);
}

// The AuC's state is changed in place (a copy per input would cost time in proportion to the
// state): whatever it refuses leaves it as it was, expired challenges included.
TEST(AucBound, ARefusedInputLeavesTheStateAsItWasEvenWhenChallengesExpired) {
  std::string text;
  Bytes rand;
  {
    AucRig rig;
    rand = rig.challenge(kIdc);
    ASSERT_FALSE(rig.report(kIdc, rand).error);
    text = rig.auc->state_text();
  }
  AucRig later(kNow + 100000, text);
  for (const std::string& l : {AucRig::line(3, "nobody"), AucRig::line(11, kIdc, rand), AucRig::line(11, kIdc, Bytes(16, 7)),
                               AucRig::line(4, kIdc, Bytes(16, 7))}) {
    auto o = feed_line(*later.auc, l);
    EXPECT_TRUE(o.error) << l;
    EXPECT_FALSE(later.auc->changed()) << l;
    EXPECT_EQ(later.auc->state_text(), text) << l;
  }
  // The same report at a time the challenge is still held is a reuse.
  AucRig same(kNow, text);
  auto o = same.report(kIdc, rand);
  ASSERT_TRUE(o.error);
  EXPECT_EQ(kd::code_name(o.error->code), "reused_challenge");
}


// ---- every role is handed its state itself: a refusal changes nothing (issue 12) ----------

// The engine copies no state per input (a copy costs time in proportion to the state, n inputs
// n^2), so each handler must leave its state as it was when it refuses, even at a time entries
// of its replay caches have expired: dropping them is a change too.
TEST(RefusedInput, LeavesEveryRoleStateAsItWasAfterEntriesExpired) {
  for (Flow f : {Flow::proxied, Flow::direct}) {
    SCOPED_TRACE(f == Flow::proxied ? "proxied" : "direct");
    Net net(kd::crypto::default_suite(), f);
    net.start();
    net.run_all();
    ASSERT_NE(net.event("registered"), nullptr);
    ASSERT_FALSE(net.term.seen_n2.expiry.empty());
    ASSERT_FALSE(net.sw.used_rands.empty());
    ASSERT_FALSE((f == Flow::proxied ? net.proxy.seen_n1 : net.sw.seen_n1).expiry.empty());
    for (Role r : {Role::term, Role::proxy, Role::sw}) net.clock[r] = kNow + 100000;
    int refused = 0;
    for (const auto& [step, m] : net.last) {
      if (kd::msg::spec_of(m).to == Role::auc) continue;
      SCOPED_TRACE(step);
      Net probe = net;
      Output o = probe.deliver(m);
      if (!o.error) continue;  // the switch takes s2 again: it trusts the proxy's timestamp check
      ++refused;
      EXPECT_FALSE(o.keep_state_on_error);
      EXPECT_EQ(probe.term, net.term);
      EXPECT_EQ(probe.proxy, net.proxy);
      EXPECT_EQ(probe.sw, net.sw);
    }
    EXPECT_GE(refused, f == Flow::proxied ? 8 : 5);
  }
}

// In the direct flow the switch opens EKss only after it has checked the answer: when that
// fails, nothing of the answer's checks may stay behind (nonce, challenge, used Rand).
TEST(RefusedInput, DirectSwitchThatCannotOpenEKssChangesNothing) {
  Net net(kd::crypto::default_suite(), Flow::direct);
  net.start();
  Message d5 = net.take("d5");
  add(net.switch_keys, kSwitch, Role::sw, kProxyKey);  // not the key the AuC sealed K for
  auto before = net.sw;
  EXPECT_REJECTED(net.deliver(d5), Code::bad_seal);
  EXPECT_EQ(net.sw, before);
  add(net.switch_keys, kSwitch, Role::sw, kSwitchKey);
  EXPECT_FALSE(net.deliver(d5).error) << "the same answer, once the switch holds its key";
}

// The same through the engines, as the tools run them, for each role: a refused input leaves
// state_text() byte for byte as it was and changed() false, after a reload and a long pause.
TEST(RefusedInput, LeavesEveryEngineStateTextAsItWas) {
  for (Flow f : {Flow::proxied, Flow::direct}) {
    SCOPED_TRACE(f == Flow::proxied ? "proxied" : "direct");
    Engines e(f, false);
    e.run([](Message&) {});
    ASSERT_TRUE(e.errors.empty()) << e.errors.front();
    for (const auto& [role, engine] : e.by_role) {
      if (f == Flow::direct && role == "proxy") continue;
      SCOPED_TRACE(role);
      const std::string text = engine->state_text();
      const kd::flow::Keystore& keys = role == "term" ? e.term_keys : role == "proxy" ? e.proxy_keys
                                     : role == "switch" ? e.switch_keys : e.auc_keys;
      kd::engine::Settings set;
      set.now = kNow + 100000;
      set.self_id = role == "term" ? "" : role == "proxy" ? kProxy : role == "switch" ? kSwitch : kAuc;
      const Role r = role == "term" ? Role::term : role == "proxy" ? Role::proxy : role == "switch" ? Role::sw : Role::auc;
      int refused = 0;
      for (const auto& line : e.seen) {
        auto m = kd::json::decode_message(line);
        ASSERT_TRUE(m.ok());
        if (kd::msg::spec_of(*m).to != r) continue;
        auto later = kd::engine::make_engine(r, keys, set, text);  // each message alone
        ASSERT_TRUE(later.ok());
        auto o = (*later)->feed_message(*m);
        if (!o.error) continue;
        ++refused;
        EXPECT_FALSE((*later)->changed()) << line;
        EXPECT_EQ((*later)->state_text(), text) << line;
      }
      EXPECT_GE(refused, 1);
    }
  }
}

// ---- derived keys are cached (issue 12) ----------------------------------------------------

// Of the eight HKDF calls of a registration, six derive "auth" and "seal" keys from long-term keys
// (kd-protocol(7), "Key derivation"); an engine derives each once. The next registration costs
// only the two "mac" derivations of its session key.
TEST(DerivedKeys, ASecondRegistrationDerivesOnlyTheSessionKeysMacKey) {
  for (Flow f : {Flow::proxied, Flow::direct}) {
    SCOPED_TRACE(f == Flow::proxied ? "proxied" : "direct");
    Engines e(f, false);
    const auto first = kd::crypto::op_counts();
    e.run([](Message&) {});
    ASSERT_TRUE(e.errors.empty()) << e.errors.front();
    EXPECT_EQ(kd::crypto::op_counts().hkdf - first.hkdf, 8u);
    e.start();
    const auto second = kd::crypto::op_counts();
    e.run([](Message&) {});
    ASSERT_TRUE(e.errors.empty()) << e.errors.front();
    EXPECT_EQ(e.events.size(), 6u) << "both registrations complete";
    EXPECT_EQ(kd::crypto::op_counts().hkdf - second.hkdf, 2u);
  }
}

// The cache gives what kd-protocol(7) derives, for each suite and use apart, once per holder.
TEST(DerivedKeys, EachHolderSuiteAndUseIsDerivedOnceAsDocumented) {
  kd::crypto::DerivedKeys cache;
  for (int round = 0; round < 2; ++round) {
    const auto before = kd::crypto::op_counts();
    for (const auto& s : kd::crypto::all_suites()) {
      SCOPED_TRACE(std::string(s.name));
      for (const auto& [id, key] : {std::pair{kIdc, &kTermKey}, std::pair{kProxy, &kProxyKey}}) {
        auto auth = cache.get(id, *key, s, kd::crypto::KeyUse::auth);
        auto seal = cache.get(id, *key, s, kd::crypto::KeyUse::seal);
        EXPECT_EQ(kd::to_hex(auth), kd::to_hex(derive_by_hand(s, *key, "auth", s.hash_len).view()));
        EXPECT_EQ(kd::to_hex(seal), kd::to_hex(derive_by_hand(s, *key, "seal", s.key_len).view()));
      }
    }
    const auto calls = kd::crypto::op_counts().hkdf - before.hkdf - 3 * 2 * 2;  // less derive_by_hand's
    EXPECT_EQ(calls, round == 0 ? 12u : 0u) << "round " << round;
  }
  EXPECT_EQ(cache.size(), 2u);
}

// The keyed form of a cached seal key (GCM key schedule done) is what kd-protocol(7) derives, for
// each suite, holder and long-term key: a key changed in place, or another holder's key, never
// seals or opens with what the cache keyed for the old one.
TEST(DerivedKeys, KeyedSealKeyFollowsTheLongTermKey) {
  kd::crypto::DerivedKeys cache;
  const Bytes nonce = pattern(0x70, 12), aad = pattern(0x80, 40);
  for (const auto& s : kd::crypto::all_suites()) {
    SCOPED_TRACE(std::string(s.name));
    const Bytes pt = pattern(0x90, s.key_len);
    for (const auto& [id, key] : {std::pair{kIdc, &kTermKey}, std::pair{kIdc, &kProxyKey},
                                  std::pair{kProxy, &kTermKey}, std::pair{kIdc, &kTermKey}}) {
      SCOPED_TRACE(id + " " + kd::to_hex(*key).substr(0, 8));
      const Secret sk = derive_by_hand(s, *key, "seal", s.key_len);
      const Bytes want_sealed = kd::crypto::gcm_seal(s.cipher, sk.view(), nonce, aad, pt);
      for (int twice = 0; twice < 2; ++twice) {  // keyed once, then served from the cache
        kd::crypto::AeadKey& seal = cache.seal_key(id, *key, s);
        EXPECT_EQ(kd::to_hex(seal.seal(nonce, aad, pt)), kd::to_hex(want_sealed));
        auto opened = seal.open(nonce, aad, want_sealed);
        ASSERT_TRUE(opened.has_value());
        EXPECT_EQ(kd::to_hex(opened->view()), kd::to_hex(pt));
        Bytes tampered = want_sealed;
        tampered[0] ^= 1;
        EXPECT_FALSE(seal.open(nonce, aad, tampered)) << "a failed open leaves the key usable";
        EXPECT_TRUE(seal.open(nonce, aad, want_sealed));
      }
    }
  }
  EXPECT_EQ(cache.size(), 2u);
}

// The one keyed object the cache rekeys for every terminal's seal key seals and opens under the
// key it was handed last, through every suite and back: never under the key before it.
TEST(DerivedKeys, RekeyedSealKeyIsTheKeyHandedLast) {
  kd::crypto::DerivedKeys cache;
  const Bytes nonce = pattern(0x70, 12), aad = pattern(0x80, 40);
  std::vector<Bytes> sealed;  // by index below: a pointer into it would dangle when it grows
  for (int round = 0; round < 2; ++round) {
    for (const auto& s : kd::crypto::all_suites()) {
      for (const Bytes* key : {&kTermKey, &kProxyKey, &kSwitchKey}) {
        SCOPED_TRACE(std::string(s.name) + " " + kd::to_hex(*key).substr(0, 8));
        const Secret sk = derive_by_hand(s, *key, "seal", s.key_len);
        const Bytes pt = pattern(0x90, s.key_len);
        sealed.push_back(kd::crypto::gcm_seal(s.cipher, sk.view(), nonce, aad, pt));
        kd::crypto::AeadKey& k = cache.rekeyed(s, sk.view());
        EXPECT_EQ(kd::to_hex(k.seal(nonce, aad, pt)), kd::to_hex(sealed.back()));
        auto opened = k.open(nonce, aad, sealed.back());
        ASSERT_TRUE(opened.has_value());
        EXPECT_EQ(kd::to_hex(opened->view()), kd::to_hex(pt));
        if (sealed.size() > 1) {
          EXPECT_FALSE(k.open(nonce, aad, sealed[sealed.size() - 2]));
        }
      }
    }
  }
  EXPECT_EQ(cache.size(), 0u) << "no holder is kept for it";
}

// A keystore changed in place (a service that reloads a key into the same object) is never
// served from what the engine derived from the old key.
TEST(DerivedKeys, AKeyChangedInPlaceIsDerivedAgain) {
  kd::flow::Keystore keys;
  add(keys, kIdc, Role::term, kTermKey);
  add(keys, kProxy, Role::proxy, kProxyKey);
  kd::engine::Settings set;
  set.now = kNow;
  set.self_id = kAuc;
  auto auc = kd::engine::make_engine(Role::auc, keys, set, "");
  ASSERT_TRUE(auc.ok());
  Message s3;
  s3.step = 3;
  s3.flow = Flow::proxied;
  s3.suite = "KD-AES128GCM-SHA256";
  s3.IDc = kIdc;
  s3.IDsp = kProxy;
  const auto& suite = kd::crypto::default_suite();
  for (const Bytes* key : {&kTermKey, &kSwitchKey, &kTermKey}) {
    keys.entities.at(kIdc).key = Secret(*key);
    auto o = (*auc)->feed_message(s3);
    ASSERT_FALSE(o.error) << o.error->detail;
    const Message& v = o.sent.at(0).message;
    EXPECT_EQ(kd::to_hex(*v.Authenticator_c), kd::to_hex(authenticator_by_hand(suite, *key, *v.Rand, kIdc)));
    kd::crypto::SealBinding b{Flow::proxied, kIdc, kProxy, *v.Rand, Role::term};
    EXPECT_TRUE(kd::crypto::open_key(suite, *key, b, *v.EKc)) << "EKc is sealed under the key held now";
  }
}

}  // namespace

// The state's keys of nonces and Rand, built on the stack, are their hex as to_hex writes it, at
// any length (the stack buffer holds 32 bytes; longer ones go through a string).
TEST(HexKey, IsToHexAtEveryLength) {
  for (std::size_t n : {0u, 1u, 16u, 32u, 33u, 64u}) {
    Bytes v(n);
    for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<std::uint8_t>(i * 37 + 11);
    EXPECT_EQ(kd::flow::HexKey(v).view(), kd::to_hex(v)) << n;
  }
}

// Keystore::find takes any string_view, not only a whole std::string.
TEST(Keystore, FindsByAnyStringView) {
  kd::flow::Keystore ks;
  add(ks, kIdc, Role::term, kTermKey);
  const std::string padded = std::string(kIdc) + "+tail";
  const kd::flow::Entity* e = ks.find(std::string_view(padded).substr(0, std::string_view(kIdc).size()));
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->id, kIdc);
  EXPECT_EQ(ks.find(padded), nullptr);
}

// ExpiryMap drops through its index exactly what a walk over every entry drops, whatever wrote
// the entries: set() (indexed), operator[] and reset() (not seen by the index), copies and moves.
TEST(ExpiryMap, DropsWhatAWalkDrops) {
  std::mt19937_64 rng(12);
  kd::flow::ExpiryMap m;
  std::map<std::string, std::uint64_t> model;
  auto drop = [&](kd::flow::ExpiryMap& x, std::uint64_t limit) {
    x.drop_before(limit);
    std::erase_if(model, [limit](const auto& kv) { return kv.second < limit; });
  };
  for (int round = 0; round < 4000; ++round) {
    const std::string k = "k" + std::to_string(rng() % 300);
    const std::uint64_t until = 1000 + rng() % 500;
    // Mostly set() and drops, so that the index lives long; now and then a write it does not see.
    const auto r = rng() % 100;
    if (r < 2) {
      m[k] = until;
      model[k] = until;
    } else if (r < 4) {
      kd::flow::ExpiryMap copy(m);
      m = std::move(copy);
    } else if (r < 5) {
      kd::flow::ExpiryMap copy;
      copy = m;
      m = copy;
    } else if (r < 6) {
      m.reset({model.begin(), model.end()});
    } else if (r < 25) {
      drop(m, 1000 + rng() % 500);
    } else {
      m.set(k, until);
      model[k] = until;
    }
    ASSERT_EQ(m.all(), (kd::flow::ExpiryMap::Map(model.begin(), model.end()))) << "round " << round;
  }
}

// IssuedChallenges' indexes (by expiry, by terminal) point at its map's keys: through adds,
// evictions, prunes, copies and moves they hold exactly the challenges a plain model holds.
TEST(IssuedChallenges, IndexesFollowTheMapThroughCopiesAndPrunes) {
  struct Held {
    std::string idc;
    std::uint64_t expires, seq;
  };
  std::mt19937_64 rng(13);
  kd::flow::IssuedChallenges ic;
  std::map<std::string, Held> model;
  std::uint64_t next_seq = 1;
  for (int round = 0; round < 4000; ++round) {
    const auto r = rng() % 100;
    if (r < 3) {
      kd::flow::IssuedChallenges copy(ic);
      ic.prune(UINT64_MAX, 0);  // frees every key of the original: a shared index would dangle
      ic = std::move(copy);
    } else if (r < 6) {
      kd::flow::IssuedChallenges copy;
      copy = ic;
      ic = kd::flow::IssuedChallenges{};
      ic = copy;
    } else if (r < 20) {
      const std::uint64_t now = 1000 + rng() % 600, skew = 20;
      ic.prune(now, skew);
      std::erase_if(model, [&](const auto& kv) { return kv.second.expires + skew < now; });
    } else {
      const std::string rand = "r" + std::to_string(rng() % 400), idc = "t" + std::to_string(rng() % 12);
      const std::uint64_t expires = 1000 + rng() % 500;
      ic.add(rand, kd::flow::IssuedChallenge{idc, "sbc1", "KD-AES128GCM-SHA256", Flow::proxied, expires, false, 0});
      model[rand] = {idc, expires, next_seq++};
      std::vector<std::pair<std::uint64_t, std::string>> mine;
      for (const auto& [k, h] : model)
        if (h.idc == idc) mine.emplace_back(h.seq, k);
      std::sort(mine.begin(), mine.end());
      for (std::size_t i = 0; i + kd::flow::kMaxChallengesPerTerminal < mine.size(); ++i) model.erase(mine[i].second);
    }
    std::map<std::string, std::pair<std::string, std::uint64_t>> held, want;
    for (const auto& [k, c] : ic.all().all()) held[k] = {c.idc, c.expires};
    for (const auto& [k, h] : model) want[k] = {h.idc, h.expires};
    ASSERT_EQ(held, want) << "round " << round;
    std::set<std::string> terminals;
    for (const auto& [k, h] : model) terminals.insert(h.idc);
    ASSERT_EQ(ic.terminals(), terminals.size()) << "round " << round;
  }
}

// A nonce is dropped once its time is past, and one added again later is kept until its new time.
TEST(ExpiryMap, ANonceAddedAgainIsKeptUntilItsNewTime) {
  kd::flow::ReplayCache c;
  c.add(Bytes(16, 1), 100);
  c.add(Bytes(16, 2), 200);
  c.prune(150);
  EXPECT_FALSE(c.seen(Bytes(16, 1), 0));
  EXPECT_TRUE(c.seen(Bytes(16, 2), 150));
  c.add(Bytes(16, 2), 300);  // kept longer
  c.prune(250);
  EXPECT_TRUE(c.seen(Bytes(16, 2), 250));
  EXPECT_EQ(c.expiry.size(), 1u);
}
