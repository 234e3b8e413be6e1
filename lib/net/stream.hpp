// Live mode over TCP (kd-live(7), TRANSPORTS): which bindings a stream carries and how their
// messages are cut out of it and put into it. Cutting reuses the capture readers' framers (the
// same rules read a capture of the stream); what is new here is only JSON's one object per line.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "core/bytes.hpp"
#include "net/retransmit.hpp"
#include "wire/codec.hpp"

namespace kd::capture {
class Framer;
}

namespace kd::net {

enum class StreamFraming : std::uint8_t {
  sip,    // RFC 3261 18.3: the header block, then Content-Length bytes of body
  tpkt,   // H.248.1 Annex D.2 over RFC 1006: a 4-byte header holding the length
  lines,  // JSON: one object per line, ended by LF
};

// The framing of binding b over TCP; nullopt when its standard has it over UDP only (MGCP, H.225.0
// RAS) or kd does not speak it over TCP (RADIUS, RFC 6613).
std::optional<StreamFraming> stream_framing(wire::Binding b) noexcept;
// "sip, h248, json": the bindings stream_framing() has a framing for, for messages.
std::string stream_binding_names();

// Bounds of one connection (kd-live(7), TRANSPORTS): a longer message cuts the connection.
inline constexpr std::size_t kMaxStreamMessage = 64 << 10;      // a JSON line, a SIP body
inline constexpr std::size_t kMaxStreamQueued = 1 << 20;        // framed bytes the peer has not taken
inline constexpr std::size_t kMaxConnectionsPerListener = 1024; // accepted beyond: closed at once
inline constexpr std::uint64_t kRefusedNoteMs = 1000;           // at most one note per second of those
// A listener's connection with nothing either way for this long is closed (above RFC 5626 4.4.1's
// keep-alive interval for TCP, 95 to 120 s, so that a client's keep-alives hold it open).
inline constexpr std::uint64_t kStreamIdleMs = 180'000;
// A message a listener's peer has begun must be complete this long after its first byte, or the
// connection is closed: a byte a second would otherwise hold a connection (and its share of
// kMaxConnectionsPerListener) for ever. RFC 3261's Timer F (64*T1): a request later than that is
// past its own transaction's end.
inline constexpr std::uint64_t kStreamMessageMs = 32'000;

// A framer cutting messages of f out of one direction of a connection (capture::Framer::push
// reports bytes it cannot frame: the connection is then unusable).
std::unique_ptr<capture::Framer> make_stream_framer(StreamFraming f);
// message as it travels over the stream, appended to out; a message on failure (too long for TPKT's
// length, a JSON object holding a line break).
std::optional<std::string> append_framed(StreamFraming f, ByteView message, Bytes& out);

// A reliable transport's timers: sent once, no retransmission (RFC 3261 17.1.2.2: Timer E is not
// used over TCP), and the transaction's timeout as it was (Timer F stays).
Timers without_retransmission(Timers t) noexcept;

}  // namespace kd::net
