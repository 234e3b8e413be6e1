// Negative cases of what the keys protect: the terminal's verification word, the sealed session
// keys, the MAC of the success response and the mechanism list under it.
#include "vectors/internal.hpp"

namespace kd::vectors::cases {

void authenticator_cases(CaseBuilder& b) {
  const auto s = b.switch_answer_step();
  M m = b.message(s);
  M x = m;
  x.Authenticator_c = flip(*m.Authenticator_c, 0);
  b.add(s, R::sw, CaseBuilder::encode(x), "invalid", "bad_authenticator",
        "Authenticator_c with one bit flipped: a fresh challenge is requested and the failure counted",
        {"ModifiedAuthenticator"}, {}, {}, true);
  b.add(s, R::sw, CaseBuilder::encode(x), "invalid", "too_many_attempts",
        "Authenticator_c with one bit flipped, --max-attempts 1: the terminal is locked out",
        {"ModifiedAuthenticator", "BruteForce"}, Overrides{.max_attempts = 1}, {}, true);
  x = m;
  Bytes other_rand(msg::kRandLen, 0x5a);
  x.Authenticator_c = crypto::authenticator(b.suite(), b.key_of(b.setup().term).view(), other_rand, b.setup().term);
  b.add(s, R::sw, CaseBuilder::encode(x), "invalid", "bad_authenticator",
        "the verification word of another Rand under the right key", {"WrongRand"}, {}, {}, true);
  x = m;
  x.Authenticator_c->pop_back();
  b.invalid(s, x, "bad_length", "Authenticator_c one byte short", {"TruncatedField"});
  x = m;
  x.Authenticator_c->push_back(0);
  b.invalid(s, x, "bad_length", "Authenticator_c one byte long", {"ExtendedField"});
  if (b.proxied()) {
    M a = b.message("s7");
    a.Authenticator_c = flip(*a.Authenticator_c, 0);
    b.accepted("s7", a, "the proxy forwards an Authenticator_c it cannot check (the switch judges it)",
               {"ProxyCannotCheck"});
  }
}

void seal_cases(CaseBuilder& b) {
  const auto& sd = b.setup();
  const auto succ = b.success_step();
  M m = b.message(succ);
  const std::size_t n = crypto::kAeadNonceLen;
  struct Spot {
    std::size_t at;
    const char* where;
  };
  for (Spot sp : {Spot{0, "nonce"}, Spot{n, "ciphertext"}, Spot{m.EKc->size() - 1, "tag"}}) {
    M x = m;
    x.EKc = flip(*m.EKc, sp.at);
    b.invalid(succ, b.with_new_mac(x), "bad_seal", std::string("EKc with a bit flipped in its ") + sp.where + " (MAC recomputed)",
              {"ModifiedSeal"});
  }
  M x = m;
  x.EKc = flip(*m.EKc, n);
  b.invalid(succ, x, "bad_seal", "EKc with a bit flipped, MAC left as it was: the seal is checked before the MAC",
            {"ModifiedSeal"});
  x = m;
  x.EKc->pop_back();
  b.invalid(succ, b.with_new_mac(x), "bad_length", "EKc one byte short", {"TruncatedField"});
  x = m;
  x.EKc->push_back(0);
  b.invalid(succ, b.with_new_mac(x), "bad_length", "EKc one byte long", {"ExtendedField"});
  x = m;
  M v = b.message(b.auc_answer_step());
  x.EKc = b.proxied() ? *v.EKsp : *v.EKss;
  b.invalid(succ, b.with_new_mac(x), "bad_seal", "the peer's sealed key in the place of EKc", {"SwappedSeal"});

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
    b.invalid(succ, b.with_new_mac(x), "bad_seal",
              std::string("EKc sealed under Kc but bound to ") + bd.what + " (MAC recomputed)", {"WrongBinding"});
  }

  if (b.proxied()) {
    M s9 = b.message("s9");
    M y = s9;
    y.EKsp = flip(*s9.EKsp, n);
    b.invalid("s9", y, "bad_seal", "EKsp with a bit flipped in its ciphertext", {"ModifiedSeal"});
    y = s9;
    y.EKsp = flip(*s9.EKsp, s9.EKsp->size() - 1);
    b.invalid("s9", y, "bad_seal", "EKsp with a bit flipped in its tag", {"ModifiedSeal"});
    y = s9;
    y.EKsp = *s9.EKc;
    b.invalid("s9", y, "bad_seal", "EKc in the place of EKsp", {"SwappedSeal"});
    y = s9;
    y.EKsp->resize(y.EKsp->size() - 4);
    b.invalid("s9", y, "bad_length", "EKsp four bytes short", {"TruncatedField"});
    for (const Bind& bd : {
             Bind{{sd.flow, "mallory", sd.proxy, rand, R::proxy}, "another IDc"},
             Bind{{sd.flow, sd.term, sd.proxy, other_rand, R::proxy}, "another Rand"},
             Bind{{sd.flow, sd.term, sd.proxy, rand, R::term}, "the terminal's role"},
         }) {
      y = s9;
      y.EKsp = b.reseal(b.key_of(sd.proxy).view(), bd.bind);
      b.invalid("s9", y, "bad_seal", std::string("EKsp sealed under Ksp but bound to ") + bd.what, {"WrongBinding"});
    }
  } else {
    // EKss reaches the switch in d3 and is opened only once the terminal has answered.
    M d3 = b.message("d3");
    d3.EKss = flip(*d3.EKss, n);
    auto [extra, d5] = b.chain("d3", {R::sw, CaseBuilder::encode(d3)}, "d5");
    b.add("d3", R::sw, d5, "invalid", "bad_seal",
          "EKss with a bit flipped in d3 is found when the switch opens it on a correct d5", {"ModifiedSeal"},
          {}, extra);
  }
}

