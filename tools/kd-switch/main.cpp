#include "cli/tools.hpp"

int main(int argc, char** argv) {
  return kd::cli::run_tool("kd-switch", [&] { return kd::cli::switch_main(argc, argv); });
}
