#include "wire/codec.hpp"

#include <algorithm>
#include <array>
#include <vector>

#include "wire/h248.hpp"
#include "wire/h323.hpp"
#include "wire/mgcp.hpp"
#include "wire/radius.hpp"
#include "wire/sip.hpp"

namespace kd::wire {

namespace {

// MGCP: toward the switch each sender acts as a gateway, toward the terminal as a call agent.
constexpr Leg mgcp_up(std::string_view e) { return {e, mgcp::kGatewayPort, mgcp::kCallAgentPort}; }
constexpr Leg mgcp_down(std::string_view e) { return {e, mgcp::kCallAgentPort, mgcp::kGatewayPort}; }
// SIP (RFC 3261) and text H.248 over UDP (RFC 3525 D.1.1) use one port at both ends.
constexpr std::uint16_t kSipPort = 5060, kMegacoPort = 2944;
constexpr Leg same(std::string_view e, std::uint16_t port) { return {e, port, port}; }

// In the order of the Binding enum. Legs: start, challenge, answer, success (Phase).
constexpr std::array<BindingInfo, 6> kTable{{
    // JSON travels nowhere by itself; a terminal speaking it is given SIP's port.
    {Binding::json, "json", Carrier::logical, Framing::none, kSipPort, {}, {}},
    {Binding::sip, "sip", Carrier::signaling, Framing::sip, kSipPort,
     {same("REGISTER", kSipPort), same("401", kSipPort), same("REGISTER", kSipPort), same("200 OK", kSipPort)}, "407"},
    {Binding::mgcp, "mgcp", Carrier::signaling, Framing::raw, mgcp::kGatewayPort,
     {mgcp_up("RSIP"), mgcp_down("RQNT"), mgcp_up("NTFY"), mgcp_down("RQNT")}, {}},
    {Binding::h248, "h248", Carrier::signaling, Framing::tpkt, kMegacoPort,
     {same("ServiceChange", kMegacoPort), same("Modify", kMegacoPort), same("Notify", kMegacoPort),
      same("Modify", kMegacoPort)}, {}},
    // RAS over UDP; a terminal takes calls at H.225.0 call signalling's 1720.
    {Binding::h323, "h323", Carrier::signaling, Framing::none, 1720,
     {same("GRQ", h323::kRasPort), same("GRJ", h323::kRasPort), same("RRQ", h323::kRasPort),
      same("RCF", h323::kRasPort)}, {}},
    // RADIUS over TCP (RFC 6613) is not what kd speaks.
    {Binding::radius, "radius", Carrier::auc_link, Framing::none, 0,
     {Leg{"Access-Req", radius::kClientPort, radius::kAuthPort}, Leg{"Access-Chal", radius::kAuthPort, radius::kClientPort},
      Leg{}, Leg{"Acct-Req", radius::kClientPort, radius::kAcctPort}}, {}},
}};

constexpr bool table_in_enum_order() {
  for (std::size_t i = 0; i < kTable.size(); ++i)
    if (static_cast<std::size_t>(kTable[i].binding) != i) return false;
  return true;
}
static_assert(table_in_enum_order(), "kTable is indexed by Binding");

bool auc_link(const msg::StepSpec& s) noexcept { return s.from == msg::Role::auc || s.to == msg::Role::auc; }

}  // namespace

std::span<const BindingInfo> bindings() noexcept { return kTable; }

const BindingInfo& binding_info(Binding b) noexcept { return kTable[static_cast<std::size_t>(b)]; }

std::string_view binding_name(Binding b) noexcept {
  const auto i = static_cast<std::size_t>(b);
  return i < kTable.size() ? kTable[i].name : std::string_view("?");
}

std::optional<Binding> parse_binding(std::string_view s) noexcept {
  for (const auto& row : kTable)
    if (row.name == s) return row.binding;
  return std::nullopt;
}

std::optional<Phase> leg_of(Binding b, const msg::StepSpec& s) noexcept {
  switch (binding_info(b).carrier) {
    case Carrier::logical: return std::nullopt;
    case Carrier::signaling: return auc_link(s) ? std::nullopt : phase_of(s);
    case Carrier::auc_link: break;
  }
  if (!auc_link(s)) return std::nullopt;
  if (s.from == msg::Role::auc) return Phase::challenge;
  // The switch's request (s3, d2) comes before the AuC answers; its report (s11, d7) ends the flow.
  const bool report = s.step == (s.flow == msg::Flow::proxied ? 11 : 7);
  return report ? Phase::success : Phase::start;
}

std::pair<std::uint16_t, std::uint16_t> binding_ports(Binding b, const msg::StepSpec& s) noexcept {
  const auto leg = leg_of(b, s);
  if (!leg) return {0, 0};
  const Leg& l = binding_info(b).legs[static_cast<std::size_t>(*leg)];
  return {l.src_port, l.dst_port};
}

std::string_view element_name(Binding b, const msg::StepSpec& s) noexcept {
  const auto leg = leg_of(b, s);
  if (!leg) return {};
  const BindingInfo& row = binding_info(b);
  if (*leg == Phase::challenge && s.from == msg::Role::proxy && !row.proxy_challenge.empty())
    return row.proxy_challenge;
  return row.legs[static_cast<std::size_t>(*leg)].element;
}

std::string binding_names(std::initializer_list<Carrier> carriers, std::string_view last) {
  std::vector<std::string_view> names;
  for (const auto& row : kTable)
    if (std::find(carriers.begin(), carriers.end(), row.carrier) != carriers.end()) names.push_back(row.name);
  std::string out;
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += i + 1 == names.size() ? last : std::string_view(", ");
    out += names[i];
  }
  return out;
}

