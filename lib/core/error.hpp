// Errors as values: a reason code that names why, and a human detail that never holds a secret.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace kd {

enum class Code {
  malformed,               // not JSON, not an object, wrong type, bad hex, unexpected or duplicate field
  missing_field,           // a field the step requires is absent
  bad_length,              // a field has the wrong size or is out of range
  oversized,               // the input line exceeds the size limit
  unknown_suite,           // the suite name is not one kd knows
  unknown_step,            // "step"/"flow" do not name a message of kd's flows
  wrong_recipient,         // the message is addressed to another role
  unknown_identity,        // an identity is not in the keystore, or has another role
  identity_mismatch,       // an identity differs from the one this role holds for the exchange
  suite_mismatch,          // the suite differs from the one of the exchange
  unexpected_message,      // no exchange is waiting for this step
  stale_timestamp,         // TS older than now - window
  future_timestamp,        // TS newer than now + window
  replayed_nonce,          // a nonce seen before within the window
  nonce_mismatch,          // an echoed nonce differs from the one sent
  unknown_challenge,       // no live challenge with this Rand
  expired_challenge,       // the challenge's lifetime has passed
  reused_challenge,        // the challenge was already answered
  bad_authenticator,       // Authenticator_c does not match
  too_many_attempts,       // the attempts allowed for one registration are used up
  bad_seal,                // a sealed key does not open (tampered, or sealed for another party)
  bad_mac,                 // the MAC over the success message does not verify
  mechanism_downgrade,     // the echoed list differs from the list sent, or the chosen mechanism is not acceptable
  no_acceptable_mechanism, // nothing in the terminal's list is supported and allowed
};

std::string_view code_name(Code c) noexcept;

struct Error {
  Code code;
  std::string detail;
};

// A value or an Error; the library never throws across its interface for bad input.
template <class T>
class Result {
public:
  Result(T v) : v_(std::move(v)) {}
  Result(Error e) : v_(std::move(e)) {}
  bool ok() const noexcept { return std::holds_alternative<T>(v_); }
  explicit operator bool() const noexcept { return ok(); }
  T& value() { return std::get<T>(v_); }
  const T& value() const { return std::get<T>(v_); }
  T& operator*() { return value(); }
  const T& operator*() const { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  const Error& error() const { return std::get<Error>(v_); }

private:
  std::variant<T, Error> v_;
};

struct Ok {};
using Status = Result<Ok>;

inline Error err(Code c, std::string detail) { return Error{c, std::move(detail)}; }

}  // namespace kd
