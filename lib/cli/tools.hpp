// The tools' entry points: each binary's main() is one call to one of these.
#pragma once

namespace kd::cli {

// Exit statuses, the same for every tool (documented in each man page).
enum Exit : int {
  kExitOk = 0,
  kExitRejected = 1,  // an input message (or a keystore operation) was refused
  kExitUsage = 2,     // bad command line
  kExitFile = 3,      // a file could not be read, parsed or written (keystore, state, input)
  kExitNothingVerified = 4,  // kd-decode --check: the input held no KD message, so nothing was verified
};

int term_main(int argc, char** argv);
int proxy_main(int argc, char** argv);
int switch_main(int argc, char** argv);
int auc_main(int argc, char** argv);
int vectors_main(int argc, char** argv);
int decode_main(int argc, char** argv);

}  // namespace kd::cli
