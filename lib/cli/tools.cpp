#include "cli/tools.hpp"

#include <cstdio>
#include <ctime>
#include <iostream>
#include <memory>

#include <CLI/CLI.hpp>

#include "cli/io.hpp"
#include "cli/wire_io.hpp"
#include "crypto/suite.hpp"
#include "flow/roles.hpp"
#include "engine/engine.hpp"
#include "json/codec.hpp"

namespace kd::cli {

namespace {

struct Common {
  std::string tool;
  std::string keys_path, state_path, seed_hex, input = "-";
  std::optional<std::uint64_t> now;
  bool show_key = false;
  std::string id;
  std::string support;
  flow::Policy policy;
  // The wire side (--binding and friends).
  std::string binding = "json", auc_link, secret_file;
  std::vector<std::string> addrs;
  WireOptions wire;
};

void add_common(CLI::App& app, Common& c) {
  app.add_option("input", c.input, "JSON Lines input file ('-' or none: standard input)");
  app.add_option("--keys", c.keys_path, "keystore file (JSON)");
  app.add_option("--state", c.state_path, "state file; created when absent, replaced atomically");
  app.add_option("--seed", c.seed_hex, "hex seed: makes all randomness deterministic");
  app.add_option("--now", c.now, "fix the clock (UNIX seconds)");
  app.add_flag("--show-key", c.show_key, "print the session key on success events");
  app.add_option("--skew", c.policy.skew, "timestamp window in seconds (default 300)");
}

// The wire options. radius: the tool speaks the AuC link (kd-switch, kd-auc).
void add_wire(CLI::App& app, Common& c, bool radius) {
  app.add_option("--binding", c.binding,
                 radius && c.tool == "kd-auc" ? "json (default), or radius (any other binding name also means radius)"
                                              : "signaling binding of the messages printed: json (default), sip, mgcp, h248, h323");
  app.add_option("--pcap-out", c.wire.pcap_out, "append every message sent to this pcap file (needs a wire binding)");
  app.add_option("--addr", c.addrs, "IP address of a role in --pcap-out frames, ROLE=IP (repeatable)");
  if (!radius) return;
  app.add_option("--auc-link", c.auc_link, "the AuC link: radius (default with a signaling binding) or json");
  app.add_option("--radius-secret-file", c.secret_file, "file holding the RADIUS shared secret (first line)");
}

void add_chooser(CLI::App& app, Common& c) {
  app.add_option("--support", c.support,
                 "mechanisms this role may choose, comma-separated (default tls,ipsec-3gpp,ipsec-ike,ipsec-man,kd-app)");
}

void add_challenge_limits(CLI::App& app, Common& c) {
  app.add_option("--challenge-ttl", c.policy.challenge_ttl, "lifetime of a challenge in seconds (default 60)");
}

[[noreturn]] void usage_fail(const Common& c, const std::string& what) {
  std::cerr << c.tool << ": " << what << "\n";
  std::exit(kExitUsage);
}

// Checks the wire options once the command line is parsed, and reads the RADIUS secret.
void resolve_wire(Common& c, bool radius) {
  auto b = wire::parse_binding(c.binding);
  if (!b) usage_fail(c, "--binding: unknown binding \"" + c.binding + "\" (json, sip, mgcp, h248, h323)");
  if (c.tool == "kd-auc") {
    if (*b != wire::Binding::json) b = wire::Binding::radius;
  } else if (*b == wire::Binding::radius) {
    usage_fail(c, "--binding radius: RADIUS carries only the AuC link; choose sip, mgcp, h248 or h323"
                  + std::string(radius ? " (and --auc-link radius)" : ""));
  }
  c.wire.binding = *b;
  for (const auto& a : c.addrs)
    if (auto why = parse_addr(a, c.wire)) usage_fail(c, *why);
  if (c.wire.pcap_out == "-") usage_fail(c, "--pcap-out -: the standard output carries the JSON lines; name a file");
  if (!c.wire.pcap_out.empty() && *b == wire::Binding::json && c.auc_link != "radius")
    usage_fail(c, "--pcap-out needs a wire binding (--binding sip, mgcp, h248 or h323" +
                      std::string(radius ? ", or --auc-link radius)" : ")"));
  if (!radius) return;
  if (!c.auc_link.empty()) {
    if (c.auc_link != "radius" && c.auc_link != "json") usage_fail(c, "--auc-link must be radius or json");
    c.wire.radius_link = c.auc_link == "radius";
  }
  const bool link = c.wire.radius_link.value_or(*b != wire::Binding::json);
  if (!c.secret_file.empty()) {
    c.wire.radius_secret = read_radius_secret(c.secret_file, c.tool);
  } else if (link) {
    usage_fail(c, "the AuC link speaks RADIUS here: give --radius-secret-file FILE (or --auc-link json)");
  }
}

Bytes parse_seed(const Common& c) {
  if (c.seed_hex.empty()) return {};
  auto b = from_hex(c.seed_hex);
  if (!b || b->empty() || b->size() > 64) usage_fail(c, "--seed must be 1 to 64 bytes of hex");
  return *b;
}

int parse_cli(CLI::App& app, int argc, char** argv) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int r = app.exit(e);
    return r == 0 ? -1 : kExitUsage;  // -1: help was printed, exit 0
  }
  return 0;
}