std::pair<std::uint16_t, std::uint16_t> Codec::ports(const msg::StepSpec& s) const { return binding_ports(binding(), s); }

std::optional<Phase> phase_of(const msg::StepSpec& s) noexcept {
  if (s.flow == msg::Flow::proxied) {
    switch (s.step) {
      case 1: case 2: return Phase::start;
      case 5: case 6: return Phase::challenge;
      case 7: case 8: return Phase::answer;
      case 9: case 10: return Phase::success;
      default: return std::nullopt;
    }
  }
  switch (s.step) {
    case 1: return Phase::start;
    case 4: return Phase::challenge;
    case 5: return Phase::answer;
    case 6: return Phase::success;
    default: return std::nullopt;
  }
}

bool term_link(const msg::StepSpec& s) noexcept { return s.from == msg::Role::term || s.to == msg::Role::term; }

bool has_field(const msg::StepSpec& s, msg::Field f) noexcept {
  for (msg::Field g : s.fields)
    if (g == f) return true;
  return false;
}

std::unique_ptr<Codec> make_codec(Binding b, const CodecOptions& options) {
  switch (b) {
    case Binding::json: return nullptr;
    case Binding::sip: return std::make_unique<SipCodec>(options.transport, options.sent_by);
    case Binding::mgcp: return std::make_unique<MgcpCodec>();
    case Binding::h248: return std::make_unique<H248Codec>();
    case Binding::h323: return std::make_unique<H323Codec>();
    case Binding::radius:
      if (options.radius_secret.empty())
        return options.radius_unverified ? std::make_unique<RadiusCodec>("", true) : nullptr;
      return std::make_unique<RadiusCodec>(options.radius_secret);
  }
  return nullptr;
}

}  // namespace kd::wire

namespace kd::wire {

bool has_provisional(Binding b) noexcept { return b == Binding::mgcp || b == Binding::h248 || b == Binding::h323; }

std::optional<std::uint32_t> request_transaction(Binding b, ByteView request) {
  switch (b) {
    case Binding::mgcp: return mgcp::command_transaction(request);
    case Binding::h248: return h248::request_transaction(request);
    case Binding::h323:
      if (auto s = h323::seq_num_of(request)) return *s;
      return std::nullopt;
    default: return std::nullopt;
  }
}

std::optional<Bytes> provisional_answer(Binding b, ByteView request, std::string_view sender, std::uint32_t delay_ms) {
  const auto t = request_transaction(b, request);
  if (!t) return std::nullopt;
  switch (b) {
    case Binding::mgcp: return mgcp::provisional(*t);
    case Binding::h248: return h248::pending(h248::mid_for(sender), *t);
    default:
      return h323::request_in_progress(static_cast<std::uint16_t>(*t),
                                       static_cast<std::uint16_t>(std::clamp<std::uint32_t>(delay_ms, 1, 65535)));
  }
}

std::optional<Provisional> read_provisional(Binding b, ByteView wire) {
  switch (b) {
    case Binding::mgcp:  // read_provisional took "100" or "101" at the start
      if (auto t = mgcp::read_provisional(wire)) return Provisional{*t, 0, wire[2] == '0' ? "100" : "101"};
      return std::nullopt;
    case Binding::h248:
      if (auto t = h248::read_pending(wire)) return Provisional{*t, 0, "TransactionPending"};
      return std::nullopt;
    case Binding::h323:
      if (auto r = h323::read_request_in_progress(wire)) return Provisional{r->seq_num, r->delay_ms, "RequestInProgress"};
      return std::nullopt;
    default: return std::nullopt;
  }
}

}  // namespace kd::wire
