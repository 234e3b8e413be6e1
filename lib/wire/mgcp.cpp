#include "wire/mgcp.hpp"

#include <array>
#include <initializer_list>
#include <optional>
#include <utility>
#include <vector>

#include "wire/envelope_id.hpp"
#include "wire/host.hpp"
#include "wire/mgcp_fields.hpp"
#include "wire/text.hpp"

namespace kd::wire {

using msg::Field;
using msg::Flow;
using msg::Message;
using msg::Role;
using msg::StepSpec;
using mgcp::kFields;
using mgcp::kParams;
using text::all_of;
using text::iequal;
using text::is_alnum;
using text::is_alpha;
using text::is_digit;
using text::is_hexdig;
using text::is_wsp;
using text::malformed;
using text::trim;
using text::upper;

namespace {

// The four commands kd's steps become. Every step is a command: MGCP acknowledges each command
// with a response ("200 <tid> OK") that carries no KD value, so those acks are no logical step.
enum class Kind { restart, challenge, answer, success };  // RSIP, RQNT, NTFY, RQNT: one per Phase

std::optional<Kind> kind_of(const StepSpec& s) {
  const auto p = phase_of(s);
  return p ? std::optional<Kind>(static_cast<Kind>(*p)) : std::nullopt;
}

// The events and signals of kd's own package "X-KD" (an experimental name, so it clashes with no
// registered package): the call agent requests the authentication event and signals the challenge; the
// gateway notifies the event with its answer; the call agent signals the completed registration.
constexpr std::string_view kAuthEvent = "X-KD/auth";
constexpr std::string_view kChallengeSignal = "X-KD/chal";
constexpr std::string_view kRegisteredSignal = "X-KD/reg";

std::string envelope_value(std::string_view label, std::initializer_list<std::string_view> parts, std::size_t n) {
  return envelope_hex("kd-mgcp ", label, parts, n);
}

// RequestIdentifier (X:): the challenge RQNT and the NTFY answering it share one (keyed by Rand);
// the success RQNT opens a new request (keyed by EKc, which both of its steps carry).
std::string request_id(const Message& m, const StepSpec& spec, Kind k) {
  const std::string flow(msg::flow_name(m.flow));
  const std::string link = term_link(spec) ? "term" : "core";
  const std::string& reg = m.flow == Flow::proxied ? *m.IDsp : *m.IDss;
  if (k == Kind::success) return envelope_value("request-id", {flow, link, *m.suite, *m.IDc, reg, "registered", to_hex(*m.EKc)}, 16);
  return envelope_value("request-id", {flow, link, *m.suite, *m.IDc, reg, to_hex(*m.Rand)}, 16);
}

// ---- parsing ------------------------------------------------------------------------------

struct MgcpText {
  std::string verb;  // uppercase
  std::vector<std::pair<std::string, std::string_view>> params;  // uppercase name, trimmed value
};

// MGCPCommandLine = verb 1*WSP transaction-id 1*WSP endpointName 1*WSP "MGCP" 1*WSP version
// [1*WSP profile] (RFC 3435 appendix A).
Status parse_command_line(std::string_view line, MgcpText& t) {
  std::vector<std::string_view> tok;
  while (true) {
    line = trim(line);
    if (line.empty()) break;
    if (tok.size() == 8) return malformed("the MGCP command line has too many words");
    std::size_t end = 0;
    while (end < line.size() && !is_wsp(line[end])) ++end;
    tok.push_back(line.substr(0, end));
    line.remove_prefix(end);
  }
  if (!tok.empty() && tok[0].size() == 3 && all_of(tok[0], is_digit))
    return err(Code::unknown_step, "an MGCP response (return code " + std::string(tok[0]) + ") is no step of kd's flows");
  if (tok.size() < 5) return malformed("the MGCP command line needs a verb, a transaction id, an endpoint and MGCP 1.0");
  if (tok[0].size() != 4 || !is_alpha(tok[0][0]) || !all_of(tok[0], is_alnum)) return malformed("bad MGCP verb");
  if (tok[1].size() > 9 || !all_of(tok[1], is_digit) || tok[1].find_first_not_of('0') == std::string_view::npos)
    return malformed("bad MGCP transaction id (1 to 999999999)");
  const std::size_t at = tok[2].find('@');
  if (at == 0 || at == std::string_view::npos || at + 1 == tok[2].size()) return malformed("bad MGCP endpoint name");
  const std::size_t dot = tok[4].find('.');
  if (!iequal(tok[3], "MGCP") || dot == 0 || dot == std::string_view::npos || dot + 1 == tok[4].size() ||
      !all_of(tok[4].substr(0, dot), is_digit) || !all_of(tok[4].substr(dot + 1), is_digit))
    return malformed("bad MGCP version");
  // RFC 3435 defines version 1.0 (and 0.1 before it, which had no extension parameters).
  if (tok[4] != "1.0") return malformed("unsupported MGCP version " + std::string(tok[4]) + " (kd speaks MGCP 1.0)");
  t.verb = upper(tok[0]);
  return Ok{};
}

Result<MgcpText> parse_text(ByteView wire) {
  if (wire.size() > mgcp::kMaxMessage)
    return err(Code::oversized, "the MGCP message exceeds " + std::to_string(mgcp::kMaxMessage) + " bytes");
  std::string_view text(reinterpret_cast<const char*>(wire.data()), wire.size());
  if (text.empty()) return malformed("empty MGCP message");
  MgcpText t;
  bool first = true;
  while (!text.empty()) {
    const std::size_t nl = text.find('\n');
    if (nl == std::string_view::npos) return malformed("truncated MGCP message: the last line has no end");
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);  // EOL = CRLF / LF
    for (char c : line) {
      const auto u = static_cast<unsigned char>(c);
      if ((u < 0x20 && c != '\t') || u > 0x7e) return malformed("a control or non-ASCII byte in the MGCP message");
    }
    if (first) {
      if (line.empty()) return malformed("the MGCP message starts with an empty line");
      if (auto st = parse_command_line(line, t); !st) return st.error();
      first = false;
      continue;
    }
    if (line.empty()) break;  // a session description follows; kd carries none and ignores it
    if (line == ".") return malformed("piggybacked MGCP messages are not supported");
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) return malformed("an MGCP parameter line without a name and a colon");
    const std::string_view name = line.substr(0, colon);
    for (char c : name)
      if (!is_alnum(c) && c != '-' && c != '+') return malformed("bad MGCP parameter name");
    t.params.emplace_back(upper(name), trim(line.substr(colon + 1)));
  }
  return t;
}

