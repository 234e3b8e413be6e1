#include "cli/tools.hpp"
#include "cli/completion.hpp"

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <iostream>
#include <memory>

#include <fcntl.h>
#include <unistd.h>

#include <CLI/CLI.hpp>

#include "cli/io.hpp"
#include "cli/load.hpp"
#include "cli/options.hpp"
#include "cli/serve.hpp"
#include "cli/wire_io.hpp"
#include "crypto/suite.hpp"
#include "flow/roles.hpp"
#include "engine/engine.hpp"
#include "json/event.hpp"
#include "json/keystore.hpp"
#include "json/line.hpp"
#include "net/response_journal.hpp"

namespace kd::cli {

namespace {

struct Common {
  std::string tool;
  std::string keys_path, state_path, seed_hex, input = "-";
  std::optional<std::uint64_t> now;
  bool show_key = false;
  std::string id;
  std::optional<std::string> support;  // set when --support was given, even empty
  flow::Policy policy;
  // The wire edge (--binding and friends).
  std::string binding = "json", auc_link, secret_file;
  std::vector<std::string> addrs, decode_as;
  WireOptions wire;
};

// --seed: 1 to 64 bytes of hex, checked as the command line is read (an empty one too).
CLI::Validator seed_hex() {
  return CLI::Validator(
      [](const std::string& v) {
        auto b = from_hex(v);
        return b && !b->empty() && b->size() <= 64 ? std::string() : std::string("must be 1 to 64 bytes of hex");
      },
      "HEX");
}

void add_common(CLI::App& app, Common& c) {
  app.add_option("input", c.input,
                 "input: JSON Lines (messages or wire lines) or a pcap/pcapng capture ('-' or none: standard input)");
  add_keys(app, c.keys_path, "keystore file (JSON)");
  refuse_empty(app.add_option("--state", c.state_path, "state file; created when absent, replaced atomically"),
               "a file name");
  app.add_option("--seed", c.seed_hex, "hex seed: makes all randomness deterministic")->check(seed_hex());
  add_number(app, "--now", c.now, {0, kMaxNow}, "fix the clock (UNIX seconds)");
  app.add_flag("--show-key", c.show_key,
               c.tool == "kd-auc" ? "accepted for symmetry with the other roles: the AuC's events carry no session key"
                                  : "print the session key on success events");
  add_skew(app, c.policy.skew, "timestamp window in seconds (default 300)");
}

// The wire options. radius: the tool speaks the AuC link (kd-switch, kd-auc).
void add_wire(CLI::App& app, Common& c, bool radius) {
  add_binding(app, c.binding,
              radius && c.tool == "kd-auc" ? "json (default), or radius (any other binding name also means radius)"
                                           : "signaling binding of the messages printed: json (default), " +
                                                 wire::binding_names({wire::Carrier::signaling}));
  refuse_empty(app.add_option("--pcap-out", c.wire.pcap_out,
                              "append every message sent to this pcap file (needs a wire binding)"),
               "a file name");
  add_addr(app, c.addrs, "IP address of a role in --pcap-out frames, ROLE=IP (repeatable)");
  add_decode_as(app, c.decode_as);
  if (!radius) return;
  app.add_option("--auc-link", c.auc_link, "the AuC link: radius (default with a signaling binding) or json");
  add_radius_secret_file(app, c.secret_file, "file holding the RADIUS shared secret (first line)");
}

void add_chooser(CLI::App& app, Common& c) {
  app.add_option("--support", c.support,
                 "mechanisms this role may choose, comma-separated (default tls,ipsec-3gpp,ipsec-ike,ipsec-man,kd-app)");
}

void add_challenge_limits(CLI::App& app, Common& c) {
  add_number(app, "--challenge-ttl", c.policy.challenge_ttl, {}, "lifetime of a challenge in seconds (default 60)");
}

// An event or error line a tool printed ({"event":...} without "to"): output, which every tool
// skips when a pipeline hands it back. A message that carries an "event" member is still a message.
bool is_event_line(std::string_view line) {
  return line.find("\"event\"") != std::string_view::npos && json::string_field(line, "event") &&
         !json::string_field(line, "to");
}

// Checks the wire options once the command line is parsed, and reads the RADIUS secret.
// --pcap-out naming a file the tool also reads or replaces (the state, its lock or journal, the
// keystore, the RADIUS secret): the state's rename would win and the frames be lost, or the
// capture would overwrite what the tool reads. Refused (exit 3) before any of them is read.
void check_pcap_out_apart(const Common& c) {
  const std::string& out = c.wire.pcap_out;
  if (out.empty()) return;
  std::vector<std::pair<std::string, std::string>> others;  // {what, path}
  if (!c.state_path.empty())
    for (const auto& [what, suffix] : {std::pair<std::string, std::string>{"--state", ""},
                                       {"the lock file of --state", ".lock"},
                                       {"the journal of --state", ".journal"}})
      others.emplace_back(what, c.state_path + suffix);
  if (!c.keys_path.empty()) others.emplace_back("--keys", c.keys_path);
  if (!c.secret_file.empty()) others.emplace_back("--radius-secret-file", c.secret_file);
  for (const auto& [what, path] : others)
    if (files::same_file(out, path))
      throw IoError{"--pcap-out " + out + ": the same file as " + what + " " + path +
                    ": name another file for the capture"};
}

void resolve_wire(Common& c, bool radius) {
  auto b = wire::parse_binding(c.binding);
  if (!b)
    throw UsageError("--binding: unknown binding \"" + c.binding + "\" (" +
                      (c.tool == "kd-auc" ? "json or radius"
                                          : wire::binding_names({wire::Carrier::logical, wire::Carrier::signaling})) +
                      ")");
  if (c.tool == "kd-auc") {
    if (*b != wire::Binding::json) b = wire::Binding::radius;
  } else if (*b == wire::Binding::radius) {
    throw UsageError("--binding radius: RADIUS carries only the AuC link; choose " +
                     wire::binding_names({wire::Carrier::signaling}, " or ")
                  + std::string(radius ? " (and --auc-link radius)" : ""));
  }
  c.wire.binding = *b;
  for (const auto& a : c.addrs)
    if (auto why = parse_addr(a, c.wire)) throw UsageError(*why);
  if (auto why = check_pcap_out(c.wire, c.now.value_or(static_cast<std::uint64_t>(std::time(nullptr)))))
    throw UsageError(*why);
  for (const auto& d : c.decode_as)
    if (auto why = parse_decode_as(d, c.wire)) throw UsageError(*why);
  if (c.wire.pcap_out == "-") throw UsageError("--pcap-out -: the standard output carries the JSON lines; name a file");
  if (!c.wire.pcap_out.empty() && *b == wire::Binding::json && c.auc_link != "radius")
    throw UsageError("--pcap-out needs a wire binding (--binding " + wire::binding_names({wire::Carrier::signaling}, " or ") +
                      std::string(radius ? ", or --auc-link radius)" : ")"));
  check_pcap_out_apart(c);
  if (!radius) {
    if (auto why = check_decode_as(c.wire, c.tool, false)) throw UsageError(*why);
    return;
  }
  if (!c.auc_link.empty()) {
    if (c.auc_link != "radius" && c.auc_link != "json") throw UsageError("--auc-link must be radius or json");
    c.wire.radius_link = c.auc_link == "radius";
  }
  const bool link = c.wire.radius_link.value_or(*b != wire::Binding::json);
  if (!c.secret_file.empty()) {
    c.wire.radius_secret = read_radius_secret(c.secret_file, c.tool);
  } else if (link) {
    throw UsageError("the AuC link speaks RADIUS here: give --radius-secret-file FILE (or --auc-link json)");
  }
  if (auto why = check_decode_as(c.wire, c.tool, true)) throw UsageError(*why);
}

Bytes parse_seed(const Common& c) {
  if (c.seed_hex.empty()) return {};
  auto b = from_hex(c.seed_hex);
  if (!b || b->empty() || b->size() > 64) throw UsageError("--seed must be 1 to 64 bytes of hex");
  return *b;
}

flow::Keystore load_keys(const Common& c) {
  if (c.keys_path.empty()) return {};
  return read_keystore(c.keys_path, c.tool);
}

// The standard output was closed when the tool started (hold_standard_fds).
bool stdout_was_closed = false;

// A standard descriptor (0, 1, 2) closed when the tool starts is taken by /dev/null opened the
// other way (the input write-only, the outputs read-only): no file the tool opens can become its
// standard input or output (its lines would go into the lock file, a capture or a state file), and
// reading or writing it fails, as it must.
void hold_standard_fds() {
  for (int fd = 0; fd <= 2; ++fd) {
    if (::fcntl(fd, F_GETFD) != -1 || errno != EBADF) continue;
    const int n = ::open("/dev/null", fd == 0 ? O_WRONLY : O_RDONLY);
    if (n >= 0 && n != fd) {
      ::dup2(n, fd);
      ::close(n);
    }
    if (fd == 1) stdout_was_closed = true;
  }
}

// errno of write_stdout's first failed write (0: none failed).
std::atomic<int> stdout_errno{0};

// Why the standard output could not take what was written to it, once flushed; nullopt when it did.
// earlier: errno as the caller's last write left it (0: not known).
std::optional<std::string> stdout_failure(int earlier = 0) {
  errno = 0;
  std::cout.flush();
  int e = errno != 0 ? errno : earlier != 0 ? earlier : stdout_errno.load();
  const bool flushed = std::fflush(stdout) == 0;
  if (e == 0) e = errno;
  if (std::cout && flushed && !std::ferror(stdout)) return std::nullopt;
  if (stdout_was_closed) return std::string("it was closed when the tool started");
  return e != 0 ? std::string(std::strerror(e)) : std::string("a write failed");
}

// The settings a role's engine starts with, from the common options.
engine::Settings make_settings(Common& c) {
  engine::Settings s;
  s.seed = parse_seed(c);
  if (c.support) {
    if (c.support->empty()) throw UsageError("--support: the list is empty (name at least one mechanism)");
    auto names = flow::parse_name_list(*c.support);
    if (!names) throw UsageError("--support: " + names.error().detail);
    c.policy.supported = *names;
  }
  s.policy = c.policy;
  s.now = c.now ? *c.now : static_cast<std::uint64_t>(std::time(nullptr));
  s.self_id = c.id;
  return s;
}

// One run of a role tool over its state file: load, feed lines, print, save if changed.
class Session {
public:
  Session(Common& c, msg::Role role) : c_(c) {
    engine::Settings s = make_settings(c);
    keys_ = load_keys(c);
    std::string text;
    if (!c.state_path.empty()) {
      lock_ = std::make_unique<FileLock>(c.state_path, "state file");
      StdReport report{std::string(c.tool)};
      net::fold_journal(c.state_path, c.tool, report);  // what a service stopped by a crash had changed
      if (auto t = read_file(c.state_path, "state file")) text = std::move(*t);
      // The switch's holds expected verification words, every role's its exchanges under way.
      if (!text.empty()) warn_if_readable(c.tool, "state file", c.state_path);
    }
    now_ = s.now;
    auto e = engine::make_engine(role, keys_, std::move(s), text);
    if (!e) throw IoError{"state file " + c.state_path + ": " + e.error().detail};
    engine_ = std::move(*e);
    // Without a state file nothing is ever saved: a record of the changes (each changed entry's
    // previous value, kept until a save) would only grow, for as long as the run or service lasts.
    if (c.state_path.empty()) engine_->set_tracking(false);
    wire_ = std::make_unique<WireEdge>(c.wire, role);
  }

