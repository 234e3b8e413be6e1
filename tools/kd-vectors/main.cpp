// kd-vectors: generate the conformance vectors, and run vector files against the library or the
// tools (kd-vectors(1)).
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cstdio>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>

#include <CLI/CLI.hpp>

#include "cli/io.hpp"
#include "cli/options.hpp"
#include "cli/tools.hpp"
#include "crypto/suite.hpp"
#include "json/keystore.hpp"
#include "json/line.hpp"
#include "vectors/files.hpp"
#include "vectors/vectors.hpp"

namespace kd::tools {

using namespace kd::cli;

namespace {

namespace fs = std::filesystem;
using vectors::Delivery;
using vectors::Outcome;
using vectors::Overrides;
using vectors::Setup;
using vectors::Snapshot;

std::string quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) {
    if (c == '\'') q += "'\\''";
    else q += c;
  }
  return q + "'";
}

// A new directory of this run's own under $TMPDIR, or /tmp when it is unset or empty as mktemp(1)
// takes it (mkdtemp: created exclusively, mode 0700), so that nothing another user or an earlier
// run put under a name known beforehand is used or removed. Its failure says where and why
// (std::filesystem's temp_directory_path said neither, and refused an empty TMPDIR).
std::string scratch_dir() {
  const char* env = std::getenv("TMPDIR");
  const std::string base = env != nullptr && *env != '\0' ? env : "/tmp";
  std::string tmpl = base + "/kd-vectors.XXXXXX";
  if (!::mkdtemp(tmpl.data())) throw IoError{"cannot create a scratch directory in " + base + ": " + std::strerror(errno)};
  return tmpl;
}

// Plays the four roles by running the kd-* binaries on state files in a scratch directory.
class ToolsDriver final : public vectors::Driver {
public:
  explicit ToolsDriver(std::string bin) : bin_(std::move(bin)), dir_(scratch_dir()) {}
  ~ToolsDriver() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  void reset(const Setup& s) override {
    restore({});
    write_file_atomic(path("keys.json"), json::encode_keystore(s.keys));
    if (!s.radius_secret.empty()) {
      write_file_atomic(path("radius.secret"), s.radius_secret + "\n");
      ::chmod(path("radius.secret").c_str(), 0600);
    }
  }

  Outcome start(const Setup& s) override {
    std::string cmd = quote(bin_ + "/kd-term") + " start --id " + quote(s.term) + " --switch " + quote(s.sw);
    if (s.flow == msg::Flow::proxied) cmd += " --via " + quote(s.proxy);
    cmd += " --suite " + quote(s.suite) + " --mechs " + quote(s.mechs) + " --contact " + quote(s.contact);
    cmd += common(s, msg::Role::term, {});
    return run(cmd);
  }

  Outcome deliver(const Setup& s, const Delivery& d, const Overrides& o) override {
    write_file_atomic(path("in.jsonl"), d.line + "\n");
    std::string cmd = quote(bin_ + "/kd-" + std::string(msg::role_name(d.target)));
    switch (d.target) {
      case msg::Role::proxy: cmd += " --id " + quote(s.proxy); break;
      case msg::Role::sw: cmd += " --id " + quote(s.sw); break;
      case msg::Role::auc: cmd += " --id " + quote(s.auc); break;
      case msg::Role::term: break;
    }
    cmd += common(s, d.target, o) + " " + quote(path("in.jsonl"));
    return run(cmd);
  }

  Snapshot snapshot() override {
    Snapshot s;
    for (std::size_t i = 0; i < 4; ++i) s[i] = read_file(state(i));
    return s;
  }

  void restore(const Snapshot& s) override {
    for (std::size_t i = 0; i < 4; ++i) {
      if (s[i]) write_file_atomic(state(i), *s[i]);
      else ::unlink(state(i).c_str());
    }
  }

private:
  std::string path(const std::string& name) const { return dir_ + "/" + name; }
  std::string state(std::size_t i) const {
    static const char* names[] = {"term", "proxy", "switch", "auc"};
    return path(std::string(names[i]) + ".state");
  }

