#include "cli/tools.hpp"

int main(int argc, char** argv) {
  return kd::cli::run_tool("kd-proxy", [&] { return kd::cli::proxy_main(argc, argv); });
}