flow::Keystore read_keystore_file(const Common& c, const std::string& path) {
  auto text = read_file(path);
  if (!text) throw IoError{"keystore " + path + " does not exist (create it with kd-auc keys init)"};
  if (readable_by_others(path))
    std::cerr << c.tool << ": warning: keystore " << path << " is readable by group or others (chmod 600 " << path << ")\n";
  auto ks = json::decode_keystore(*text);
  secure_wipe(text->data(), text->size());
  if (!ks) throw IoError{"keystore " + path + ": " + ks.error().detail};
  return std::move(*ks);
}

flow::Keystore load_keys(const Common& c) {
  if (c.keys_path.empty()) return {};
  return read_keystore_file(c, c.keys_path);
}

// One run of a role tool over its state file: load, feed lines, print, save if changed.
class Session {
public:
  Session(Common& c, msg::Role role) : c_(c) {
    engine::Settings s;
    s.seed = parse_seed(c);
    if (!c.support.empty()) {
      auto names = flow::parse_name_list(c.support);
      if (!names) usage_fail(c, "--support: " + names.error().detail);
      c.policy.supported = *names;
    }
    s.policy = c.policy;
    s.now = c.now ? *c.now : static_cast<std::uint64_t>(std::time(nullptr));
    s.self_id = c.id;
    s.show_key = c.show_key;
    keys_ = load_keys(c);
    std::string text;
    if (!c.state_path.empty()) {
      lock_ = std::make_unique<FileLock>(c.state_path);
      if (auto t = read_file(c.state_path)) text = std::move(*t);
    }
    now_ = s.now;
    auto e = engine::make_engine(role, keys_, std::move(s), text);
    if (!e) throw IoError{"state file " + c.state_path + ": " + e.error().detail};
    engine_ = std::move(*e);
    wire_ = std::make_unique<WireSide>(c.wire, role);
  }

  engine::RoleEngine& engine() { return *engine_; }

  void print(const engine::Outcome& o) {
    for (std::size_t i = 0; i < o.lines.size(); ++i) {
      if (i >= o.messages.size()) {
        std::cout << o.lines[i] << "\n";
        continue;
      }
      auto out = wire_->outgoing(o.messages[i], now_, i < o.previous.size() ? ByteView(o.previous[i]) : ByteView());
      if (!out) throw IoError{std::string(msg::spec_of(o.messages[i]).name) + ": cannot encode: " + out.error().detail};
      std::cout << *out << "\n";
    }
    if (!o.error) return;
    rejected_ = true;
    std::cerr << c_.tool << ": error: " << code_name(o.error->code);
    if (!o.step.empty()) std::cerr << " (" << o.step << ")";
    std::cerr << ": " << o.error->detail << "\n";
  }

  void feed() {
    Input in(c_.input, false);
    InputItem item;
    while (in.next(item)) {
      std::string step;
      if (item.kind == InputItem::Kind::line) {
        Bytes wire;
        auto m = wire_->from_line(item.line, &step, &wire);
        print(m ? engine_->feed_message(*m, wire) : engine_->reject(m.error(), step));
        continue;
      }
      wire::Binding used = wire::Binding::json;
      auto m = wire_->from_packet(item.packet, &used);
      if (!m) continue;
      if (!*m) {
        print(engine_->reject(m->error(), "frame " + std::to_string(item.packet.frame)));
        continue;
      }
      print(engine_->feed_message(**m, used == wire::Binding::radius ? ByteView() : ByteView(item.packet.payload)));
    }
    if (const auto* st = in.capture_stats()) {
      const std::uint64_t other = wire_->skipped_other_role(), foreign = wire_->skipped_foreign();
      const std::uint64_t cut = st->truncated + st->bad_headers;
      const std::string lost = capture::describe_losses(*st);
      if (other + foreign + cut > 0 || st->packets == 0 || !lost.empty())
        std::cerr << c_.tool << ": note: " << c_.input << ": " << st->frames << " frames; " << other
                  << " KD messages for other roles, " << foreign << " packets not KD, " << cut
                  << " frames truncated or damaged, skipped" << (lost.empty() ? "" : "; lost: ") << lost << "\n";
    }
  }