  std::string common(const Setup& s, msg::Role r, const Overrides& o) const {
    std::string a = " --keys " + quote(path("keys.json")) + " --state " + quote(state(static_cast<std::size_t>(r))) +
                    " --seed " + to_hex(s.seed) + " --now " + std::to_string(o.now.value_or(s.now)) + " --show-key";
    if (s.binding != "json") {
      a += " --binding " + quote(s.binding);
      if (r == msg::Role::sw || r == msg::Role::auc) a += " --radius-secret-file " + quote(path("radius.secret"));
    }
    using vectors::override_applies;
    if (o.skew) a += " --skew " + std::to_string(*o.skew);
    if (o.challenge_ttl && override_applies("challenge_ttl", r))
      a += " --challenge-ttl " + std::to_string(*o.challenge_ttl);
    if (o.max_attempts && override_applies("max_attempts", r)) a += " --max-attempts " + std::to_string(*o.max_attempts);
    if (o.lockout && override_applies("lockout", r)) a += " --lockout " + std::to_string(*o.lockout);
    if (o.support && override_applies("support", r)) a += " --support " + quote(*o.support);
    return a;
  }

  Outcome run(const std::string& cmd) {
    Outcome o;
    ::unlink(path("stderr.txt").c_str());
    std::FILE* p = ::popen((cmd + " 2>" + quote(path("stderr.txt"))).c_str(), "r");
    if (!p) throw IoError{"cannot run " + cmd};
    std::string out;
    char buf[4096];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
    int st = ::pclose(p);
    o.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128;
    std::size_t at = 0;
    while (at < out.size()) {
      std::size_t nl = out.find('\n', at);
      std::string l = out.substr(at, nl == std::string::npos ? std::string::npos : nl - at);
      at = nl == std::string::npos ? out.size() : nl + 1;
      if (l.empty()) continue;
      if (json::string_field(l, "event").value_or("") == "error") o.code = json::string_field(l, "code").value_or("?");
      o.lines.push_back(std::move(l));
    }
    // The code must also be the one the tool names on its standard error ("kd-x: error: CODE ...").
    std::string err_code;
    const std::string err_text = read_file(path("stderr.txt")).value_or("");
    if (auto e_at = err_text.find(": error: "); e_at != std::string::npos) {
      const std::size_t from = e_at + 9;
      std::size_t to = from;
      while (to < err_text.size() && (std::isalnum(static_cast<unsigned char>(err_text[to])) || err_text[to] == '_')) ++to;
      err_code = err_text.substr(from, to - from);
    }
    if (err_code != o.code)
      o.code = "the event says " + (o.code.empty() ? std::string("nothing") : o.code) + ", standard error says " +
               (err_code.empty() ? std::string("nothing") : err_code);
    if (o.status > 1) o.code = "exit status " + std::to_string(o.status) + ": " + err_text.substr(0, 200);
    return o;
  }

  std::string bin_, dir_;
};

int generate(const std::string& dir) {
  for (const char* sub : {"/positive", "/negative", "/pcap"}) {
    std::error_code ec;
    if (fs::create_directories(dir + sub, ec); ec)
      throw IoError{"cannot create directory " + dir + sub + ": " + ec.message()};
  }
  for (const auto& s : crypto::all_suites())
    for (auto flow : {msg::Flow::proxied, msg::Flow::direct})
      for (const auto& b : vectors::wire_bindings()) {
        auto v = vectors::make_wire_positive(std::string(s.name), flow, b);
        const std::string base = std::string(s.name) + "-" + std::string(msg::flow_name(flow)) + "-" + b;
        write_file_atomic(dir + "/positive/" + base + ".json", vectors::encode_positive(v));
        if (auto st = vectors::write_pcap(v, dir + "/pcap/" + v.pcap); !st)
          throw IoError{dir + "/pcap/" + v.pcap + ": " + st.error().detail};
      }
  for (const auto& b : vectors::wire_bindings())
    write_file_atomic(dir + "/negative/wire-" + b + ".json", vectors::encode_negative(vectors::make_wire_negative(b)));
  write_file_atomic(dir + "/negative/wire-radius.json", vectors::encode_negative(vectors::make_wire_negative("radius")));
  for (const auto& s : crypto::all_suites()) {
    for (auto flow : {msg::Flow::proxied, msg::Flow::direct}) {
      auto v = vectors::make_positive(std::string(s.name), flow);
      write_file_atomic(dir + "/positive/" + std::string(s.name) + "-" + std::string(msg::flow_name(flow)) + "-json.json",
                        vectors::encode_positive(v));
    }
    write_file_atomic(dir + "/negative/" + std::string(s.name) + "-json.json",
                      vectors::encode_negative(vectors::make_negative(std::string(s.name))));
  }
  return kExitOk;
}

