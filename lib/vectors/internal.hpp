// Internal to the generator behind scripts/mkvectors (generate.cpp, cases_*.cpp, wire_cases.cpp):
// the setup every vector starts from, and the builder the negative case families of the logical
// flow share. Expected outcomes are written down from the protocol's rules (kd-protocol(7)), never
// read back from a run; the runner then checks the code against them.
#pragma once

#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "crypto/protocol.hpp"
#include "crypto/suite.hpp"
#include "json/line.hpp"
#include "json/message.hpp"
#include "vectors/vectors.hpp"

namespace kd::vectors::cases {

inline constexpr std::uint64_t kNow = 1700000000;
inline const Bytes kSeed{0x6b, 0x64, 0x2d, 0x76, 0x31};  // "kd-v1"

// The setup of every generated vector of this suite and flow (seeded keys, kNow).
Setup base_setup(const std::string& suite, msg::Flow flow);
// b with the low bit of its byte i flipped.
Bytes flip(Bytes b, std::size_t i);

using R = msg::Role;
using M = msg::Message;

class CaseBuilder {
public:
  CaseBuilder(Group& g, int& next_id) : g_(g), next_(next_id), run_(run_registration(g.setup, drv_)) {
    proxied_ = g.setup.flow == msg::Flow::proxied;
    suite_ = crypto::find_suite(g.setup.suite);
    key_ = Secret(*from_hex(run_.term_key));
  }

  bool proxied() const { return proxied_; }
  const crypto::Suite& suite() const { return *suite_; }
  const Secret& session_key() const { return key_; }
  const Setup& setup() const { return g_.setup; }

  // The steps of this flow, by what they carry (kd-protocol(7), THE TWO FLOWS).
  std::string registration_step() const { return proxied_ ? "s1" : "d1"; }   // the terminal registers
  std::string auc_request_step() const { return proxied_ ? "s3" : "d2"; }    // the switch asks the AuC
  std::string auc_answer_step() const { return proxied_ ? "s4" : "d3"; }     // Rand, sealed keys
  std::string challenge_step() const { return proxied_ ? "s6" : "d4"; }      // to the terminal
  std::string answer_step() const { return proxied_ ? "s7" : "d5"; }         // the terminal's answer
  std::string switch_answer_step() const { return proxied_ ? "s8" : "d5"; }  // that answer at the switch
  std::string success_step() const { return proxied_ ? "s10" : "d6"; }       // to the terminal, under the MAC
  std::string report_step() const { return proxied_ ? "s11" : "d7"; }       // the success report to the AuC
  R edge_role() const { return proxied_ ? R::proxy : R::sw; }  // who faces the terminal
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
  M message(const std::string& step) const { return *json::decode_message(line(step)); }  // of the run
  static std::string encode(const M& m) { return json::encode_message(m); }
  R target_of(const std::string& step) const { return msg::find_step(step)->to; }

  // m with its MAC recomputed under the session key, so that only the change under test is wrong.
  M with_new_mac(M m) const {
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
  void invalid(const std::string& step, const M& m, const std::string& error, const std::string& comment,
               std::vector<std::string> flags, Overrides o = {}) {
    add(step, target_of(step), encode(m), "invalid", error, comment, std::move(flags), o);
  }
  // The same with a line that is no encoded message (raw JSON text).
  void invalid_line(const std::string& step, std::string raw, const std::string& error,
                    const std::string& comment, std::vector<std::string> flags) {
    add(step, target_of(step), std::move(raw), "invalid", error, comment, std::move(flags));
  }
  // A message that must be accepted ("valid", or "acceptable"), delivered just before its own step.
  void accepted(const std::string& step, const M& m, const std::string& comment,
                std::vector<std::string> flags, Overrides o = {}, const std::string& result = "valid") {
    add(step, target_of(step), encode(m), result, "", comment, std::move(flags), o);
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

// The case families of make_negative(), in the order their cases take tcIds.
void authenticator_cases(CaseBuilder& b);
void seal_cases(CaseBuilder& b);
void mac_cases(CaseBuilder& b);
void mechanism_cases(CaseBuilder& b);
void freshness_cases(CaseBuilder& b);
void exchange_cases(CaseBuilder& b);
void json_cases(CaseBuilder& b);
void json_number_cases(CaseBuilder& b);

}  // namespace kd::vectors::cases
