// The generator behind scripts/mkvectors. Expected outcomes are written down here from the
// protocol's rules (kd-protocol(7)), never read back from a run; the runner then checks the code
// against them.
#include <algorithm>
#include <cctype>
#include <type_traits>
#include <functional>
#include <stdexcept>

#include <unistd.h>

#include "capture/capture.hpp"
#include "crypto/protocol.hpp"
#include "crypto/suite.hpp"
#include "wire/h323.hpp"
#include "wire/radius.hpp"
#include "json/line.hpp"
#include "json/message.hpp"
#include "vectors/vectors.hpp"
#include "wire/codec.hpp"

namespace kd::vectors {

namespace {

constexpr std::uint64_t kNow = 1700000000;
const Bytes kSeed{0x6b, 0x64, 0x2d, 0x76, 0x31};  // "kd-v1"

Setup base_setup(const std::string& suite, msg::Flow flow) {
  Setup s;
  s.suite = suite;
  s.flow = flow;
  s.seed = kSeed;
  s.now = kNow;
  s.keys = seeded_keys(s);
  return s;
}

Bytes flip(Bytes b, std::size_t i) {
  b.at(i) ^= 0x01;
  return b;
}

using R = msg::Role;
using M = msg::Message;

class Builder {
public:
  Builder(Group& g, int& next_id) : g_(g), next_(next_id), run_(run_registration(g.setup, drv_)) {
    proxied_ = g.setup.flow == msg::Flow::proxied;
    suite_ = crypto::find_suite(g.setup.suite);
    key_ = Secret(*from_hex(run_.term_key));
  }

  bool proxied() const { return proxied_; }
  const crypto::Suite& suite() const { return *suite_; }
  const Secret& session_key() const { return key_; }
  const Setup& setup() const { return g_.setup; }

  // Step names of this flow.
  std::string reg() const { return proxied_ ? "s1" : "d1"; }
  std::string req() const { return proxied_ ? "s3" : "d2"; }
  std::string vec() const { return proxied_ ? "s4" : "d3"; }
  std::string chal() const { return proxied_ ? "s6" : "d4"; }
  std::string ans() const { return proxied_ ? "s7" : "d5"; }
  std::string sw_ans() const { return proxied_ ? "s8" : "d5"; }
  std::string succ() const { return proxied_ ? "s10" : "d6"; }
  std::string rep() const { return proxied_ ? "s11" : "d7"; }
  R edge() const { return proxied_ ? R::proxy : R::sw; }  // who faces the terminal
  std::string next_of(const std::string& step) const {
    // the step delivered right after `step` in this flow's transcript
    bool seen = false;
    for (const auto& r : run_.records) {
      if (!r.to) continue;
      if (seen) return r.step;
      if (r.step == step) seen = true;
    }
    return "end";
  }

  std::string line(const std::string& step) const {
    for (const auto& r : run_.records)
      if (r.step == step) return r.line;
    throw std::logic_error("no step " + step);
  }
  M msg(const std::string& step) const { return *json::decode_message(line(step)); }
  static std::string enc(const M& m) { return json::encode_message(m); }
  R target_of(const std::string& step) const { return msg::find_step(step)->to; }

  M remac(M m) const {
    m.MAC = crypto::message_mac(*suite_, key_.view(), m);
    return m;
  }

  void add(const std::string& before, R target, std::string input, const std::string& result,
           const std::string& error, const std::string& comment, std::vector<std::string> flags,
           Overrides o = {}, std::vector<Delivery> extra = {}, bool state_change = false) {
    Case c;
    c.tc_id = next_++;
    c.comment = comment;
    c.flags = std::move(flags);
    c.before = before;
    c.extra = std::move(extra);
    c.input = {target, std::move(input)};
    c.overrides = o;
    c.result = result;
    c.error = error;
    c.state_change = state_change;
    g_.tests.push_back(std::move(c));
  }
  // An invalid message delivered just before its own step would be.
  void bad(const std::string& step, const M& m, const std::string& error, const std::string& comment,
           std::vector<std::string> flags, Overrides o = {}) {
    add(step, target_of(step), enc(m), "invalid", error, comment, std::move(flags), o);
  }
  void bad_raw(const std::string& step, std::string raw, const std::string& error,
               const std::string& comment, std::vector<std::string> flags) {
    add(step, target_of(step), std::move(raw), "invalid", error, comment, std::move(flags));
  }
  void good(const std::string& step, const M& m, const std::string& comment,
            std::vector<std::string> flags, Overrides o = {}, const std::string& result = "valid") {
    add(step, target_of(step), enc(m), result, "", comment, std::move(flags), o);
  }

  // Delivers `first` in the state before `before`, routes what follows, and returns the
  // deliveries made up to (not including) the first message of step `until`, plus that message.
  std::pair<std::vector<Delivery>, std::string> chain(const std::string& before, Delivery first,
                                                      const std::string& until) {
    drv_.restore(run_.before.at(before));
    std::vector<Delivery> done;
    std::vector<Delivery> queue{std::move(first)};
    for (std::size_t i = 0; i < queue.size() && i < 64; ++i) {
      Delivery d = queue[i];
      if (json::string_field(d.line, "step").value_or("") == until) return {done, d.line};
      done.push_back(d);
      Outcome o = drv_.deliver(g_.setup, d, {});
      for (const auto& l : o.lines)
        if (auto to = json::string_field(l, "to")) queue.push_back({*msg::parse_role(*to), l});
    }
    throw std::logic_error("chain never reached " + until);
  }

