// Where a tool's messages meet the wire (WireEdge): the codecs of the bindings a tool speaks, which
// decode what it reads and encode what it sends, for the filters, kd-decode and the live services
// (lib/net) alike; and the wire options that choose them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "capture/capture.hpp"
#include "codecs/codecs.hpp"
#include "core/bytes.hpp"
#include "core/error.hpp"
#include "msg/message.hpp"
#include "wire/codec.hpp"

namespace kd::codecs {

// --decode-as: the binding a UDP or TCP port carries, as tshark's -d udp.port==5080,sip.
struct DecodeAs {
  capture::Transport transport = capture::Transport::udp;
  std::uint16_t port = 0;
  wire::Binding binding = wire::Binding::sip;
};

struct WireOptions {
  wire::Binding binding = wire::Binding::json;  // --binding
  std::optional<bool> radius_link;              // --auc-link radius|json; default: radius when binding != json
  std::string radius_secret;                    // from --radius-secret-file
  bool radius_unverified = false;               // kd-decode: without a secret, read RADIUS verifying nothing
  std::string pcap_out;                         // --pcap-out
  std::map<msg::Role, std::string> addr;        // --addr ROLE=IP, defaults filled in
  std::vector<DecodeAs> decode_as;              // --decode-as, beating the registered ports
  wire::Transport transport = wire::Transport::udp;  // live mode: what the tool's requests go over (SIP's Via)
};

// The largest raw wire message a tool reads.
inline constexpr std::size_t kMaxRaw = 65536;

// Captures are read in every signaling binding unless one was chosen.
inline bool all_signaling(const WireOptions& o) {
  return o.binding == wire::Binding::json || o.binding == wire::Binding::radius;
}


// Default addresses for roles the user left out: TEST-NET-1 (192.0.2.10, .20, .30, .40), or the
// IPv6 documentation prefix (2001:db8::10, ::20, ::30, ::40) when the addresses given are IPv6.
void default_addrs(WireOptions& o);
// Before anything is read: why --pcap-out cannot record this run (addresses of both families; a
// clock beyond a classic pcap record's 32-bit seconds), or nullopt. Fills in the default addresses.
std::optional<std::string> check_pcap_out(WireOptions& o, std::uint64_t now);

// Where a tool's messages meet the wire: the codecs of the bindings it speaks (the signaling one or
// all of them, RADIUS on the AuC link, and JSON for every step none of them carries), which decode
// what it reads and encode what it prints, and the --pcap-out writer.
class WireEdge {
public:
  // self: the role of the tool (nullopt for kd-decode, which takes every step).
  explicit WireEdge(WireOptions o, std::optional<msg::Role> self);

  // A line of input: a logical JSON message is decoded by the JSON codec (with its step name), a
  // wire line in its binding. The result is the logical message; wire, when given, receives
  // the bytes of a wire line (left alone for a JSON message).
  Result<msg::Message> from_line(std::string_view line, std::string* step, Bytes* wire = nullptr) const;
  // A captured packet: nullopt when it is not a KD message of a binding this edge speaks, or is
  // addressed to another role (both counted).
  std::optional<Result<msg::Message>> from_packet(const capture::Packet& p, wire::Binding* used = nullptr);
  // The same without counting, so that several threads may decode at once: *skip says why the
  // result is nullopt (provisional: one of the binding's provisional answers, wire::read_provisional,
  // *used its binding; from_packet counts it as foreign).
  enum class Skip : std::uint8_t { none, foreign, other_role, provisional };
  std::optional<Result<msg::Message>> decode_packet(const capture::Packet& p, wire::Binding* used, Skip* skip) const;
  // The same into m, reusing its buffers (Codec::decode_into): nullopt when skipped, else the status.
  // answered: the request (as captured) the packet answers, when known (Codec::decode_after).
  std::optional<Status> decode_packet_into(const capture::Packet& p, msg::Message& m, wire::Binding* used,
                                           Skip* skip, ByteView answered = {}) const;
  // A raw wire message: tried against every codec of this edge. answered: the request it answers,
  // as this role sent it, when known (Codec::decode_after).
  Result<msg::Message> from_raw(ByteView raw, wire::Binding* used = nullptr, ByteView answered = {}) const;