  engine::RoleEngine& engine() { return *engine_; }

  // Queues what o says for printing (commit prints it once the state it depends on is durable);
  // an error goes to standard error at once.
  void print(const engine::Outcome& o) {
    for (const auto& s : o.sent) {
      auto out = wire_->outgoing(s.message, now_, s.previous);
      if (!out) throw IoError{std::string(msg::spec_of(s.message).name) + ": cannot encode: " + out.error().detail};
      out_ += *out;
      out_ += '\n';
    }
    for (const auto& e : o.events) {
      out_ += json::encode_event(e, c_.show_key);
      out_ += '\n';
    }
    if (!o.error) return;
    out_ += json::encode_error(*o.error, o.step);
    out_ += '\n';
    rejected_ = true;
    std::cerr << c_.tool << ": error: " << code_name(o.error->code);
    if (!o.step.empty()) std::cerr << " (" << printable(o.step) << ")";
    std::cerr << ": " << printable(o.error->detail) << "\n";
  }

  // Makes the state durable, then prints what waited for it. When the state cannot be saved,
  // nothing that depends on it is printed (write_file_atomic throws).
  void commit() {
    if (!c_.state_path.empty() && engine_->changed()) {
      write_file_atomic(c_.state_path, engine_->state_text());
      engine_->mark_saved();
    }
    wire_->flush_frames();
    errno = 0;
    std::cout << out_ << std::flush;
    const int e = errno;
    out_.clear();
    // Lines that could not be printed: stop before any more input changes the state.
    if (auto why = stdout_failure(e)) throw IoError{"cannot write the standard output: " + *why};
  }

