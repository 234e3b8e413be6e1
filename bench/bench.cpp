// kd-bench: complete in-process proxied registrations per second on one core, per suite, beside
// the floor: what the crypto primitives that one registration calls cost when timed alone.
// Figures, not a test: nothing here passes or fails on speed. A registration that does not
// complete is a bug, and stops the run.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "core/random.hpp"
#include "crypto/protocol.hpp"
#include "crypto/suite.hpp"
#include "flow/roles.hpp"
#include "msg/message.hpp"
#include "capture/capture.hpp"
#include "wire/codec.hpp"

namespace {

using namespace kd;
using Clock = std::chrono::steady_clock;

struct Options {
  int batches = 7;
  int batch_ms = 200;
  int identities = 1000;
  std::vector<std::string> suites;
  long profile_registrations = 0;  // > 0: run this many registrations per suite, untimed, and stop
  std::string capture;             // write a capture of SIP messages instead of measuring
  long capture_messages = 1000000;
};

[[noreturn]] void die(const std::string& why) {
  std::fprintf(stderr, "kd-bench: FAILED: %s\n", why.c_str());
  std::exit(1);
}

// splitmix64: cheap and deterministic. SeededRandom would call HMAC for every 32 bytes drawn and
// so add its own calls to the op counters and to the time of a registration.
class FastRandom final : public RandomSource {
public:
  explicit FastRandom(std::uint64_t seed) : x_(seed) {}
  void fill(Purpose, std::span<std::uint8_t> out) override {
    std::size_t i = 0;
    while (i < out.size()) {
      std::uint64_t z = (x_ += 0x9e3779b97f4a7c15ULL);
      z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
      z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
      z ^= z >> 31;
      for (int b = 0; b < 8 && i < out.size(); ++b, ++i)
        out[i] = static_cast<std::uint8_t>(z >> (8 * b));
    }
  }

private:
  std::uint64_t x_;
};

crypto::OpCounts operator-(const crypto::OpCounts& a, const crypto::OpCounts& b) {
  return {a.hmac - b.hmac, a.hkdf - b.hkdf, a.seal - b.seal, a.open - b.open};
}

// What one registration looked like, for pricing it.
struct Trace {
  crypto::OpCounts total;
  std::uint64_t hmac_auth = 0, hmac_mac = 0;  // hmac calls split by what they cover
  std::size_t auth_input = 0;                 // bytes under the verification word's HMAC
  std::size_t mac_input = 0;                  // canonical s10 without its MAC
  std::size_t aad = 0;                        // seal_aad of a sealed key
};

// The four roles in one process, with in-memory states, one fixed clock and one keystore.
class Rig {
public:
  static constexpr std::uint64_t kNow = 1700000000;
  inline static const std::string kProxy = "sp.kd.example";
  inline static const std::string kSwitch = "ss.kd.example";

  Rig(const crypto::Suite& suite, int identities) : suite_(suite), rng_(0x6b64626563680001ULL) {
    auto add = [&](const std::string& id, msg::Role role) {
      keys_.entities[id] = flow::Entity{id, role, rng_.draw_secret(Purpose::long_term_key, 32)};
    };
    for (int i = 0; i < identities; ++i) {
      char id[32];
      std::snprintf(id, sizeof id, "term%05d@kd.example", i);
      terms_.emplace_back(id);
      add(terms_.back(), msg::Role::term);
    }
    add(kProxy, msg::Role::proxy);
    add(kSwitch, msg::Role::sw);
    auto mechs = flow::parse_mech_arg("tls:0.9,ipsec-3gpp:0.5,kd-app:0.1");
    if (!mechs) die("mechanism list: " + mechs.error().detail);
    start_.via = kProxy;
    start_.sw = kSwitch;
    start_.suite = std::string(suite.name);
    start_.mechs = *mechs;
    start_.contact = "192.0.2.10:5060";
    for (auto* c : {&term_ctx_, &proxy_ctx_, &switch_ctx_, &auc_ctx_}) {
      c->now = kNow;
      c->rng = &rng_;
      c->keys = &keys_;
      c->policy = &policy_;
    }
    // Each role keeps what its keys derive, as an engine does (engine.cpp), one cache per role as
    // if each ran in its own process.
    term_ctx_.derived = &derived_[0];
    proxy_ctx_.derived = &derived_[1];
    switch_ctx_.derived = &derived_[2];
    auc_ctx_.derived = &derived_[3];
    proxy_ctx_.self_id = kProxy;
    switch_ctx_.self_id = kSwitch;
    auc_ctx_.self_id = "auc.kd.example";
  }

