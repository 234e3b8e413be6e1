// The tools' entry points: each binary's main() is one call to one of these.
#pragma once

#include <string_view>

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

// The command-line conventions every tool shares: an option given more than once takes its last
// value (repeatable ones, such as --addr, keep every value); a parse error is one line on stderr
// prefixed with the tool's name, with a hint when a subcommand's option came before the
// subcommand. Call init_app before adding options. parse_command_line returns 0 to go on, -1 after
// printing the help (exit 0), or kExitUsage.
void init_app(CLI::App& app);
int parse_command_line(CLI::App& app, std::string_view tool, int argc, char** argv);

int term_main(int argc, char** argv);
int proxy_main(int argc, char** argv);
int switch_main(int argc, char** argv);
int auc_main(int argc, char** argv);
int vectors_main(int argc, char** argv);
int decode_main(int argc, char** argv);

}  // namespace kd::cli
