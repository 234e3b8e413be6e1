// Negative cases of the exchange itself: freshness (timestamps, replays, the challenge's
// lifetime), suites, identities, nonces and the order of the steps.
#include "vectors/internal.hpp"

namespace kd::vectors::cases {

void freshness_cases(CaseBuilder& b) {
  const std::uint64_t now = kNow;
  struct T {
    std::string step;
    std::optional<std::uint64_t> M::*ts;
    const char* name;
    bool mac;
  };
  for (const T& t : {T{b.registration_step(), &M::TS1, "TS1", false}, T{b.answer_step(), &M::TS3, "TS3", false},
                     T{b.challenge_step(), &M::TS2, "TS2", false}, T{b.success_step(), &M::TS4, "TS4", true}}) {
    M m = b.message(t.step);
    auto with = [&](std::uint64_t v) {
      M x = m;
      x.*t.ts = v;
      return t.mac ? b.with_new_mac(x) : x;
    };
    std::string n = t.name;
    b.accepted(t.step, with(now - 300), n + " exactly 300 s old: at the window's edge", {"EdgeTimestamp"});
    b.invalid(t.step, with(now - 301), "stale_timestamp", n + " 301 s old", {"StaleTimestamp"});
    b.accepted(t.step, with(now + 300), n + " exactly 300 s ahead: at the window's edge", {"EdgeTimestamp"});
    b.invalid(t.step, with(now + 301), "future_timestamp", n + " 301 s ahead", {"FutureTimestamp"});
  }
  M r = b.message(b.registration_step());
  r.TS1 = now - 100;
  b.invalid(b.registration_step(), r, "stale_timestamp", "TS1 100 s old with --skew 60", {"StaleTimestamp"}, Overrides{.skew = 60});

  // Replays: the same message again once it has been accepted.
  b.add(b.next_of(b.registration_step()), b.edge_role(), b.line(b.registration_step()), "invalid", "replayed_nonce",
        "the registration request replayed", {"Replay"});
  b.add(b.next_of(b.challenge_step()), R::term, b.line(b.challenge_step()), "invalid", "replayed_nonce",
        "the challenge replayed to the terminal", {"Replay"});
  b.add("end", R::term, b.line(b.success_step()), "invalid", "replayed_nonce", "the success response replayed to the terminal",
        {"Replay"});
  if (b.proxied())
    b.add("s8", R::proxy, b.line("s7"), "invalid", "replayed_nonce", "the re-registration replayed to the proxy", {"Replay"});
  b.add("end", R::sw, b.line(b.switch_answer_step()), "invalid", "reused_challenge",
        "the answer replayed to the switch after success: a second use of Rand", {"ReusedChallenge"});
  b.add("end", R::auc, b.line(b.report_step()), "invalid", "reused_challenge", "the success report replayed to the AuC",
        {"ReusedChallenge"});

  const auto s = b.switch_answer_step();
  b.add(s, R::sw, b.line(s), "invalid", "expired_challenge", "the answer arrives 61 s after the challenge (lifetime 60 s)",
        {"ExpiredChallenge"}, Overrides{.now = now + 61});
  b.add(s, R::sw, b.line(s), "valid", "", "the answer arrives exactly 60 s after the challenge", {"EdgeTimestamp"},
        Overrides{.now = now + 60});
}

void exchange_cases(CaseBuilder& b) {
  const auto& sd = b.setup();
  const std::string other_suite = b.suite().name == "KD-SM4GCM-SM3" ? "KD-AES128GCM-SHA256" : "KD-SM4GCM-SM3";
  M r = b.message(b.registration_step());
  r.suite = "KD-NULL-NONE";
  b.invalid(b.registration_step(), r, "unknown_suite", "an unknown suite in the registration request", {"UnknownSuite"});
  M c = b.message(b.challenge_step());
  c.suite = other_suite;
  b.invalid(b.challenge_step(), c, "suite_mismatch", "the challenge names another suite than the registration", {"SuiteMismatch"});
  r = b.message(b.registration_step());
  if (b.proxied()) r.IDsp = "sbc9";
  else r.IDss = "ss9";
  b.invalid(b.registration_step(), r, "identity_mismatch", "the request is addressed to another proxy or switch", {"IdentityMismatch"});
  M q = b.message(b.auc_request_step());
  q.IDc = "mallory";
  b.invalid(b.auc_request_step(), q, "unknown_identity", "the AuC is asked for a terminal it does not know", {"UnknownIdentity"});
  q = b.message(b.auc_request_step());
  if (b.proxied()) q.IDsp = sd.sw;
  else q.IDss = sd.proxy;
  b.invalid(b.auc_request_step(), q, "unknown_identity", "the peer identity names an entity of another role", {"UnknownIdentity"});
  c = b.message(b.challenge_step());
  c.IDc = "bob";
  b.invalid(b.challenge_step(), c, "unexpected_message", "a challenge for a terminal that has not registered", {"UnexpectedMessage"});
  b.add(b.challenge_step(), b.edge_role(), b.line(b.challenge_step()), "invalid", "wrong_recipient",
        "the challenge delivered to the proxy or switch", {"WrongRecipient"});
  c = b.message(b.challenge_step());
  c.N1 = flip(*c.N1, 3);
  b.invalid(b.challenge_step(), c, "nonce_mismatch", "the challenge echoes another N1", {"NonceMismatch"});
  M a = b.message(b.answer_step());
  a.N2 = flip(*a.N2, 3);
  b.invalid(b.answer_step(), a, "nonce_mismatch", "the answer echoes another N2", {"NonceMismatch"});
  a = b.message(b.answer_step());
  a.Rand = flip(*a.Rand, 3);
  b.invalid(b.answer_step(), a, "unknown_challenge", "the answer names another Rand", {"UnknownChallenge"});
  M s = b.message(b.success_step());
  s.N1 = flip(*s.N1, 3);
  b.invalid(b.success_step(), b.with_new_mac(s), "nonce_mismatch", "the success response echoes another N1 (MAC recomputed)",
            {"NonceMismatch"});
  b.add(b.challenge_step(), R::term, b.line(b.success_step()), "invalid", "unexpected_message",
        "the success response before the terminal has answered", {"UnexpectedMessage"});
  if (b.proxied()) {
    b.add("s7", R::proxy, b.line("s9"), "invalid", "unexpected_message", "s9 before the terminal has answered",
          {"UnexpectedMessage"});
    M f = b.message("s5");
    f.suite = other_suite;
    b.invalid("s5", f, "suite_mismatch", "the switch's failure response names another suite", {"SuiteMismatch"});
    M e = b.message("s8");
    e.Rand = flip(*e.Rand, 0);
    b.invalid("s8", e, "unknown_challenge", "the forwarded answer names a Rand the switch never issued", {"UnknownChallenge"});
  }
}

}  // namespace kd::vectors::cases
