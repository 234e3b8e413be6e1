// SIP encoding: the envelope derived from the logical fields (or echoed from the message answered
// or forwarded), the KD parameters from the field table.
#include <span>

#include "wire/envelope_id.hpp"
#include "wire/host.hpp"
#include "wire/sip.hpp"
#include "wire/sip_text.hpp"

namespace kd::wire {

std::string sip::escape_user(std::string_view id) {
  static constexpr std::string_view kUnreservedMarks = "-_.!~*'()&=+$,;?/";
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : id) {
    if (text::is_alnum(c) || kUnreservedMarks.find(c) != std::string_view::npos) {
      out += c;
    } else {
      const auto u = static_cast<unsigned char>(c);
      out += '%';
      out += kHex[u >> 4];
      out += kHex[u & 15];
    }
  }
  return out;
}

namespace sip::detail {

using msg::Field;
using msg::Flow;
using msg::Message;
using msg::StepSpec;

namespace {

// The envelope values derived from the fields, each computed when first asked for: a message that
// echoes the one it answers or forwards uses at most its branch or its To tag, and each value
// costs a SHA-256.
class Envelope {
public:
  Envelope(const Message& m, const StepSpec& spec, const StepShape& sh)
      : m_(m), spec_(spec), reg_(m.flow == Flow::proxied ? *m.IDsp : *m.IDss), flow_(msg::flow_name(m.flow)),
        link_(term_link(spec) ? "term" : "core"), cseq_(sh.cseq) {}

