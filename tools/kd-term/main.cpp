#include "cli/tools.hpp"

int main(int argc, char** argv) { return kd::cli::term_main(argc, argv); }