// Whether a list of events or signals ("L/hd(N),X-KD/auth(N)" ...) names `event`, parameters,
// actions and connection ids aside.
bool names_event(std::string_view list, std::string_view event) {
  int depth = 0;
  std::size_t from = 0;
  for (std::size_t i = 0; i <= list.size(); ++i) {
    const char c = i < list.size() ? list[i] : ',';
    if (c == '(') ++depth;
    else if (c == ')' && depth > 0) --depth;
    else if (c == ',' && depth == 0) {
      std::string_view item = trim(list.substr(from, i - from));
      item = trim(item.substr(0, item.find_first_of("(@")));
      if (iequal(item, event)) return true;
      from = i + 1;
    }
  }
  return false;
}

// "tls;q=0.9,ipsec-3gpp;q=0.5": RFC 3329 entries; other entry parameters are ignored, a missing q is 1.
Result<msg::MechList> parse_mechs(std::string_view v) {
  msg::MechList out;
  while (true) {
    const std::size_t comma = v.find(',');
    std::string_view e = trim(v.substr(0, comma));
    if (e.empty()) return malformed("X-KDMLST names an empty mechanism");
    if (out.size() >= msg::kMaxMechs) return err(Code::bad_length, "SecMechList must hold 1 to 16 mechanisms");
    msg::Mech mech;
    if (auto st = text::mech_entry(e, "X-KDMLST", false, mech); !st) return st.error();
    out.push_back(std::move(mech));
    if (comma == std::string_view::npos) break;
    v.remove_prefix(comma + 1);
  }
  return out;
}

