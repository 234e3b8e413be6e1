#include "cli/tools.hpp"

int main(int argc, char** argv) { return kd::cli::switch_main(argc, argv); }
