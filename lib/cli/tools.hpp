// The tools' entry points and what every tool shares: the exit statuses, the errors that end a run,
// and the one place (run_tool) that turns them into a message and a status.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/run_error.hpp"

namespace CLI {
class App;
}

namespace kd::cli {

// Exit statuses, the same for every tool (documented in each man page).
enum Exit : int {
  kExitOk = 0,
  kExitRejected = 1,  // an input message (or a keystore operation) was refused
  kExitUsage = 2,     // bad command line
  kExitFile = 3,      // a file could not be read, parsed or written (keystore, state, input)
  kExitNothingVerified = 4,  // kd-decode --check: the input held no KD message, so nothing was verified
};

// A bad command line: exit status 2 (core/run_error.hpp).
using kd::UsageError;

// Runs a tool's body and returns its exit status: what the body returns, or, when it throws, the
// status of the error after printing "TOOL: MESSAGE" on standard error (UsageError 2, IoError 3).
// The tools' only place that turns an error into an exit status.
int run_tool(std::string_view tool, const std::function<int()>& body);

// Writes bytes to stdout (the C stream) and remembers why the first failed write failed, so that
// run_tool's "cannot write the standard output: WHY" gives the reason after later calls have reset
// errno. Safe from any one thread at a time.
void write_stdout(std::string_view bytes);

// The command-line conventions every tool shares: an option given more than once takes its last
// value (repeatable ones, such as --addr, keep every value); a parse error is a UsageError whose
// lines say what was wrong, hint when a subcommand's option came before the subcommand, and point
// to --help. Call init_app before adding options. parse_command_line returns false once it has
// printed the help (the tool then exits 0).
void init_app(CLI::App& app);
bool parse_command_line(CLI::App& app, std::string_view tool, int argc, char** argv);

// The tools' bodies, run under run_tool by each binary's main(): they return kExitOk or
// kExitRejected and throw UsageError or IoError.
int term_main(int argc, char** argv);
int proxy_main(int argc, char** argv);
int switch_main(int argc, char** argv);
int auc_main(int argc, char** argv);

}  // namespace kd::cli