  // One complete registration of the next identity, s1 to s11, each message validated as a
  // receiver would. With trace, also records the primitive calls it makes.
  void register_next(Trace* trace = nullptr, std::vector<msg::Message>* sent = nullptr) {
    if (next_ == terms_.size()) {
      // Replay caches, used Rands and issued challenges are keyed by fresh random values; with a
      // fixed clock nothing expires, so clear every role's state once per cycle of identities.
      term_ = {};
      proxy_ = {};
      switch_ = {};
      auc_ = {};
      next_ = 0;
    }
    const std::string& idc = terms_[next_++];
    start_.idc = idc;
    if (trace) {
      *trace = Trace{};
      crypto::op_counts() = {};
    }

    queue_.clear();
    const Secret* term_key = nullptr;
    const Secret* proxy_key = nullptr;
    int recorded = 0;
    unsigned steps_seen = 0;

    flow::Output out = flow::term_start(term_, start_, term_ctx_);
    take(out, idc, "s1");
    for (std::size_t i = 0; i < queue_.size(); ++i) {
      const msg::Message m = std::move(queue_[i]);
      const auto& spec = msg::spec_of(m);
      if (auto s = msg::validate(m); !s)
        die(std::string(spec.name) + " does not validate: " + s.error().detail);
      steps_seen |= 1u << m.step;
      if (sent) sent->push_back(m);
      const crypto::OpCounts before = crypto::op_counts();
      switch (spec.to) {
        case msg::Role::term: out = flow::term_handle(term_, m, term_ctx_); break;
        case msg::Role::proxy: out = flow::proxy_handle(proxy_, m, proxy_ctx_); break;
        case msg::Role::sw: out = flow::switch_handle(switch_, m, switch_ctx_); break;
        case msg::Role::auc: out = flow::auc_handle(auc_, m, auc_ctx_); break;
      }
      if (trace) note(*trace, m, out, crypto::op_counts() - before);
      take(out, idc, spec.name);
      for (auto& e : out.events) {
        if (e.name == "registered") term_key = keep(e, 0);
        else if (e.name == "key-established") proxy_key = keep(e, 1);
        else if (e.name == "registration-recorded") ++recorded;
      }
    }
    if (queue_.size() != 11 || steps_seen != 0xffeu)
      die(idc + ": the registration took " + std::to_string(queue_.size()) + " messages, not s1..s11");
    if (!term_key || !proxy_key || recorded != 1)
      die(idc + ": the registration did not complete at every role");
    if (term_key->size() != suite_.key_len || !crypto::ct_equal(term_key->view(), proxy_key->view()))
      die(idc + ": the terminal and the proxy hold different session keys");
    if (trace) trace->total = crypto::op_counts();
  }

  // The next registration starts a new round, from empty states.
  void restart() { next_ = terms_.size(); }

private:
  void take(flow::Output& out, const std::string& idc, std::string_view step) {
    if (out.error)
      die(idc + ": " + std::string(step) + " rejected: " + std::string(code_name(out.error->code)) +
          ": " + out.error->detail);
    for (auto& m : out.messages) queue_.push_back(std::move(m));
  }

  const Secret* keep(flow::Event& e, int slot) {
    keys_seen_[slot] = std::move(e.session_key);
    return &keys_seen_[slot];
  }

  // Prices the hmac calls of one step by what they cover: the success message (MAC) or the
  // verification word. Sizes come from the messages themselves.
  void note(Trace& t, const msg::Message& in, const flow::Output& out, const crypto::OpCounts& d) {
    const msg::Message* with_mac = in.MAC ? &in : nullptr;
    const msg::Message* with_auth = nullptr;
    for (const auto& m : out.messages) {
      if (m.MAC) with_mac = &m;
      if (m.Authenticator_c) with_auth = &m;
    }
    if (with_mac) {
      t.hmac_mac += d.hmac;
      t.mac_input = msg::canonical(*with_mac, false).size();
    } else {
      t.hmac_auth += d.hmac;
      if (with_auth) t.auth_input = 2 + with_auth->Rand->size() + 2 + with_auth->IDc->size();
    }
    if (in.EKsp && t.aad == 0) {
      crypto::SealBinding b{in.flow, *in.IDc, *in.IDsp, *in.Rand, msg::Role::proxy};
      t.aad = crypto::seal_aad(suite_, b).size();
    }
  }