  int finish() {
    std::cout.flush();
    if (!c_.state_path.empty() && engine_->changed())
      write_file_atomic(c_.state_path, engine_->state_text());
    return rejected_ ? kExitRejected : kExitOk;
  }

private:
  Common& c_;
  flow::Keystore keys_;
  std::unique_ptr<engine::RoleEngine> engine_;
  std::unique_ptr<FileLock> lock_;
  std::unique_ptr<WireSide> wire_;
  std::uint64_t now_ = 0;
  bool rejected_ = false;
};

// Runs body, turning file errors into exit status 3.
template <class F>
int guarded(const Common& c, F&& body) {
  try {
    return body();
  } catch (const IoError& e) {
    std::cerr << c.tool << ": " << e.what << "\n";
    return kExitFile;
  }
}

}  // namespace

int term_main(int argc, char** argv) {
  Common c;
  c.tool = "kd-term";
  CLI::App app{"kd-term: the terminal role of kd (registration-time key distribution)"};
  add_common(app, c);
  flow::StartParams sp;
  std::string mechs = "tls:0.9,ipsec-3gpp:0.5,kd-app:0.1";
  sp.suite = std::string(crypto::default_suite().name);
  sp.contact = "127.0.0.1:5060";
  auto* start = app.add_subcommand("start", "print the first message of a registration");
  start->add_option("--id", sp.idc, "this terminal's identity (IDc)")->required();
  start->add_option("--via", sp.via, "the signaling proxy's identity (IDsp): proxied flow");
  start->add_option("--switch", sp.sw, "the soft switch's identity (IDss)")->required();
  start->add_option("--suite", sp.suite, "cipher suite (default KD-AES128GCM-SHA256)");
  start->add_option("--mechs", mechs, "security mechanisms with priorities, name[:q],... (q 0..1)");
  start->add_option("--contact", sp.contact, "contact address IPc (default 127.0.0.1:5060)");
  add_wire(app, c, false);
  for (auto* sub : {start}) {
    add_wire(*sub, c, false);
    sub->add_option("--keys", c.keys_path, "keystore file (JSON)");
    sub->add_option("--state", c.state_path, "state file");
    sub->add_option("--seed", c.seed_hex, "hex seed");
    sub->add_option("--now", c.now, "fix the clock (UNIX seconds)");
    sub->add_flag("--show-key", c.show_key, "accepted for symmetry; start prints no key");
    sub->add_option("--skew", c.policy.skew, "timestamp window in seconds (default 300)");
  }
  if (int r = parse_cli(app, argc, argv)) return r < 0 ? 0 : r;

  return guarded(c, [&]() {
    resolve_wire(c, false);
    Session s(c, msg::Role::term);
    if (!*start) {
      s.feed();
      return s.finish();
    }
    auto list = flow::parse_mech_arg(mechs);
    if (!list) usage_fail(c, "--mechs: " + list.error().detail);
    sp.mechs = *list;
    s.print(s.engine().start(sp));
    return s.finish();
  });
}

int proxy_main(int argc, char** argv) {
  Common c;
  c.tool = "kd-proxy";
  std::string source;
  CLI::App app{"kd-proxy: the signaling proxy (SBC) role of kd"};
  add_common(app, c);
  add_chooser(app, c);
  app.add_option("--id", c.id, "this proxy's identity (IDsp)")->required();
  app.add_option("--source", source, "address the terminal's messages came from; rewrites IPc (NAT)");
  add_wire(app, c, false);
  if (int r = parse_cli(app, argc, argv)) return r < 0 ? 0 : r;
  if (auto st = msg::check_identity("--id", c.id); !st) usage_fail(c, st.error().detail);
  if (!source.empty())
    if (auto st = msg::check_ip(source); !st) usage_fail(c, "--source: " + st.error().detail);
  return guarded(c, [&]() {
    resolve_wire(c, false);
    Session s(c, msg::Role::proxy);
    s.engine().settings().observed_source = source;
    s.feed();
    return s.finish();
  });
}

int switch_main(int argc, char** argv) {
  Common c;
  c.tool = "kd-switch";
  CLI::App app{"kd-switch: the soft switch role of kd"};
  add_common(app, c);
  add_chooser(app, c);
  add_challenge_limits(app, c);
  app.add_option("--id", c.id, "this switch's identity (IDss)")->required();
  app.add_option("--max-attempts", c.policy.max_attempts,
                 "wrong verification words before a terminal is locked out (default 3)")
      ->check(CLI::Range(1u, 100u));
  app.add_option("--lockout", c.policy.lockout,
                 "seconds a terminal stays locked out after --max-attempts wrong answers (default 300)");
  add_wire(app, c, true);
  if (int r = parse_cli(app, argc, argv)) return r < 0 ? 0 : r;
  if (auto st = msg::check_identity("--id", c.id); !st) usage_fail(c, st.error().detail);
  return guarded(c, [&]() {
    resolve_wire(c, true);
    Session s(c, msg::Role::sw);
    s.feed();
    return s.finish();
  });
}

