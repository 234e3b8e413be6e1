#include "cli/tools.hpp"

int main(int argc, char** argv) {
  return kd::cli::run_tool("kd-term", [&] { return kd::cli::term_main(argc, argv); });
}
