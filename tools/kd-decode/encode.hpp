// kd-decode --encode: JSON messages in, wire lines and pcap frames of a binding out (kd-decode(1),
// ENCODING), so that a script can put a message it built or tampered with on the wire.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace kd::tools {

struct EncodeOptions {
  std::string binding;                 // --encode
  std::vector<std::string> inputs;     // JSON Lines files, "-" for standard input
  std::string secret_file;             // --radius-secret-file
  std::string pcap_out;                // --pcap-out
  std::vector<std::string> addrs;      // --addr ROLE=IP
  std::optional<std::uint64_t> now;    // --now: the frames' time
  std::vector<std::string> conflicts;  // kd-decode options given that --encode does not take
};

// The exit status (kExitOk, kExitRejected); throws UsageError or IoError.
int encode_main(const EncodeOptions& o);

}  // namespace kd::tools