  void feed() {
    Input in(c_.input, false, capture_options(c_.wire));
    InputItem item;
    feed_from(in, item);
    if (const auto* st = in.capture_stats()) {
      const std::uint64_t other = wire_->skipped_other_role(), foreign = wire_->skipped_foreign();
      const std::uint64_t cut = st->truncated + st->bad_headers;
      const std::uint64_t not_ip = st->skipped_non_ip + st->skipped_transport + st->skipped_other;
      const std::string lost = capture::describe_losses(*st);
      if (other + foreign + not_ip + cut > 0 || st->packets == 0 || !lost.empty())
        std::cerr << c_.tool << ": note: " << printable(c_.input) << ": " << st->frames << " frames; " << other
                  << " KD messages for other roles, " << foreign << " packets not KD, " << not_ip
                  << " frames not UDP or TCP over IP or of a link type kd does not read, " << cut
                  << " frames truncated or damaged, skipped" << (lost.empty() ? "" : "; lost: ") << lost << "\n";
    }
  }

  void feed_from(Input& in, InputItem& item) {
    // Answers wait for their state change to be durable: one save per batch, and one before the
    // tool would wait for more input (a script that feeds a line and reads the answer).
    constexpr std::size_t kBatch = 1 << 20;
    for (;;) {
      if (out_.size() >= kBatch || !in.ready()) commit();
      if (!next_input(in, item)) break;
      std::string step;
      if (item.kind == InputItem::Kind::line) {
        if (is_event_line(item.line)) continue;
        Bytes wire;
        auto m = wire_->from_line(item.line, &step, &wire);
        print(m ? engine_->feed_message(*m, wire) : engine_->reject(m.error(), step));
        continue;
      }
      wire::Binding used = wire::Binding::json;
      auto m = wire_->from_packet(item.packet, &used);
      if (!m) continue;
      if (!*m) {  // the step is not known: the frame is named in the detail
        Error e = m->error();
        e.detail = "frame " + std::to_string(item.packet.frame) + ": " + e.detail;
        print(engine_->reject(std::move(e), ""));
        continue;
      }
      print(engine_->feed_message(**m, item.packet.payload));
    }
  }