int run_files(const std::vector<std::string>& files, const std::string& tools, bool verbose) {
  if (!tools.empty())
    for (const char* t : {"kd-term", "kd-proxy", "kd-switch", "kd-auc"})
      if (::access((tools + "/" + t).c_str(), X_OK) != 0)
        throw IoError{"--tools " + tools + ": no executable " + t + " there"};
  std::size_t passed = 0, failed = 0;
  bool file_error = false;
  auto bad_file = [&](const std::string& f, const std::string& why) {
    std::cerr << "kd-vectors: " << printable(f + ": " + why) << "\n";
    file_error = true;
  };
  for (const auto& f : files) {
    std::optional<std::string> text;
    try {
      text = read_file(f);
    } catch (const IoError& e) {
      bad_file(f, e.what);
      continue;
    }
    if (!text) {
      bad_file(f, "no such file");
      continue;
    }
    auto type = vectors::vector_type(*text);
    if (!type) {
      bad_file(f, type.error().detail);
      continue;
    }
    std::unique_ptr<vectors::Driver> d;
    if (tools.empty()) d = std::make_unique<vectors::InProcessDriver>();
    else d = std::make_unique<ToolsDriver>(tools);
    vectors::Report rep;
    if (*type == "positive") {
      auto v = vectors::decode_positive(*text);
      if (!v) {
        bad_file(f, v.error().detail);
        continue;
      }
      rep = vectors::check(*v, *d);
      if (!v->pcap.empty()) {
        // The capture next to the vector (../pcap/NAME) must be the one its transcript makes.
        const std::string pcap = (fs::path(f).parent_path() / ".." / "pcap" / v->pcap).lexically_normal().string();
        const std::string dir = scratch_dir(), fresh = dir + "/check.pcap";
        std::string why;
        if (auto st = vectors::write_pcap(*v, fresh); !st) why = "cannot build the capture: " + st.error().detail;
        else if (read_file(pcap) != read_file(fresh)) why = pcap + " is missing or differs from the capture of the transcript";
        ::unlink(fresh.c_str());
        ::rmdir(dir.c_str());
        if (!why.empty()) {
          rep.lines.push_back(why);
          rep.failed = 1;
        }
      }
    } else {
      auto v = vectors::decode_negative(*text);
      if (!v) {
        bad_file(f, v.error().detail);
        continue;
      }
      rep = vectors::check(*v, *d);
    }
    passed += rep.cases - rep.failed;
    failed += rep.failed;
    std::cout << f << ": " << rep.cases << (rep.cases == 1 ? " case, " : " cases, ") << rep.failed << " failed\n";
    for (const auto& x : rep.lines) std::cout << "  FAIL " << x << "\n";
    if (verbose && rep.lines.empty()) std::cout << "  ok\n";
  }
  std::cout << passed << " passed, " << failed << " failed\n";
  if (file_error) return kExitFile;
  return failed ? kExitRejected : kExitOk;
}

int vectors_main(int argc, char** argv) {
  CLI::App app{"kd-vectors: generate kd's conformance vectors, and check vector files against the library or the tools"};
  init_app(app);
  app.require_subcommand(1);
  std::vector<std::string> files;
  std::string tools, dir;
  bool verbose = false;
  auto* run = app.add_subcommand("run", "check vector files");
  run->add_option("files", files, "vector files (testvectors/positive/*.json, testvectors/negative/*.json)")->required();
  refuse_empty(run->add_option("--tools", tools, "run the kd-* binaries in this directory instead of the library in process"),
               "a directory");
  run->add_flag("-v,--verbose", verbose, "say ok for each file that passes");
  auto* gen = app.add_subcommand("generate", "write every vector file, deterministically");
  refuse_empty(gen->add_option("dir", dir, "output directory (testvectors)")->required(), "a directory");
  if (!parse_command_line(app, "kd-vectors", argc, argv)) return kExitOk;
  try {
    if (*gen) return generate(dir);
    return run_files(files, tools, verbose);
  } catch (const std::exception& e) {
    // The file system and the vector files' reader say what went wrong with a file this way.
    throw IoError{e.what()};
  }
}

}  // namespace

}  // namespace kd::tools

int main(int argc, char** argv) {
  return kd::cli::run_tool("kd-vectors", [&] { return kd::tools::vectors_main(argc, argv); });
}
