#include "core/error.hpp"

namespace kd {

std::string_view code_name(Code c) noexcept {
  switch (c) {
    case Code::malformed: return "malformed";
    case Code::missing_field: return "missing_field";
    case Code::bad_length: return "bad_length";
    case Code::oversized: return "oversized";
    case Code::unknown_suite: return "unknown_suite";
    case Code::unknown_step: return "unknown_step";
    case Code::wrong_recipient: return "wrong_recipient";
    case Code::unknown_identity: return "unknown_identity";
    case Code::identity_mismatch: return "identity_mismatch";
    case Code::suite_mismatch: return "suite_mismatch";
    case Code::unexpected_message: return "unexpected_message";
    case Code::stale_timestamp: return "stale_timestamp";
    case Code::future_timestamp: return "future_timestamp";
    case Code::replayed_nonce: return "replayed_nonce";
    case Code::nonce_mismatch: return "nonce_mismatch";
    case Code::unknown_challenge: return "unknown_challenge";
    case Code::expired_challenge: return "expired_challenge";
    case Code::reused_challenge: return "reused_challenge";
    case Code::bad_authenticator: return "bad_authenticator";
    case Code::too_many_attempts: return "too_many_attempts";
    case Code::bad_seal: return "bad_seal";
    case Code::bad_mac: return "bad_mac";
    case Code::mechanism_downgrade: return "mechanism_downgrade";
    case Code::no_acceptable_mechanism: return "no_acceptable_mechanism";
  }
  return "unknown";
}

}  // namespace kd