  // A damaged input (a capture cut mid-record) ends the run after what the items before the damage
  // did is kept and its answers printed. Any other failure commits nothing of the batch.
  bool next_input(Input& in, InputItem& item) {
    try {
      return in.next(item);
    } catch (const IoError&) {
      commit();
      throw;
    }
  }

  int finish() {
    commit();
    return rejected_ ? kExitRejected : kExitOk;
  }

private:
  Common& c_;
  flow::Keystore keys_;
  std::unique_ptr<engine::RoleEngine> engine_;
  std::unique_ptr<FileLock> lock_;
  std::unique_ptr<WireEdge> wire_;
  std::uint64_t now_ = 0;
  bool rejected_ = false;
  std::string out_;  // lines to print once the state they depend on is durable
};

// serve, the subcommand of kd-proxy, kd-switch and kd-auc (kd-live(7)); the role's own options may
// come before or after it.
CLI::App* add_serve(CLI::App& app, LiveOptions& o) {
  auto* sub = app.add_subcommand("serve", "run the role as a UDP service (kd-live(7))");
  add_serve_options(*sub, o);
  sub->fallthrough();
  return sub;
}

int run_serve(Common& c, Session& s, msg::Role role, const LiveOptions& o) {
  LiveContext ctx{c.tool, role, s.engine(), c.wire, c.show_key, c.now.has_value(), [&s] { s.commit(); }, c.state_path};
  return serve(o, ctx);
}

// The option of one of app's subcommands that an extra argument names, as "--via is an option of
// start", or empty.
std::string misplaced_option_hint(const CLI::App& app, const std::vector<std::string>& extras) {
  for (const auto& x : extras) {
    if (x.size() < 2 || x[0] != '-') continue;
    const std::string name = x.substr(0, x.find('='));
    for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; }))
      if (sub->get_option_no_throw(name))
        return name + " is an option of " + sub->get_name() + ": give it after " + sub->get_name() + " (" +
               app.get_name() + " " + sub->get_name() + " " + name + " ...)";
  }
  return {};
}

