#include "cli/tools.hpp"

int main(int argc, char** argv) { return kd::cli::vectors_main(argc, argv); }