void mac_cases(CaseBuilder& b) {
  const auto succ = b.success_step();
  M m = b.message(succ);
  M x = m;
  x.MAC = flip(*m.MAC, 0);
  b.invalid(succ, x, "bad_mac", "MAC with one bit flipped", {"ModifiedMac"});
  x = m;
  x.MAC = Bytes(m.MAC->size(), 0);
  b.invalid(succ, x, "bad_mac", "MAC of all zero bytes", {"ModifiedMac"});
  x = m;
  x.MAC->pop_back();
  b.invalid(succ, x, "bad_length", "MAC one byte short", {"TruncatedField"});
  x = m;
  x.MAC->push_back(0);
  b.invalid(succ, x, "bad_length", "MAC one byte long", {"ExtendedField"});
  x = m;
  Bytes wrong(b.suite().key_len, 0x42);
  x.MAC = crypto::message_mac(b.suite(), wrong, x);
  b.invalid(succ, x, "bad_mac", "MAC computed under another key", {"WrongMacKey"});
  x = m;
  x.TS4 = *m.TS4 + 1;
  b.invalid(succ, x, "bad_mac", "TS4 changed after the MAC was computed", {"ModifiedMac"});
  x = m;
  x.SecMechList->pop_back();
  b.invalid(succ, x, "bad_mac", "the echoed SecMechList shortened, MAC left as it was", {"ModifiedMac"});
  x = m;
  x.SecMech = "ipsec-3gpp";
  b.invalid(succ, x, "bad_mac", "SecMech changed, MAC left as it was", {"ModifiedMac"});
}

void mechanism_cases(CaseBuilder& b) {
  const auto succ = b.success_step();
  M m = b.message(succ);
  M x = m;
  x.SecMechList->erase(x.SecMechList->begin());
  b.invalid(succ, b.with_new_mac(x), "mechanism_downgrade", "the echoed list lacks the terminal's first mechanism (MAC recomputed)",
            {"Downgrade"});
  x = m;
  (*x.SecMechList)[0].q = 100;
  b.invalid(succ, b.with_new_mac(x), "mechanism_downgrade", "the echoed list changes a priority (MAC recomputed)", {"Downgrade"});
  x = m;
  x.SecMech = "ipsec-ike";
  b.invalid(succ, b.with_new_mac(x), "mechanism_downgrade", "SecMech not offered by the terminal (MAC recomputed)", {"Downgrade"});
  x = m;
  x.SecMech = "null";
  b.invalid(succ, b.with_new_mac(x), "mechanism_downgrade", "SecMech null (MAC recomputed)", {"ForbiddenMechanism"});
  x = m;
  x.SecMech = "kd-app";
  b.accepted(succ, b.with_new_mac(x), "SecMech is the terminal's lowest-priority offer: allowed, the chooser may not support more",
             {"LowerPriorityChoice"}, {}, "acceptable");

  // The real attack: the list stripped on its way to the chooser, echoed faithfully under the MAC.
  M a = b.message(b.answer_step());
  a.SecMechList->erase(a.SecMechList->begin());
  auto [extra, s10] = b.chain(b.answer_step(), {b.edge_role(), CaseBuilder::encode(a)}, succ);
  b.add(b.answer_step(), R::term, s10, "invalid", "mechanism_downgrade",
        "tls stripped from the terminal's list in transit; the chooser echoes what it got", {"Downgrade"}, {},
        extra);

  const auto ans = b.answer_step();
  M y = b.message(ans);
  y.SecMechList = msg::MechList{{"null", 1000}, {"none", 500}};
  b.invalid(ans, y, "no_acceptable_mechanism", "a list holding only forbidden mechanisms", {"ForbiddenMechanism"});
  y.SecMechList = msg::MechList{{"tls", 0}, {"ipsec-3gpp", 0}};
  b.invalid(ans, y, "no_acceptable_mechanism", "every mechanism with q=0", {"ForbiddenMechanism"});
  b.invalid(ans, b.message(ans), "no_acceptable_mechanism", "the chooser supports none of the terminal's mechanisms",
            {"ForbiddenMechanism"}, Overrides{.support = "ipsec-man"});
}

}  // namespace kd::vectors::cases