  const crypto::Suite& suite_;
  FastRandom rng_;
  flow::Keystore keys_;
  flow::Policy policy_;
  std::vector<std::string> terms_;
  std::size_t next_ = 0;
  flow::StartParams start_;
  flow::TermState term_;
  flow::ProxyState proxy_;
  flow::SwitchState switch_;
  flow::AucState auc_;
  flow::Context term_ctx_, proxy_ctx_, switch_ctx_, auc_ctx_;
  crypto::DerivedKeys derived_[4];
  std::vector<msg::Message> queue_;
  Secret keys_seen_[2];
};

struct Measure {
  double median = 0, lo = 0, hi = 0;  // seconds per operation
};

// Times op in batches of at least batch_ms each, every batch a whole number of units (a round of
// registrations, so that each batch sees the states grow from empty alike); per-batch seconds per
// op, median and range.
template <class F>
Measure measure(F&& op, const Options& o, long unit = 1) {
  auto run = [&](long n) {
    auto t0 = Clock::now();
    for (long i = 0; i < n; ++i) op();
    return std::chrono::duration<double>(Clock::now() - t0).count();
  };
  const double target = o.batch_ms / 1000.0;
  long n = unit;
  double t = run(n);  // also the warm-up
  while (t < target / 4) {
    n *= 2;
    t = run(n);
  }
  n = static_cast<long>(static_cast<double>(n) * target * 1.05 / t);
  n = std::max(unit, (n + unit - 1) / unit * unit);
  std::vector<double> per_op;
  for (int b = 0; b < o.batches; ++b) per_op.push_back(run(n) / static_cast<double>(n));
  std::sort(per_op.begin(), per_op.end());
  return {per_op[per_op.size() / 2], per_op.front(), per_op.back()};
}

volatile std::uint8_t g_sink;  // keeps results observable

struct FloorItem {
  std::string what, input;
  std::uint64_t calls = 0;
  double us = 0;  // median cost of one call
};

std::vector<FloorItem> price_floor(const crypto::Suite& s, const Trace& t, const Options& o) {
  FastRandom rng(0x6b64666c6f6f7201ULL);
  // FastRandom ignores the purpose: these are only inputs of the right sizes.
  const Bytes ikm = rng.draw(Purpose::nonce, s.key_len);  // a session key
  const Bytes salt = to_bytes("kd1");
  auto info = [&](std::string_view label) {
    Bytes b = to_bytes("kd1 ");
    put_str(b, label);
    put_u8(b, 0);
    put_str(b, s.name);
    return b;
  };
  const Bytes info_mac = info("mac");
  const Bytes hkey = rng.draw(Purpose::nonce, s.hash_len), auth_in = rng.draw(Purpose::nonce, t.auth_input), mac_in = rng.draw(Purpose::nonce, t.mac_input);
  const Bytes ckey = rng.draw(Purpose::nonce, s.key_len), nonce = rng.draw(Purpose::nonce, crypto::kAeadNonceLen), aad = rng.draw(Purpose::nonce, t.aad);
  const Bytes pt = rng.draw(Purpose::nonce, s.key_len);
  const Bytes sealed = crypto::gcm_seal(s.cipher, ckey, nonce, aad, pt);

  auto sz = [](std::size_t n) { return std::to_string(n) + " B"; };
  std::vector<FloorItem> items;
  auto add = [&](std::string what, std::string input, std::uint64_t calls, auto&& op) {
    if (calls == 0) return;
    items.push_back({std::move(what), std::move(input), calls, measure(op, o).median * 1e6});
  };
  // The trace is of a registration with warm caches: its only derivations are the "mac" keys of
  // its session key (the per-entity "auth" and "seal" keys are derived once per role).
  add("hkdf (mac) -> " + sz(s.hash_len), "ikm " + sz(s.key_len) + ", info " + sz(info_mac.size()),
      t.total.hkdf, [&] { g_sink = crypto::hkdf(s.hash, ikm, salt, info_mac, s.hash_len).data()[0]; });
  add("hmac (Authenticator_c)", "key " + sz(s.hash_len) + ", msg " + sz(t.auth_input), t.hmac_auth,
      [&] { g_sink = crypto::hmac(s.hash, hkey, auth_in)[0]; });
  add("hmac (MAC over s10)", "key " + sz(s.hash_len) + ", msg " + sz(t.mac_input), t.hmac_mac,
      [&] { g_sink = crypto::hmac(s.hash, hkey, mac_in)[0]; });
  add("gcm_seal", "key " + sz(s.key_len) + ", pt " + sz(s.key_len) + ", aad " + sz(t.aad), t.total.seal,
      [&] { g_sink = crypto::gcm_seal(s.cipher, ckey, nonce, aad, pt)[0]; });
  const std::string open_in = "key " + sz(s.key_len) + ", ct " + sz(sealed.size()) + ", aad " + sz(t.aad);
  add("gcm_open", open_in, t.total.open, [&] {
    auto k = crypto::gcm_open(s.cipher, ckey, nonce, aad, sealed);
    if (!k) die("gcm_open of a fresh seal failed");
    g_sink = k->data()[0];
  });
  return items;
}

struct SuiteResult {
  std::string name;
  Measure reg;
  double floor_us = 0;
  Trace trace;
  std::vector<FloorItem> items;
};

int run(const Options& o) {
  std::vector<const crypto::Suite*> suites;
  if (o.suites.empty())
    for (const auto& s : crypto::all_suites()) suites.push_back(&s);
  for (const auto& name : o.suites) {
    const crypto::Suite* s = crypto::find_suite(name);
    if (!s) die("unknown suite " + name);
    suites.push_back(s);
  }

  if (o.profile_registrations > 0) {
    for (const auto* s : suites) {
      Rig rig(*s, o.identities);
      for (long i = 0; i < o.profile_registrations; ++i) rig.register_next();
      std::printf("%s: %ld registrations completed\n", std::string(s->name).c_str(), o.profile_registrations);
    }
    return 0;
  }

  std::printf("kd-bench: complete in-process proxied registrations (s1..s11 through term, proxy, switch and auc)\n"
              "on one thread, with a fixed clock, splitmix64 randomness and every message validated.\n"
              "Each measurement: %d batches of >= %d ms; every figure is the median batch of this one run.\n"
              "%d terminal identities in the keystore, used in turn; all four states are cleared after\n"
              "each round of %d registrations (with a fixed clock no replay cache would ever prune);\n"
              "--identities 1 clears them before every registration. Each role keeps the keys its\n"
              "keystore derives (as an engine does), so after the first round a registration derives\n"
              "only its session key's two MAC keys.\n\n",
              o.batches, o.batch_ms, o.identities, o.identities);
  std::fflush(stdout);

  std::vector<SuiteResult> results;
  for (const auto* s : suites) {
    SuiteResult r;
    r.name = std::string(s->name);
    Rig rig(*s, o.identities);
    for (int i = 0; i < o.identities; ++i) rig.register_next();  // every role's keys derived once
    rig.register_next(&r.trace);
    rig.restart();
    r.reg = measure([&] { rig.register_next(); }, o, o.identities);
    r.items = price_floor(*s, r.trace, o);
    for (const auto& it : r.items) r.floor_us += static_cast<double>(it.calls) * it.us;
    results.push_back(std::move(r));
  }

  std::printf("%-22s %12s %10s %10s %9s %7s\n", "suite", "reg/s", "us/reg", "floor us", "ratio", "range");
  for (const auto& r : results) {
    const double us = r.reg.median * 1e6;
    std::printf("%-22s %12.0f %10.2f %10.2f %8.2fx %6.1f%%\n", r.name.c_str(), 1 / r.reg.median, us,
                r.floor_us, us / r.floor_us, 100 * (r.reg.hi - r.reg.lo) / r.reg.median);
  }
  std::printf("(ratio = us/reg / floor us; target <= 3x. range = (slowest - fastest batch) / median.)\n");

  for (const auto& r : results) {
    const auto& c = r.trace.total;
    std::printf("\n%s: one registration calls hmac %llu, hkdf %llu, gcm_seal %llu, gcm_open %llu\n",
                r.name.c_str(), static_cast<unsigned long long>(c.hmac), static_cast<unsigned long long>(c.hkdf),
                static_cast<unsigned long long>(c.seal), static_cast<unsigned long long>(c.open));
    std::printf("  %-24s %-30s %5s %9s %9s\n", "primitive", "input", "calls", "us/call", "us");
    for (const auto& it : r.items)
      std::printf("  %-24s %-30s %5llu %9.3f %9.3f\n", it.what.c_str(), it.input.c_str(),
                  static_cast<unsigned long long>(it.calls), it.us, static_cast<double>(it.calls) * it.us);
    std::printf("  %-24s %-30s %5s %9s %9.3f\n", "floor", "", "", "", r.floor_us);
  }
  return 0;
}

}  // namespace

