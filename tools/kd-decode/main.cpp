#include "cli/tools.hpp"

int main(int argc, char** argv) {
  return kd::cli::run_tool("kd-decode", [&] { return kd::cli::decode_main(argc, argv); });
}