// The index in kParams of a KD parameter's name, at compile time.
consteval std::size_t kd_param(std::string_view name) {
  for (std::size_t k = 0; k < kParams.count; ++k)
    if (kParams.names[k] == name) return k;
  throw "not a KD parameter";
}

// The fields the KD parameters (kd, by their index in kParams) carry, as kFields maps them: the
// text and hex values first (a bad hex value is reported first, in table order), then the others
// in table order.
Status read_fields(const std::array<std::optional<std::string_view>, kParams.count>& kd, const StepSpec& spec,
                   Message& m) {
  for (std::size_t k = 0; k < kParams.count; ++k) {
    if (!kd[k]) continue;
    const FieldEntry& f = kFields[kParams.first[k]];
    if (f.form == Form::token) *string_slot(m, f.field) = std::string(*kd[k]);
    if (f.form != Form::hex) continue;
    auto b = text::hex_value(f.element, *kd[k]);
    if (!b) return b.error();
    *bytes_slot(m, f.field) = std::move(*b);
  }
  for (std::size_t k = 0; k < kParams.count; ++k) {
    if (!kd[k]) continue;
    const std::string_view v = *kd[k], name = kParams.names[k];
    switch (kFields[kParams.first[k]].form) {
      case Form::decimal: {
        auto n = text::uint_value(name, v);
        if (!n) return n.error();
        const FieldEntry* f = entry_for_step(kFields, kParams, k, spec);
        if (!f) return malformed(std::string(name) + " does not belong in " + std::string(spec.name));
        *number_slot(m, f->field) = *n;
        break;
      }
      case Form::true_flag:
        if (v == "true") m.SecMechReq = true;
        else if (v == "false") m.SecMechReq = false;  // validate() names the fault
        else return malformed(std::string(name) + " must be true");
        break;
      case Form::mech_list: {
        auto l = parse_mechs(v);
        if (!l) return l.error();
        m.SecMechList = std::move(*l);
        break;
      }
      default: break;
    }
  }
  return Ok{};
}

}  // namespace

namespace mgcp {

std::string endpoint_for(std::string_view idc) { return "aaln/1@" + host_for(idc); }

std::uint32_t transaction_id(const Message& m) {
  const Bytes c = msg::canonical(m);
  const Bytes d = envelope_digest("kd-mgcp ", "transaction-id", {std::string_view(reinterpret_cast<const char*>(c.data()), c.size())});
  std::uint64_t x = 0;
  for (int i = 0; i < 8; ++i) x = x << 8 | d[static_cast<std::size_t>(i)];
  return static_cast<std::uint32_t>(x % 999999999u + 1);
}

}  // namespace mgcp

bool MgcpCodec::carries(const StepSpec& s) const noexcept { return kind_of(s).has_value(); }

Result<Bytes> MgcpCodec::encode(const Message& m) const { return encode_with(m, std::nullopt); }

Result<Bytes> MgcpCodec::encode_fresh(const Message& m, ByteView previous, ByteView txn) const {
  const StepSpec* spec = msg::find_step(m.flow, m.step);
  const auto kind = spec ? kind_of(*spec) : std::nullopt;
  if (!kind || (*kind != Kind::restart && *kind != Kind::answer) || txn.size() < 8) return encode_after(m, previous);
  std::uint64_t x = 0;
  for (std::size_t i = 0; i < 8; ++i) x = x << 8 | txn[i];
  return encode_with(m, static_cast<std::uint32_t>(x % 999999999u + 1));
}