namespace {

int keys_main(CLI::App& keys, const Common& c, const std::string& file, bool force,
              const std::string& id, const std::string& role, const std::string& key_hex) {
  auto refuse = [&](const std::string& what) {
    std::cerr << c.tool << ": error: " << what << "\n";
    return kExitRejected;
  };
  FileLock lock(file);  // two concurrent adds must not lose an entity
  if (keys.got_subcommand("init")) {
    if (!force && read_file(file)) return refuse(file + " exists; use --force to replace it");
    write_file_atomic(file, json::encode_keystore({}));
    return kExitOk;
  }
  flow::Keystore ks = read_keystore_file(c, file);
  if (keys.got_subcommand("list")) {
    for (const auto& [eid, e] : ks.entities) std::cout << eid << " " << msg::role_name(e.role) << "\n";
    return kExitOk;
  }
  if (auto st = msg::check_identity("--id", id); !st) usage_fail(c, st.error().detail);
  if (keys.got_subcommand("export")) {
    const flow::Entity* e = ks.find(id);
    if (!e) return refuse(id + " is not in " + file);
    flow::Keystore one;
    one.entities.emplace(id, *e);
    std::cout << json::encode_keystore(one);
    return kExitOk;
  }
  // add
  auto r = msg::parse_role(role);
  if (!r || *r == msg::Role::auc) usage_fail(c, "--role must be term, proxy or switch");
  if (ks.find(id)) return refuse(id + " is already in " + file);
  flow::Entity e{id, *r, {}};
  if (!key_hex.empty()) {
    auto b = from_hex(key_hex);
    if (!b || b->size() < 16 || b->size() > 64) usage_fail(c, "--key must be 16 to 64 bytes of hex");
    e.key = Secret(*b);
    secure_wipe(b->data(), b->size());
  } else if (!c.seed_hex.empty()) {
    crypto::SeededRandom rng(parse_seed(c), "keystore", id, to_bytes(role));
    e.key = rng.draw_secret(32);
  } else {
    crypto::OsRandom rng;
    e.key = rng.draw_secret(32);
  }
  ks.entities.emplace(id, std::move(e));
  write_file_atomic(file, json::encode_keystore(ks));
  return kExitOk;
}

}  // namespace

int auc_main(int argc, char** argv) {
  Common c;
  c.tool = "kd-auc";
  c.id = "auc";
  CLI::App app{"kd-auc: the authentication center role of kd, and its keystore"};
  add_common(app, c);
  add_challenge_limits(app, c);
  app.add_option("--id", c.id, "this AuC's name, used only to seed --seed randomness (default auc)");
  add_wire(app, c, true);
  auto* keys = app.add_subcommand("keys", "manage the keystore");
  keys->require_subcommand(1);
  std::string file, id, role, key_hex;
  bool force = false;
  auto* init = keys->add_subcommand("init", "create an empty keystore");
  init->add_option("file", file, "keystore file")->required();
  init->add_flag("--force", force, "replace an existing file");
  auto* add = keys->add_subcommand("add", "add an entity with a fresh random key");
  add->add_option("file", file, "keystore file")->required();
  add->add_option("--id", id, "the entity's identity")->required();
  add->add_option("--role", role, "term, proxy or switch")->required();
  add->add_option("--key", key_hex, "use this key (hex, 16 to 64 bytes) instead of a fresh one");
  add->add_option("--seed", c.seed_hex, "derive the key from this hex seed (tests and demos only)");
  auto* exp = keys->add_subcommand("export", "print a keystore holding only one entity");
  exp->add_option("file", file, "keystore file")->required();
  exp->add_option("--id", id, "the entity to export")->required();
  auto* list = keys->add_subcommand("list", "print each entity's identity and role (no keys)");
  list->add_option("file", file, "keystore file")->required();
  if (int r = parse_cli(app, argc, argv)) return r < 0 ? 0 : r;

  return guarded(c, [&]() {
    if (*keys) return keys_main(*keys, c, file, force, id, role, key_hex);
    if (auto st = msg::check_identity("--id", c.id); !st) usage_fail(c, st.error().detail);
    resolve_wire(c, true);
    Session s(c, msg::Role::auc);
    s.feed();
    return s.finish();
  });
}

}  // namespace kd::cli
