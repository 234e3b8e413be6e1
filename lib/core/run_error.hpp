// The errors that end a tool's run, thrown by the parts that do a tool's work (files, codecs' edge,
// net, cli) and turned into a message and an exit status in one place only (cli::run_tool).
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace kd {

// A bad command line: exit status 2. Each line is printed as "TOOL: LINE", escaped (printable).
struct UsageError {
  explicit UsageError(std::string what) : lines{std::move(what)} {}
  explicit UsageError(std::vector<std::string> l) : lines(std::move(l)) {}
  std::vector<std::string> lines;
};

// A file or socket that could not be read, parsed, opened or written: exit status 3.
struct IoError {
  std::string what;
};

}  // namespace kd
