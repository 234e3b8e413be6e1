#include "codecs/edge.hpp"

#include <algorithm>
#include <limits>

#include "core/run_error.hpp"
#include "json/message.hpp"
#include "wire/radius.hpp"

namespace kd::codecs {

namespace {
bool is_v6(const std::string& ip) { return ip.find(':') != std::string::npos; }
}  // namespace

void default_addrs(WireOptions& o) {
  const bool v6 = !o.addr.empty() && std::all_of(o.addr.begin(), o.addr.end(), [](const auto& kv) { return is_v6(kv.second); });
  for (const msg::Role r : {msg::Role::term, msg::Role::proxy, msg::Role::sw, msg::Role::auc})
    o.addr.try_emplace(r, msg::documentation_address(r, v6));
}

std::optional<std::string> check_pcap_out(WireOptions& o, std::uint64_t now) {
  if (o.pcap_out.empty()) return std::nullopt;
  for (const auto& [role, ip] : o.addr)
    if (is_v6(ip) != is_v6(o.addr.begin()->second))
      return "--addr: " + std::string(msg::role_name(o.addr.begin()->first)) + "=" + o.addr.begin()->second + " and " +
             std::string(msg::role_name(role)) + "=" + ip +
             " are of two families; a --pcap-out frame goes between two addresses of one family";
  default_addrs(o);
  // A run's frames may go a few seconds past now (one microsecond each); leave room for them.
  if (now > std::numeric_limits<std::uint32_t>::max() - 3600)
    return "--pcap-out: a classic pcap record holds times up to 4294967295 s; the clock (" + std::to_string(now) +
           ") is too late for it";
  return std::nullopt;
}

// ---- WireEdge -----------------------------------------------------------------------------------

WireEdge::WireEdge(WireOptions o, std::optional<msg::Role> self) : o_(std::move(o)), self_(self) {
  default_addrs(o_);
  using wire::Binding;
  if (!all_signaling(o_)) {
    wire::CodecOptions co;
    co.transport = o_.transport;
    signaling_.push_back(wire::make_codec(o_.binding, co));
  } else {
    // Captures are read in whatever signaling binding their ports say; output stays JSON.
    for (const auto& row : wire::bindings())
      if (row.carrier == wire::Carrier::signaling) signaling_.push_back(wire::make_codec(row.binding));
  }
  const bool link = o_.radius_link.value_or(o_.binding != Binding::json);
  if (link || !o_.radius_secret.empty() || o_.radius_unverified)
    radius_ = wire::make_codec(Binding::radius, {o_.radius_secret, o_.radius_unverified});
  radius_out_ = link;
  port_codec_.assign(65536, kNoCodec);
  auto claim = [&](const wire::Codec& c, std::uint8_t rank) {
    for (const auto& s : msg::all_steps()) {
      if (!c.carries(s)) continue;
      const auto ports = c.ports(s);
      for (const std::uint16_t port : {ports.first, ports.second})
        port_codec_[port] = std::min(port_codec_[port], rank);
    }
  };
  if (radius_) claim(*radius_, kRadiusRank);
  for (std::size_t i = 0; i < signaling_.size(); ++i)
    claim(*signaling_[i], static_cast<std::uint8_t>(kSignalingRank + i));
  for (const auto& d : o_.decode_as) {
    // A binding this edge does not read (check_decode_as refused it on the command line) maps to none.
    std::uint8_t rank = d.binding == Binding::radius && radius_ ? kRadiusRank : kNoCodec;
    for (std::size_t i = 0; i < signaling_.size(); ++i)
      if (signaling_[i]->binding() == d.binding) rank = static_cast<std::uint8_t>(kSignalingRank + i);
    auto& table = mapped_codec_[d.transport == capture::Transport::tcp ? 1 : 0];
    if (table.empty()) table.assign(65536, kNoCodec);
    table[d.port] = rank;
  }
  if (!o_.pcap_out.empty()) {
    auto w = capture::Writer::open(o_.pcap_out);
    if (!w) throw IoError{"--pcap-out " + w.error().detail};  // the detail begins with the path
    pcap_ = std::make_unique<capture::Writer>(std::move(*w));
  }
}

void WireEdge::set_sent_by(std::string sent_by) {
  // Unchanged, as for every request on one connection: no new codec.
  if (sent_by.empty() || sent_by == sent_by_ || all_signaling(o_) || signaling_.empty() || !signaling_.front()) return;
  sent_by_ = std::move(sent_by);
  wire::CodecOptions co;
  co.transport = o_.transport;
  co.sent_by = sent_by_;
  signaling_.front() = wire::make_codec(o_.binding, co);
}

const wire::Codec* WireEdge::codec_named(std::string_view name) const {
  const auto b = wire::parse_binding(name);
  if (!b) return nullptr;
  if (*b == wire::Binding::radius) return radius_.get();
  for (const auto& c : signaling_)
    if (c->binding() == *b) return c.get();
  return nullptr;
}

// The codec a message leaves in: RADIUS on the AuC link when that link speaks it, else the chosen
// signaling binding when it carries the step, else JSON.
const wire::Codec* WireEdge::codec_for(const msg::StepSpec& s) const {
  if (radius_ && radius_out_ && radius_->carries(s)) return radius_.get();
  if (o_.binding == wire::Binding::json || o_.binding == wire::Binding::radius) return &json_;
  const auto& c = signaling_.front();
  return c->carries(s) ? c.get() : &json_;
}

// A role tool reads each step only in the form it would print that step (codec_for): a JSON line
// cannot stand in for a RADIUS packet on an authenticated AuC link, nor a wire line of one binding
// for a tool started with another. kd-decode (no self) reads every form.
Status WireEdge::check_form(const msg::StepSpec& s, const wire::Codec* got) const {
  if (!self_) return Ok{};
  const wire::Codec* want = codec_for(s);
  if (got == want) return Ok{};
  const std::string step(s.name);
  if (want->binding() == wire::Binding::radius)
    return err(Code::malformed, step + " travels on the AuC link, which speaks RADIUS here: it is read only as a radius "
                                       "wire line, whose authenticators the shared secret checks");
  if (want != &json_)
    return err(Code::malformed, "this tool was started with --binding " + std::string(wire::binding_name(want->binding())) +
                                    ": it reads " + step + " only as a " + std::string(wire::binding_name(want->binding())) +
                                    " wire line");
  return err(Code::malformed, "this tool prints " + step + " as a JSON line (" +
                                  (s.from == msg::Role::auc || s.to == msg::Role::auc ? "--auc-link json"
                                                                                       : "--binding json") +
                                  ") and reads it only as one, not as a " + std::string(wire::binding_name(got->binding())) +
                                  " wire line");
}

Result<msg::Message> WireEdge::from_line(std::string_view line, std::string* step, Bytes* wire) const {
  if (!json::is_wire_line(line)) {
    auto m = json_.decode_line(line, step);
    if (!m) return m;
    if (auto st = check_form(msg::spec_of(*m), &json_); !st) return st.error();
    return m;
  }
  auto w = json::decode_wire_line(line);
  if (!w) return w.error();
  if (step) *step = w->step;
  const wire::Codec* c = codec_named(w->binding);
  if (!c) {
    if (w->binding == "radius")
      return err(Code::malformed, "a radius wire line needs the shared secret (--radius-secret-file)");
    if (!wire::parse_binding(w->binding)) return err(Code::malformed, "unknown binding \"" + w->binding + "\"");
    return err(Code::malformed, "this tool was started with --binding " + std::string(wire::binding_name(o_.binding)) +
                                    " and does not read " + w->binding);
  }
  auto m = c->decode(w->wire);
  if (!m) return m.error();
  const auto& spec = msg::spec_of(*m);
  if ((!w->step.empty() && w->step != spec.name) || (!w->to.empty() && w->to != msg::role_name(spec.to)))
    return err(Code::malformed, "the wire line says step " + w->step + " to " + w->to + " but its bytes hold " +
                                    std::string(spec.name) + " to " + std::string(msg::role_name(spec.to)));
  if (step) *step = spec.name;
  if (auto st = check_form(spec, c); !st) return st.error();
  if (wire) *wire = std::move(w->wire);
  return m;
}

Result<msg::Message> WireEdge::from_raw(ByteView raw, wire::Binding* used, ByteView answered) const {
  if (raw.size() > kMaxRaw) return err(Code::oversized, "a raw wire message exceeds 65536 bytes");
  std::optional<Error> first;
  auto attempt = [&](const wire::Codec& c) -> std::optional<Result<msg::Message>> {
    auto m = answered.empty() ? c.decode(raw) : c.decode_after(raw, answered);
    if (m) {
      if (used) *used = c.binding();
      return m;
    }
    if (!first || first->code == Code::unknown_step) first = m.error();
    return std::nullopt;
  };
  // A RADIUS code in the first byte (which no text binding starts with) tries RADIUS first, so that
  // a RADIUS packet that does not verify is refused with RADIUS's reason.
  const bool radius_first = radius_ && wire::radius::recipient(raw);
  if (radius_first)
    if (auto r = attempt(*radius_)) return std::move(*r);
  for (const auto& c : signaling_)
    if (auto r = attempt(*c)) return std::move(*r);
  if (radius_ && !radius_first)
    if (auto r = attempt(*radius_)) return std::move(*r);
  return first ? *first : err(Code::malformed, "not a message of any binding");
}

std::optional<Result<msg::Message>> WireEdge::from_packet(const capture::Packet& p, wire::Binding* used) {
  Skip skip = Skip::none;
  auto m = decode_packet(p, used, &skip);
  if (skip == Skip::foreign || skip == Skip::provisional) ++skipped_foreign_;
  if (skip == Skip::other_role) ++skipped_other_role_;
  return m;
}

std::optional<Result<msg::Message>> WireEdge::decode_packet(const capture::Packet& p, wire::Binding* used,
                                                            Skip* skip) const {
  msg::Message m;
  auto st = decode_packet_into(p, m, used, skip);
  if (!st) return std::nullopt;
  if (!*st) return st->error();
  return m;
}

std::optional<Status> WireEdge::decode_packet_into(const capture::Packet& p, msg::Message& m, wire::Binding* used,
                                                   Skip* skip, ByteView answered) const {
  *skip = Skip::none;
  // A --decode-as mapping of either port (the lower one first, as tshark tries it), else the first
  // codec (RADIUS, then signaling_ in order) that uses either port for a step it carries.
  std::uint8_t rank = kNoCodec;
  if (const auto& mapped = mapped_codec_[p.transport == capture::Transport::tcp ? 1 : 0]; !mapped.empty()) {
    const std::uint16_t lo = std::min(p.src_port, p.dst_port), hi = std::max(p.src_port, p.dst_port);
    rank = mapped[lo] != kNoCodec ? mapped[lo] : mapped[hi];
  }
  if (rank == kNoCodec) rank = std::min(port_codec_[p.src_port], port_codec_[p.dst_port]);
  if (rank == kNoCodec) {
    *skip = Skip::foreign;
    return std::nullopt;
  }
  const wire::Codec* c = rank == kRadiusRank ? radius_.get() : signaling_[rank - kSignalingRank].get();
  // A RADIUS packet says by its code alone whom it is for: one for the other end of the AuC link is
  // skipped before its authenticators are checked (they are the other end's to check).
  if (self_ && rank == kRadiusRank)
    if (const auto to = wire::radius::recipient(p.payload); to && *to != *self_) {
      *skip = Skip::other_role;
      return std::nullopt;
    }
  Status st = Ok{};
  if (answered.empty()) {
    st = c->decode_into(p.payload, m);
  } else if (auto r = c->decode_after(p.payload, answered)) {
    m = std::move(*r);
  } else {
    st = r.error();
  }
  if (!st && st.error().code == Code::unknown_step) {  // the protocol's, but not KD's
    *skip = wire::read_provisional(c->binding(), p.payload) ? Skip::provisional : Skip::foreign;
    if (used && *skip == Skip::provisional) *used = c->binding();
    return std::nullopt;
  }
  if (st && self_ && msg::spec_of(m).to != *self_) {
    *skip = Skip::other_role;
    return std::nullopt;
  }
  if (used) *used = c->binding();
  return st;
}

Result<std::string> WireEdge::outgoing(const msg::Message& m, std::uint64_t now, ByteView previous, Bytes* wire,
                                       ByteView fresh, std::string_view txn, ByteView request) {
  const auto& spec = msg::spec_of(m);
  const wire::Codec* c = codec_for(spec);
  if (sent_by_source_ && !fresh.empty() && !signaling_.empty() && c == signaling_.front().get()) {
    set_sent_by(sent_by_source_());
    c = signaling_.front().get();
  }
  if (c == &json_) {
    if (pcap_) return err(Code::malformed, std::string(spec.name) + " has no wire binding here; --pcap-out needs one");
    return json_.encode_line(m, txn);
  }
  auto bytes = !fresh.empty()   ? c->encode_fresh(m, previous, fresh)
               : !request.empty() ? c->encode_answer(m, previous, request)
                                  : c->encode_after(m, previous);
  if (!bytes) return bytes.error();
  if (pcap_) {
    capture::Packet p;
    p.src_ip = o_.addr.at(spec.from);
    p.dst_ip = o_.addr.at(spec.to);
    std::tie(p.src_port, p.dst_port) = c->ports(spec);
    p.ts_sec = static_cast<std::int64_t>(now);
    p.ts_nsec = 1000u * ++frame_in_second_;  // keeps this run's frames in order within its second
    const auto last = frames_.empty() ? pcap_->latest()
                                      : std::optional(std::pair{frames_.back().ts_sec, frames_.back().ts_nsec});
    if (last && std::pair{p.ts_sec, p.ts_nsec} <= *last) {
      // An earlier run appended with the same clock: go on 1 µs after its last frame instead.
      p.ts_sec = last->first + (last->second + 1000u) / 1000000000u;
      p.ts_nsec = (last->second + 1000u) % 1000000000u;
    }
    p.payload = *bytes;
    // Refused now, before the state this message depends on is saved, rather than at the write.
    if (auto st = pcap_->check(p); !st) return err(st.error().code, "--pcap-out " + o_.pcap_out + ": " + st.error().detail);
    frames_.push_back(std::move(p));
  }
  std::string line = wire_lines_ || !wire ? json::encode_wire_line(wire::binding_name(c->binding()), spec, *bytes) : "";
  if (wire) *wire = std::move(*bytes);
  return line;
}

void WireEdge::flush_frames() {
  for (const auto& p : frames_)
    if (auto st = pcap_->write(p); !st) {
      frames_.clear();
      throw IoError{"--pcap-out " + o_.pcap_out + ": " + st.error().detail};
    }
  frames_.clear();
}

}  // namespace kd::codecs
