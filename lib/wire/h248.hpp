// The H.248 / MEGACO text binding (RFC 3525 Annex B, H.248.1): the terminal-proxy-switch steps as
// transaction requests from a media gateway (the terminal, or the proxy toward the switch) and its
// controller (the switch, or the proxy toward the terminal): ServiceChange Restart (s1, s2, d1),
// Modify requesting the event kd/auth (s5, s6, d4), Notify of kd/auth (s7, s8, d5) and Modify with
// kd/* termination properties (s9, s10, d6). kd-protocol(7), "H.248 / MEGACO text".
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "wire/codec.hpp"

namespace kd::wire {

class H248Codec final : public Codec {
public:
  Binding binding() const noexcept override { return Binding::h248; }
  bool carries(const msg::StepSpec& s) const noexcept override;
  Result<Bytes> encode(const msg::Message& m) const override;
  // ServiceChange and Notify (the steps kd sends as requests) under the TransactionID 1 + (txn's
  // first 4 bytes mod 2^31 - 1) instead of the derived one (H.248.1 section 8.2.1: unique per
  // sender). The other steps: encode_after.
  Result<Bytes> encode_fresh(const msg::Message& m, ByteView previous, ByteView txn) const override;
  Result<msg::Message> decode(ByteView wire) const override;

private:
  // transaction: the TransactionID, or empty for the derived one.
  Result<Bytes> encode_with(const msg::Message& m, const std::string& transaction) const;
};

namespace h248 {

inline constexpr std::size_t kMaxMessage = 65536;
inline constexpr int kMaxDepth = 16;        // nesting of braces and lists
inline constexpr std::size_t kMaxItems = 4096;  // parsed elements in one message

// The MEGACO mId for an identity: "[IPv4]:2944" or "<host>:2944" with host = sip::host_for(id).
std::string mid_for(std::string_view id);


// TransactionPending (H.248.1 8.2.3, Annex D.1.4; RFC 3525 transactionPending): a message from mid
// with "Pending = <transaction> {" and "}" on lines of their own, CRLF each, as kd writes text.
Bytes pending(std::string_view mid, std::uint32_t transaction);
// The TransactionID of a message holding one TransactionPending (any case, long or short token,
// any white space), or nullopt when wire is not one.
std::optional<std::uint32_t> read_pending(ByteView wire);
// The TransactionID of a message holding one transaction request, or nullopt.
std::optional<std::uint32_t> request_transaction(ByteView wire);

}  // namespace h248
}  // namespace kd::wire
