#include "wire/mgcp.hpp"

#include <array>
#include <initializer_list>
#include <optional>
#include <utility>
#include <vector>

#include "crypto/suite.hpp"
#include "wire/sip.hpp"

namespace kd::wire {

using msg::Field;
using msg::Flow;
using msg::Message;
using msg::Role;
using msg::StepSpec;

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

// The KD extension parameters. RFC 3435's grammar allows "X-" and at most six letters or digits,
// and Wireshark reads exactly that, so the names are short.
enum class P { flow, suite, idc, idsp, idss, n1, n2, ts, rand, auth, ekc, eksp, ekss, mreq, mlist, mech, ipc, mac };
struct KdParam {
  std::string_view name;
  P p;
};
constexpr KdParam kParams[] = {
    {"X-KDFLOW", P::flow}, {"X-KDSUIT", P::suite}, {"X-KDIDC", P::idc},   {"X-KDIDSP", P::idsp},
    {"X-KDIDSS", P::idss}, {"X-KDN1", P::n1},      {"X-KDN2", P::n2},     {"X-KDTS", P::ts},
    {"X-KDRAND", P::rand}, {"X-KDAUTH", P::auth},  {"X-KDEKC", P::ekc},   {"X-KDEKSP", P::eksp},
    {"X-KDEKSS", P::ekss}, {"X-KDMREQ", P::mreq},  {"X-KDMLST", P::mlist}, {"X-KDMECH", P::mech},
    {"X-KDIPC", P::ipc},   {"X-KDMAC", P::mac},
};
constexpr std::size_t kParamCount = sizeof kParams / sizeof kParams[0];

// Lowercase hex of SHA-256("kd-mgcp " || label || (0x00 || part)...), cut to n digits.
Bytes digest(std::string_view label, std::initializer_list<std::string_view> parts) {
  Bytes in = to_bytes("kd-mgcp ");
  put_str(in, label);
  for (auto p : parts) {
    put_u8(in, 0);
    put_str(in, p);
  }
  return crypto::hash(crypto::HashId::sha256, in);
}

std::string derive(std::string_view label, std::initializer_list<std::string_view> parts, std::size_t n) {
  return to_hex(digest(label, parts)).substr(0, n);
}

// RequestIdentifier (X:): the challenge RQNT and the NTFY answering it share one (keyed by Rand);
// the success RQNT opens a new request (keyed by EKc, which both of its steps carry).
std::string request_id(const Message& m, const StepSpec& spec, Kind k) {
  const std::string flow(msg::flow_name(m.flow));
  const std::string link = term_link(spec) ? "term" : "core";
  const std::string& reg = m.flow == Flow::proxied ? *m.IDsp : *m.IDss;
  if (k == Kind::success) return derive("request-id", {flow, link, *m.suite, *m.IDc, reg, "registered", to_hex(*m.EKc)}, 16);
  return derive("request-id", {flow, link, *m.suite, *m.IDc, reg, to_hex(*m.Rand)}, 16);
}

std::string mech_list_text(const msg::MechList& l) {
  std::string out;
  for (const auto& mech : l) {
    if (!out.empty()) out += ",";
    out += mech.name + ";q=" + sip::q_text(mech.q);
  }
  return out;
}

// ---- parsing ------------------------------------------------------------------------------

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_alnum(char c) { return is_alpha(c) || is_digit(c); }
bool is_hexdig(char c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
bool is_wsp(char c) { return c == ' ' || c == '\t'; }
char upper(char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c; }

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = upper(c);
  return out;
}

bool iequal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (upper(a[i]) != upper(b[i])) return false;
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_wsp(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_wsp(s.back())) s.remove_suffix(1);
  return s;
}

bool all_of(std::string_view s, bool (*pred)(char)) {
  for (char c : s)
    if (!pred(c)) return false;
  return true;
}

Error malformed(std::string d) { return err(Code::malformed, std::move(d)); }

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

Result<Bytes> hex_value(std::string_view name, std::string_view v) {
  for (char c : v)
    if (!is_digit(c) && (c < 'a' || c > 'f')) return malformed(std::string(name) + " must be lowercase hex");
  auto b = from_hex(v);
  if (!b) return malformed(std::string(name) + " has an odd number of hex digits");
  return std::move(*b);
}

