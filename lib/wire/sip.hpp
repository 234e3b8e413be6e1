// The SIP binding (RFC 3261, RFC 3329): the terminal-proxy-switch steps as REGISTER, 401 and 200 OK,
// the KD values in the authentication framework under the scheme "KD", the mechanism lists in the
// Security-Client and Security-Verify headers (kd-protocol(7), "SIP binding").
#pragma once

#include <string>
#include <string_view>
#include <utility>

#include "wire/codec.hpp"

namespace kd::wire {

class SipCodec final : public Codec {
public:
  // transport: what the requests it encodes are sent over, named in their own Via; sent_by: the
  // sent-by of that Via in encode_fresh (CodecOptions::sent_by), empty for the derived one.
  explicit SipCodec(Transport transport = Transport::udp, std::string sent_by = {})
      : transport_(transport), sent_by_(std::move(sent_by)) {}
  Binding binding() const noexcept override { return Binding::sip; }
  bool carries(const msg::StepSpec& s) const noexcept override;
  Result<Bytes> encode(const msg::Message& m) const override;
  Result<Bytes> encode_after(const msg::Message& m, ByteView previous) const override;
  // A request (REGISTER) with its own Via's branch "z9hG4bK" + hex of txn's first 12 bytes: a new
  // transaction (RFC 3261 8.1.1.7, 16.6 item 8), its sent-by this codec's sent_by (with rport)
  // when it has one. A terminal's (txn with its kRegistrationBytes)
  // under the Call-ID hex of their first 16 and the From tag hex of the last 8, CSeq as the step
  // says (s1, d1: 1; s7, d5: 2). A proxy forwards From, To, Call-ID and CSeq as the terminal sent
  // them. An answer: encode_after.
  Result<Bytes> encode_fresh(const msg::Message& m, ByteView previous, ByteView txn) const override;
  Result<msg::Message> decode(ByteView wire) const override;
  Status decode_into(ByteView wire, msg::Message& m) const override;

private:
  Transport transport_;
  std::string sent_by_;
};

namespace sip {

inline constexpr std::size_t kMaxMessage = 65536;

// Envelope pieces, exposed for the tests and for anyone reproducing kd's bytes (the host of an
// identity is wire/host.hpp's host_for, the q-values wire/text.hpp's).
// The RFC 3261 user part for an identity ('@' and anything outside the user grammar %-escaped).
std::string escape_user(std::string_view id);

}  // namespace sip
}  // namespace kd::wire
