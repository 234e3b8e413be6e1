// What kd-decode reports (kd-decode(1), OUTPUT and CHECKS): a message's checks and a registration's
// outcome. verify/ finds them and json/ writes them; they are declared here, below both, so that
// json/ need not include the Verifier that sits above it.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/bytes.hpp"
#include "msg/message.hpp"

namespace kd::json {

struct Check {
  std::string_view name;  // "nonce_echo", "authenticator", "mac", ... (kd-decode(1), CHECKS): a literal
  bool ok = true;
  std::string detail;     // why it failed; never a key
};

struct RegistrationReport {
  msg::Flow flow = msg::Flow::proxied;
  std::string idc, peer, suite;
  std::vector<std::string> steps;  // in the order seen
  bool completed = false;          // the success message verified (or, without keys, was seen) and reported
  std::string stopped_at;          // the last step seen when not completed
  std::string reason;              // the first failed check, or what is missing
  std::string mech;                // the chosen mechanism, once known
  std::vector<std::string> unverified;  // what its messages could not have verified, in the order first met
  Secret session_key;              // recovered with the keystore; printed only with --show-key
};

}  // namespace kd::json
