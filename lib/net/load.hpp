// kd-term load (kd-term(1), LOAD; kd-live(7), LOAD): many terminals registering through live
// services at a target rate with a bounded number in flight, reported as counts by outcome and as
// latency percentiles, end to end and per exchange.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "codecs/edge.hpp"
#include "flow/roles.hpp"
#include "flow/state.hpp"
#include "net/service.hpp"

namespace kd::engine {
struct Settings;
}

namespace kd::net {

struct LoadOptions {
  std::uint64_t count = 0;               // --count N: terminals 0..N-1 of the --id pattern
  std::uint64_t rate = 0;                // --rate R: registrations started per second; 0: as fast as
                                         // --concurrency allows
  std::uint64_t concurrency = 100;       // --concurrency C: registrations in flight at most
  std::string stats;                     // --stats FILE: one JSON line per interval
  std::uint64_t stats_interval_s = 1;    // --stats-interval S
};

// --stats FILE as cli opens and writes it (no symbolic link, no directory: files::open_replace).
// The load opens it once its peer and socket are in place, so that a command line refused leaves
// the file as it was; each line is written and flushed at once. Both throw IoError.
class StatsWriter {
public:
  virtual ~StatsWriter() = default;
  virtual void open() = 0;
  virtual void write(std::string_view line) = 0;
};

// What the tool loaded: every terminal's key, and the settings each terminal's engine starts from.
struct LoadContext {
  std::string tool;
  const flow::Keystore& keys;
  const engine::Settings& settings;
  codecs::WireOptions wire;
  bool fixed_clock = false;        // --now
  Report* report = nullptr;        // set by cli before it runs the load
  StatsWriter* stats = nullptr;    // --stats, set by cli; none without
};

// Runs the load; start: the parameters every terminal starts with (its peer checked by the caller,
// cli::check_term_peer); id_at: the id of terminal n of 0..o.count-1 (the --id pattern, checked by the
// caller). End::ok when every terminal registered, End::refused when one was refused, else
// End::no_answer (a timeout, or stopped by SIGINT/SIGTERM). Throws UsageError or IoError (--stats,
// sockets).
End generate_load(const LoadOptions& o, const LiveOptions& live, LoadContext& ctx, const flow::StartParams& start,
                  std::function<std::string(std::uint64_t)> id_at);

}  // namespace kd::net
