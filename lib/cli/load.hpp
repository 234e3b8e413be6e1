// kd-term load's command line (kd-term(1), LOAD; kd-live(7), LOAD); lib/net runs the load
// (net/load.hpp).
#pragma once

#include "cli/serve.hpp"
#include "flow/roles.hpp"
#include "net/load.hpp"

namespace CLI {
class App;
}

namespace kd::cli {

using net::LoadContext;
using net::LoadOptions;

// The options of `kd-term load` besides those it shares with start and register.
void add_load_options(CLI::App& load, LoadOptions& o, LiveOptions& live);

// Checks the peer and the --id pattern (start.idc), then runs the load (net::generate_load): kExitOk
// when every terminal registered, kExitRejected when one was refused, else kExitNoAnswer (a
// timeout, or stopped by SIGINT/SIGTERM). Throws UsageError or IoError (--stats, sockets).
int run_load(const LoadOptions& o, const LiveOptions& live, LoadContext& ctx, const flow::StartParams& start);

}  // namespace kd::cli
