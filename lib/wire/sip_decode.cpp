// SIP decoding into a reused Message (kd-decode's hot path): the step from the message's kind and
// KD parameters, the fields from the field table, IPc and the mechanism lists from their headers.
#include <memory>
#include <type_traits>

#include "wire/sip.hpp"
#include "wire/sip_text.hpp"

namespace kd::wire {

using msg::Field;
using msg::Flow;
using msg::Message;
using msg::StepSpec;
using namespace sip::detail;
using sip::kFields;
using sip::kParams;
using text::iequal;
using text::is_digit;
using text::is_wsp;
using text::malformed;
using text::trim;

namespace {

// The buffers of the fields that a reused Message no longer carries, kept for the next message
// that does (kd-decode decodes a million messages into a few thousand Messages, and each step
// carries other fields): without them most fields of most messages would be allocated anew.
// One set per decoding thread, of a bounded size.
class FieldBuffers {
public:
  // Makes out hold a value, with a kept buffer when there is one.
  template <class T>
  void fill(std::optional<T>& out) {
    if (out) return;
    std::vector<T>& kept = pool<T>();
    if (kept.empty()) {
      out.emplace();
    } else {
      out.emplace(std::move(kept.back()));
      kept.pop_back();
    }
  }
  // Empties value, keeping its buffer when it is a string, bytes or a list (a short string has
  // none: its characters are inside it).
  template <class T>
  void take(std::optional<T>& value) {
    if constexpr (std::is_same_v<T, std::string> || std::is_same_v<T, Bytes> || std::is_same_v<T, msg::MechList>) {
      std::vector<T>& kept = pool<T>();
      if (value && kept.size() < kMax && value->capacity() > T().capacity()) kept.push_back(std::move(*value));
    }
    value.reset();
  }

private:
  static constexpr std::size_t kMax = 64;
  template <class T>
  std::vector<T>& pool() {
    if constexpr (std::is_same_v<T, std::string>) return strings_;
    else if constexpr (std::is_same_v<T, Bytes>) return bytes_;
    else return lists_;
  }
  std::vector<std::string> strings_;
  std::vector<Bytes> bytes_;
  std::vector<msg::MechList> lists_;
};
thread_local FieldBuffers field_buffers;

using Carried = std::array<bool, msg::kFieldCount + 1>;  // the fields a message carries, by tag

// The kind of message from its start line and CSeq.
Result<Kind> kind_of(const SipText& t) {
  std::string_view cseq = t.first(Hdr::cseq);
  std::size_t sp = 0;
  while (sp < cseq.size() && is_digit(cseq[sp])) ++sp;
  if (sp == 0 || sp > 10 || sp >= cseq.size() || !is_wsp(cseq[sp])) return malformed("bad CSeq");
  std::string_view cmethod = trim(cseq.substr(sp));
  if (cmethod.empty()) return malformed("bad CSeq");
  if (t.request && cmethod != t.method) return malformed("the CSeq method differs from the request's");

  if (t.request) {
    if (t.method != "REGISTER")
      return err(Code::unknown_step, "a SIP " + std::string(t.method) + " is no step of kd's flows");
    return Kind::request;
  }
  if (cmethod != "REGISTER")
    return err(Code::unknown_step, "a response to " + std::string(cmethod) + " is no step of kd's flows");
  if (t.status == 401 || t.status == 407) return Kind::challenge;
  if (t.status == 200) return Kind::success;
  return err(Code::unknown_step, "SIP status " + std::to_string(t.status) + " is no step of kd's flows");
}

struct KdHeaders {
  Params creds, chal, info;
};

// The KD parameters of the one KD header the kind of message carries (one of h's).
Result<const Params*> kd_header(const SipText& t, Kind kind, KdHeaders& h) {
  Params &creds_p = h.creds, &chal_p = h.chal, &info_p = h.info;
  auto creds = find_kd(t, {Hdr::authorization, Hdr::proxy_authorization}, false, creds_p);
  if (!creds) return creds.error();
  auto chal = find_kd(t, {Hdr::www_authenticate, Hdr::proxy_authenticate}, false, chal_p);
  if (!chal) return chal.error();
  auto info = find_kd(t, {Hdr::authentication_info}, true, info_p);
  if (!info) return info.error();
  const bool have = kind == Kind::request ? *creds : kind == Kind::challenge ? *chal : *info;
  const char* header_name = kind == Kind::request     ? "Authorization: KD"
                            : kind == Kind::challenge ? "WWW-Authenticate: KD"
                                                      : "Authentication-Info with kd-flow";
  if (!have) {
    if (*creds || *chal || *info)
      return err(Code::unknown_step, std::string(t.request ? "a REGISTER" : "SIP " + std::to_string(t.status)) +
                                         " carrying another kind of KD header is no step of kd's flows");
    return err(Code::missing_field, std::string("the message has no ") + header_name + " header");
  }
  const Params& p = kind == Kind::request ? creds_p : kind == Kind::challenge ? chal_p : info_p;
  if (!p.get(kd_param("kd-flow"))) return err(Code::missing_field, std::string(header_name) + " has no kd-flow");
  return &p;
}

// The step: the kind of message, the flow, and whether it travels on the terminal's link (the
// proxied flow's outer link carries the terminal's nonces and time stamp).
Status step_of(Kind kind, const Params& p, Message& m) {
  auto flow = msg::parse_flow(*p.get(kd_param("kd-flow")));
  if (!flow) return malformed("kd-flow must be proxied or direct");
  const bool tl = *flow == Flow::direct || p.get(kd_param("kd-n1")) || p.get(kd_param("kd-n2")) || p.get(kd_param("kd-ts"));
  m.flow = *flow;
  switch (kind) {
    case Kind::request: {
      const bool second = p.get(kd_param("nonce")) || p.get(kd_param("response"));
      if (*flow == Flow::proxied) m.step = second ? (tl ? 7 : 8) : (tl ? 1 : 2);
      else m.step = second ? 5 : 1;
      break;
    }
    case Kind::challenge: m.step = *flow == Flow::proxied ? (tl ? 6 : 5) : 4; break;
    case Kind::success: m.step = *flow == Flow::proxied ? (tl ? 10 : 9) : 6; break;
  }
  return Ok{};
}

// The fields the KD parameters carry, as kFields maps them. A bad hex value is reported before a
// bad time stamp, each in table order.
Status read_params(const Params& p, const StepSpec& spec, Message& m, Carried& set, FieldBuffers& spare) {
  Status st = Ok{}, ts = Ok{};
  for (std::size_t k = 0; k < kParams.count; ++k) {
    const std::string_view* v = p.get(k);
    if (!v) continue;
    const FieldEntry* f = entry_for_step(kFields, kParams, k, spec);
    if (!f) {  // the element carries one of several fields, none of them the step's (kd-ts)
      if (ts) {
        const std::string_view name = kParams.names[k];
        auto n = kFields[kParams.first[k]].form == Form::decimal ? text::uint_value(name, *v) : Result<std::uint64_t>(0);
        ts = n ? Status(malformed(std::string(name) + " does not belong in " + std::string(spec.name))) : Status(n.error());
      }
      continue;
    }
    switch (f->form) {
      case Form::flow: continue;  // read by step_of()
      case Form::token:
      case Form::quoted: {
        auto& out = *string_slot(m, f->field);
        spare.fill(out);
        out->assign(*v);
        break;
      }
      case Form::quoted_hex: {
        if (!st) continue;
        auto& out = *bytes_slot(m, f->field);
        spare.fill(out);
        if (auto h = text::hex_value(f->element, *v, *out); !h) st = h.error();
        break;
      }
      case Form::decimal: {
        if (!ts) continue;
        auto n = text::uint_value(f->element, *v);
        if (!n) {
          ts = n.error();
          continue;
        }
        *number_slot(m, f->field) = *n;
        break;
      }
      default: continue;  // no other form among SIP's parameters
    }
    set[static_cast<std::size_t>(f->field)] = true;
  }
  if (!st) return st;
  return ts;
}

// The mechanisms of every h header, into out (cleared first; its buffer is reused).
Status parse_mechs(const SipText& t, Hdr h, std::string_view header, msg::MechList& out) {
  out.clear();
  Status st = Ok{};
  t.each(h, [&](std::string_view v) {
    each_item(v, [&](std::string_view e) {
      if (!st) return false;
      if (e.empty()) return true;
      msg::Mech mech;
      if (st = text::mech_entry(e, header, true, mech); !st) return false;
      if (out.size() >= msg::kMaxMechs) {
        st = err(Code::bad_length, "SecMechList must hold 1 to 16 mechanisms");
        return false;
      }
      out.push_back(std::move(mech));
      return true;
    });
  });
  return st;
}

// The hostport of the first Contact's URI.
Result<std::string> contact_host(std::string_view v) {
  std::string_view c;
  each_item(v, [&](std::string_view e) {
    c = e;
    return false;
  });
  std::string_view uri;
  std::size_t lt = c.find('<');
  if (lt != std::string_view::npos) {
    std::size_t gt = c.find('>', lt);
    if (gt == std::string_view::npos) return malformed("Contact: unterminated <");
    uri = c.substr(lt + 1, gt - lt - 1);
  } else {
    uri = c.substr(0, c.find(';'));
  }
  uri = trim(uri);
  std::size_t colon = uri.find(':');
  if (colon == std::string_view::npos || (!iequal(uri.substr(0, colon), "sip") && !iequal(uri.substr(0, colon), "sips")))
    return malformed("Contact is not a SIP URI");
  uri.remove_prefix(colon + 1);
  std::size_t params = 0;  // (find_first_of calls memchr once per character: a loop is cheaper)
  while (params < uri.size() && uri[params] != ';' && uri[params] != '?') ++params;
  uri = uri.substr(0, params);
  std::size_t at = uri.rfind('@');
  if (at != std::string_view::npos) uri.remove_prefix(at + 1);
  if (uri.empty()) return malformed("Contact has no host");
  return std::string(uri);
}

// The fields that travel in headers of their own (kFields, Place::header), of this kind of message.
Status read_headers(const SipText& t, Kind kind, const StepSpec& spec, Message& m, Carried& set, FieldBuffers& spare) {
  static const auto kHdrs = [] {  // each entry's header
    std::array<Hdr, std::size(kFields)> h{};
    for (std::size_t i = 0; i < h.size(); ++i) h[i] = kFields[i].place == Place::header ? header_id(kFields[i].element) : Hdr::other;
    return h;
  }();
  const std::uint8_t in = table_kind(kind);
  for (std::size_t i = 0; i < std::size(kFields); ++i) {
    const FieldEntry& f = kFields[i];
    const Hdr hn = kHdrs[i];
    auto& mark = set[static_cast<std::size_t>(f.field)];
    if (f.place != Place::header || !(f.in & in) || !has_field(spec, f.field) || mark) continue;
    switch (f.form) {
      case Form::contact_host: {
        if (t.count(hn) == 0)
          return err(Code::missing_field, std::string(spec.name) + " needs " + std::string(msg::field_name(f.field)) +
                                              " (a " + std::string(f.element) + ")");
        auto h = contact_host(t.first(hn));
        if (!h) return h.error();
        *string_slot(m, f.field) = std::move(*h);
        mark = true;
        break;
      }
      case Form::mech_list:
        if (t.count(hn) > 0) {
          auto& out = *list_slot(m, f.field);
          spare.fill(out);
          if (auto l = parse_mechs(t, hn, f.element, *out); !l) return l.error();
          mark = true;
        }
        break;
      case Form::option_tag:
        t.each(hn, [&](std::string_view v) {
          each_item(v, [&](std::string_view tag) {
            if (iequal(tag, "sec-agree")) {
              *flag_slot(m, f.field) = true;
              mark = true;
            }
            return true;
          });
        });
        break;
      default: break;  // no other form among SIP's headers
    }
  }
  return Ok{};
}

}  // namespace

// Each field is assigned in place, and every field the message does not carry is cleared at the
// end, its buffer kept for a later message. On error m holds no particular message.
Status SipCodec::decode_into(ByteView wire, Message& m) const {
  const SipText* text = nullptr;
  if (auto st = parse_text_kept(wire, text); !st) return st.error();
  const SipText& t = *text;
  auto kind = kind_of(t);
  if (!kind) return kind.error();
  KdHeaders headers;
  auto p = kd_header(t, *kind, headers);
  if (!p) return p.error();
  if (auto st = step_of(*kind, **p, m); !st) return st;
  const StepSpec& spec = *msg::find_step(m.flow, m.step);

  Carried set{};
  FieldBuffers& spare = field_buffers;
  if (auto st = read_params(**p, spec, m, set, spare); !st) return st;
  if (auto st = read_headers(t, *kind, spec, m, set, spare); !st) return st;
  msg::for_each_field(m, [&](Field fl, auto& value) {
    if (!set[static_cast<std::size_t>(fl)]) spare.take(value);
  });
  if (auto vs = msg::validate(m); !vs) return vs.error();
  return Ok{};
}

}  // namespace kd::wire