Result<Bytes> MgcpCodec::encode_with(const Message& m, std::optional<std::uint32_t> tid) const {
  const StepSpec* spec = msg::find_step(m.flow, m.step);
  if (!spec) return err(Code::unknown_step, "no such step");
  const auto kind = kind_of(*spec);
  if (!kind) return err(Code::unknown_step, std::string(spec->name) + " does not travel over MGCP");
  if (auto st = msg::validate(m, msg::Sizes::loose); !st) return st.error();

  std::string out;
  auto line = [&](std::string_view a, std::string_view b) {
    out += a;
    out += b;
    out += "\r\n";
  };
  const std::string_view verb = *kind == Kind::restart ? "RSIP" : *kind == Kind::answer ? "NTFY" : "RQNT";
  line(verb, std::string(" ") + std::to_string(tid.value_or(mgcp::transaction_id(m))) + " " + mgcp::endpoint_for(*m.IDc) + " MGCP 1.0");
  switch (*kind) {
    case Kind::restart: line("RM: ", "restart"); break;
    case Kind::challenge:
      line("X: ", request_id(m, *spec, *kind));
      line("R: ", std::string(kAuthEvent) + "(N)");
      line("S: ", kChallengeSignal);
      break;
    case Kind::answer:
      line("X: ", request_id(m, *spec, *kind));
      line("O: ", kAuthEvent);
      break;
    case Kind::success:
      line("X: ", request_id(m, *spec, *kind));
      line("S: ", kRegisteredSignal);
      break;
  }
  for (const FieldEntry& f : kFields) {
    auto kd = [&](std::string_view value) { line(std::string(f.element) + ": ", value); };
    switch (f.form) {
      case Form::flow: kd(msg::flow_name(m.flow)); break;
      case Form::token:
        if (const auto& v = *string_slot(m, f.field)) kd(*v);
        break;
      case Form::hex:
        if (const auto& v = *bytes_slot(m, f.field)) kd(to_hex(*v));
        break;
      case Form::decimal:
        if (const auto& v = *number_slot(m, f.field)) kd(std::to_string(*v));
        break;
      case Form::true_flag:
        if (m.SecMechReq) kd("true");
        break;
      case Form::mech_list:
        if (m.SecMechList) kd(text::mech_list_text(*m.SecMechList, ","));
        break;
      default: break;  // no other form in MGCP's table
    }
  }
  return Bytes(out.begin(), out.end());
}

Result<Message> MgcpCodec::decode(ByteView wire) const {
  auto parsed = parse_text(wire);
  if (!parsed) return parsed.error();
  const MgcpText& t = *parsed;

  // The standard parameters kd reads, and the KD ones; each at most once.
  std::optional<std::string_view> rm, reqid, requested, signals, observed;
  std::array<std::optional<std::string_view>, kParams.count> kd;
  for (const auto& [name, value] : t.params) {
    std::optional<std::string_view>* slot = nullptr;
    if (name == "RM") slot = &rm;
    else if (name == "X") slot = &reqid;
    else if (name == "R") slot = &requested;
    else if (name == "S") slot = &signals;
    else if (name == "O") slot = &observed;
    else if (name.starts_with("X-KD")) {
      for (std::size_t k = 0; k < kParams.count; ++k)
        if (name == kParams.names[k]) slot = &kd[k];
      if (!slot) return malformed("unknown KD parameter " + name);
      if (value.empty()) return malformed(name + " has an empty value");
    }
    if (!slot) continue;  // another party's parameter
    if (*slot) return malformed("MGCP parameter " + name + " appears twice");
    *slot = value;
  }

  Kind kind;
  if (t.verb == "RSIP") {
    if (!rm) return err(Code::missing_field, "an RSIP needs a RestartMethod (RM)");
    if (!iequal(*rm, "restart")) return err(Code::unknown_step, "an RSIP other than RM: restart is no step of kd's flows");
    kind = Kind::restart;
  } else if (t.verb == "RQNT") {
    if (!reqid) return err(Code::missing_field, "an RQNT needs a RequestIdentifier (X)");
    const bool chal = requested && names_event(*requested, kAuthEvent);
    const bool reg = signals && names_event(*signals, kRegisteredSignal);
    if (chal && reg) return malformed("an RQNT cannot both request X-KD/auth and signal X-KD/reg");
    if (!chal && !reg) return err(Code::unknown_step, "an RQNT that neither requests X-KD/auth nor signals X-KD/reg is no step of kd's flows");
    kind = chal ? Kind::challenge : Kind::success;
  } else if (t.verb == "NTFY") {
    if (!reqid) return err(Code::missing_field, "an NTFY needs a RequestIdentifier (X)");
    if (!observed) return err(Code::missing_field, "an NTFY needs ObservedEvents (O)");
    if (!names_event(*observed, kAuthEvent)) return err(Code::unknown_step, "an NTFY that does not report X-KD/auth is no step of kd's flows");
    kind = Kind::answer;
  } else {
    return err(Code::unknown_step, "an MGCP " + t.verb + " is no step of kd's flows");
  }
  if (kind != Kind::restart && (reqid->empty() || reqid->size() > 32 || !all_of(*reqid, is_hexdig)))
    return malformed("the RequestIdentifier (X) must be 1 to 32 hex digits");

  auto get = [&](std::size_t k) { return kd[k]; };
  const auto flow_s = get(kd_param("X-KDFLOW"));
  if (!flow_s) return err(Code::missing_field, "the message has no X-KDFLOW parameter");
  const auto flow = msg::parse_flow(*flow_s);
  if (!flow) return malformed("X-KDFLOW must be proxied or direct");

  const bool tl = *flow == Flow::direct || get(kd_param("X-KDN1")) || get(kd_param("X-KDN2")) || get(kd_param("X-KDTS"));
  Message m;
  m.flow = *flow;
  const bool px = *flow == Flow::proxied;
  switch (kind) {
    case Kind::restart: m.step = px ? (tl ? 1 : 2) : 1; break;
    case Kind::challenge: m.step = px ? (tl ? 6 : 5) : 4; break;
    case Kind::answer: m.step = px ? (tl ? 7 : 8) : 5; break;
    case Kind::success: m.step = px ? (tl ? 10 : 9) : 6; break;
  }
  if (auto st = read_fields(kd, msg::spec_of(m), m); !st) return st.error();
  if (auto vs = msg::validate(m); !vs) return vs.error();
  return m;
}

}  // namespace kd::wire

