#include "cli/load.hpp"

#include <CLI/CLI.hpp>

#include "cli/options.hpp"

namespace kd::cli {

void add_load_options(CLI::App& load, LoadOptions& o, LiveOptions& live) {
  add_number(load, "--count", o.count, {1, 1'000'000}, "number of terminals: --id is a pattern, %d the number 0..N-1")
      ->required();
  add_number(load, "--rate", o.rate, {1, 1'000'000},
             "registrations started per second (default: as fast as --concurrency allows)");
  add_number(load, "--concurrency", o.concurrency, {1, 100'000}, "registrations in flight at most (default 100)");
  load.add_option("--stats", o.stats, "write one JSON line of counts and percentiles per interval to FILE");
  add_number(load, "--stats-interval", o.stats_interval_s, {1, 3600},
             "seconds per --stats line and progress line (default 1)");
  load.add_option("--peer", live.peers, "where to register: proxy=ENDPOINT (with --via) or switch=ENDPOINT, ENDPOINT udp:HOST:PORT or tcp:HOST:PORT")
      ->required()
      ->allow_extra_args(false);
  load.add_option("--retransmit", live.retransmit,
                  "timers of requests sent, initial=MS,max=MS,count=N,timeout=MS,keep=MS (any subset)");
}

int run_load(const LoadOptions& o, const LiveOptions& live, LoadContext& ctx, const flow::StartParams& start) {
  check_term_peer("load", live, start);
  const IdPattern ids(start.idc, o.count);
  return exit_status(net::generate_load(o, live, ctx, start, [&ids](std::uint64_t n) { return ids.at(n); }));
}

}  // namespace kd::cli
