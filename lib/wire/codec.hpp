// Signaling bindings: one symmetric codec per protocol between logical messages and wire bytes
// (kd-protocol(7), "BINDINGS"). Encoding is a pure function of the logical message: every
// protocol element that the logical message does not carry (Call-ID, branch, tags, CSeq,
// transaction ids) is derived from its fields, so a seeded run reproduces the same bytes.
#pragma once

#include <array>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "core/bytes.hpp"
#include "core/error.hpp"
#include "msg/message.hpp"

namespace kd::wire {

enum class Binding : std::uint8_t { json, sip, mgcp, h248, h323, radius };

// The random bytes Codec::encode_fresh takes per request: RADIUS's Identifier (1) and Request
// Authenticator (16) use them all; the other bindings the first few.
inline constexpr std::size_t kTxnBytes = 17;
// The random bytes a terminal's registration keeps for all its requests, after the kTxnBytes of
// each (Codec::encode_fresh): SIP's Call-ID (16) and From tag (8).
inline constexpr std::size_t kRegistrationBytes = 24;

std::string_view binding_name(Binding b) noexcept;
std::optional<Binding> parse_binding(std::string_view s) noexcept;

class Codec {
public:
  virtual ~Codec() = default;
  virtual Binding binding() const noexcept = 0;
  // Whether this binding carries the step (signaling bindings carry the terminal-proxy-switch
  // steps; RADIUS carries the AuC link).
  virtual bool carries(const msg::StepSpec& s) const noexcept = 0;
  // m as it is, when it passes msg::validate(m, msg::Sizes::loose) (checked here): a byte field of a
  // tampered size travels, for its recipient's decoder to refuse.
  virtual Result<Bytes> encode(const msg::Message& m) const = 0;
  // m as sent by a role that received previous, the wire message (in this binding) that m answers
  // or forwards (msg::previous_step()). A binding whose responses and forwarded requests must carry the
  // received transaction (SIP: Via, From, To, Call-ID, CSeq) takes it from previous; the others,
  // and an empty previous or one that is not a message of this binding, give encode(m).
  virtual Result<Bytes> encode_after(const msg::Message& m, ByteView previous) const {
    (void)previous;
    return encode(m);
  }
  // Live mode (kd-live(7), TRANSACTIONS): the request m as a new transaction of its sender. The
  // identifiers the protocol lets a sender choose for it (RADIUS's Identifier and Request
  // Authenticator, SIP's own Via branch, MGCP's transaction id, H.248's TransactionID, H.225.0's
  // requestSeqNum) come from txn, kTxnBytes random bytes drawn per request at the network edge,
  // where encode() derives them from the fields: two registrations of one terminal are then two
  // transactions, not a retransmission. A terminal's request (kd-term register and load) has
  // kRegistrationBytes more after them, drawn once per registration: what SIP keeps across a
  // registration's transactions, its Call-ID and From tag (RFC 3261 8.1.1.3, 8.1.1.4), so that
  // s7 (d5) goes on under s1's (d1's) with CSeq 2, and the next registration, under a new Call-ID,
  // is not refused for its CSeq 1 (RFC 3261 10.3 step 7). A binding without such a place, and an
  // answer, give encode_after(m, previous). Offline tools and vectors never call it.
  virtual Result<Bytes> encode_fresh(const msg::Message& m, ByteView previous, ByteView txn) const {
    (void)txn;
    return encode_after(m, previous);
  }
  // Live mode: the answer m to a request that came as request_bytes, previous as in encode_after.
  // A binding whose answer names its request's transaction by an identity that previous does not
  // carry (the proxy's s6 and s10 follow the switch's s5 and s9: H.225.0's requestSeqNum of s2
  // and s8, where the terminal's GRQ and RRQ have their own) takes it from request_bytes; the
  // others give encode_after(m, previous).
  virtual Result<Bytes> encode_answer(const msg::Message& m, ByteView previous, ByteView request_bytes) const {
    (void)request_bytes;
    return encode_after(m, previous);
  }
  // An answer as its requester reads it, request being the request it answers as sent: a binding
  // whose answers are verified against their request's identifiers (RADIUS's Access-Challenge)
  // verifies them against request's rather than the derived ones. Otherwise decode(wire).
  virtual Result<msg::Message> decode_after(ByteView wire, ByteView request) const {
    (void)request;
    return decode(wire);
  }
  // Any well-formed message of the protocol, from kd or not; the result has passed msg::validate().
  virtual Result<msg::Message> decode(ByteView wire) const = 0;
  // The same into m, which a binding may reuse the buffers of (kd-decode's hot path); on error m
  // holds no particular message.
  virtual Status decode_into(ByteView wire, msg::Message& m) const {
    auto r = decode(wire);
    if (!r) return r.error();
    m = std::move(*r);
    return Ok{};
  }
  // The UDP (or TCP) ports a carried step travels between: {source, destination}, the protocol's
  // registered ports (kd-protocol(7), each binding's section), as the binding table holds them.
  std::pair<std::uint16_t, std::uint16_t> ports(const msg::StepSpec& s) const;
};

// The four phases every signaling binding maps kd's steps onto: the first registration request
// (s1, s2, d1), the challenge (s5, s6, d4), the answer (s7, s8, d5) and the success (s9, s10, d6).
// The AuC link (s3, s4, s11, d2, d3, d7) has none.
enum class Phase : std::uint8_t { start, challenge, answer, success };
std::optional<Phase> phase_of(const msg::StepSpec& s) noexcept;
// Whether the step travels to or from the terminal (the proxied flow's outer link, or direct).
bool term_link(const msg::StepSpec& s) noexcept;
bool has_field(const msg::StepSpec& s, msg::Field f) noexcept;

// ---- The binding table ------------------------------------------------------------------------
// Every fact about a binding that is not its codec's encoding, in one row: its name, what it
// carries, its registered ports, how a TCP stream of it is cut into messages, what its messages are
// called. The tools' option texts, the wire edge, the capture framing, the vectors and kd-decode's
// ladder all read it, so adding a binding means one row here plus its codec (and make_codec's case).

// What a binding carries: the logical form (JSON, every step), the terminal-proxy-switch steps, or
// the AuC link.
enum class Carrier : std::uint8_t { logical, signaling, auc_link };
// How a TCP stream of the binding is cut into messages (capture/: SIP by Content-Length, H.248 by
// TPKT, the others as the segments come); none: the binding does not travel over TCP.
enum class Framing : std::uint8_t { none, raw, sip, tpkt };

// One leg of the exchange: what the binding calls the message and the {source, destination} ports
// it travels between. Signaling bindings have a leg per Phase; the AuC link has its request (s3, d2)
// at Phase::start, the AuC's answer (s4, d3) at Phase::challenge and the report (s11, d7) at
// Phase::success (legs_of()).
struct Leg {
  std::string_view element;
  std::uint16_t src_port = 0, dst_port = 0;
};

struct BindingInfo {
  Binding binding;
  std::string_view name;
  Carrier carrier;
  Framing tcp;  // Framing::none: UDP only
  // The port a terminal listens on in this binding (kd-term start's default --contact).
  std::uint16_t contact_port;
  std::array<Leg, 4> legs;  // by Phase
  // What the challenge is called when the proxy sends it (SIP's 407); empty: legs[challenge]'s.
  std::string_view proxy_challenge;
};

// Every binding, in the order of the Binding enum (json first, then the signaling bindings, then
// the AuC link).
std::span<const BindingInfo> bindings() noexcept;
const BindingInfo& binding_info(Binding b) noexcept;
// The leg of the table that step s takes in binding b, or nullopt when b does not carry s.
std::optional<Phase> leg_of(Binding b, const msg::StepSpec& s) noexcept;
// The ports and the message name of step s in binding b ({0, 0} and "" when b does not carry s).
std::pair<std::uint16_t, std::uint16_t> binding_ports(Binding b, const msg::StepSpec& s) noexcept;
std::string_view element_name(Binding b, const msg::StepSpec& s) noexcept;
// The bindings of these carriers, named in table order as the tools' texts list them:
// "sip, mgcp, h248, h323", or with last = " or ": "sip, mgcp, h248 or h323".
std::string binding_names(std::initializer_list<Carrier> carriers, std::string_view last = ", ");

// The transport a binding's messages travel over, for a protocol that names it in its messages
// (SIP's Via: RFC 3261 18.1.1, 20.42).
enum class Transport : std::uint8_t { udp, tcp };

struct CodecOptions {
  std::string radius_secret;  // the RADIUS shared secret (RFC 2865 section 3); never logged
  // radius without a secret: decode what can be read without it and verify nothing, as an observer
  // without the secret must (kd-decode only; such a codec encodes nothing).
  bool radius_unverified = false;
  // What the codec's own requests are sent over (live mode's tcp: peers; offline: udp). An answer
  // echoes its request's Via, whatever this says.
  Transport transport = Transport::udp;
  // Live mode: where the codec's own requests go out from as their peer sees it ("IP:PORT", an
  // IPv6 address in brackets), which SIP's own Via names as sent-by with rport, so that a
  // registrar's answer comes back to that port (RFC 3261 18.2.2, RFC 3581). Empty (offline, and
  // over TCP, where the answer comes on the connection): the sent-by derived from the fields.
  std::string sent_by = {};
};

// ---- Provisional answers ------------------------------------------------------------------------
// A server's "still working on it" to a retransmission of a request it has not answered yet
// (kd-live(7), TRANSACTIONS; kd-protocol(7), BINDINGS): MGCP's 100 response (RFC 3435 3.5.6),
// H.248's TransactionPending (H.248.1 Annex D.1.4) and H.225.0's RequestInProgress. They are
// transport messages, no logical step: every Codec::decode refuses them (unknown_step).
struct Provisional {
  std::uint32_t transaction = 0;  // the request's transaction id, TransactionID or requestSeqNum
  std::uint32_t delay_ms = 0;     // RequestInProgress's delay; 0 where the binding sets none
  // What it is called (kd-decode(1)): "100" or "101" (MGCP's return code), "TransactionPending",
  // "RequestInProgress".
  std::string_view element;
};
// Whether binding b has provisional answers (mgcp, h248, h323).
bool has_provisional(Binding b) noexcept;
// The identity a provisional answer names request by (its transaction id, TransactionID or
// requestSeqNum), read from request as sent; nullopt when b has none or request holds none.
std::optional<std::uint32_t> request_transaction(Binding b, ByteView request);
// b's provisional answer to request, sent by the role whose identity is sender (H.248's mId);
// delay_ms (1..65535) is RequestInProgress's delay. nullopt when b has none or request holds no
// identity.
std::optional<Bytes> provisional_answer(Binding b, ByteView request, std::string_view sender, std::uint32_t delay_ms);
// wire as one of b's provisional answers, or nullopt when it is none (decode it as usual then).
std::optional<Provisional> read_provisional(Binding b, ByteView wire);

// nullptr for json (its codec, above wire/, is codecs::make_codec's) and for radius without a
// secret, unless radius_unverified.
std::unique_ptr<Codec> make_codec(Binding b, const CodecOptions& options = {});

}  // namespace kd::wire
