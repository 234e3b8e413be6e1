#include "cli/load.hpp"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <optional>

#include "cli/options.hpp"
#include "files/files.hpp"

namespace kd::cli {

void add_load_options(CLI::App& load, LoadOptions& o, LiveOptions& live) {
  add_number(load, "--count", o.count, {1, 1'000'000}, "number of terminals: --id is a pattern, %d the number 0..N-1")
      ->required();
  add_number(load, "--rate", o.rate, {1, 1'000'000},
             "registrations started per second (default: as fast as --concurrency allows)");
  add_number(load, "--concurrency", o.concurrency, {1, 100'000}, "registrations in flight at most (default 100)");
  refuse_empty(load.add_option("--stats", o.stats, "write one JSON line of counts and percentiles per interval to FILE"),
               "a file name");
  add_number(load, "--stats-interval", o.stats_interval_s, {1, 3600},
             "seconds per --stats line and progress line (default 1)");
  load.add_option("--peer", live.peers, "where to register: proxy=ENDPOINT (with --via) or switch=ENDPOINT, ENDPOINT udp:HOST:PORT or tcp:HOST:PORT")
      ->required()
      ->allow_extra_args(false);
  add_retransmit(load, live.retransmit,
                  "timers of requests sent, initial=MS,max=MS,count=N,timeout=MS,keep=MS (any subset)");
}

namespace {

// --stats FILE: replaced when the load opens it (never through a symbolic link, never a directory).
class StatsFile final : public net::StatsWriter {
public:
  explicit StatsFile(std::string path) : path_(std::move(path)) {}
  ~StatsFile() override {
    if (file_) std::fclose(file_);
  }
  StatsFile(const StatsFile&) = delete;
  StatsFile& operator=(const StatsFile&) = delete;

  void open() override {
    const int fd = files::open_replace(path_, "--stats");
    file_ = ::fdopen(fd, "w");
    if (!file_) {
      const int e = errno;
      ::close(fd);
      fail(e);
    }
  }
  void write(std::string_view line) override {
    errno = 0;
    if (std::fwrite(line.data(), 1, line.size(), file_) != line.size() || std::fflush(file_) != 0) fail(errno);
  }

private:
  // The reason is given, as for any file (files::write_file_atomic): a full disk is not a bad name.
  [[noreturn]] void fail(int e) const {
    throw IoError{"--stats " + path_ + ": cannot write it: " + (e != 0 ? std::strerror(e) : "a write failed")};
  }

  std::string path_;
  std::FILE* file_ = nullptr;
};

}  // namespace

int run_load(const LoadOptions& o, const LiveOptions& live, LoadContext& ctx, const flow::StartParams& start) {
  const IdPattern ids(start.idc, o.count);
  StdReport report(ctx.tool);
  ctx.report = &report;
  std::optional<StatsFile> stats;
  if (!o.stats.empty()) ctx.stats = &stats.emplace(o.stats);
  return exit_status(net::generate_load(o, live, ctx, start, [&ids](std::uint64_t n) { return ids.at(n); }));
}

}  // namespace kd::cli
