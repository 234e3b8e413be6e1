#include "engine/engine.hpp"

#include "crypto/protocol.hpp"
#include "crypto/suite.hpp"
#include "json/event.hpp"
#include "json/message.hpp"
#include "json/state.hpp"

namespace kd::engine {

namespace {

template <class State>
struct Traits;
template <>
struct Traits<flow::TermState> {
  static constexpr auto role = msg::Role::term;
  static constexpr auto decode = json::decode_term_state;
  static constexpr auto handle = flow::term_handle;
};
template <>
struct Traits<flow::ProxyState> {
  static constexpr auto role = msg::Role::proxy;
  static constexpr auto decode = json::decode_proxy_state;
  static constexpr auto handle = flow::proxy_handle;
};
template <>
struct Traits<flow::SwitchState> {  // no decode: the file also holds the edge's kept requests (build())
  static constexpr auto role = msg::Role::sw;
  static constexpr auto handle = flow::switch_handle;
};
template <>
struct Traits<flow::AucState> {
  static constexpr auto role = msg::Role::auc;
  static constexpr auto decode = json::decode_auc_state;
  static constexpr auto handle = flow::auc_handle;
};

template <class State>
class Engine final : public RoleEngine {
public:
  Engine(const flow::Keystore& keys, Settings s, State st, json::KeptRequests requests)
      : keys_(keys), state_(std::move(st)), requests_(std::move(requests)) {
    settings_ = std::move(s);
  }

  Outcome feed_message(const msg::Message& m, ByteView wire) override {
    Outcome o;
    o.step = msg::spec_of(m).name;
    // The canonical encoding seeds --seed's streams; the system's randomness needs none.
    run(o, settings_.seed.empty() ? Bytes{} : msg::canonical(m),
        Traits<State>::role == msg::Role::term ? *m.IDc : settings_.self_id,
        [&](State& st, flow::Context& ctx) { return Traits<State>::handle(st, m, ctx); });
    link_previous(m, wire, o);
    return o;
  }

  Outcome reject(Error e, std::string_view step) override {
    Outcome o;
    o.step = step;
    fail(o, std::move(e));
    return o;
  }

  Outcome start(const flow::StartParams& p) override {
    Outcome o;
    o.step = p.via ? "s1" : "d1";
    if constexpr (std::is_same_v<State, flow::TermState>) {
      if (!crypto::find_suite(p.suite)) {
        fail(o, err(Code::unknown_suite, "unknown suite \"" + p.suite + "\""));
        return o;
      }
      auto tmpl = flow::start_template(p, settings_.now);
      if (!tmpl) {
        fail(o, tmpl.error());
        return o;
      }
      run(o, msg::canonical(*tmpl), p.idc,
          [&](State& st, flow::Context& ctx) { return flow::term_start(st, p, ctx); });
    } else {
      fail(o, err(Code::wrong_recipient, "only the terminal starts a registration"));
    }
    return o;
  }

  std::string state_text() const override {
    if constexpr (std::is_same_v<State, flow::SwitchState>) return json::encode_state(state_, requests_);
    else return json::encode_state(state_);
  }
  void write_state_changes(std::string& out) const override {
    if constexpr (std::is_same_v<State, flow::SwitchState>) json::append_state_changes(out, state_, requests_);
    else json::append_state_changes(out, state_);
  }
  // The state's maps keep what they were at the last save for each entry changed since
  // (TrackedMap): both cost what the inputs since changed, not what the state holds.
  bool changed() const override {
    if constexpr (std::is_same_v<State, flow::SwitchState>) return json::state_changed(state_, requests_);
    else return json::state_changed(state_);
  }
  void mark_saved() override {
    if constexpr (std::is_same_v<State, flow::SwitchState>) json::mark_state_saved(state_, requests_);
    else json::mark_state_saved(state_);
  }
  void set_tracking(bool on) override {
    if constexpr (std::is_same_v<State, flow::SwitchState>) json::track_state_changes(state_, requests_, on);
    else json::track_state_changes(state_, on);
  }

private:
  template <class F>
  void run(Outcome& o, const Bytes& input, const std::string& self_id, F&& handle) {
    std::unique_ptr<RandomSource> seeded;
    if (!settings_.seed.empty())
      seeded = std::make_unique<crypto::SeededRandom>(settings_.seed, msg::role_name(Traits<State>::role), self_id, input);
    RandomSource* rng = seeded ? seeded.get() : &os_random_;
    flow::Context ctx;
    ctx.now = settings_.now;
    ctx.rng = rng;
    ctx.keys = &keys_;
    ctx.derived = &derived_;
    ctx.policy = &settings_.policy;
    ctx.self_id = settings_.self_id;
    ctx.observed_source = settings_.observed_source;
    // Every role changes its state only when it accepts an input or counts its refusal
    // (keep_state_on_error; roles.hpp), so it is handed the state itself: a copy per input costs
    // time in proportion to the state, and n inputs n^2.
    flow::Output out = handle(state_, ctx);
    for (auto& m : out.messages) o.sent.push_back({std::move(m), {}});
    o.events = std::move(out.events);
    if (out.error) fail(o, *out.error);
  }