  // What the tool prints for a message it sends: a wire line when a wire codec of this edge carries
  // the step, else the logical JSON line (the JSON codec's bytes). Queues its frame for --pcap-out, written by flush_frames():
  // a role tool writes them once the state they depend on is saved. previous: the wire
  // message m answers or forwards (engine::Outcome::previous), whose transaction SIP echoes and
  // whose Identifier and Request Authenticator a RADIUS Access-Challenge answers.
  // wire, when given, receives the wire bytes (left alone for a JSON line). Live mode
  // (kd-live(7), TRANSACTIONS): fresh, when not empty, the random bytes a request goes out under
  // as a new transaction (Codec::encode_fresh); txn, when not empty, a JSON line's transaction
  // member (json::kTxnMember); request, when not empty, the request an answer m answers, as it
  // came (Codec::encode_answer).
  Result<std::string> outgoing(const msg::Message& m, std::uint64_t now, ByteView previous = {},
                               Bytes* wire = nullptr, ByteView fresh = {}, std::string_view txn = {},
                               ByteView request = {});
  // A service that prints no message lines (kd-live(7): only kd-term register does) turns them
  // off: outgoing() then returns an empty line for a wire message (its bytes still go to wire),
  // sparing a hex encoding and a JSON object per message sent.
  void set_wire_lines(bool on) { wire_lines_ = on; }
  // Live mode: where the signaling requests go out from, once that socket is open
  // (wire::CodecOptions::sent_by: SIP's own Via). Empty: left as it was.
  void set_sent_by(std::string sent_by);
  // Live mode over TCP, where that address is each connection's own: sent_by is asked as each new
  // request in the signaling binding is encoded (outgoing() with fresh bytes), so that a request
  // sent after the connection was opened again names the new one.
  void follow_sent_by(std::function<std::string()> sent_by) { sent_by_source_ = std::move(sent_by); }
  // Appends the frames outgoing() queued to --pcap-out; throws IoError.
  void flush_frames();
  // Whether outgoing() prints the step as a wire line (a codec of this edge carries it).
  bool sends_wire(const msg::StepSpec& s) const { return codec_for(s) != &json_; }

  std::uint64_t skipped_foreign() const { return skipped_foreign_; }
  std::uint64_t skipped_other_role() const { return skipped_other_role_; }

private:
  bool wire_lines_ = true;
  const wire::Codec* codec_for(const msg::StepSpec& s) const;
  Status check_form(const msg::StepSpec& s, const wire::Codec* got) const;
  const wire::Codec* codec_named(std::string_view binding) const;

  WireOptions o_;
  std::optional<msg::Role> self_;
  std::vector<std::unique_ptr<wire::Codec>> signaling_;  // the chosen one, or all for pcap input under json
  std::unique_ptr<wire::Codec> radius_;
  codecs::JsonCodec json_;  // every step that no wire codec of this edge carries
  std::unique_ptr<capture::Writer> pcap_;
  bool radius_out_ = false;  // the AuC link speaks RADIUS
  std::string sent_by_;      // the signaling codec's (set_sent_by)
  std::function<std::string()> sent_by_source_;
  std::uint32_t frame_in_second_ = 0;
  std::vector<capture::Packet> frames_;  // queued for flush_frames()
  std::uint64_t skipped_foreign_ = 0, skipped_other_role_ = 0;
  // For each port, the first codec in from_packet's order (RADIUS, then signaling_ in order) that
  // uses it for some step it carries: kRadiusRank, kSignalingRank + index, or kNoCodec. Built once,
  // so choosing a packet's codec costs two lookups.
  static constexpr std::uint8_t kNoCodec = 0xff, kRadiusRank = 0, kSignalingRank = 1;
  std::vector<std::uint8_t> port_codec_;
  // The same for --decode-as, per transport (UDP, TCP), consulted first; empty when none is mapped.
  std::vector<std::uint8_t> mapped_codec_[2];
};

}  // namespace kd::codecs
