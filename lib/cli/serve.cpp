#include "cli/serve.hpp"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <iostream>

#include "cli/options.hpp"
#include "cli/tools.hpp"
#include "net/endpoint.hpp"

namespace kd::cli {

void add_serve_options(CLI::App& serve, LiveOptions& o) {
  serve.add_option("--listen", o.listen, "where to serve, udp:HOST:PORT or tcp:HOST:PORT (repeatable; port 0: any free port)")
      ->required()
      ->allow_extra_args(false);
  serve.add_option("--peer", o.peers, "where the next role is, ROLE=udp:HOST:PORT or ROLE=tcp:HOST:PORT (repeatable)")->allow_extra_args(false);
  serve.add_option("--events", o.events, "which lines to print: all (default), errors or none");
  add_retransmit(serve, o.retransmit,
                   "timers of requests sent and answers given, initial=MS,max=MS,count=N,timeout=MS,keep=MS,provisional=MS (any subset)");
  add_number(serve, "--commit-window", o.commit_window_us, {0, net::kMaxCommitWindowUs},
             "microseconds to go on receiving after a batch that changed state, before its one sync (0: none; default " +
                 std::to_string(net::kDefaultCommitWindowUs) + ")");
}

void add_register_options(CLI::App& reg, LiveOptions& o) {
  reg.add_option("--peer", o.peers, "where to register: proxy=ENDPOINT (with --via) or switch=ENDPOINT, ENDPOINT udp:HOST:PORT or tcp:HOST:PORT")
      ->required()
      ->allow_extra_args(false);
  add_retransmit(reg, o.retransmit,
                 "timers of requests sent, initial=MS,max=MS,count=N,timeout=MS,keep=MS (any subset)");
}

void check_live_command_line(std::string_view subcommand, const std::string& input, const WireOptions& w,
                             const LiveOptions& o, msg::Role role, const flow::StartParams* start) {
  const std::string sub(subcommand);
  if (input != "-") throw UsageError(sub + " reads no input file: its messages come from the network");
  if (!w.pcap_out.empty()) throw UsageError("--pcap-out does not apply to " + sub + " (capture the network with tcpdump)");
  if (!w.decode_as.empty()) throw UsageError("--decode-as does not apply to " + sub + " (it reads no capture)");
  if (start) check_term_peer(subcommand, o, *start);
  else check_peer_ports(o);
  net::check_live_options(o, role, w);
}

StdReport::StdReport(std::string tool) : tool_(std::move(tool)), tty_(isatty(STDERR_FILENO) == 1) {}

void StdReport::out(std::string_view lines) { write_stdout(lines); }  // remembers why a write failed
void StdReport::diagnostic(std::string_view line) { std::cerr << tool_ << ": " << line << "\n"; }
void StdReport::progress(std::string_view line) {
  if (tty_) std::cerr << "\r" << tool_ << ": " << line << "\033[K" << std::flush;
  else std::cerr << tool_ << ": " << line << "\n";
}
void StdReport::progress_done() {
  if (tty_) std::cerr << "\n";
}

void check_peer_ports(const LiveOptions& o) {
  for (const auto& p : o.peers) {
    net::Endpoint e;
    const auto eq = p.find('=');
    if (eq != std::string::npos && !net::parse_endpoint(p.substr(eq + 1), e) && e.port == 0)
      throw UsageError("--peer " + p + ": port 0 names no peer; give the port it listens on");
  }
}

void check_term_peer(std::string_view subcommand, const LiveOptions& o, const flow::StartParams& start) {
  const std::string want = start.via ? "proxy=" : "switch=";
  const std::string sub(subcommand);
  const std::string flow = start.via ? "with --via, proxy=ENDPOINT" : "without --via, switch=ENDPOINT";
  if (o.peers.size() == 2 && o.peers[0].substr(0, o.peers[0].find('=') + 1) == o.peers[1].substr(0, o.peers[1].find('=') + 1))
    throw UsageError("--peer " + o.peers[0].substr(0, o.peers[0].find('=') + 1) + " is given twice: " + sub +
                     " takes one --peer (" + flow + ")");
  if (o.peers.size() > 1)
    throw UsageError("--peer: " + sub + " takes one --peer (" + std::to_string(o.peers.size()) + " given): " + flow);
  if (o.peers.size() != 1 || !o.peers.front().starts_with(want))
    throw UsageError(start.via ? sub + " --via (the proxied flow) goes through the proxy: give --peer proxy=ENDPOINT"
                               : sub + " without --via (the direct flow) goes to the switch: give --peer switch=ENDPOINT");
  check_peer_ports(o);
}

int exit_status(net::End end) {
  switch (end) {
    case net::End::ok: return kExitOk;
    case net::End::refused: return kExitRejected;
    case net::End::no_answer: return kExitNoAnswer;
  }
  return kExitNoAnswer;
}

int serve(const LiveOptions& o, LiveContext& ctx) {
  StdReport report(ctx.tool);
  ctx.report = &report;
  return exit_status(net::run_service(o, ctx));
}

int register_once(const LiveOptions& o, LiveContext& ctx, const flow::StartParams& start) {
  StdReport report(ctx.tool);
  ctx.report = &report;
  return exit_status(net::run_registration(o, ctx, start));
}

}  // namespace kd::cli