// Where a terminal listens in its binding (the binding table's contact port).
std::string default_contact(wire::Binding b) {
  return "127.0.0.1:" + std::to_string(wire::binding_info(b).contact_port);
}

// The parser's message quotes the arguments it did not expect: one may be a key (keys add --key
// K K, a misspelt --key), which no message shows. Each argument (or the value of --name=VALUE) of
// 32 hex digits or more, as long as the shortest key, is named by its length instead.
std::string hide_keys(std::string line, int argc, char** argv) {
  constexpr std::size_t kShortestKey = 32;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a.starts_with("--") && a.find('=') != std::string_view::npos) a.remove_prefix(a.find('=') + 1);
    if (a.size() < kShortestKey || a.find_first_not_of("0123456789abcdefABCDEF") != std::string_view::npos) continue;
    const std::string shown = "(a hex value of " + std::to_string(a.size()) + " digits, not shown)";
    for (std::size_t at; (at = line.find(a)) != std::string::npos;) line.replace(at, a.size(), shown);
  }
  return line;
}

}  // namespace

void init_app(CLI::App& app) {
  app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
}

bool parse_command_line(CLI::App& app, std::string_view tool, int argc, char** argv) {
  app.name(std::string(tool));
  if (argc == 2 && std::string_view(argv[1]) == "--bash-completion") {
    std::cout << bash_completion(app, tool) << std::flush;
    return false;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) {  // --help
      app.exit(e);
      return false;
    }
    std::vector<std::string> lines{e.what()};
    if (auto hint = misplaced_option_hint(app, app.remaining(true)); !hint.empty()) lines.push_back(std::move(hint));
    for (auto& line : lines) line = hide_keys(std::move(line), argc, argv);
    throw UsageError(std::move(lines));  // run_tool adds the pointer to --help
  }
  return true;
}

void write_stdout(std::string_view bytes) {
  errno = 0;
  if ((!bytes.empty() && std::fwrite(bytes.data(), 1, bytes.size(), stdout) != bytes.size()) || std::fflush(stdout) != 0) {
    int expected = 0;
    stdout_errno.compare_exchange_strong(expected, errno);
  }
}

int run_tool(std::string_view tool, const std::function<int()>& body) {
  auto fail = [tool](const std::vector<std::string>& lines, int status) {
    // What the tool printed before the error stays before it.
    std::cout.flush();
    std::fflush(stdout);
    for (const auto& line : lines) std::cerr << tool << ": " << printable(line) << "\n";
    return status;
  };
  hold_standard_fds();
  // A pipe whose reader has gone is an output that cannot be written, as a full disk is: its
  // write fails with EPIPE and the tool says so (exit 3; a service goes on and says it at its stop),
  // rather than dying of SIGPIPE without a word (status 141), a service at its next event line.
  std::signal(SIGPIPE, SIG_IGN);
  try {
    const int status = body();
    // Lines lost are a file error (exit 3), never a success: the caller would take them as printed.
    if (auto why = stdout_failure()) return fail({"cannot write the standard output: " + *why}, kExitFile);
    return status;
  } catch (const UsageError& e) {
    // Every usage error, the parser's or a later check's, ends with the pointer OPTIONS promises.
    auto lines = e.lines;
    lines.push_back("run '" + std::string(tool) + " --help' for the options");
    return fail(lines, kExitUsage);
  } catch (const IoError& e) {
    return fail({e.what}, kExitFile);
  }
}