Result<std::uint64_t> uint_value(std::string_view name, std::string_view v) {
  if (v.empty() || !all_of(v, is_digit) || (v.size() > 1 && v[0] == '0'))
    return malformed(std::string(name) + " must be a decimal number without leading zeros");
  if (v.size() > 19) return err(Code::bad_length, std::string(name) + " is out of range");
  std::uint64_t x = 0;
  for (char c : v) x = x * 10 + static_cast<std::uint64_t>(c - '0');
  return x;
}

// "tls;q=0.9,ipsec-3gpp;q=0.5": RFC 3329 entries; other entry parameters are ignored, a missing q is 1.
Result<msg::MechList> parse_mechs(std::string_view v) {
  msg::MechList out;
  while (true) {
    const std::size_t comma = v.find(',');
    std::string_view e = trim(v.substr(0, comma));
    if (e.empty()) return malformed("X-KDMLST names an empty mechanism");
    if (out.size() >= msg::kMaxMechs) return err(Code::bad_length, "SecMechList must hold 1 to 16 mechanisms");
    std::size_t semi = e.find(';');
    msg::Mech mech;
    mech.name = std::string(trim(e.substr(0, semi)));
    bool have_q = false;
    while (semi != std::string_view::npos) {
      e.remove_prefix(semi + 1);
      semi = e.find(';');
      const std::string_view p = trim(e.substr(0, semi));
      const std::size_t eq = p.find('=');
      if (!iequal(trim(p.substr(0, eq)), "q")) continue;
      if (have_q) return malformed("X-KDMLST: q appears twice for " + mech.name);
      auto q = eq == std::string_view::npos ? std::nullopt : sip::parse_q(trim(p.substr(eq + 1)));
      if (!q) return malformed("X-KDMLST: bad q-value for " + mech.name);
      mech.q = *q;
      have_q = true;
    }
    out.push_back(std::move(mech));
    if (comma == std::string_view::npos) break;
    v.remove_prefix(comma + 1);
  }
  return out;
}

}  // namespace

namespace mgcp {

std::string endpoint_for(std::string_view idc) { return "aaln/1@" + sip::host_for(idc); }

std::uint32_t transaction_id(const Message& m) {
  const Bytes c = msg::canonical(m);
  const Bytes d = digest("transaction-id", {std::string_view(reinterpret_cast<const char*>(c.data()), c.size())});
  std::uint64_t x = 0;
  for (int i = 0; i < 8; ++i) x = x << 8 | d[static_cast<std::size_t>(i)];
  return static_cast<std::uint32_t>(x % 999999999u + 1);
}

}  // namespace mgcp

bool MgcpCodec::carries(const StepSpec& s) const noexcept { return kind_of(s).has_value(); }

std::pair<std::uint16_t, std::uint16_t> MgcpCodec::ports(const StepSpec& s) const {
  // Toward the switch each sender acts as a gateway, toward the terminal as a call agent.
  const bool upward = s.to == Role::sw || (s.from == Role::term && s.to == Role::proxy);
  if (upward) return {mgcp::kGatewayPort, mgcp::kCallAgentPort};
  return {mgcp::kCallAgentPort, mgcp::kGatewayPort};
}

Result<Bytes> MgcpCodec::encode(const Message& m) const {
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
  line(verb, std::string(" ") + std::to_string(mgcp::transaction_id(m)) + " " + mgcp::endpoint_for(*m.IDc) + " MGCP 1.0");
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
  line("X-KDFLOW: ", msg::flow_name(m.flow));
  line("X-KDSUIT: ", *m.suite);
  line("X-KDIDC: ", *m.IDc);
  if (m.IDsp) line("X-KDIDSP: ", *m.IDsp);
  if (m.IDss) line("X-KDIDSS: ", *m.IDss);
  if (m.N1) line("X-KDN1: ", to_hex(*m.N1));
  if (m.N2) line("X-KDN2: ", to_hex(*m.N2));
  for (const auto* ts : {&m.TS1, &m.TS2, &m.TS3, &m.TS4})
    if (*ts) line("X-KDTS: ", std::to_string(**ts));
  if (m.Rand) line("X-KDRAND: ", to_hex(*m.Rand));
  if (m.Authenticator_c) line("X-KDAUTH: ", to_hex(*m.Authenticator_c));
  if (m.EKc) line("X-KDEKC: ", to_hex(*m.EKc));
  if (m.EKsp) line("X-KDEKSP: ", to_hex(*m.EKsp));
  if (m.EKss) line("X-KDEKSS: ", to_hex(*m.EKss));
  if (m.SecMechReq) line("X-KDMREQ: ", "true");
  if (m.SecMechList) line("X-KDMLST: ", mech_list_text(*m.SecMechList));
  if (m.SecMech) line("X-KDMECH: ", *m.SecMech);
  if (m.IPc) line("X-KDIPC: ", *m.IPc);
  if (m.MAC) line("X-KDMAC: ", to_hex(*m.MAC));
  return Bytes(out.begin(), out.end());
}

