// The generator behind scripts/mkvectors: the positive vectors (JSON and wire, with their
// captures) and the assembly of the negative ones (the case families are in cases_*.cpp, the wire
// bindings' malformed encodings in wire_cases.cpp).
#include <unistd.h>

#include "capture/capture.hpp"
#include "vectors/internal.hpp"
#include "wire/codec.hpp"

namespace kd::vectors {

namespace cases {

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

}  // namespace cases

using namespace cases;

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
      CaseBuilder b(g, next);
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
  auto addr = [](msg::Role r) { return std::string(msg::documentation_address(r)); };
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

}  // namespace kd::vectors