  // A sealed key bound to something else than what the recipient expects.
  Bytes reseal(ByteView long_term_key, crypto::SealBinding b) const {
    crypto::SeededRandom rng(kSeed, "vectors", "reseal", to_bytes(g_.setup.suite));
    return crypto::seal_key(*suite_, long_term_key, b, key_.view(), rng);
  }
  const Secret& key_of(const std::string& id) const { return g_.setup.keys.find(id)->key; }

private:
  Group& g_;
  int& next_;
  InProcessDriver drv_;
  Run run_;
  bool proxied_ = true;
  const crypto::Suite* suite_ = nullptr;
  Secret key_;
};

void authenticator_cases(Builder& b) {
  const auto s = b.sw_ans();
  M m = b.msg(s);
  M x = m;
  x.Authenticator_c = flip(*m.Authenticator_c, 0);
  b.add(s, R::sw, Builder::enc(x), "invalid", "bad_authenticator",
        "Authenticator_c with one bit flipped: a fresh challenge is requested and the failure counted",
        {"ModifiedAuthenticator"}, {}, {}, true);
  b.add(s, R::sw, Builder::enc(x), "invalid", "too_many_attempts",
        "Authenticator_c with one bit flipped, --max-attempts 1: the terminal is locked out",
        {"ModifiedAuthenticator", "BruteForce"}, Overrides{.max_attempts = 1}, {}, true);
  x = m;
  Bytes other_rand(msg::kRandLen, 0x5a);
  x.Authenticator_c = crypto::authenticator(b.suite(), b.key_of(b.setup().term).view(), other_rand, b.setup().term);
  b.add(s, R::sw, Builder::enc(x), "invalid", "bad_authenticator",
        "the verification word of another Rand under the right key", {"WrongRand"}, {}, {}, true);
  x = m;
  x.Authenticator_c->pop_back();
  b.bad(s, x, "bad_length", "Authenticator_c one byte short", {"TruncatedField"});
  x = m;
  x.Authenticator_c->push_back(0);
  b.bad(s, x, "bad_length", "Authenticator_c one byte long", {"ExtendedField"});
  if (b.proxied()) {
    M a = b.msg("s7");
    a.Authenticator_c = flip(*a.Authenticator_c, 0);
    b.good("s7", a, "the proxy forwards an Authenticator_c it cannot check (the switch judges it)",
           {"ProxyCannotCheck"});
  }
}

void seal_cases(Builder& b) {
  const auto& sd = b.setup();
  const auto succ = b.succ();
  M m = b.msg(succ);
  const std::size_t n = crypto::kAeadNonceLen;
  struct Spot {
    std::size_t at;
    const char* where;
  };
  for (Spot sp : {Spot{0, "nonce"}, Spot{n, "ciphertext"}, Spot{m.EKc->size() - 1, "tag"}}) {
    M x = m;
    x.EKc = flip(*m.EKc, sp.at);
    b.bad(succ, b.remac(x), "bad_seal", std::string("EKc with a bit flipped in its ") + sp.where + " (MAC recomputed)",
          {"ModifiedSeal"});
  }
  M x = m;
  x.EKc = flip(*m.EKc, n);
  b.bad(succ, x, "bad_seal", "EKc with a bit flipped, MAC left as it was: the seal is checked before the MAC",
        {"ModifiedSeal"});
  x = m;
  x.EKc->pop_back();
  b.bad(succ, b.remac(x), "bad_length", "EKc one byte short", {"TruncatedField"});
  x = m;
  x.EKc->push_back(0);
  b.bad(succ, b.remac(x), "bad_length", "EKc one byte long", {"ExtendedField"});
  x = m;
  M v = b.msg(b.vec());
  x.EKc = b.proxied() ? *v.EKsp : *v.EKss;
  b.bad(succ, b.remac(x), "bad_seal", "the peer's sealed key in the place of EKc", {"SwappedSeal"});

  // Sealed under the terminal's own key, bound to something else.
  const std::string peer = b.proxied() ? sd.proxy : sd.sw;
  Bytes rand = *v.Rand;
  struct Bind {
    crypto::SealBinding bind;
    const char* what;
  };
  const Bytes other_rand(msg::kRandLen, 0xa5);
  const msg::Flow other_flow = b.proxied() ? msg::Flow::direct : msg::Flow::proxied;
  for (const Bind& bd : {
           Bind{{sd.flow, "mallory", peer, rand, R::term}, "another IDc"},
           Bind{{sd.flow, sd.term, "sbc9", rand, R::term}, "another proxy or switch identity"},
           Bind{{sd.flow, sd.term, peer, other_rand, R::term}, "another Rand"},
           Bind{{sd.flow, sd.term, peer, rand, b.proxied() ? R::proxy : R::sw}, "the peer's role"},
           Bind{{other_flow, sd.term, peer, rand, R::term}, "the other flow"},
       }) {
    x = m;
    x.EKc = b.reseal(b.key_of(sd.term).view(), bd.bind);
    b.bad(succ, b.remac(x), "bad_seal",
          std::string("EKc sealed under Kc but bound to ") + bd.what + " (MAC recomputed)", {"WrongBinding"});
  }

  if (b.proxied()) {
    M s9 = b.msg("s9");
    M y = s9;
    y.EKsp = flip(*s9.EKsp, n);
    b.bad("s9", y, "bad_seal", "EKsp with a bit flipped in its ciphertext", {"ModifiedSeal"});
    y = s9;
    y.EKsp = flip(*s9.EKsp, s9.EKsp->size() - 1);
    b.bad("s9", y, "bad_seal", "EKsp with a bit flipped in its tag", {"ModifiedSeal"});
    y = s9;
    y.EKsp = *s9.EKc;
    b.bad("s9", y, "bad_seal", "EKc in the place of EKsp", {"SwappedSeal"});
    y = s9;
    y.EKsp->resize(y.EKsp->size() - 4);
    b.bad("s9", y, "bad_length", "EKsp four bytes short", {"TruncatedField"});
    for (const Bind& bd : {
             Bind{{sd.flow, "mallory", sd.proxy, rand, R::proxy}, "another IDc"},
             Bind{{sd.flow, sd.term, sd.proxy, other_rand, R::proxy}, "another Rand"},
             Bind{{sd.flow, sd.term, sd.proxy, rand, R::term}, "the terminal's role"},
         }) {
      y = s9;
      y.EKsp = b.reseal(b.key_of(sd.proxy).view(), bd.bind);
      b.bad("s9", y, "bad_seal", std::string("EKsp sealed under Ksp but bound to ") + bd.what, {"WrongBinding"});
    }
  } else {
    // EKss reaches the switch in d3 and is opened only once the terminal has answered.
    M d3 = b.msg("d3");
    d3.EKss = flip(*d3.EKss, n);
    auto [extra, d5] = b.chain("d3", {R::sw, Builder::enc(d3)}, "d5");
    b.add("d3", R::sw, d5, "invalid", "bad_seal",
          "EKss with a bit flipped in d3 is found when the switch opens it on a correct d5", {"ModifiedSeal"},
          {}, extra);
  }
}

void mac_cases(Builder& b) {
  const auto succ = b.succ();
  M m = b.msg(succ);
  M x = m;
  x.MAC = flip(*m.MAC, 0);
  b.bad(succ, x, "bad_mac", "MAC with one bit flipped", {"ModifiedMac"});
  x = m;
  x.MAC = Bytes(m.MAC->size(), 0);
  b.bad(succ, x, "bad_mac", "MAC of all zero bytes", {"ModifiedMac"});
  x = m;
  x.MAC->pop_back();
  b.bad(succ, x, "bad_length", "MAC one byte short", {"TruncatedField"});
  x = m;
  x.MAC->push_back(0);
  b.bad(succ, x, "bad_length", "MAC one byte long", {"ExtendedField"});
  x = m;
  Bytes wrong(b.suite().key_len, 0x42);
  x.MAC = crypto::message_mac(b.suite(), wrong, x);
  b.bad(succ, x, "bad_mac", "MAC computed under another key", {"WrongMacKey"});
  x = m;
  x.TS4 = *m.TS4 + 1;
  b.bad(succ, x, "bad_mac", "TS4 changed after the MAC was computed", {"ModifiedMac"});
  x = m;
  x.SecMechList->pop_back();
  b.bad(succ, x, "bad_mac", "the echoed SecMechList shortened, MAC left as it was", {"ModifiedMac"});
  x = m;
  x.SecMech = "ipsec-3gpp";
  b.bad(succ, x, "bad_mac", "SecMech changed, MAC left as it was", {"ModifiedMac"});
}

void mechanism_cases(Builder& b) {
  const auto succ = b.succ();
  M m = b.msg(succ);
  M x = m;
  x.SecMechList->erase(x.SecMechList->begin());
  b.bad(succ, b.remac(x), "mechanism_downgrade", "the echoed list lacks the terminal's first mechanism (MAC recomputed)",
        {"Downgrade"});
  x = m;
  (*x.SecMechList)[0].q = 100;
  b.bad(succ, b.remac(x), "mechanism_downgrade", "the echoed list changes a priority (MAC recomputed)", {"Downgrade"});
  x = m;
  x.SecMech = "ipsec-ike";
  b.bad(succ, b.remac(x), "mechanism_downgrade", "SecMech not offered by the terminal (MAC recomputed)", {"Downgrade"});
  x = m;
  x.SecMech = "null";
  b.bad(succ, b.remac(x), "mechanism_downgrade", "SecMech null (MAC recomputed)", {"ForbiddenMechanism"});
  x = m;
  x.SecMech = "kd-app";
  b.good(succ, b.remac(x), "SecMech is the terminal's lowest-priority offer: allowed, the chooser may not support more",
         {"LowerPriorityChoice"}, {}, "acceptable");

  // The real attack: the list stripped on its way to the chooser, echoed faithfully under the MAC.
  M a = b.msg(b.ans());
  a.SecMechList->erase(a.SecMechList->begin());
  auto [extra, s10] = b.chain(b.ans(), {b.edge(), Builder::enc(a)}, succ);
  b.add(b.ans(), R::term, s10, "invalid", "mechanism_downgrade",
        "tls stripped from the terminal's list in transit; the chooser echoes what it got", {"Downgrade"}, {},
        extra);

  const auto ans = b.ans();
  M y = b.msg(ans);
  y.SecMechList = msg::MechList{{"null", 1000}, {"none", 500}};
  b.bad(ans, y, "no_acceptable_mechanism", "a list holding only forbidden mechanisms", {"ForbiddenMechanism"});
  y.SecMechList = msg::MechList{{"tls", 0}, {"ipsec-3gpp", 0}};
  b.bad(ans, y, "no_acceptable_mechanism", "every mechanism with q=0", {"ForbiddenMechanism"});
  b.bad(ans, b.msg(ans), "no_acceptable_mechanism", "the chooser supports none of the terminal's mechanisms",
        {"ForbiddenMechanism"}, Overrides{.support = "ipsec-man"});
}

void freshness_cases(Builder& b) {
  const std::uint64_t now = kNow;
  struct T {
    std::string step;
    std::optional<std::uint64_t> M::*ts;
    const char* name;
    bool mac;
  };
  for (const T& t : {T{b.reg(), &M::TS1, "TS1", false}, T{b.ans(), &M::TS3, "TS3", false},
                     T{b.chal(), &M::TS2, "TS2", false}, T{b.succ(), &M::TS4, "TS4", true}}) {
    M m = b.msg(t.step);
    auto with = [&](std::uint64_t v) {
      M x = m;
      x.*t.ts = v;
      return t.mac ? b.remac(x) : x;
    };
    std::string n = t.name;
    b.good(t.step, with(now - 300), n + " exactly 300 s old: at the window's edge", {"EdgeTimestamp"});
    b.bad(t.step, with(now - 301), "stale_timestamp", n + " 301 s old", {"StaleTimestamp"});
    b.good(t.step, with(now + 300), n + " exactly 300 s ahead: at the window's edge", {"EdgeTimestamp"});
    b.bad(t.step, with(now + 301), "future_timestamp", n + " 301 s ahead", {"FutureTimestamp"});
  }
  M r = b.msg(b.reg());
  r.TS1 = now - 100;
  b.bad(b.reg(), r, "stale_timestamp", "TS1 100 s old with --skew 60", {"StaleTimestamp"}, Overrides{.skew = 60});

  // Replays: the same message again once it has been accepted.
  b.add(b.next_of(b.reg()), b.edge(), b.line(b.reg()), "invalid", "replayed_nonce", "the registration request replayed",
        {"Replay"});
  b.add(b.next_of(b.chal()), R::term, b.line(b.chal()), "invalid", "replayed_nonce", "the challenge replayed to the terminal",
        {"Replay"});
  b.add("end", R::term, b.line(b.succ()), "invalid", "replayed_nonce", "the success response replayed to the terminal",
        {"Replay"});
  if (b.proxied())
    b.add("s8", R::proxy, b.line("s7"), "invalid", "replayed_nonce", "the re-registration replayed to the proxy", {"Replay"});
  b.add("end", R::sw, b.line(b.sw_ans()), "invalid", "reused_challenge",
        "the answer replayed to the switch after success: a second use of Rand", {"ReusedChallenge"});
  b.add("end", R::auc, b.line(b.rep()), "invalid", "reused_challenge", "the success report replayed to the AuC",
        {"ReusedChallenge"});

  const auto s = b.sw_ans();
  b.add(s, R::sw, b.line(s), "invalid", "expired_challenge", "the answer arrives 61 s after the challenge (lifetime 60 s)",
        {"ExpiredChallenge"}, Overrides{.now = now + 61});
  b.add(s, R::sw, b.line(s), "valid", "", "the answer arrives exactly 60 s after the challenge", {"EdgeTimestamp"},
        Overrides{.now = now + 60});
}

void exchange_cases(Builder& b) {
  const auto& sd = b.setup();
  const std::string other_suite = b.suite().name == "KD-SM4GCM-SM3" ? "KD-AES128GCM-SHA256" : "KD-SM4GCM-SM3";
  M r = b.msg(b.reg());
  r.suite = "KD-NULL-NONE";
  b.bad(b.reg(), r, "unknown_suite", "an unknown suite in the registration request", {"UnknownSuite"});
  M c = b.msg(b.chal());
  c.suite = other_suite;
  b.bad(b.chal(), c, "suite_mismatch", "the challenge names another suite than the registration", {"SuiteMismatch"});
  r = b.msg(b.reg());
  if (b.proxied()) r.IDsp = "sbc9";
  else r.IDss = "ss9";
  b.bad(b.reg(), r, "identity_mismatch", "the request is addressed to another proxy or switch", {"IdentityMismatch"});
  M q = b.msg(b.req());
  q.IDc = "mallory";
  b.bad(b.req(), q, "unknown_identity", "the AuC is asked for a terminal it does not know", {"UnknownIdentity"});
  q = b.msg(b.req());
  if (b.proxied()) q.IDsp = sd.sw;
  else q.IDss = sd.proxy;
  b.bad(b.req(), q, "unknown_identity", "the peer identity names an entity of another role", {"UnknownIdentity"});
  c = b.msg(b.chal());
  c.IDc = "bob";
  b.bad(b.chal(), c, "unexpected_message", "a challenge for a terminal that has not registered", {"UnexpectedMessage"});
  b.add(b.chal(), b.edge(), b.line(b.chal()), "invalid", "wrong_recipient", "the challenge delivered to the proxy or switch",
        {"WrongRecipient"});
  c = b.msg(b.chal());
  c.N1 = flip(*c.N1, 3);
  b.bad(b.chal(), c, "nonce_mismatch", "the challenge echoes another N1", {"NonceMismatch"});
  M a = b.msg(b.ans());
  a.N2 = flip(*a.N2, 3);
  b.bad(b.ans(), a, "nonce_mismatch", "the answer echoes another N2", {"NonceMismatch"});
  a = b.msg(b.ans());
  a.Rand = flip(*a.Rand, 3);
  b.bad(b.ans(), a, "unknown_challenge", "the answer names another Rand", {"UnknownChallenge"});
  M s = b.msg(b.succ());
  s.N1 = flip(*s.N1, 3);
  b.bad(b.succ(), b.remac(s), "nonce_mismatch", "the success response echoes another N1 (MAC recomputed)",
        {"NonceMismatch"});
  b.add(b.chal(), R::term, b.line(b.succ()), "invalid", "unexpected_message",
        "the success response before the terminal has answered", {"UnexpectedMessage"});
  if (b.proxied()) {
    b.add("s7", R::proxy, b.line("s9"), "invalid", "unexpected_message", "s9 before the terminal has answered",
          {"UnexpectedMessage"});
    M f = b.msg("s5");
    f.suite = other_suite;
    b.bad("s5", f, "suite_mismatch", "the switch's failure response names another suite", {"SuiteMismatch"});
    M e = b.msg("s8");
    e.Rand = flip(*e.Rand, 0);
    b.bad("s8", e, "unknown_challenge", "the forwarded answer names a Rand the switch never issued", {"UnknownChallenge"});
  }
}

// Encoding errors of the JSON binding, on the flow's first message and its answer.
void json_cases(Builder& b) {
  const auto reg = b.reg();
  const std::string line = b.line(reg);
  auto replace = [&](std::string s, const std::string& from, const std::string& to) {
    auto at = s.find(from);
    if (at == std::string::npos) throw std::logic_error("no " + from + " in " + s);
    return s.replace(at, from.size(), to);
  };
  const std::string ts = std::string("\"TS1\":") + std::to_string(kNow);
  const M m = b.msg(reg);
  const std::string n1 = to_hex(*m.N1);
  struct Raw {
    std::string text, code, comment, flag;
  };
  std::string upper = n1;
  for (auto& ch : upper) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  const std::vector<Raw> raws = {
      {line.substr(0, line.size() / 2), "malformed", "the line cut in half", "MalformedJson"},
      {"not json at all", "malformed", "not JSON", "MalformedJson"},
      {"[]", "malformed", "a JSON array, not an object", "MalformedJson"},
      {"{}", "missing_field", "an empty object", "MissingField"},
      {replace(line, "{", "{\"IDc\":\"alice\","), "malformed", "IDc twice", "DuplicateField"},
      {replace(line, "\"IPc\"", "\"Extra\":1,\"IPc\""), "malformed", "a field kd does not know", "UnexpectedField"},
      {replace(line, ts, std::string("\"TS1\":\"") + std::to_string(kNow) + "\""), "malformed", "TS1 as a string", "MalformedJson"},
      {replace(line, ts, "\"TS1\":-1"), "malformed", "TS1 negative", "MalformedJson"},
      {replace(line, ts, ts + ".5"), "malformed", "TS1 with a fraction", "MalformedJson"},
      {replace(line, n1, upper), "malformed", "N1 in uppercase hex", "BadHex"},
      {replace(line, n1, n1.substr(1)), "malformed", "N1 with an odd number of hex digits", "BadHex"},
      {replace(line, n1, std::string("zz") + n1.substr(2)), "malformed", "N1 with a non-hex digit", "BadHex"},
      {replace(line, n1, n1.substr(2)), "bad_length", "N1 of 15 bytes", "BadLength"},
      {replace(line, n1, n1 + "00"), "bad_length", "N1 of 17 bytes", "BadLength"},
      {replace(line, "\"IDc\":\"alice\"", "\"IDc\":\"\""), "bad_length", "IDc empty", "BadLength"},
      {replace(line, "\"IDc\":\"alice\"", std::string("\"IDc\":\"") + std::string(65, 'a') + "\""), "bad_length", "IDc of 65 characters", "BadLength"},
      {replace(line, "\"IDc\":\"alice\"", "\"IDc\":\"al ice\""), "malformed", "IDc with a space", "MalformedJson"},
      {replace(line, "\"IPc\":\"", std::string("\"IPc\":\"") + std::string(70000, '1')), "oversized", "a line of over 65536 bytes", "Oversized"},
      {replace(line, "\"step\":\"" + reg + "\"", "\"step\":\"s12\""), "unknown_step", "a step kd does not have", "MalformedJson"},
      {replace(line, "\"flow\":\"" + std::string(msg::flow_name(b.setup().flow)) + "\"",
               std::string("\"flow\":\"") + (b.proxied() ? "direct" : "proxied") + "\""),
       "unknown_step", "the step of the other flow", "MalformedJson"},
      {replace(line, "\"to\":\"" + std::string(msg::role_name(b.edge())) + "\"", "\"to\":\"auc\""), "malformed",
       "\"to\" disagrees with the step", "MalformedJson"},
  };
  for (const auto& r : raws) b.bad_raw(reg, r.text, r.code, r.comment, {r.flag});
  M x = m;
  x.N1.reset();
  b.bad(reg, x, "missing_field", "N1 missing", {"MissingField"});

  const auto ans = b.ans();
  M a = b.msg(ans);
  M y = a;
  y.SecMechList = msg::MechList{};
  b.bad(ans, y, "bad_length", "an empty SecMechList", {"BadLength"});
  y = a;
  y.SecMechList = msg::MechList{};
  for (int i = 0; i < 17; ++i) y.SecMechList->push_back({std::string("m") + std::to_string(i), 500});
  b.bad(ans, y, "bad_length", "17 mechanisms", {"BadLength"});
  y = a;
  y.SecMechList->push_back((*a.SecMechList)[0]);
  b.bad(ans, y, "malformed", "a mechanism listed twice", {"DuplicateField"});
  y = a;
  (*y.SecMechList)[0].q = 1001;
  b.bad(ans, y, "bad_length", "q of 1001", {"BadLength"});
  y = a;
  (*y.SecMechList)[0].name = "TLS";
  b.bad(ans, y, "malformed", "a mechanism name in uppercase", {"MalformedJson"});
  M c = b.msg(b.chal());
  c.SecMechReq = false;
  b.bad(b.chal(), c, "malformed", "SecMechReq false", {"MalformedJson"});
  c = b.msg(b.chal());
  c.Rand->push_back(0);
  b.bad(b.chal(), c, "bad_length", "Rand of 17 bytes", {"BadLength"});
}

// Integers written beyond 2^64-1 are integers above their range (bad_length), not malformed: catches
// a parser that turns them into floating-point numbers and calls them fractions.
void json_number_cases(Builder& b) {
  auto widen = [](std::string line, const std::string& key, const std::string& digits) {
    const auto at = line.find("\"" + key + "\":");
    if (at == std::string::npos) throw std::logic_error("no " + key + " in " + line);
    const auto from = at + key.size() + 3, to = line.find_first_not_of("0123456789", from);
    return line.replace(from, to - from, digits);
  };
  b.bad_raw(b.reg(), widen(b.line(b.reg()), "TS1", "18446744073709551616"), "bad_length",
            "TS1 of 2^64, an integer beyond 64 bits", {"BadLength"});
  b.bad_raw(b.ans(), widen(b.line(b.ans()), "q", "18446744073709551617"), "bad_length",
            "a q of 2^64 + 1, an integer beyond 64 bits", {"BadLength"});
}

}  // namespace

flow::Keystore seeded_keys(const Setup& s) {
  flow::Keystore ks;
  for (auto [id, role] : {std::pair{s.term, R::term}, std::pair{s.proxy, R::proxy}, std::pair{s.sw, R::sw}}) {
    crypto::SeededRandom rng(s.seed, "keystore", id, to_bytes(msg::role_name(role)));
    ks.entities.emplace(id, flow::Entity{id, role, rng.draw_secret(Purpose::long_term_key, 32)});
  }
  return ks;
}

Positive make_positive(const std::string& suite, msg::Flow flow) {
  Positive p;
  p.setup = base_setup(suite, flow);
  InProcessDriver d;
  Run run = run_registration(p.setup, d);
  if (!run.errors.empty()) throw std::logic_error("positive run failed: " + run.errors.front());
  p.records = run.records;
  p.session_key = run.term_key;
  return p;
}

Negative make_negative(const std::string& suite_name) {
  Negative n;
  n.notes = {
      {"ModifiedAuthenticator", {"AUTH_BYPASS", "Authenticator_c altered in transit. A switch that accepts it authenticates an impostor."}},
      {"WrongRand", {"AUTH_BYPASS", "A verification word computed for another challenge. Catches a switch that does not bind the answer to its Rand."}},
      {"BruteForce", {"AUTH_BYPASS", "Wrong verification words beyond --max-attempts. Catches a missing or resettable attempts limit."}},
      {"ProxyCannotCheck", {"FUNCTIONAL", "The proxy holds no key to check Authenticator_c and must forward it unchanged."}},
      {"ModifiedSeal", {"KEY_INTEGRITY", "A bit of a sealed key (nonce, ciphertext or tag) flipped. Catches an AEAD whose tag is not checked."}},
      {"SwappedSeal", {"KEY_CONFUSION", "A sealed key in the place of another. Catches keys not bound to their recipient."}},
      {"WrongBinding", {"KEY_CONFUSION", "Sealed under the right key but with other associated data (identity, Rand, role, flow). Catches associated data not checked or not bound."}},
      {"ModifiedMac", {"INTEGRITY", "A field or the MAC of the success response altered. Catches a MAC not checked, or not covering every field."}},
      {"WrongMacKey", {"AUTH_BYPASS", "A MAC under a key that is not the session key. Catches a terminal that does not authenticate the proxy (or, in the direct flow, the switch)."}},
      {"Downgrade", {"DOWNGRADE", "The mechanism list or the chosen mechanism altered. Catches a terminal that does not compare the echoed list with its own."}},
      {"ForbiddenMechanism", {"DOWNGRADE", "Only null, none or unsupported mechanisms offered, or null chosen. Catches a chooser that picks, or a terminal that accepts, a forbidden mechanism."}},
      {"LowerPriorityChoice", {"FUNCTIONAL", "A mechanism the terminal offered with lower priority. Acceptable: the chooser picks among what it supports."}},
      {"Replay", {"REPLAY", "A message delivered a second time. Catches a missing replay cache."}},
      {"ReusedChallenge", {"REPLAY", "A challenge answered or reported a second time. Catches a Rand that is not single-use."}},
      {"ExpiredChallenge", {"REPLAY", "An answer after the challenge's lifetime. Catches a challenge that never expires."}},
      {"EdgeTimestamp", {"FUNCTIONAL", "A timestamp or time exactly at the window's edge, which is accepted. Catches off-by-one windows."}},
      {"StaleTimestamp", {"REPLAY", "A timestamp older than the window. Catches a missing freshness check."}},
      {"FutureTimestamp", {"REPLAY", "A timestamp further ahead than the window. Catches pre-play with a future time."}},
      {"UnknownSuite", {"INPUT", "A suite kd does not define."}},
      {"SuiteMismatch", {"DOWNGRADE", "A message naming another suite than its exchange. Catches suite switching mid-exchange."}},
      {"IdentityMismatch", {"MISROUTING", "A message for another proxy or switch."}},
      {"UnknownIdentity", {"AUTH_BYPASS", "An identity missing from the keystore, or of another role. Catches an AuC that issues keys for anyone."}},
      {"UnexpectedMessage", {"MISSING_STEP", "A message out of order. Catches a state machine that skips a step."}},
      {"WrongRecipient", {"MISROUTING", "A message delivered to a role it is not addressed to."}},
      {"NonceMismatch", {"REPLAY", "An echoed nonce that is not the one sent. Catches responses not bound to their request."}},
      {"UnknownChallenge", {"AUTH_BYPASS", "An answer naming a Rand that was not issued."}},
      {"TruncatedField", {"INPUT", "A fixed-size field one or more bytes short."}},
      {"ExtendedField", {"INPUT", "A fixed-size field one byte too long."}},
      {"BadLength", {"INPUT", "A field of the wrong size or out of range."}},
      {"MalformedJson", {"INPUT", "Not JSON, wrong JSON types, or an inconsistent envelope."}},
      {"BadHex", {"INPUT", "A byte string that is not lowercase hex of even length."}},
      {"DuplicateField", {"INPUT", "A key or a mechanism given twice. Catches parsers that keep one silently."}},
      {"UnexpectedField", {"INPUT", "A field the step does not carry, which the MAC would not cover."}},
      {"MissingField", {"INPUT", "A field the step requires is absent."}},
      {"Oversized", {"INPUT", "A line over the 65536-byte limit. Catches unbounded reads."}},
  };
  const crypto::Suite* suite_p = crypto::find_suite(suite_name);
  if (!suite_p) throw std::logic_error("unknown suite " + suite_name);
  const auto& suite = *suite_p;
  {
    for (auto flow : {msg::Flow::proxied, msg::Flow::direct}) {
      int next = flow == msg::Flow::proxied ? 1 : 1001;
      Group g;
      g.setup = base_setup(std::string(suite.name), flow);
      Builder b(g, next);
      authenticator_cases(b);
      seal_cases(b);
      mac_cases(b);
      mechanism_cases(b);
      freshness_cases(b);
      exchange_cases(b);
      if (suite.code == crypto::default_suite().code) {
        json_cases(b);
        json_number_cases(b);
      }
      n.groups.push_back(std::move(g));
    }
  }
  return n;
}

// ---- wire bindings ----------------------------------------------------------------------------

Positive make_wire_positive(const std::string& suite, msg::Flow flow, const std::string& binding) {
  Positive p = make_positive(suite, flow);
  p.setup.binding = binding;
  p.setup.radius_secret = kRadiusSecret;
  std::map<std::string, std::pair<std::string, Bytes>> sent;  // by step: binding and wire
  for (auto& r : p.records) {
    if (!r.to) continue;
    auto m = json::decode_message(r.line);
    if (!m) throw std::logic_error("positive run gave an undecodable line: " + r.line);
    // Encoded after the message it answers or forwards, as the tools do (kd-protocol(7), SIP).
    ByteView previous;
    if (const auto* ps = msg::previous_step(msg::spec_of(*m)))
      if (auto it = sent.find(std::string(ps->name));
          it != sent.end() && it->second.first == binding_of_step(p.setup, msg::spec_of(*m)))
        previous = it->second.second;
    auto bytes = encode_wire(p.setup, *m, &r.wire_binding, previous);
    if (!bytes) throw std::logic_error(r.step + " does not encode in " + binding + ": " + bytes.error().detail);
    r.wire = std::move(*bytes);
    sent[r.step] = {r.wire_binding, r.wire};
  }
  p.pcap = suite + "-" + std::string(msg::flow_name(flow)) + "-" + binding + ".pcap";
  return p;
}

Status write_pcap(const Positive& v, const std::string& path) {
  ::unlink(path.c_str());  // the writer appends
  auto w = capture::Writer::open(path, capture::Resolution::micro);
  if (!w) return w.error();
  auto addr = [](msg::Role r) -> std::string {
    switch (r) {
      case R::term: return "192.0.2.10";
      case R::proxy: return "192.0.2.20";
      case R::sw: return "192.0.2.30";
      case R::auc: return "192.0.2.40";
    }
    return {};
  };
  std::uint64_t n = 0;
  for (const auto& r : v.records) {
    if (!r.to) continue;
    const msg::StepSpec* spec = msg::find_step(r.step);
    auto b = wire::parse_binding(r.wire_binding);
    if (!spec || !b) return err(Code::malformed, "record " + r.step + " has no wire binding");
    auto c = wire::make_codec(*b, {v.setup.radius_secret});
    if (!c) return err(Code::malformed, "no codec for " + r.wire_binding);
    capture::Packet p;
    p.src_ip = addr(spec->from);
    p.dst_ip = addr(spec->to);
    std::tie(p.src_port, p.dst_port) = c->ports(*spec);
    // Frame n (from 0) at now + n ms.
    p.ts_sec = static_cast<std::int64_t>(v.setup.now + n / 1000);
    p.ts_nsec = static_cast<std::uint32_t>((n % 1000) * 1000000);
    p.payload = r.wire;
    if (auto st = w->write(p); !st) return st.error();
    ++n;
  }
  return Ok{};
}

namespace {

// The first byte-string KD value a message holds, in this order (every step has one).
std::optional<std::pair<msg::Field, Bytes>> kd_value(const M& m) {
  std::optional<std::pair<msg::Field, Bytes>> out;
  for (msg::Field want : {msg::Field::N1, msg::Field::N2, msg::Field::Rand, msg::Field::Authenticator_c,
                          msg::Field::EKc, msg::Field::EKsp, msg::Field::EKss, msg::Field::MAC}) {
    msg::for_each_field(m, [&](msg::Field f, const auto& opt) {
      if constexpr (std::is_same_v<std::decay_t<decltype(opt)>, std::optional<Bytes>>)
        if (!out && f == want && opt) out = std::pair{f, *opt};
    });
    if (out) break;
  }
  return out;
}

std::string text_of(const Bytes& b) { return std::string(b.begin(), b.end()); }
Bytes bytes_of(const std::string& s) { return to_bytes(s); }

class WireBuilder {
public:
  WireBuilder(Group& g, int& next, const std::string& binding) : g_(g), next_(next), binding_(binding) {}