  // Outcome::previous: what each message sent answers or forwards. The proxy answers and forwards
  // what it has just received; the switch keeps a terminal's request (s2, s8, d1, d5) in its state,
  // because it answers s2 and d1 only after the AuC has (s5, d4); the AuC's one answer (s4, d3) is
  // to the request it has just received, whose RADIUS Identifier and authenticator it carries.
  void link_previous(const msg::Message& in, ByteView wire, Outcome& o) {
    const msg::StepSpec& got = msg::spec_of(in);
    if constexpr (std::is_same_v<State, flow::AucState>) {
      for (auto& s : o.sent) s.previous = Bytes(wire.begin(), wire.end());
    } else if constexpr (std::is_same_v<State, flow::ProxyState>) {
      for (auto& s : o.sent)
        if (msg::previous_step(msg::spec_of(s.message)) == &got) s.previous = Bytes(wire.begin(), wire.end());
    } else if constexpr (std::is_same_v<State, flow::SwitchState>) {
      if (!o.error && got.from != msg::Role::auc) {
        if (wire.empty()) requests_.erase(*in.IDc);
        else requests_[*in.IDc] = Bytes(wire.begin(), wire.end());
      }
      for (auto& s : o.sent) {
        const auto& m = s.message;
        auto it = requests_.find(*m.IDc);
        if (msg::previous_step(msg::spec_of(m)) && it != requests_.end()) s.previous = it->second;
      }
      // A request is kept as long as its registration is. Only the input's IDc can have lost its
      // registration; the first input also drops any a loaded file kept without one (a walk over
      // all of them per input made n inputs cost n^2).
      if (swept_) {
        if (!state_.regs.count(*in.IDc)) requests_.erase(*in.IDc);
      } else {
        requests_.erase_if([&](const auto& kv) { return !state_.regs.count(kv.first); });
        swept_ = true;
      }
    }
  }

  void fail(Outcome& o, Error e) { o.error = std::move(e); }

  const flow::Keystore& keys_;
  // What keys_'s entities derive, kept for the engine's life: a registration then costs two HKDF
  // calls instead of eight. A service that reloads its keys builds a new engine (a new cache);
  // a key changed in place is derived again (crypto::DerivedKeys).
  crypto::DerivedKeys derived_;
  crypto::OsRandom os_random_;
  State state_;
  // The switch's edge: by IDc, the request its answer will echo (kept in the state file, never
  // shown to the role). Empty for the other roles.
  json::KeptRequests requests_;
  bool swept_ = false;  // requests_ holds none without a registration
};

template <class State>
Result<std::unique_ptr<RoleEngine>> build(const flow::Keystore& keys, Settings s, std::string_view text) {
  State st;
  json::KeptRequests requests;
  if (!text.empty()) {
    Result<State> d = err(Code::malformed, "");
    if constexpr (std::is_same_v<State, flow::SwitchState>) d = json::decode_switch_state(text, &requests);
    else d = Traits<State>::decode(text);
    if (!d) return d.error();
    st = std::move(*d);
  }
  return std::unique_ptr<RoleEngine>(new Engine<State>(keys, std::move(s), std::move(st), std::move(requests)));
}

}  // namespace

Result<std::unique_ptr<RoleEngine>> make_engine(msg::Role role, const flow::Keystore& keys,
                                                Settings settings, std::string_view state_text) {
  switch (role) {
    case msg::Role::term: return build<flow::TermState>(keys, std::move(settings), state_text);
    case msg::Role::proxy: return build<flow::ProxyState>(keys, std::move(settings), state_text);
    case msg::Role::sw: return build<flow::SwitchState>(keys, std::move(settings), state_text);
    case msg::Role::auc: return build<flow::AucState>(keys, std::move(settings), state_text);
  }
  return err(Code::malformed, "unknown role");
}

std::vector<std::string> json_lines(const Outcome& o, bool show_key) {
  std::vector<std::string> lines;
  lines.reserve(o.sent.size() + o.events.size() + 1);
  for (const auto& s : o.sent) lines.push_back(json::encode_message(s.message));
  for (const auto& e : o.events) lines.push_back(json::encode_event(e, show_key));
  if (o.error) lines.push_back(json::encode_error(*o.error, o.step));
  return lines;
}

}  // namespace kd::engine
