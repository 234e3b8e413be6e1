// Live mode's command lines (kd-live(7)): `serve` of kd-proxy, kd-switch and kd-auc, and
// `kd-term register`. The tool loads its role as a filter does (Session in tools.cpp) and parses
// these options; lib/net runs the service (net/service.hpp), and this part turns how it ended into
// the exit status.
#pragma once

#include <string>
#include <string_view>

#include "cli/wire_io.hpp"
#include "flow/roles.hpp"
#include "net/service.hpp"

namespace CLI {
class App;
}

namespace kd::cli {

using net::LiveContext;
using net::LiveOptions;

// A live run's lines on standard output and standard error, the latter after "TOOL: "; load's
// progress rewritten in place when standard error is a terminal, a line each otherwise.
class StdReport final : public net::Report {
public:
  explicit StdReport(std::string tool);
  void out(std::string_view lines) override;
  void diagnostic(std::string_view line) override;
  void progress(std::string_view line) override;
  void progress_done() override;

private:
  std::string tool_;
  bool tty_ = false;
};

// The options of `serve` (on its subcommand) and of `kd-term register`.
void add_serve_options(CLI::App& serve, LiveOptions& o);
void add_register_options(CLI::App& reg, LiveOptions& o);
// What live mode refuses of the filters' command line: an input file, --pcap-out, --decode-as; then
// role's live options whole (check_term_peer for the terminal, given its start, else
// check_peer_ports, then net::check_live_options), so that a bad command line is exit 2 before the
// tool reads or creates a file (the keystore, the state file and its lock). Throws UsageError.
void check_live_command_line(std::string_view subcommand, const std::string& input, const WireOptions& w,
                             const LiveOptions& o, msg::Role role, const flow::StartParams* start = nullptr);

// Every --peer names where requests go: port 0 (where a service binds: any free port) names none.
// A --peer that does not parse is left to net, which names its fault where it reads the peers.
// Throws UsageError.
void check_peer_ports(const LiveOptions& o);
// kd-term register and load (subcommand): exactly one --peer, proxy= with --via, else switch=, and
// check_peer_ports. Throws UsageError.
void check_term_peer(std::string_view subcommand, const LiveOptions& o, const flow::StartParams& start);

// Exit statuses of kd-term register besides the tools' own (kd-term(1)).
inline constexpr int kExitNoAnswer = 4;

// The exit status of a live run that ended so.
int exit_status(net::End end);

// net::run_service and net::run_registration, after check_live_command_line, ending in an exit status.
int serve(const LiveOptions& o, LiveContext& ctx);
int register_once(const LiveOptions& o, LiveContext& ctx, const flow::StartParams& start);

}  // namespace kd::cli
