// The AuC link over RADIUS (RFC 2865, 2866, 3579): s3/d2 as Access-Request, s4/d3 as
// Access-Challenge, s11/d7 as Accounting-Request (Start); IDc in User-Name, every other KD value in a
// Vendor-Specific sub-attribute of Vendor-Id 32473 (RFC 5612), Authenticator_c hidden as RFC 2868
// hides Tunnel-Password, a Message-Authenticator on every packet (kd-protocol(7), "The AuC link over
// RADIUS"). Packets derive their Identifier and the Access-Request's Request Authenticator from the
// logical fields under the shared secret, so encoding stays a pure function of the message and the
// switch verifies an Access-Challenge without remembering its request; an Access-Challenge encoded
// after the request it answers (encode_after) takes that request's, as any RADIUS client expects.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "wire/codec.hpp"

namespace kd::wire {

class RadiusCodec final : public Codec {
public:
  // unverified: there is no secret (secret is empty). decode() then checks no authenticator, leaves
  // the hidden Authenticator_c out (its step lacks it: unverified_without_secret() says what was
  // not verified), and encode() refuses.
  explicit RadiusCodec(std::string secret, bool unverified = false);
  Binding binding() const noexcept override { return Binding::radius; }
  bool carries(const msg::StepSpec& s) const noexcept override;
  Result<Bytes> encode(const msg::Message& m) const override;
  // An s4/d3 after an Access-Request (previous, at least 20 bytes) answers that request: its
  // Identifier, and its Request Authenticator R keys the Response Authenticator, the
  // Message-Authenticator and the hiding of KD-Authenticator-C (RFC 2865 section 3, RFC 3579 section
  // 3.2, RFC 2868 section 3.5), so that another RADIUS client, which chose its own Identifier and R,
  // accepts it. After kd's own s3/d2 (derived Identifier and R) that is encode(m) byte for byte.
  // Anything else gives encode(m).
  Result<Bytes> encode_after(const msg::Message& m, ByteView previous) const override;
  // An Access-Request (s3/d2) or Accounting-Request (s11/d7) under the Identifier txn[0] and, for
  // an Access-Request, the Request Authenticator txn[1..16] (RFC 2865 section 3: unpredictable and
  // unique), which key its Message-Authenticator and the AuC's answer. Anything else: encode_after.
  Result<Bytes> encode_fresh(const msg::Message& m, ByteView previous, ByteView txn) const override;
  Result<msg::Message> decode(ByteView wire) const override;
  // An Access-Challenge (s4/d3) verified against request, the Access-Request (at least 20 bytes) it
  // answers: its Identifier and Request Authenticator, whichever its client chose. Anything else, or
  // another request, is decode(wire).
  Result<msg::Message> decode_after(ByteView wire, ByteView request) const override;

private:
  // The Identifier and Request Authenticator a packet carries (a request) or answers (an
  // Access-Challenge); nullopt: the ones derived from the fields.
  struct RequestIds {
    std::uint8_t id = 0;
    Bytes auth;
  };
  static std::optional<RequestIds> ids_of_request(ByteView request);
  Result<Bytes> encode_with(const msg::Message& m, const std::optional<RequestIds>& ids) const;
  Result<msg::Message> decode_with(ByteView wire, const std::optional<RequestIds>& ids) const;
  std::string secret_;
  bool unverified_ = false;
  // The secret as the two HMAC keys every packet uses, their pads hashed once: the derived
  // Identifiers, Request Authenticators and salts (HMAC-SHA-256), and the Message-Authenticator
  // (HMAC-MD5).
  struct Keys;
  std::shared_ptr<const Keys> keys_;
};

namespace radius {

inline constexpr std::size_t kMinPacket = 20;    // RFC 2865 section 3
inline constexpr std::size_t kMaxPacket = 4096;  // RFC 2865 section 3
inline constexpr std::uint32_t kVendorId = 32473;  // RFC 5612: the enterprise number for documentation

inline constexpr std::uint16_t kClientPort = 49152;  // the switch's fixed source port
inline constexpr std::uint16_t kAuthPort = 1812;
inline constexpr std::uint16_t kAcctPort = 1813;

// Packet codes (RFC 2865 section 3, RFC 2866 section 3).
enum PacketCode : std::uint8_t {
  access_request = 1, access_accept = 2, access_reject = 3, accounting_request = 4,
  accounting_response = 5, access_challenge = 11,
};

// The role a packet is for, by its code alone: a request (Access-Request, Accounting-Request) is
// the AuC's, an answer (Access-Challenge, -Accept, -Reject, Accounting-Response) the switch's;
// nullopt for anything else, or a packet too short to have a code.
std::optional<msg::Role> recipient(ByteView packet);

// Standard attribute types kd writes or reads.
enum AttrType : std::uint8_t {
  user_name = 1, service_type = 6, vendor_specific = 26, nas_identifier = 32, acct_status_type = 40,
  acct_session_id = 44, message_authenticator = 80,
};
inline constexpr std::uint32_t kAuthenticateOnly = 8;  // Service-Type value
inline constexpr std::uint32_t kAcctStart = 1;         // Acct-Status-Type value

// KD sub-attributes of Vendor-Id 32473 (scripts/radius/dictionary.kd).
enum KdAttr : std::uint8_t {
  kd_suite = 1, kd_idsp = 2, kd_idss = 3, kd_rand = 4, kd_authenticator_c = 5, kd_ekc = 6,
  kd_eksp = 7, kd_ekss = 8, kd_ipc = 9,
};

// What a RadiusCodec without the secret does not verify in a message of step s, as kd-decode names
// it (kd-decode(1)): "radius_authenticators" (the Message-Authenticator, and the Response or
// Accounting Request Authenticator and Identifier the secret keys) for every step of the link, and
// "Authenticator_c" (hidden, so neither shown nor compared) for s4 and d3. Empty for other steps.
std::span<const std::string_view> unverified_without_secret(const msg::StepSpec& s) noexcept;

// The derived Request Authenticator (16 bytes) and Identifier of the Access-Request of an s3/d2 (or
// of the s4/d3 answering it): HMAC-SHA-256(secret, "kd1 radius request" || flow || lp16(suite) ||
// lp16(IDc) || lp16(IDsp or IDss)), bytes 0..15 and byte 16.
std::pair<Bytes, std::uint8_t> request_authenticator(std::string_view secret, msg::Flow flow,
                                                     std::string_view suite, std::string_view idc,
                                                     std::string_view registrar);

// RFC 2868 section 3.5 hiding (no tag): salt(2, high bit set) || chunks of 16, the plaintext being
// length || value || zero padding. unhide returns nullopt when the form is wrong.
Bytes hide(std::string_view secret, ByteView request_auth, std::uint16_t salt, ByteView value);
std::optional<Bytes> unhide(std::string_view secret, ByteView request_auth, ByteView hidden);


// Live mode (kd-live(7), "THE AUC LINK OVER RADIUS"): the AuC's answers that are not KD steps.
inline constexpr std::uint8_t kReplyMessage = 18;  // Reply-Message (RFC 2865 section 5.18)
// The answer of code (access_reject or accounting_response) to request (an Access-Request or an
// Accounting-Request of at least kMinPacket bytes): its Identifier, the Response Authenticator
// MD5(Code + Identifier + Length + Request Authenticator + Attributes + secret) (RFC 2865 and RFC
// 2866, section 3); an Access-Reject also carries reply (a Reply-Message, when not empty) and a
// Message-Authenticator (RFC 3579 section 3.2), an Accounting-Response no attribute.
Bytes answer_packet(std::string_view secret, ByteView request, PacketCode code, std::string_view reply = {});
// Whether response answers request under secret: an answer code, the request's Identifier, a
// consistent length and a Response Authenticator that verifies (compared in constant time); a
// Message-Authenticator that verifies too, required but in an Accounting-Response (RFC 3579 3.2).
bool answers(std::string_view secret, ByteView response, ByteView request);
// Whether packet is an Access-Request or Accounting-Request whose Message-Authenticator is there and
// verifies under secret (and, for an Accounting-Request, its Request Authenticator): what a server
// must check before it answers at all (RFC 3579 section 3.2; RFC 2866 section 3), as a request
// that fails it is silently discarded.
bool authentic_request(std::string_view secret, ByteView packet);
}  // namespace radius
}  // namespace kd::wire
