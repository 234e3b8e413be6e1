// Bash completion generated from a tool's own command line (the CLI11 definitions it parses with),
// so that a new option or subcommand reaches the completion without anyone writing it twice.
// `TOOL --bash-completion` prints the script; the build writes one per tool and `cmake --install`
// puts them in share/bash-completion/completions/ (README.md, "Install").
#pragma once

#include <string>
#include <string_view>

namespace CLI {
class App;
}

namespace kd::cli {

// A bash script defining a completion function for tool and registering it with `complete -F`:
// subcommands (nested), each context's options (a subcommand with fallthrough also takes its
// parent's), the values of enumerated options (--binding, --encode, --auc-link, --suite, --role,
// --events), file names where a file is expected (positional arguments and the file options).
std::string bash_completion(const CLI::App& app, std::string_view tool);

}  // namespace kd::cli
