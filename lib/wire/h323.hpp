// The H.323 RAS binding (H.225.0 RasMessage in ASN.1 aligned PER, X.691): the terminal-proxy-switch
// steps as GatekeeperRequest, GatekeeperReject, RegistrationRequest and RegistrationConfirm, the KD
// values in the message's root nonStandardData under kd's object identifier (kd-protocol(7),
// "H.323 RAS").
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "wire/codec.hpp"

namespace kd::wire {

class H323Codec final : public Codec {
public:
  Binding binding() const noexcept override { return Binding::h323; }
  bool carries(const msg::StepSpec& s) const noexcept override;
  Result<Bytes> encode(const msg::Message& m) const override;
  // A GRJ or RCF after the GRQ or RRQ it answers (previous) carries that request's requestSeqNum.
  Result<Bytes> encode_after(const msg::Message& m, ByteView previous) const override;
  // A GRQ or RRQ (the steps kd sends as requests) under the requestSeqNum 1 + (txn's first 2 bytes
  // mod 65535) instead of the derived one. The other steps: encode_after.
  Result<Bytes> encode_fresh(const msg::Message& m, ByteView previous, ByteView txn) const override;
  // A GRJ or RCF carries the requestSeqNum of request_bytes when that is the GRQ or RRQ it
  // answers, whatever previous holds; otherwise encode_after(m, previous).
  Result<Bytes> encode_answer(const msg::Message& m, ByteView previous, ByteView request_bytes) const override;
  Result<msg::Message> decode(ByteView wire) const override;

private:
  // seq_num: the requestSeqNum, or nullopt for the derived one.
  Result<Bytes> encode_with(const msg::Message& m, std::optional<std::uint16_t> seq_num) const;
};

namespace h323 {

inline constexpr std::uint16_t kRasPort = 1719;           // H.225.0 RAS over UDP
inline constexpr std::size_t kMaxMessage = 65536;         // decode refuses more (oversized)
inline constexpr std::size_t kMaxNonStandardData = 16383;  // one unfragmented PER length

// The RasMessage CHOICE indexes kd uses.
enum class Ras : std::uint8_t { grq = 0, grj = 2, rrq = 3, rcf = 4 };

// kd's nonStandardIdentifier, as its BER contents octets: 1.3.6.1.4.1.32473.1, under the enterprise
// number RFC 5612 sets aside for documentation (a deployment substitutes its own enterprise arc).
// Not a UUID arc (2.25, X.667): Wireshark shows arcs beyond 32 bits as malformed.
inline constexpr std::uint8_t kKdOid[] = {0x2b, 0x06, 0x01, 0x04, 0x01, 0x81, 0xfd, 0x59, 0x01};
// protocolIdentifier 0.0.8.2250.0.4 (H.225.0 version 4), BER contents octets.
inline constexpr std::uint8_t kProtocolOid[] = {0x00, 0x08, 0x91, 0x4a, 0x00, 0x04};

// Envelope pieces, exposed for the tests and for anyone reproducing kd's bytes.
// requestSeqNum: 1 + (first two octets of H("seq", ...) mod 65535), shared by a request and its answer.
std::uint16_t request_seq_num(const msg::Message& m);
// endpointIdentifier of an RCF: 16 hex digits of H("endpoint-id", ...).
std::string endpoint_identifier(const msg::Message& m);

// RequestInProgress (RIP), the RasMessage extension alternative 0 (H.225.0): requestSeqNum and
// delay (milliseconds, 1..65535), no optional component.
Bytes request_in_progress(std::uint16_t seq_num, std::uint16_t delay_ms);
struct Rip {
  std::uint16_t seq_num = 0;
  std::uint16_t delay_ms = 0;
};
// A RequestInProgress (nonStandardData may be present; tokens, cryptoTokens and
// integrityCheckValue are not read: such a RIP is none to kd), or nullopt.
std::optional<Rip> read_request_in_progress(ByteView wire);
// The requestSeqNum of a GRQ, GRJ, RRQ or RCF, or nullopt.
std::optional<std::uint16_t> seq_num_of(ByteView wire);

}  // namespace h323
}  // namespace kd::wire
