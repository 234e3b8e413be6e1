#include "cli/tools.hpp"

#include <cstdio>
#include <ctime>
#include <iostream>
#include <memory>

#include <CLI/CLI.hpp>

#include "cli/io.hpp"
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

// Reads lines without ever holding more than kMaxLine + 1 bytes of one: a longer line is
// truncated here and rejected as oversized by the decoder.
class LineReader {
public:
  explicit LineReader(std::FILE* f) : f_(f) {}
  bool next(std::string& line) {
    line.clear();
    bool any = false;
    int ch;
    while ((ch = std::fgetc(f_)) != EOF) {
      any = true;
      if (ch == '\n') break;
      if (line.size() <= json::kMaxLine) line.push_back(static_cast<char>(ch));
    }
    if (!line.empty() && line.back() == '\r') line.pop_back();
    return any;
  }

private:
  std::FILE* f_;
};

bool blank(const std::string& s) { return s.find_first_not_of(" \t") == std::string::npos; }

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
    auto e = engine::make_engine(role, keys_, std::move(s), text);
    if (!e) throw IoError{"state file " + c.state_path + ": " + e.error().detail};
    engine_ = std::move(*e);
  }

  engine::RoleEngine& engine() { return *engine_; }

  void print(const engine::Outcome& o) {
    for (const auto& l : o.lines) std::cout << l << "\n";
    if (!o.error) return;
    rejected_ = true;
    std::cerr << c_.tool << ": error: " << code_name(o.error->code);
    if (!o.step.empty()) std::cerr << " (" << o.step << ")";
    std::cerr << ": " << o.error->detail << "\n";
  }

  void feed() {
    std::FILE* f = stdin;
    if (c_.input != "-") {
      f = std::fopen(c_.input.c_str(), "rb");
      if (!f) throw IoError{"cannot open input " + c_.input};
    }
    LineReader reader(f);
    std::string line;
    while (reader.next(line))
      if (!blank(line)) print(engine_->feed(line));
    if (f != stdin) std::fclose(f);
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
  for (auto* sub : {start}) {
    sub->add_option("--keys", c.keys_path, "keystore file (JSON)");
    sub->add_option("--state", c.state_path, "state file");
    sub->add_option("--seed", c.seed_hex, "hex seed");
    sub->add_option("--now", c.now, "fix the clock (UNIX seconds)");
    sub->add_flag("--show-key", c.show_key, "accepted for symmetry; start prints no key");
    sub->add_option("--skew", c.policy.skew, "timestamp window in seconds (default 300)");
  }
  if (int r = parse_cli(app, argc, argv)) return r < 0 ? 0 : r;

  return guarded(c, [&]() {
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
  if (int r = parse_cli(app, argc, argv)) return r < 0 ? 0 : r;
  if (auto st = msg::check_identity("--id", c.id); !st) usage_fail(c, st.error().detail);
  if (!source.empty())
    if (auto st = msg::check_ip(source); !st) usage_fail(c, "--source: " + st.error().detail);
  return guarded(c, [&]() {
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
  if (int r = parse_cli(app, argc, argv)) return r < 0 ? 0 : r;
  if (auto st = msg::check_identity("--id", c.id); !st) usage_fail(c, st.error().detail);
  return guarded(c, [&]() {
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
    Session s(c, msg::Role::auc);
    s.feed();
    return s.finish();
  });
}

}  // namespace kd::cli