int term_main(int argc, char** argv) {
  Common c;
  c.tool = "kd-term";
  CLI::App app{"kd-term: the terminal role of kd (registration-time key distribution)"};
  init_app(app);
  add_common(app, c);
  flow::StartParams sp;
  std::string mechs = "tls:0.9,ipsec-3gpp:0.5,kd-app:0.1";
  sp.suite = std::string(crypto::default_suite().name);

  auto* start = app.add_subcommand("start", "print the first message of a registration");
  auto* reg = app.add_subcommand("register", "register over the network, as start begins it (kd-live(7))");
  auto* load = app.add_subcommand("load", "register --count terminals over the network, and report (kd-live(7))");
  LiveOptions live;
  add_register_options(*reg, live);
  LoadOptions load_options;
  add_load_options(*load, load_options, live);
  std::vector<CLI::Option*> contacts;
  for (auto* sub : {start, reg, load}) {
    sub->add_option("--id", sp.idc, "this terminal's identity (IDc)")->required();
    sub->add_option("--via", sp.via, "the signaling proxy's identity (IDsp): proxied flow");
    sub->add_option("--switch", sp.sw, "the soft switch's identity (IDss)")->required();
    sub->add_option("--suite", sp.suite, "cipher suite (default KD-AES128GCM-SHA256)");
    sub->add_option("--mechs", mechs, "security mechanisms with priorities, name[:q],... (q 0..1)");
    contacts.push_back(sub->add_option("--contact", sp.contact,
                                       "contact address IPc (default 127.0.0.1 at the binding's port: 5060 for "
                                       "json and sip, 2427 mgcp, 2944 h248, 1720 h323)"));
  }
  add_wire(app, c, false);
  // The common options may also come after start: they are kd-term's own, declared once above.
  for (auto* sub : {start, reg, load}) {
    sub->fallthrough();
    sub->footer("kd-term's options (--keys, --state, --seed, --now, --show-key, --skew and the wire options,\n"
                "see kd-term --help) may come before or after " + sub->get_name() + ".");
  }
  // ... but not an input, which start does not read: kd-term's input refuses a word after start
  // (checked as it is parsed), which thus stays an unexpected argument. One before start is taken.
  bool input_before_start = false;
  app.validate_positionals();
  app.get_option("input")->check(CLI::Validator(
      [&input_before_start, start, reg, load](const std::string&) {
        if (!*start && !*reg && !*load) input_before_start = true;
        return (*start || *reg || *load) && !input_before_start
                   ? std::string(*start ? "start" : *reg ? "register" : "load") + " reads no input"
                   : std::string();
      },
      ""));
  if (!parse_command_line(app, c.tool, argc, argv)) return kExitOk;

  {
    resolve_wire(c, false);
    if (*reg) check_live_command_line("register", c.input, c.wire, live, msg::Role::term, &sp);
    // What start, register and load begin a registration with, besides the command line's own.
    auto complete_start = [&] {
      if (!contacts[0]->count() && !contacts[1]->count() && !contacts[2]->count())
        sp.contact = default_contact(c.wire.binding);
      auto list = flow::parse_mech_arg(mechs);
      if (!list) throw UsageError("--mechs: " + list.error().detail);
      sp.mechs = *list;
    };
    if (*load) {
      check_live_command_line("load", c.input, c.wire, live, msg::Role::term, &sp);
      if (!c.state_path.empty()) throw UsageError("--state does not apply to load: its terminals live in memory only");
      complete_start();
      const flow::Keystore keys = load_keys(c);
      const engine::Settings settings = make_settings(c);
      LoadContext ctx{c.tool, keys, settings, c.wire, c.now.has_value()};
      return run_load(load_options, live, ctx, sp);
    }
    // The command line before any file: a bad --mechs is exit 2 whatever the keystore holds, and
    // creates nothing (the Session locks the state file).
    if (*start || *reg) complete_start();
    Session s(c, msg::Role::term);
    if (!*start && !*reg) {
      s.feed();
      return s.finish();
    }
    if (*reg) {
      LiveContext ctx{c.tool, msg::Role::term, s.engine(), c.wire, c.show_key, c.now.has_value(), [&s] { s.commit(); }, c.state_path};
      return register_once(live, ctx, sp);
    }
    s.print(s.engine().start(sp));
    return s.finish();
  }
}

int proxy_main(int argc, char** argv) {
  Common c;
  c.tool = "kd-proxy";
  std::string source;
  CLI::App app{"kd-proxy: the signaling proxy (SBC) role of kd"};
  init_app(app);
  add_common(app, c);
  add_chooser(app, c);
  app.add_option("--id", c.id, "this proxy's identity (IDsp)")->required();
  refuse_empty(app.add_option("--source", source, "address the terminal's messages came from; rewrites IPc (NAT)"),
               "an address");
  add_wire(app, c, false);
  LiveOptions live;
  auto* srv = add_serve(app, live);
  if (!parse_command_line(app, c.tool, argc, argv)) return kExitOk;
  if (auto st = msg::check_identity("--id", c.id); !st) throw UsageError(st.error().detail);
  if (!source.empty())
    if (auto st = msg::check_ip(source); !st) throw UsageError("--source: " + st.error().detail);
  {
    resolve_wire(c, false);
    if (*srv) check_live_command_line("serve", c.input, c.wire, live, msg::Role::proxy);
    Session s(c, msg::Role::proxy);
    s.engine().settings().observed_source = source;
    if (*srv) return run_serve(c, s, msg::Role::proxy, live);
    s.feed();
    return s.finish();
  }
}

