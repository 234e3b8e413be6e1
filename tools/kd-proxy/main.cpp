#include "cli/tools.hpp"

int main(int argc, char** argv) { return kd::cli::proxy_main(argc, argv); }