namespace kd::wire::mgcp {

namespace {

// A transaction id: 1 to 9 digits, not 0 (RFC 3435 3.2.1.2).
std::optional<std::uint32_t> tid_value(std::string_view t) {
  if (t.empty() || t.size() > 9 || !all_of(t, is_digit) || t.find_first_not_of('0') == std::string_view::npos)
    return std::nullopt;
  std::uint32_t v = 0;
  for (char c : t) v = v * 10 + static_cast<std::uint32_t>(c - '0');
  return v;
}

// The first two words of the first line (which must end in LF), or nothing.
std::optional<std::pair<std::string_view, std::string_view>> first_words(ByteView wire) {
  const std::string_view all(reinterpret_cast<const char*>(wire.data()), wire.size());
  const std::size_t nl = all.find('\n');
  if (nl == std::string_view::npos) return std::nullopt;
  std::string_view line = all.substr(0, nl);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  std::size_t a = 0;
  while (a < line.size() && !is_wsp(line[a])) ++a;
  std::size_t b = a;
  while (b < line.size() && is_wsp(line[b])) ++b;
  std::size_t e = b;
  while (e < line.size() && !is_wsp(line[e])) ++e;
  if (a == 0 || b == a) return std::nullopt;
  return std::pair{line.substr(0, a), line.substr(b, e - b)};
}

}  // namespace

Bytes provisional(std::uint32_t tid) {
  const std::string line = "100 " + std::to_string(tid) + " executing\r\n";
  return Bytes(line.begin(), line.end());
}

std::optional<std::uint32_t> read_provisional(ByteView wire) {
  // RFC 3435 2.4: 100 (being executed, completion follows) and 101 (queued) are provisional.
  if (wire.empty() || wire[0] != '1') return std::nullopt;  // cheap: a service reads every datagram with this
  const auto w = first_words(wire);
  if (!w || (w->first != "100" && w->first != "101")) return std::nullopt;
  return tid_value(w->second);
}

std::optional<std::uint32_t> command_transaction(ByteView wire) {
  const auto w = first_words(wire);
  if (!w || w->first.size() != 4 || !is_alpha(w->first[0]) || !all_of(w->first, is_alnum)) return std::nullopt;
  return tid_value(w->second);
}

}  // namespace kd::wire::mgcp