int switch_main(int argc, char** argv) {
  Common c;
  c.tool = "kd-switch";
  CLI::App app{"kd-switch: the soft switch role of kd"};
  init_app(app);
  add_common(app, c);
  add_chooser(app, c);
  add_challenge_limits(app, c);
  app.add_option("--id", c.id, "this switch's identity (IDss)")->required();
  add_number(app, "--max-attempts", c.policy.max_attempts, {1, 100},
             "wrong verification words before a terminal is locked out (default 3)");
  add_number(app, "--lockout", c.policy.lockout, {},
             "seconds a terminal stays locked out after --max-attempts wrong answers (default 300)");
  add_wire(app, c, true);
  LiveOptions live;
  auto* srv = add_serve(app, live);
  if (!parse_command_line(app, c.tool, argc, argv)) return kExitOk;
  if (auto st = msg::check_identity("--id", c.id); !st) throw UsageError(st.error().detail);
  {
    resolve_wire(c, true);
    if (*srv) check_live_command_line("serve", c.input, c.wire, live, msg::Role::sw);
    Session s(c, msg::Role::sw);
    if (*srv) return run_serve(c, s, msg::Role::sw, live);
    s.feed();
    return s.finish();
  }
}

namespace {

// The most entities one keys add or export --count names: 10^6 of about 140 bytes each in the file
// (kd-auc(1)); a mistyped count fails at once rather than after filling the disk.
constexpr std::uint64_t kMaxKeysCount = 1'000'000;

// The ids keys add and export name: --id itself, or with --count the pattern --id expanded to
// ID0..ID{N-1} (IdPattern). Each is checked as an identity.
std::vector<std::string> keys_ids(const std::string& id, std::optional<std::uint64_t> count) {
  if (!count) {
    if (auto st = msg::check_identity("--id", id); !st) throw UsageError(st.error().detail);
    return {id};
  }
  const IdPattern pattern(id, *count);
  std::vector<std::string> ids;
  ids.reserve(*count);
  for (std::uint64_t n = 0; n < *count; ++n) ids.push_back(pattern.at(n));
  return ids;
}

int keys_main(CLI::App& keys, const Common& c, const std::string& file, bool force,
              const std::string& id, std::optional<std::uint64_t> count, const std::string& role,
              const std::string& key_hex) {
  auto refuse = [&](const std::string& what) {
    std::cerr << c.tool << ": error: " << printable(what) << "\n";
    return kExitRejected;
  };
  // The command line first: a bad one is exit 2 whatever the file holds, and touches no file.
  const bool add = keys.got_subcommand("add");
  std::vector<std::string> ids;
  if (add || keys.got_subcommand("export")) ids = keys_ids(id, count);
  std::optional<msg::Role> r;
  Secret given;  // --key
  if (add) {
    r = msg::parse_role(role);
    if (!r || *r == msg::Role::auc) throw UsageError("--role must be term, proxy or switch");
    if (count && !key_hex.empty())
      throw UsageError("--key with --count would give every entity the same key: leave --key out (or use --seed)");
    if (!key_hex.empty()) {
      if (key_hex.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos)
        throw UsageError("--key must be hex digits (0-9, a-f or A-F)");
      if (key_hex.size() % 2 != 0) throw UsageError("--key has an odd number of hex digits");
      auto b = from_hex(key_hex);
      if (!b || b->size() < 16 || b->size() > 64) throw UsageError("--key must be 16 to 64 bytes of hex");
      given = Secret(*b);
      secure_wipe(b->data(), b->size());
    }
  }
  FileLock lock(file, "keystore");  // two concurrent adds must not lose an entity
  if (keys.got_subcommand("init")) {
    if (!force && read_file(file, "keystore")) return refuse(file + " exists; use --force to replace it");
    write_file_atomic(file, json::encode_keystore({}));
    return kExitOk;
  }
  flow::Keystore ks = read_keystore(file, c.tool);
  if (keys.got_subcommand("list")) {
    for (const auto& [eid, e] : ks.entities) std::cout << eid << " " << msg::role_name(e.role) << "\n";
    return kExitOk;
  }
  if (keys.got_subcommand("export")) {
    flow::Keystore some;
    for (const auto& one : ids) {
      const flow::Entity* e = ks.find(one);
      if (!e) return refuse(one + " is not in " + file);
      some.entities.emplace(one, *e);
    }
    std::cout << json::encode_keystore(some);
    return kExitOk;
  }
  // add: all of ids or none, checked before anything is drawn.
  for (const auto& one : ids)
    if (ks.find(one))
      return refuse(one + " is already in " + file + (count ? " (nothing added: --count adds all or none)" : ""));
  const Bytes seed = parse_seed(c);
  crypto::OsRandom os;
  for (const auto& one : ids) {
    flow::Entity e{one, *r, {}};
    if (!given.empty()) {
      e.key = given;
    } else if (!seed.empty()) {
      crypto::SeededRandom rng(seed, "keystore", one, to_bytes(role));
      e.key = rng.draw_secret(Purpose::long_term_key, 32);
    } else {
      e.key = os.draw_secret(Purpose::long_term_key, 32);
    }
    ks.entities.emplace(one, std::move(e));
  }
  write_file_atomic(file, json::encode_keystore(ks));
  return kExitOk;
}

}  // namespace