Result<Message> MgcpCodec::decode(ByteView wire) const {
  auto parsed = parse_text(wire);
  if (!parsed) return parsed.error();
  const MgcpText& t = *parsed;

  // The standard parameters kd reads, and the KD ones; each at most once.
  std::optional<std::string_view> rm, reqid, requested, signals, observed;
  std::array<std::optional<std::string_view>, kParamCount> kd;
  for (const auto& [name, value] : t.params) {
    std::optional<std::string_view>* slot = nullptr;
    if (name == "RM") slot = &rm;
    else if (name == "X") slot = &reqid;
    else if (name == "R") slot = &requested;
    else if (name == "S") slot = &signals;
    else if (name == "O") slot = &observed;
    else if (name.starts_with("X-KD")) {
      for (std::size_t i = 0; i < kParamCount; ++i)
        if (name == kParams[i].name) slot = &kd[i];
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

  auto get = [&](P p) -> std::optional<std::string_view> { return kd[static_cast<std::size_t>(p)]; };
  const auto flow_s = get(P::flow);
  if (!flow_s) return err(Code::missing_field, "the message has no X-KDFLOW parameter");
  const auto flow = msg::parse_flow(*flow_s);
  if (!flow) return malformed("X-KDFLOW must be proxied or direct");

  const bool tl = *flow == Flow::direct || get(P::n1) || get(P::n2) || get(P::ts);
  Message m;
  m.flow = *flow;
  const bool px = *flow == Flow::proxied;
  switch (kind) {
    case Kind::restart: m.step = px ? (tl ? 1 : 2) : 1; break;
    case Kind::challenge: m.step = px ? (tl ? 6 : 5) : 4; break;
    case Kind::answer: m.step = px ? (tl ? 7 : 8) : 5; break;
    case Kind::success: m.step = px ? (tl ? 10 : 9) : 6; break;
  }
  const StepSpec& spec = *msg::find_step(m.flow, m.step);

  Status st = Ok{};
  auto str = [&](P p, std::optional<std::string>& out) {
    if (auto v = get(p)) out = std::string(*v);
  };
  auto hex = [&](P p, std::optional<Bytes>& out) {
    auto v = get(p);
    if (!v || !st) return;
    auto b = hex_value(kParams[static_cast<std::size_t>(p)].name, *v);
    if (!b) st = b.error();
    else out = std::move(*b);
  };
  str(P::suite, m.suite);
  str(P::idc, m.IDc);
  str(P::idsp, m.IDsp);
  str(P::idss, m.IDss);
  str(P::mech, m.SecMech);
  str(P::ipc, m.IPc);
  hex(P::n1, m.N1);
  hex(P::n2, m.N2);
  hex(P::rand, m.Rand);
  hex(P::auth, m.Authenticator_c);
  hex(P::ekc, m.EKc);
  hex(P::eksp, m.EKsp);
  hex(P::ekss, m.EKss);
  hex(P::mac, m.MAC);
  if (!st) return st.error();
  if (auto ts = get(P::ts)) {
    auto v = uint_value("X-KDTS", *ts);
    if (!v) return v.error();
    std::optional<std::uint64_t>* slot = nullptr;
    if (has_field(spec, Field::TS1)) slot = &m.TS1;
    else if (has_field(spec, Field::TS2)) slot = &m.TS2;
    else if (has_field(spec, Field::TS3)) slot = &m.TS3;
    else if (has_field(spec, Field::TS4)) slot = &m.TS4;
    if (!slot) return malformed("X-KDTS does not belong in " + std::string(spec.name));
    *slot = *v;
  }
  if (auto v = get(P::mreq)) {
    if (*v == "true") m.SecMechReq = true;
    else if (*v == "false") m.SecMechReq = false;  // validate() names the fault
    else return malformed("X-KDMREQ must be true");
  }
  if (auto v = get(P::mlist)) {
    auto l = parse_mechs(*v);
    if (!l) return l.error();
    m.SecMechList = std::move(*l);
  }
  if (auto vs = msg::validate(m); !vs) return vs.error();
  return m;
}

}  // namespace kd::wire
