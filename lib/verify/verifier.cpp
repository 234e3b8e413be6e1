#include "verify/verifier.hpp"

#include <algorithm>
#include <cstring>
#include <functional>
#include <tuple>

#include "crypto/protocol.hpp"
#include "crypto/suite.hpp"
#include "flow/policy.hpp"
#include "flow/roles.hpp"

namespace kd::verify {

int position(const msg::Message& m) {
  if (m.flow == msg::Flow::proxied) return m.step;
  static constexpr int kDirect[] = {0, 1, 3, 4, 6, 7, 10, 11};
  return kDirect[m.step];
}

namespace {

const std::string& peer_of(const msg::Message& m) { return m.flow == msg::Flow::proxied ? *m.IDsp : *m.IDss; }

// The most steps a registration has (the proxied flow's eleven).
constexpr std::size_t kMaxSteps = 11;

}  // namespace

Verifier::Verifier(const flow::Keystore* keys, std::uint64_t skew) : keys_(keys), skew_(skew) {}

namespace {

// Mixes s into h eight bytes at a time (std::hash of a string_view costs several times more on
// the short identities of a registration's key). Loads overlap rather than copy a tail.
std::uint64_t mix(std::uint64_t h, std::string_view s) noexcept {
  constexpr std::uint64_t kMul = 0x9e3779b97f4a7c15;
  auto step = [&](std::uint64_t w) {
    h = (h ^ w) * kMul;
    h ^= h >> 29;
  };
  auto load = [&](std::size_t at, std::size_t size) {
    std::uint64_t w = 0;
    std::memcpy(&w, s.data() + at, size);
    return w;
  };
  const std::size_t n = s.size();
  step(n);
  if (n >= 8) {
    for (std::size_t i = 0; i + 8 < n; i += 8) step(load(i, 8));
    step(load(n - 8, 8));
  } else if (n >= 4) {
    step(load(0, 4) | load(n - 4, 4) << 32);
  } else if (n) {
    step(load(0, 1) | load(n / 2, 1) << 8 | load(n - 1, 1) << 16);
  }
  return h;
}

}  // namespace

std::size_t Verifier::KeyHash::operator()(KeyView k) const noexcept {
  const std::uint64_t h = mix(mix(static_cast<std::uint64_t>(k.flow), k.idc), k.peer);
  return static_cast<std::size_t>(h ^ (h >> 32));
}

void Verifier::fail(Reg& r, std::vector<Check>& checks, std::string_view name, std::string detail) {
  if (!r.failed) {
    r.failed = true;
    r.report.reason.assign(name).append(": ").append(detail);
  }
  checks.push_back({name, false, std::move(detail)});
}

void Verifier::pass(std::vector<Check>& checks, std::string_view name) { checks.push_back({name, true, {}}); }

std::vector<Check> Verifier::observe(const msg::Message& m, std::optional<std::uint64_t> time,
                                     std::vector<RegistrationReport>& done) {
  std::vector<Check> checks;
  observe(m, time, checks, done);
  return checks;
}

void Verifier::observe(const msg::Message& m, std::optional<std::uint64_t> time, std::vector<Check>& checks,
                       std::vector<RegistrationReport>& done, std::span<const std::string_view> unverified) {
  checks.clear();
  const int pos = position(m);
  const KeyView key{m.flow, *m.IDc, peer_of(m)};
  // Start loading the table slot the freshness check below reads while the registration is found.
  switch (pos) {
    case 1: case 7: if (m.N1) nonces_.prefetch(*m.N1); break;
    case 6: case 10: if (m.N2) nonces_.prefetch(*m.N2); break;
    case 4: if (m.Rand) rands_.prefetch(*m.Rand); break;
    default: break;
  }
  const auto& spec = msg::spec_of(m);
  auto it = regs_.find(key);
  if (pos == 1 && it != regs_.end()) {  // a new start ends the registration before it
    Reg& old = it->second;
    if (old.report.reason.empty()) old.report.reason = "a new registration started";
    old.report.stopped_at = old.report.steps.empty() ? "" : old.report.steps.back();
    done.push_back(std::move(old.report));
    close_reg(it);
    it = regs_.end();
  }
  if (it == regs_.end()) {
    it = open_reg(m);
    auto& rep = it->second.report;
    rep.flow = m.flow;
    rep.idc = *m.IDc;
    rep.peer = peer_of(m);
    rep.suite = *m.suite;
    rep.steps.reserve(kMaxSteps);
    if (pos != 1) rep.reason = "the input starts after the first message";
  }
  Reg& r = it->second;
  r.report.steps.emplace_back(spec.name);
  for (const auto what : unverified)
    if (std::find(r.report.unverified.begin(), r.report.unverified.end(), what) == r.report.unverified.end())
      r.report.unverified.emplace_back(what);

  if (*m.suite != r.report.suite) fail(r, checks, "suite", "the suite changed within the registration");

  auto echo = [&](std::string_view name, const std::optional<Bytes>& want, const std::optional<Bytes>& got,
                  std::string_view field) {
    if (!want || !got) return;
    if (*want == *got) pass(checks, name);
    else fail(r, checks, name, std::string(field).append(" differs from the value sent earlier"));
  };
  auto timestamp = [&](const std::optional<std::uint64_t>& ts, std::string_view field) {
    if (!ts || !time) return;
    // The roles' own window, so that an observer and a role never disagree on a timestamp.
    if (auto st = flow::check_timestamp(*ts, *time, skew_, field); !st) fail(r, checks, "timestamp", st.error().detail);
    else pass(checks, "timestamp");
  };
  auto fresh_nonce = [&](const Bytes& n, std::string_view field) {
    if (nonces_.seen_before(n)) fail(r, checks, "nonce_fresh", std::string(field).append(" was seen before: a replay"));
    else pass(checks, "nonce_fresh");
  };

  if (m.TS1) timestamp(m.TS1, "TS1");
  if (m.TS2) timestamp(m.TS2, "TS2");
  if (m.TS3) timestamp(m.TS3, "TS3");
  if (m.TS4) timestamp(m.TS4, "TS4");

  switch (pos) {
    case 1:
      fresh_nonce(*m.N1, "N1");
      r.n1 = m.N1;
      break;
    case 4:
      if (rands_.seen_before(*m.Rand)) fail(r, checks, "rand_fresh", "Rand was issued before: a reused challenge");
      else pass(checks, "rand_fresh");
      r.rand = m.Rand;
      r.auth_c = m.Authenticator_c;
      break;
    case 6:
      echo("nonce_echo", r.n1, m.N1, "N1");
      fresh_nonce(*m.N2, "N2");
      r.n2 = m.N2;
      break;
    case 7:  // the re-registration: a fresh N1, the challenge's N2 echoed
      fresh_nonce(*m.N1, "N1");
      echo("nonce_echo", r.n2, m.N2, "N2");
      r.n1 = m.N1;
      r.list = m.SecMechList;
      break;
    case 8:
      break;
    case 10:  // the re-registration's N1 echoed, a fresh N2
      echo("nonce_echo", r.n1, m.N1, "N1");
      fresh_nonce(*m.N2, "N2");
      if (r.list) {
        if (*r.list == *m.SecMechList) pass(checks, "echoed_list");
        else fail(r, checks, "echoed_list", "the echoed mechanism list differs from the one the terminal sent (downgrade)");
      }
      {
        bool listed = false;
        for (const auto& mech : *m.SecMechList) listed = listed || mech.name == *m.SecMech;
        if (listed && !flow::is_forbidden(*m.SecMech)) pass(checks, "mechanism");
        else fail(r, checks, "mechanism", "the chosen mechanism is not an acceptable entry of the list");
      }
      break;
    default:
      break;
  }
  if (m.Rand && pos != 4) echo("rand_echo", r.rand, m.Rand, "Rand");
  if (pos == 7 || pos == 8) {
    if (r.auth_c && !keys_) echo("authenticator", r.auth_c, m.Authenticator_c, "Authenticator_c");
  }
  if (keys_) check_keys(r, m, checks);

  // The registration ends once both the success message and the report to the AuC are seen (the
  // switch may send the report before the proxy forwards the success).
  if (pos == 10) r.success_seen = true;
  if (pos == 11) r.report_seen = true;
  if (pos == 10 && m.SecMech) r.report.mech = *m.SecMech;
  if (r.success_seen && r.report_seen) {
    r.report.completed = !r.failed;
    if (!r.report.completed) r.report.stopped_at = spec.name;
    done.push_back(std::move(r.report));
    close_reg(it);
  }
}

Verifier::Regs::iterator Verifier::open_reg(const msg::Message& m) {
  if (spare_.empty()) return regs_.try_emplace(Key{m.flow, *m.IDc, peer_of(m)}).first;
  Key& k = spare_.key();  // the strings keep their buffers
  k.flow = m.flow;
  k.idc.assign(*m.IDc);
  k.peer.assign(peer_of(m));
  return regs_.insert(std::move(spare_)).position;
}

void Verifier::close_reg(Regs::iterator it) {
  spare_ = regs_.extract(it);
  spare_.mapped() = Reg{};  // now, not at its reuse: the session key is wiped as it was by erase
}

void Verifier::check_keys(Reg& r, const msg::Message& m, std::vector<Check>& checks) {
  const crypto::Suite* suite = crypto::find_suite(*m.suite);
  const flow::Entity* term = keys_->find(*m.IDc);
  const int pos = position(m);
  if (!suite) return;
  if (!term) {
    if (pos == 1) fail(r, checks, "keys", *m.IDc + " is not in the keystore");
    return;
  }
  const std::string& peer = peer_of(m);
  auto open = [&](const Bytes& sealed, const std::string& holder, msg::Role recipient, std::string_view field) {
    const flow::Entity* e = keys_->find(holder);
    if (!e || !r.rand) return;  // without the holder's key or the Rand, nothing to check
    crypto::SealBinding b{m.flow, *m.IDc, peer, *r.rand, recipient};
    auto k = crypto::open_key(*suite, e->key.view(), b, sealed);
    if (!k) return fail(r, checks, "seal", std::string(field).append(" does not open under ").append(holder).append("'s key"));
    if (r.ks.empty()) r.ks = std::move(*k);
    else if (!crypto::ct_equal(r.ks.view(), k->view())) return fail(r, checks, "seal", std::string(field).append(" holds another session key than the AuC issued"));
    pass(checks, "seal");
  };
  if (pos == 4 && m.Rand) r.rand = m.Rand;
  if ((pos == 4 || pos == 7 || pos == 8) && r.rand && m.Authenticator_c) {
    const Bytes want = crypto::authenticator(*suite, term->key.view(), *r.rand, *m.IDc);
    if (crypto::ct_equal(want, *m.Authenticator_c)) pass(checks, "authenticator");
    else fail(r, checks, "authenticator", "Authenticator_c is not f(Kc, Rand, IDc)");
  }
  if (m.EKc) open(*m.EKc, *m.IDc, msg::Role::term, "EKc");
  if (m.EKsp) open(*m.EKsp, peer, msg::Role::proxy, "EKsp");
  if (m.EKss) open(*m.EKss, peer, msg::Role::sw, "EKss");
  if (pos == 10 && m.MAC) {
    if (r.ks.empty()) return;
    const Bytes want = crypto::message_mac(*suite, r.ks.view(), m);
    if (crypto::ct_equal(want, *m.MAC)) pass(checks, "mac");
    else fail(r, checks, "mac", "the MAC does not verify under the session key");
  }
  if (pos == 10 && !r.ks.empty()) r.report.session_key = r.ks;
}

std::vector<RegistrationReport> Verifier::finish() {
  // The table keeps no order: report by flow, IDc and peer, as an ordered map would.
  std::vector<std::pair<const Key*, Reg*>> open;
  open.reserve(regs_.size());
  for (auto& entry : regs_) open.emplace_back(&entry.first, &entry.second);
  std::sort(open.begin(), open.end(), [](const auto& a, const auto& b) {
    return std::tie(a.first->flow, a.first->idc, a.first->peer) < std::tie(b.first->flow, b.first->idc, b.first->peer);
  });
  std::vector<RegistrationReport> out;
  out.reserve(open.size());
  for (auto& [key, r] : open) {
    if (r->report.reason.empty()) r->report.reason = "the input ends before the registration completes";
    r->report.stopped_at = r->report.steps.empty() ? "" : r->report.steps.back();
    out.push_back(std::move(r->report));
  }
  regs_.clear();
  return out;
}

}  // namespace kd::verify