int auc_main(int argc, char** argv) {
  Common c;
  c.tool = "kd-auc";
  c.id = "auc";
  CLI::App app{"kd-auc: the authentication center role of kd, and its keystore"};
  init_app(app);
  add_common(app, c);
  add_challenge_limits(app, c);
  app.add_option("--id", c.id, "this AuC's name, used only to seed --seed randomness (default auc)");
  add_wire(app, c, true);
  auto* keys = app.add_subcommand("keys", "manage the keystore: init, add, export or list");
  keys->allow_extras();  // an unknown subcommand is named below
  std::string file, id, role, key_hex;
  std::optional<std::uint64_t> count;
  bool force = false;
  auto* init = keys->add_subcommand("init", "create an empty keystore");
  init->add_option("file", file, "keystore file")->required();
  init->add_flag("--force", force, "replace an existing file");
  auto* add = keys->add_subcommand("add", "add an entity (or --count of them) with a fresh random key");
  add->add_option("file", file, "keystore file")->required();
  add->add_option("--id", id, "the entity's identity")->required();
  add->add_option("--role", role, "term, proxy or switch")->required();
  add->add_option("--key", key_hex, "use this key (hex, 16 to 64 bytes) instead of a fresh one");
  add->add_option("--seed", c.seed_hex, "derive the key from this hex seed (tests and demos only)")->check(seed_hex());
  add_number(*add, "--count", count, {1, kMaxKeysCount}, "add N entities: --id is a pattern, %d the number 0..N-1");
  auto* exp = keys->add_subcommand("export", "print a keystore holding only the entity --id names (or --count of them)");
  exp->add_option("file", file, "keystore file")->required();
  exp->add_option("--id", id, "the entity to export")->required();
  add_number(*exp, "--count", count, {1, kMaxKeysCount}, "export N entities: --id is a pattern, %d the number 0..N-1");
  auto* list = keys->add_subcommand("list", "print each entity's identity and role (no keys)");
  list->add_option("file", file, "keystore file")->required();
  for (auto* sub : {init, add, exp, list}) sub->allow_extras(false);  // keys allows them, to name a bad subcommand
  LiveOptions live;
  auto* srv = add_serve(app, live);
  if (!parse_command_line(app, c.tool, argc, argv)) return kExitOk;

  if (*keys && keys->get_subcommands().empty()) {
    const auto extra = keys->remaining();
    throw UsageError(extra.empty() ? std::string("keys: name a subcommand: init, add, export or list")
                                : "keys: unknown subcommand \"" + extra.front() + "\" (init, add, export or list)");
  }
  {
    if (*keys) return keys_main(*keys, c, file, force, id, count, role, key_hex);
    if (auto st = msg::check_identity("--id", c.id); !st) throw UsageError(st.error().detail);
    resolve_wire(c, true);
    if (*srv) check_live_command_line("serve", c.input, c.wire, live, msg::Role::auc);
    Session s(c, msg::Role::auc);
    if (*srv) return run_serve(c, s, msg::Role::auc, live);
    s.feed();
    return s.finish();
  }
}

}  // namespace kd::cli