// A classic pcap of Ethernet/IPv4/UDP frames holding the SIP messages of complete registrations
// (first suite, a new identity for each), for timing decoders on a large capture.
int write_capture(const Options& o) {
  const crypto::Suite* suite = o.suites.empty() ? &crypto::default_suite() : crypto::find_suite(o.suites.front());
  if (!suite) die("unknown suite " + o.suites.front());
  Rig rig(*suite, o.identities);
  auto codec = wire::make_codec(wire::Binding::sip);
  std::FILE* f = std::fopen(o.capture.c_str(), "wb");
  if (!f) die("cannot write " + o.capture);
  std::vector<std::uint8_t> out;
  out.reserve(16u << 20);
  auto le32 = [&](std::uint32_t v) {
    for (int i = 0; i < 4; ++i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
  };
  le32(0xa1b2c3d4);
  for (int b : {2, 0, 4, 0}) out.push_back(static_cast<std::uint8_t>(b));  // version 2.4
  le32(0);
  le32(0);
  le32(262144);
  le32(1);
  long written = 0;
  std::uint64_t usec = 0;
  std::vector<msg::Message> sent;
  while (written < o.capture_messages) {
    sent.clear();
    rig.register_next(nullptr, &sent);
    for (const auto& m : sent) {
      const auto& spec = msg::spec_of(m);
      if (!codec->carries(spec) || written >= o.capture_messages) continue;
      auto bytes = codec->encode(m);
      if (!bytes) die(std::string(spec.name) + ": " + bytes.error().detail);
      capture::Packet p;
      p.src_ip = msg::documentation_address(spec.from);
      p.dst_ip = msg::documentation_address(spec.to);
      std::tie(p.src_port, p.dst_port) = codec->ports(spec);
      p.payload = std::move(*bytes);
      auto frame = capture::build_frame(p);
      if (!frame) die(frame.error().detail);
      ++usec;
      le32(static_cast<std::uint32_t>(Rig::kNow + usec / 1000000));
      le32(static_cast<std::uint32_t>(usec % 1000000));
      le32(static_cast<std::uint32_t>(frame->size()));
      le32(static_cast<std::uint32_t>(frame->size()));
      out.insert(out.end(), frame->begin(), frame->end());
      ++written;
    }
    if (out.size() > (8u << 20)) {
      if (std::fwrite(out.data(), 1, out.size(), f) != out.size()) die("write failed");
      out.clear();
    }
  }
  if (std::fwrite(out.data(), 1, out.size(), f) != out.size() || std::fclose(f) != 0) die("write failed");
  std::printf("%ld SIP messages written to %s\n", written, o.capture.c_str());
  return 0;
}

int main(int argc, char** argv) {
  Options o;
  CLI::App app{"kd-bench: in-process proxied registrations per second against the crypto floor"};
  app.add_option("--batches", o.batches, "batches per measurement (median reported)")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000));
  app.add_option("--batch-ms", o.batch_ms, "minimum length of a batch, milliseconds")
      ->capture_default_str()
      ->check(CLI::Range(1, 60000));
  app.add_option("--identities", o.identities,
                 "terminal identities used in turn; all states are cleared after each round")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000000));
  app.add_option("--suite", o.suites, "only this suite (repeatable)");
  app.add_option("--profile", o.profile_registrations,
                 "run N registrations per suite untimed and stop (for callgrind or perf)")
      ->check(CLI::PositiveNumber);
  app.add_option("--capture", o.capture,
                 "write a pcap of the SIP messages of complete registrations to this file and stop");
  app.add_option("--messages", o.capture_messages, "messages in --capture (default 1000000)")
      ->check(CLI::PositiveNumber);
  CLI11_PARSE(app, argc, argv);
  if (!o.capture.empty()) return write_capture(o);
  return run(o);
}
