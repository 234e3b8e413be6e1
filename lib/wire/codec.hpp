// Signaling bindings: one symmetric codec per protocol between logical messages and wire bytes
// (kd-protocol(7), "BINDINGS"). Encoding is a pure function of the logical message: every
// protocol element that the logical message does not carry (Call-ID, branch, tags, CSeq,
// transaction ids) is derived from its fields, so a seeded run reproduces the same bytes.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "core/bytes.hpp"
#include "core/error.hpp"
#include "msg/message.hpp"

namespace kd::wire {

enum class Binding : std::uint8_t { json, sip, mgcp, h248, h323, radius };

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
  // registered ports (kd-protocol(7), each binding's section).
  virtual std::pair<std::uint16_t, std::uint16_t> ports(const msg::StepSpec& s) const = 0;
};

// The four phases every signaling binding maps kd's steps onto: the first registration request
// (s1, s2, d1), the challenge (s5, s6, d4), the answer (s7, s8, d5) and the success (s9, s10, d6).
// The AuC link (s3, s4, s11, d2, d3, d7) has none.
enum class Phase : std::uint8_t { start, challenge, answer, success };
std::optional<Phase> phase_of(const msg::StepSpec& s) noexcept;
// Whether the step travels to or from the terminal (the proxied flow's outer link, or direct).
bool term_link(const msg::StepSpec& s) noexcept;
bool has_field(const msg::StepSpec& s, msg::Field f) noexcept;

struct CodecOptions {
  std::string radius_secret;  // the RADIUS shared secret (RFC 2865 section 3); never logged
  // radius without a secret: decode what can be read without it and verify nothing, as an observer
  // without the secret must (kd-decode only; such a codec encodes nothing).
  bool radius_unverified = false;
};

// nullptr for json (not a wire codec) and for radius without a secret, unless radius_unverified.
std::unique_ptr<Codec> make_codec(Binding b, const CodecOptions& options = {});

}  // namespace kd::wire