  void add(const std::string& step, const std::string& codec, Bytes wire, const std::string& error,
           const std::string& comment, const std::string& flag) {
    Case c;
    c.tc_id = next_++;
    c.comment = step + ": " + comment;
    c.flags = {flag};
    c.before = step;
    c.step = step;
    c.wire_binding = codec;
    c.wire = std::move(wire);
    c.input = {msg::find_step(step)->to, json::encode_wire_line(codec, *msg::find_step(step), c.wire)};
    c.result = "invalid";
    c.error = error;
    g_.tests.push_back(std::move(c));
  }

private:
  Group& g_;
  int& next_;
  std::string binding_;
};

// A text message with the span [at, at + n) replaced.
std::string splice(std::string s, std::size_t at, std::size_t n, const std::string& with) {
  return s.replace(at, n, with);
}

// The parameter holding a KD value in a text binding: [start, end) around the hex at `at`.
// MGCP and H.248 (one parameter a line): the whole line with its line end; SIP: back to the
// previous delimiter.
std::pair<std::size_t, std::size_t> param_span(const std::string& binding, const std::string& t, std::size_t at,
                                               std::size_t n) {
  if (binding == "mgcp" || binding == "h248") {
    std::size_t start = t.rfind('\n', at);
    start = start == std::string::npos ? 0 : start + 1;
    std::size_t end = t.find('\n', at);
    return {start, end == std::string::npos ? t.size() : end + 1};
  }
  std::size_t end = at + n;
  if (end < t.size() && t[end] == '"') ++end;
  std::size_t start = at;
  while (start > 0 && t[start - 1] != ',' && t[start - 1] != ' ' && t[start - 1] != '{' && t[start - 1] != '\n' &&
         t[start - 1] != '\t')
    --start;
  return {start, end};
}

// Malformed encodings of a text binding (SIP, MGCP, H.248 text) built from message m of step.
void text_cases(WireBuilder& b, const std::string& binding, const std::string& step, const Bytes& wire, const M& m,
                bool full) {
  const std::string t = text_of(wire);
  const std::size_t len = t.size();
  b.add(step, binding, bytes_of(t.substr(0, len / 2)), "malformed", "the message cut in half (" + std::to_string(len / 2) + " of " + std::to_string(len) + " bytes)", "Truncated");
  if (!full) return;
  b.add(step, binding, bytes_of(t.substr(0, len / 4)), "malformed", "the message cut after a quarter", "Truncated");
  b.add(step, binding, bytes_of(t.substr(0, len * 3 / 4)), "malformed", "the message cut after three quarters", "Truncated");
  auto kv = kd_value(m);
  if (!kv) throw std::logic_error(step + " holds no byte-string KD value");
  const std::string name(msg::field_name(kv->first));
  const std::string hex = to_hex(kv->second);
  const std::size_t at = t.find(hex);
  if (at == std::string::npos) throw std::logic_error(step + ": " + name + " is not in the " + binding + " text as hex");
  std::string upper = hex;
  for (auto& ch : upper) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  b.add(step, binding, bytes_of(splice(t, at, 1, "z")), "malformed", name + " with a non-hex digit", "BadHex");
  b.add(step, binding, bytes_of(splice(t, at, hex.size(), upper)), "malformed", name + " in uppercase hex", "BadHex");
  b.add(step, binding, bytes_of(splice(t, at, 1, "")), "malformed", name + " with an odd number of hex digits", "BadHex");
  b.add(step, binding, bytes_of(splice(t, at, 2, "")), "bad_length", name + " one byte short", "BadLength");
  b.add(step, binding, bytes_of(splice(t, at + hex.size(), 0, "00")), "bad_length", name + " one byte long", "BadLength");
  auto [ps, pe] = param_span(binding, t, at, hex.size());
  const std::string param = t.substr(ps, pe - ps);
  std::string without;
  if (binding == "mgcp" || binding == "h248") {
    without = splice(t, ps, pe - ps, "");
  } else if (pe < len && t[pe] == ',') {
    without = splice(t, ps, pe + 1 - ps, "");
  } else {
    std::size_t cs = ps;
    while (cs > 0 && (t[cs - 1] == ' ' || t[cs - 1] == '\t')) --cs;
    if (cs > 0 && t[cs - 1] == ',') --cs;
    without = splice(t, cs, pe - cs, "");
  }
  b.add(step, binding, bytes_of(without), "missing_field", "the parameter holding " + name + " left out", "MissingParameter");
  const std::string twice = binding == "sip" ? splice(t, pe, 0, ", " + param) : splice(t, pe, 0, param);
  b.add(step, binding, bytes_of(twice), "malformed", "the parameter holding " + name + " given twice", "DuplicateParameter");
}

void envelope_cases(WireBuilder& b, const std::string& binding, const std::string& step, const Bytes& wire) {
  Bytes big = wire;
  big.resize(70000, binding == "h323" ? 0x00 : 'a');
  b.add(step, binding, big, "oversized", "the message padded to 70000 bytes", "Oversized");
  Bytes garbage{0x7c};
  for (int i = 0; i < 63; ++i) garbage.push_back(static_cast<std::uint8_t>(0xa5 ^ i));
  b.add(step, binding, garbage, "malformed", "64 bytes of garbage", "Garbage");
  const std::string t = text_of(wire);
  auto swap_first = [&](const std::string& from, const std::string& to) {
    const std::size_t at = t.find(from);
    if (at == std::string::npos || at > 200) throw std::logic_error(step + ": no " + from + " in the first line");
    return bytes_of(splice(t, at, from.size(), to));
  };
  if (binding == "sip") {
    b.add(step, binding, swap_first("SIP/2.0", "SIP/3.0"), "malformed", "SIP/3.0 on the request line", "WrongVersion");
    std::string options = t;
    for (std::size_t at; (at = options.find("REGISTER")) != std::string::npos;) options.replace(at, 8, "OPTIONS");
    b.add(step, binding, bytes_of(options), "unknown_step", "an OPTIONS request (request line and CSeq), not REGISTER", "UnknownVerb");
  } else if (binding == "mgcp") {
    b.add(step, binding, swap_first("MGCP 1.0", "MGCP one"), "malformed", "MGCP version \"one\" on the command line", "WrongVersion");
    b.add(step, binding, swap_first("MGCP 1.0", "MGCQ 1.0"), "malformed", "MGCQ in the place of MGCP on the command line", "WrongVersion");
    b.add(step, binding, swap_first("RSIP ", "AUEP "), "unknown_step", "an AUEP command, not RSIP", "UnknownVerb");
  } else if (binding == "h248") {
    b.add(step, binding, swap_first("MEGACO/", "MEGAKO/"), "malformed", "MEGAKO/ in the place of MEGACO/", "WrongVersion");
    const std::size_t sc = t.find("ServiceChange = ROOT");
    if (sc == std::string::npos) throw std::logic_error(step + ": no ServiceChange");
    b.add(step, binding, bytes_of(splice(t, sc, 13, "AuditValue")), "unknown_step", "an AuditValue command, not ServiceChange", "UnknownVerb");
    const std::size_t rm = t.find("Method = Restart");
    if (rm == std::string::npos) throw std::logic_error(step + ": no Method = Restart");
    b.add(step, binding, bytes_of(splice(t, rm + 9, 7, "Forced")), "unknown_step", "a ServiceChange with Method Forced, not Restart", "UnknownVerb");
  } else if (binding == "h323") {
    Bytes x = wire;
    x[0] = static_cast<std::uint8_t>((x[0] & 0x83) | (5u << 2));  // RasMessage alternative 5: registrationReject
    b.add(step, binding, x, "unknown_step", "the RasMessage alternative changed to registrationReject", "UnknownVerb");
    Bytes oid(std::begin(wire::h323::kProtocolOid), std::end(wire::h323::kProtocolOid));
    auto it = std::search(wire.begin(), wire.end(), oid.begin(), oid.end());
    if (it == wire.end()) throw std::logic_error("no protocolIdentifier in " + step);
    x = wire;
    x[static_cast<std::size_t>(it - wire.begin()) + 3] ^= 0x01;  // 0.0.8.2251.0.4
    b.add(step, binding, x, "malformed", "protocolIdentifier 0.0.8.2251.0.4, not H.225.0", "WrongVersion");
  }
}

// The KD data of an H.323 message is its canonical encoding inside an OCTET STRING; these cases
// change one TLV and rewrite the PER length in front of the data.
void h323_cases(WireBuilder& b, const std::string& step, const Bytes& wire, const M& m, bool full) {
  const std::size_t len = wire.size();
  b.add(step, "h323", Bytes(wire.begin(), wire.begin() + static_cast<std::ptrdiff_t>(len / 2)), "malformed",
        "the message cut in half", "Truncated");
  if (!full) return;
  b.add(step, "h323", Bytes(wire.begin(), wire.end() - 1), "malformed", "the last octet missing", "Truncated");
  b.add(step, "h323", Bytes(wire.begin(), wire.begin() + 3), "malformed", "only the first three octets", "Truncated");
  const Bytes kd = msg::canonical(m);
  auto it = std::search(wire.begin(), wire.end(), kd.begin(), kd.end());
  if (it == wire.end()) throw std::logic_error(step + ": the KD data is not in the RAS message");
  const std::size_t at = static_cast<std::size_t>(it - wire.begin());
  const std::size_t lenlen = kd.size() < 128 ? 1 : 2;
  auto with_data = [&](const Bytes& data) {
    if ((data.size() < 128 ? 1u : 2u) != lenlen) throw std::logic_error("the KD data changed its length form");
    Bytes x(wire.begin(), wire.begin() + static_cast<std::ptrdiff_t>(at - lenlen));
    if (lenlen == 1) x.push_back(static_cast<std::uint8_t>(data.size()));
    else {
      x.push_back(static_cast<std::uint8_t>(0x80 | (data.size() >> 8)));
      x.push_back(static_cast<std::uint8_t>(data.size() & 0xff));
    }
    x.insert(x.end(), data.begin(), data.end());
    x.insert(x.end(), wire.begin() + static_cast<std::ptrdiff_t>(at + kd.size()), wire.end());
    return x;
  };
  auto kv = kd_value(m);
  const auto tag = static_cast<std::uint8_t>(kv->first);
  const std::string name(msg::field_name(kv->first));
  // Locate the TLV of the value.
  std::size_t i = 5, tlv = 0, tlv_len = 0;
  while (i + 3 <= kd.size()) {
    const std::size_t l = static_cast<std::size_t>(kd[i + 1] << 8 | kd[i + 2]);
    if (kd[i] == tag) {
      tlv = i;
      tlv_len = 3 + l;
      break;
    }
    i += 3 + l;
  }
  if (!tlv_len) throw std::logic_error(step + ": no TLV for " + name);
  const Bytes head(kd.begin(), kd.begin() + static_cast<std::ptrdiff_t>(tlv));
  const Bytes field(kd.begin() + static_cast<std::ptrdiff_t>(tlv), kd.begin() + static_cast<std::ptrdiff_t>(tlv + tlv_len));
  const Bytes tail(kd.begin() + static_cast<std::ptrdiff_t>(tlv + tlv_len), kd.end());
  auto join = [](std::initializer_list<Bytes> parts) {
    Bytes out;
    for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
    return out;
  };
  Bytes shorter = field;
  shorter.pop_back();
  shorter[2] = static_cast<std::uint8_t>(shorter[2] - 1);
  b.add(step, "h323", with_data(join({head, shorter, tail})), "bad_length", name + " one octet short", "BadLength");
  Bytes longer = field;
  longer.push_back(0);
  longer[2] = static_cast<std::uint8_t>(longer[2] + 1);
  b.add(step, "h323", with_data(join({head, longer, tail})), "bad_length", name + " one octet long", "BadLength");
  b.add(step, "h323", with_data(join({head, tail})), "missing_field", name + " left out of the KD data", "MissingParameter");
  b.add(step, "h323", with_data(join({head, field, field, tail})), "malformed", name + " given twice", "DuplicateParameter");
  Bytes overrun = field;
  overrun[1] = 0x7f;
  b.add(step, "h323", with_data(join({head, overrun, tail})), "malformed",
        name + " claiming more octets than the KD data holds", "BadLengthField");
  Bytes magic = kd;
  magic[2] = '2';
  b.add(step, "h323", with_data(magic), "malformed", "KD data starting with \"KD2\"", "WrongVersion");
}

// RADIUS: the attribute at which the Message-Authenticator's value starts, or 0.
std::size_t message_authenticator(const Bytes& p) {
  std::size_t i = 20;
  while (i + 2 <= p.size()) {
    if (p[i] == wire::radius::message_authenticator) return i + 2;
    if (p[i + 1] < 2) return 0;
    i += p[i + 1];
  }
  return 0;
}

void radius_cases(WireBuilder& b, const std::string& step, const Bytes& wire, bool full) {
  const std::size_t len = wire.size();
  auto with_length = [&](std::size_t l) {
    Bytes x = wire;
    x[2] = static_cast<std::uint8_t>(l >> 8);
    x[3] = static_cast<std::uint8_t>(l & 0xff);
    return x;
  };
  b.add(step, "radius", Bytes(wire.begin(), wire.begin() + static_cast<std::ptrdiff_t>(len / 2)), "malformed",
        "the packet cut in half (shorter than its Length)", "Truncated");
  b.add(step, "radius", with_length(len + 1), "malformed", "Length one more than the packet's octets", "BadLengthField");
  b.add(step, "radius", with_length(19), "malformed", "Length 19, below the minimum of 20", "BadLengthField");
  const std::size_t ma = message_authenticator(wire);
  if (!ma) throw std::logic_error(step + ": no Message-Authenticator");
  Bytes x = wire;
  x[ma] ^= 0x01;
  b.add(step, "radius", x, "bad_mac", "a bit of the Message-Authenticator flipped", "BadMac");
  if (!full) return;
  x = wire;
  x[len - 1] ^= 0x01;
  b.add(step, "radius", x, "bad_mac", "a bit of the last attribute flipped, Message-Authenticator left as it was", "BadMac");
  b.add(step, "radius", Bytes(wire.begin(), wire.begin() + 10), "malformed", "10 octets, shorter than a header", "Truncated");
  Bytes big = wire;
  big.resize(5000, 0);
  big[2] = static_cast<std::uint8_t>(5000 >> 8);
  big[3] = static_cast<std::uint8_t>(5000 & 0xff);
  b.add(step, "radius", big, "oversized", "a packet of 5000 octets (Length 5000), over RADIUS's 4096", "Oversized");
  x = wire;
  x[0] = 40;  // Disconnect-Request (RFC 5176)
  b.add(step, "radius", x, "unknown_step", "packet code 40 (Disconnect-Request)", "UnknownVerb");
  x = wire;
  x.push_back(0x01);  // an attribute header cut short inside the Length
  x.push_back(0x09);
  x[2] = static_cast<std::uint8_t>(x.size() >> 8);
  x[3] = static_cast<std::uint8_t>(x.size() & 0xff);
  b.add(step, "radius", x, "malformed", "a last attribute whose length overruns the packet", "BadLengthField");
}

}  // namespace

Negative make_wire_negative(const std::string& binding) {
  Negative n;
  n.notes = {
      {"Truncated", {"INPUT", "The message cut short. Catches decoders that read past the end or accept a partial message."}},
      {"BadHex", {"INPUT", "A KD value that is not lowercase hex of even length."}},
      {"BadLength", {"INPUT", "A KD value of the wrong size."}},
      {"MissingParameter", {"INPUT", "A KD value the step needs is absent."}},
      {"DuplicateParameter", {"INPUT", "A KD value given twice. Catches decoders that keep one silently."}},
      {"Oversized", {"INPUT", "A message over the binding's size limit (64 KiB; RADIUS 4096 octets). Catches unbounded reads."}},
      {"Garbage", {"INPUT", "Bytes that are no message of the protocol."}},
      {"WrongVersion", {"INPUT", "Another protocol version or identifier."}},
      {"UnknownVerb", {"INPUT", "A message of the protocol that is no step of kd's flows (another method, verb, RAS message or packet code)."}},
      {"BadMac", {"INTEGRITY", "A RADIUS packet whose Message-Authenticator does not verify under the shared secret."}},
      {"BadLengthField", {"INPUT", "A length field that disagrees with the octets present."}},
  };
  const std::string suite(crypto::default_suite().name);
  for (auto flow : {msg::Flow::proxied, msg::Flow::direct}) {
    int next = flow == msg::Flow::proxied ? 1 : 1001;
    Group g;
    g.setup = base_setup(suite, flow);
    InProcessDriver d;
    Run run = run_registration(g.setup, d);
    if (!run.errors.empty()) throw std::logic_error("wire negative run failed: " + run.errors.front());
    g.setup.binding = binding == "radius" ? "sip" : binding;
    g.setup.radius_secret = kRadiusSecret;
    WireBuilder b(g, next, binding);
    const std::string reg = flow == msg::Flow::proxied ? "s1" : "d1";
    for (const auto& r : run.records) {
      if (!r.to) continue;
      const M m = *json::decode_message(r.line);
      std::string used;
      auto wire = encode_wire(g.setup, m, &used);
      if (!wire) throw std::logic_error(r.step + ": " + wire.error().detail);
      if (used != binding) continue;
      const bool full = r.step == reg || r.step == "s7" || r.step == "d5" || r.step == "s10" || r.step == "d6" ||
                        r.step == "s3" || r.step == "d2";
      if (binding == "radius") {
        radius_cases(b, r.step, *wire, full);
        continue;
      }
      if (binding == "h323") h323_cases(b, r.step, *wire, m, full);
      else text_cases(b, binding, r.step, *wire, m, full);
      if (r.step == reg) envelope_cases(b, binding, r.step, *wire);
    }
    n.groups.push_back(std::move(g));
  }
  return n;
}

}  // namespace kd::vectors