  std::string call_id() const { return value("call-id", 32); }
  std::string from_tag() const { return value("from-tag", 16); }
  std::string to_tag() const { return value("to-tag", 16); }
  std::string branch() const {
    const std::string cseq = std::to_string(cseq_);
    const std::string n1 = term_link(spec_) ? to_hex(*m_.N1) : std::string();
    return "z9hG4bK" + envelope_hex("kd-sip ", "branch", {flow_, link_, *m_.suite, *m_.IDc, reg_, cseq, n1}, 24);
  }
  std::string sent_by() const { return host_for(term_link(spec_) ? *m_.IDc : *m_.IDsp); }
  const std::string& aor() {
    if (aor_.empty()) aor_ = std::string("sip:") + escape_user(*m_.IDc) + "@" + host_for(reg_);
    return aor_;
  }
  std::string request_uri() const { return std::string("sip:") + host_for(reg_); }

private:
  std::string value(std::string_view label, std::size_t n) const {
    return envelope_hex("kd-sip ", label, {flow_, link_, *m_.suite, *m_.IDc, reg_}, n);
  }
  const Message& m_;
  const StepSpec& spec_;
  const std::string& reg_;
  std::string_view flow_, link_;
  int cseq_;
  std::string aor_;
};

// The KD authentication parameters, as kFields lists them, appended to out.
void kd_params(const Message& m, std::string& out) {
  bool first = true;
  auto add = [&](std::string_view name, bool quote) {
    if (!first) out += ", ";
    first = false;
    out += name;
    out += '=';
    if (quote) out += '"';
  };
  for (const FieldEntry& f : kFields) {
    if (f.place != Place::param) continue;
    switch (f.form) {
      case Form::flow:
        add(f.element, false);
        out += msg::flow_name(m.flow);
        break;
      case Form::token:
      case Form::quoted:
        if (const auto& v = *string_slot(m, f.field); v && (!f.fallback || contact_hostport(*v) != *v)) {
          add(f.element, f.form == Form::quoted);
          out += *v;
          if (f.form == Form::quoted) out += '"';
        }
        break;
      case Form::quoted_hex:
        if (const auto& v = *bytes_slot(m, f.field)) {
          add(f.element, true);
          const std::size_t at = out.size();
          out.resize(at + 2 * v->size());
          to_hex(*v, std::span<char>(out.data() + at, 2 * v->size()));
          out += '"';
        }
        break;
      case Form::decimal:
        if (const auto& v = *number_slot(m, f.field)) {
          add(f.element, false);
          out += std::to_string(*v);
        }
        break;
      default: break;  // no other form among SIP's parameters
    }
  }
}

}  // namespace

std::string contact_hostport(const std::string& ipc) {
  if (is_hostport(ipc)) return ipc;
  if (is_ipv6(ipc)) return "[" + ipc + "]";
  return "invalid";
}

Result<Bytes> encode(const Message& m, const SipText* prev, const Fresh& fresh, Transport transport) {
  const StepSpec* spec = msg::find_step(m.flow, m.step);
  if (!spec) return err(Code::unknown_step, "no such step");
  auto sh = shape_of(*spec);
  if (!sh) return err(Code::unknown_step, std::string(spec->name) + " does not travel over SIP");
  if (auto st = msg::validate(m, msg::Sizes::loose); !st) return st.error();
  Envelope e(m, *spec, *sh);
  const std::optional<Echo> echo = prev ? echo_of(*prev, sh->kind) : std::nullopt;
  // [0140]: toward the terminal of the proxied flow it is the proxy that challenges, so s6 is a 407
  // with Proxy-Authenticate and the terminal answers (s7) with Proxy-Authorization.
  const bool by_proxy = m.flow == Flow::proxied && (m.step == 6 || m.step == 7);

  // Each line written from its pieces into a buffer kept for the next message (a service encodes
  // every message it sends): no string per line; the datagram is one copy of it, of its size.
  thread_local std::string out;
  out.clear();
  auto line = [&](const auto&... pieces) {
    for (const std::string_view p : {std::string_view(pieces)..., std::string_view("\r\n")}) out += p;
  };
  switch (sh->kind) {
    case Kind::request: line("REGISTER ", e.request_uri(), " SIP/2.0"); break;
    case Kind::challenge:
      line(by_proxy ? "SIP/2.0 407 Proxy Authentication Required" : "SIP/2.0 401 Unauthorized");
      break;
    case Kind::success: line("SIP/2.0 200 OK"); break;
  }
  if (!echo || echo->own_via) {
    const std::string_view via = transport == Transport::tcp ? "Via: SIP/2.0/TCP " : "Via: SIP/2.0/UDP ";
    const std::string branch = fresh.branch.empty() ? e.branch() : std::string();
    const std::string_view b = fresh.branch.empty() ? std::string_view(branch) : fresh.branch;
    if (fresh.sent_by.empty()) line(via, e.sent_by(), ";branch=", b);
    else line(via, fresh.sent_by, ";rport;branch=", b);
  }
  if (echo)
    for (std::string_view via : echo->vias) line("Via: ", via);
  if (sh->kind == Kind::request) line("Max-Forwards: ", std::to_string(echo ? echo->max_forwards : 70));
  if (echo) {
    line("From: ", echo->from);
    if (echo->add_to_tag) line("To: ", echo->to, ";tag=", e.to_tag());
    else line("To: ", echo->to);
    line("Call-ID: ", echo->call_id);
    line("CSeq: ", echo->cseq);
  } else {
    const std::string& aor = e.aor();
    if (fresh.from_tag.empty()) line("From: <", aor, ">;tag=", e.from_tag());
    else line("From: <", aor, ">;tag=", fresh.from_tag);
    if (sh->kind == Kind::request) line("To: <", aor, ">");
    else line("To: <", aor, ">;tag=", e.to_tag());
    if (fresh.call_id.empty()) line("Call-ID: ", e.call_id());
    else line("Call-ID: ", fresh.call_id);
    line("CSeq: ", std::to_string(sh->cseq), " REGISTER");
  }
  const std::string user = escape_user(*m.IDc);
  // The header entries of kFields this kind of message carries: those listed before the
  // parameters go before the KD header, the others after it.
  const std::uint8_t in = table_kind(sh->kind);
  auto headers = [&](bool before) {
    bool after = false;
    for (const FieldEntry& f : kFields) {
      after = after || f.place == Place::param;
      if (f.place != Place::header || after == before || !(f.in & in)) continue;
      switch (f.form) {
        case Form::contact_host:
          if (const auto& v = *string_slot(m, f.field)) line(f.element, ": <sip:", user, "@", contact_hostport(*v), ">");
          break;
        case Form::mech_list:
          if (const auto& v = *list_slot(m, f.field)) {
            line(f.element, ": ", text::mech_list_text(*v, ", "));
            if (sh->kind == Kind::request) {  // RFC 3329 2.3.1: a client that offers mechanisms requires sec-agree
              line("Require: sec-agree");
              line("Proxy-Require: sec-agree");
            }
          }
          break;
        case Form::option_tag:
          if (*flag_slot(m, f.field)) line(f.element, ": sec-agree");
          break;
        default: break;  // no other form among SIP's headers
      }
    }
  };
  headers(true);
  switch (sh->kind) {
    case Kind::request:
      line("Expires: 3600");
      out += by_proxy ? "Proxy-Authorization: KD " : "Authorization: KD ";
      break;
    case Kind::challenge: out += by_proxy ? "Proxy-Authenticate: KD " : "WWW-Authenticate: KD "; break;
    case Kind::success:
      line("Contact: <", e.aor(), ">;expires=3600");
      out += "Authentication-Info: ";
      break;
  }
  kd_params(m, out);  // the KD header's value, in place
  out += "\r\n";
  headers(false);
  line("Content-Length: 0");
  line("");
  return Bytes(out.begin(), out.end());
}

}  // namespace sip::detail
}  // namespace kd::wire
