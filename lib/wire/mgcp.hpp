// The MGCP binding (RFC 3435): the terminal is a media gateway endpoint, the switch a call agent,
// the proxy relays (a call agent toward the terminal, a gateway toward the switch). The first
// message is RSIP, the challenge and the success are RQNT, the answer is NTFY; the KD values ride
// in vendor extension parameters "X-KD...:" (RFC 3435 section 3.2.2) so any MGCP parser accepts
// them (kd-protocol(7), "MGCP binding").
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "wire/codec.hpp"

namespace kd::wire {

class MgcpCodec final : public Codec {
public:
  Binding binding() const noexcept override { return Binding::mgcp; }
  bool carries(const msg::StepSpec& s) const noexcept override;
  Result<Bytes> encode(const msg::Message& m) const override;
  // RSIP and NTFY (the steps kd sends as requests) under the transaction id 1 + (txn's first 8
  // bytes mod 999999999) instead of the derived one (RFC 3435 section 3.2.1.2: unique per
  // transaction). The other steps: encode_after.
  Result<Bytes> encode_fresh(const msg::Message& m, ByteView previous, ByteView txn) const override;
  Result<msg::Message> decode(ByteView wire) const override;

private:
  // tid: the transaction id, or nullopt for the derived one.
  Result<Bytes> encode_with(const msg::Message& m, std::optional<std::uint32_t> tid) const;
};

namespace mgcp {

inline constexpr std::size_t kMaxMessage = 65536;
inline constexpr std::uint16_t kGatewayPort = 2427;    // RFC 3435's registered ports
inline constexpr std::uint16_t kCallAgentPort = 2727;

// Envelope pieces, exposed for the tests and for anyone reproducing kd's bytes.
// The endpoint every kd message names: the terminal's first analog line, "aaln/1@host(IDc)".
std::string endpoint_for(std::string_view idc);
// The transaction id of a message: 1..999999999, from SHA-256 over its canonical encoding.
std::uint32_t transaction_id(const msg::Message& m);

// Provisional responses (RFC 3435 3.5.6): "100 <tid> executing" (return code 100: the transaction
// is being executed, its completion follows), CRLF, no parameter.
Bytes provisional(std::uint32_t tid);
// The transaction id of a provisional response (return code 100 or 101, tid 1..999999999), or
// nullopt when wire is not one.
std::optional<std::uint32_t> read_provisional(ByteView wire);
// The transaction id of a command (its second word), or nullopt.
std::optional<std::uint32_t> command_transaction(ByteView wire);

}  // namespace mgcp
}  // namespace kd::wire
