#include "cli/tools.hpp"

int main(int argc, char** argv) {
  return kd::cli::run_tool("kd-vectors", [&] { return kd::cli::vectors_main(argc, argv); });
}
