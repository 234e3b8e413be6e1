#include "cli/tools.hpp"

int main(int argc, char** argv) {
  return kd::cli::run_tool("kd-auc", [&] { return kd::cli::auc_main(argc, argv); });
}
