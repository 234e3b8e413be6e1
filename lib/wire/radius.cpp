#include "wire/radius.hpp"

#include <array>
#include <optional>
#include <tuple>

#include "crypto/suite.hpp"
#include "wire/radius_fields.hpp"

namespace kd::wire {

using msg::Field;
using msg::Flow;
using msg::Message;
using msg::StepSpec;

namespace radius {

namespace {

ByteView view_of(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

Bytes keyed(const crypto::HmacKey& secret, std::string_view label, const Bytes& parts) {
  Bytes msg;
  msg.reserve(label.size() + parts.size());
  put_str(msg, label);
  put_bytes(msg, parts);
  return secret.mac(msg);
}

}  // namespace

// The secret as the HMAC-SHA-256 key of keyed().
crypto::HmacKey keyed_secret(std::string_view secret) { return {crypto::HashId::sha256, view_of(secret)}; }

std::pair<Bytes, std::uint8_t> request_authenticator(const crypto::HmacKey& secret, Flow flow,
                                                     std::string_view suite, std::string_view idc,
                                                     std::string_view registrar) {
  Bytes parts;
  parts.reserve(7 + suite.size() + idc.size() + registrar.size());  // grown byte by byte, it reallocated often
  put_u8(parts, static_cast<std::uint8_t>(flow));
  put_lp16(parts, suite);
  put_lp16(parts, idc);
  put_lp16(parts, registrar);
  Bytes h = keyed(secret, "kd1 radius request", parts);
  const std::uint8_t id = h[16];
  h.resize(16);
  return {h, id};
}

std::pair<Bytes, std::uint8_t> request_authenticator(std::string_view secret, Flow flow,
                                                     std::string_view suite, std::string_view idc,
                                                     std::string_view registrar) {
  return request_authenticator(keyed_secret(secret), flow, suite, idc, registrar);
}

Bytes hide(std::string_view secret, ByteView request_auth, std::uint16_t salt, ByteView value) {
  Bytes plain;
  put_u8(plain, static_cast<std::uint8_t>(value.size()));
  put_bytes(plain, value);
  while (plain.size() % 16 != 0) plain.push_back(0);
  Bytes out;
  out.reserve(2 + plain.size());
  put_u16(out, static_cast<std::uint16_t>(salt | 0x8000));
  // b(1) = MD5(secret + Request Authenticator + salt), b(i) = MD5(secret + c(i-1)), each hashed
  // from its parts: a copy of them would hold the secret.
  std::array<std::uint8_t, 16> b;
  for (std::size_t at = 0; at < plain.size(); at += 16) {
    if (at == 0) crypto::md5({view_of(secret), request_auth, ByteView(out.data(), 2)}, b);
    else crypto::md5({view_of(secret), ByteView(out.data() + out.size() - 16, 16)}, b);
    for (std::size_t i = 0; i < 16; ++i) out.push_back(static_cast<std::uint8_t>(plain[at + i] ^ b[i]));
  }
  return out;
}

std::optional<Bytes> unhide(std::string_view secret, ByteView request_auth, ByteView hidden) {
  if (hidden.size() < 2 + 16 || (hidden.size() - 2) % 16 != 0 || !(hidden[0] & 0x80)) return std::nullopt;
  Bytes plain;
  plain.reserve(hidden.size() - 2);
  std::array<std::uint8_t, 16> b;  // as hide() makes them
  for (std::size_t at = 2; at < hidden.size(); at += 16) {
    if (at == 2) crypto::md5({view_of(secret), request_auth, hidden.first(2)}, b);
    else crypto::md5({view_of(secret), hidden.subspan(at - 16, 16)}, b);
    for (std::size_t i = 0; i < 16; ++i) plain.push_back(static_cast<std::uint8_t>(hidden[at + i] ^ b[i]));
  }
  const std::size_t len = plain[0];
  if (len + 1 > plain.size() || plain.size() - (len + 1) >= 16) return std::nullopt;
  for (std::size_t i = len + 1; i < plain.size(); ++i)
    if (plain[i] != 0) return std::nullopt;
  return Bytes(plain.begin() + 1, plain.begin() + 1 + static_cast<std::ptrdiff_t>(len));
}

}  // namespace radius

namespace {

using namespace radius;

enum class Kind { request, challenge, accounting };

std::optional<Kind> kind_of(const StepSpec& s) {
  const bool p = s.flow == Flow::proxied;
  const int n = s.step;
  if ((p && n == 3) || (!p && n == 2)) return Kind::request;
  if ((p && n == 4) || (!p && n == 3)) return Kind::challenge;
  if ((p && n == 11) || (!p && n == 7)) return Kind::accounting;
  return std::nullopt;
}

std::string_view code_text(std::uint8_t code) {
  switch (code) {
    case access_request: return "Access-Request";
    case access_accept: return "Access-Accept";
    case access_reject: return "Access-Reject";
    case accounting_request: return "Accounting-Request";
    case accounting_response: return "Accounting-Response";
    case access_challenge: return "Access-Challenge";
    default: return "";
  }
}

void put_attr(Bytes& out, std::uint8_t type, ByteView value) {
  put_u8(out, type);
  put_u8(out, static_cast<std::uint8_t>(2 + value.size()));
  put_bytes(out, value);
}

void put_attr(Bytes& out, std::uint8_t type, std::string_view value) { put_attr(out, type, view_of(value)); }

void put_int_attr(Bytes& out, std::uint8_t type, std::uint32_t v) {
  const Bytes b{static_cast<std::uint8_t>(v >> 24), static_cast<std::uint8_t>(v >> 16),
                static_cast<std::uint8_t>(v >> 8), static_cast<std::uint8_t>(v)};
  put_attr(out, type, b);
}

void put_vsa(Bytes& out, std::uint8_t sub, ByteView value) {
  put_u8(out, vendor_specific);
  put_u8(out, static_cast<std::uint8_t>(2 + 4 + 2 + value.size()));
  put_u8(out, 0);
  put_u8(out, static_cast<std::uint8_t>(kVendorId >> 16));
  put_u8(out, static_cast<std::uint8_t>(kVendorId >> 8));
  put_u8(out, static_cast<std::uint8_t>(kVendorId));
  put_u8(out, sub);
  put_u8(out, static_cast<std::uint8_t>(2 + value.size()));
  put_bytes(out, value);
}

std::string str_of(ByteView b) { return std::string(b.begin(), b.end()); }

void set_length(Bytes& p) {
  p[2] = static_cast<std::uint8_t>(p.size() >> 8);
  p[3] = static_cast<std::uint8_t>(p.size());
}

void put_authenticator(Bytes& p, ByteView a) {
  for (std::size_t i = 0; i < 16; ++i) p[4 + i] = a[i];
}

// The Message-Authenticator of p (RFC 3579 section 3.2): HMAC-MD5 over p with the
// Message-Authenticator value (at ma_at, 16 bytes) zeroed and with `auth` in the authenticator
// field, MACed in place.
Bytes compute_ma(const crypto::Md5HmacKey& secret, ByteView p, std::size_t ma_at, ByteView auth) {
  static constexpr std::array<std::uint8_t, 16> kZeros{};
  return secret.mac({p.first(4), auth.first(16), p.subspan(20, ma_at - 20), kZeros, p.subspan(ma_at + 16)});
}

// MD5(Code + Identifier + Length + auth + Attributes + secret): the Response Authenticator (RFC 2865
// section 3) with auth the Request Authenticator, the Accounting-Request's Request Authenticator
// (RFC 2866 section 3) with auth zero.
// Hashed from its parts, without a copy of the packet (which would hold the secret).
std::array<std::uint8_t, 16> packet_md5(std::string_view secret, ByteView p, ByteView auth) {
  std::array<std::uint8_t, 16> out;
  crypto::md5({p.first(4), auth.first(16), p.subspan(20), view_of(secret)}, out);
  return out;
}

const Bytes kZero16(16, 0);

}  // namespace

struct RadiusCodec::Keys {
  crypto::HmacKey keyed;
  crypto::Md5HmacKey ma;
};

RadiusCodec::RadiusCodec(std::string secret, bool unverified)
    : secret_(std::move(secret)), unverified_(unverified),
      keys_(std::make_shared<const Keys>(Keys{radius::keyed_secret(secret_), crypto::Md5HmacKey(view_of(secret_))})) {}

bool RadiusCodec::carries(const StepSpec& s) const noexcept { return kind_of(s).has_value(); }

namespace radius {

std::span<const std::string_view> unverified_without_secret(const StepSpec& s) noexcept {
  static constexpr std::string_view kAll[] = {"radius_authenticators", "Authenticator_c"};
  const auto k = kind_of(s);
  if (!k) return {};
  return std::span<const std::string_view>(kAll).first(*k == Kind::challenge ? 2 : 1);
}

std::optional<msg::Role> recipient(ByteView packet) {
  if (packet.empty()) return std::nullopt;
  switch (packet[0]) {
    case access_request:
    case accounting_request: return msg::Role::auc;
    case access_challenge:
    case access_accept:
    case access_reject:
    case accounting_response: return msg::Role::sw;
    default: return std::nullopt;
  }
}

}  // namespace radius

Result<Bytes> RadiusCodec::encode(const Message& m) const { return encode_with(m, std::nullopt); }

std::optional<RadiusCodec::RequestIds> RadiusCodec::ids_of_request(ByteView request) {
  if (request.size() < kMinPacket || request[0] != access_request) return std::nullopt;
  return RequestIds{request[1], Bytes(request.begin() + 4, request.begin() + 20)};
}

Result<Bytes> RadiusCodec::encode_after(const Message& m, ByteView previous) const {
  const StepSpec* spec = msg::find_step(m.flow, m.step);
  const bool challenge = spec && kind_of(*spec) == Kind::challenge;
  const auto ids = ids_of_request(previous);
  if (!challenge || !ids) return encode(m);
  return encode_with(m, ids);
}

Result<Bytes> RadiusCodec::encode_fresh(const Message& m, ByteView previous, ByteView txn) const {
  const StepSpec* spec = msg::find_step(m.flow, m.step);
  const auto kind = spec ? kind_of(*spec) : std::nullopt;
  if (!kind || *kind == Kind::challenge || txn.size() < kTxnBytes) return encode_after(m, previous);
  return encode_with(m, RequestIds{txn[0], Bytes(txn.begin() + 1, txn.begin() + 17)});
}

Result<Bytes> RadiusCodec::encode_with(const Message& m, const std::optional<RequestIds>& ids) const {
  const StepSpec* spec = msg::find_step(m.flow, m.step);
  const auto kind = spec ? kind_of(*spec) : std::nullopt;
  if (!kind) return err(Code::unknown_step, "radius: the binding carries only s3, s4, s11, d2, d3 and d7");
  if (unverified_) return err(Code::malformed, "radius: cannot encode without the shared secret");
  // Bounds every value (identities, IPc and, loosely, the byte fields up to 64 bytes), so each fits
  // its attribute and the packet stays far below 4096 bytes.
  if (auto s = msg::validate(m, msg::Sizes::loose); !s) return err(s.error().code, std::string("radius: ") + s.error().detail);
  const std::string& registrar = m.flow == Flow::proxied ? *m.IDsp : *m.IDss;
  // The request's own, chosen by its client, or derived (an HMAC: not computed when unused).
  Bytes req_auth;
  std::uint8_t req_id = 0;
  if (ids) {
    req_id = ids->id;
    req_auth = ids->auth;
  } else {
    auto derived = request_authenticator(keys_->keyed, m.flow, *m.suite, *m.IDc, registrar);
    req_auth = std::move(derived.first);
    req_id = derived.second;
  }

  // Written into a buffer kept for the next packet (growing a new one byte by byte reallocated it
  // at each doubling); the packet is one copy of it, of its size.
  thread_local Bytes p;
  p.clear();
  std::uint8_t id = req_id;
  if (*kind == Kind::accounting) {
    Bytes parts;
    put_u8(parts, static_cast<std::uint8_t>(m.flow));
    put_lp16(parts, *m.suite);
    put_lp16(parts, *m.IDc);
    put_lp16(parts, registrar);
    if (m.Rand) put_lp16(parts, *m.Rand);
    if (m.IPc) put_lp16(parts, *m.IPc);
    id = ids ? ids->id : keyed(keys_->keyed, "kd1 radius accounting", parts)[0];
  }
  put_u8(p, *kind == Kind::request ? access_request
            : *kind == Kind::challenge ? access_challenge : accounting_request);
  put_u8(p, id);
  put_u16(p, 0);  // length, below
  put_bytes(p, kZero16);
  const std::size_t ma_at = p.size() + 2;
  put_attr(p, message_authenticator, kZero16);
  // The fields, as kFields places them: its standard attributes first, its vendor's after the envelope's.
  auto put_fields = [&](Place place) -> Status {
    for (const FieldEntry& e : kFields) {
      if (e.place != place) continue;
      const auto type = static_cast<std::uint8_t>(e.number);
      auto put = [&](ByteView v) { place == Place::attribute ? put_attr(p, type, v) : put_vsa(p, type, v); };
      switch (e.form) {
        case Form::string_octets:
          if (const auto& v = *string_slot(m, e.field)) put(view_of(*v));
          break;
        case Form::octets:
          if (const auto& v = *bytes_slot(m, e.field)) put(*v);
          break;
        case Form::hidden_octets:
          if (const auto& v = *bytes_slot(m, e.field)) {
            if (v->size() > 200)
              return err(Code::bad_length, "radius: " + std::string(msg::field_name(e.field)) + " is too long to hide");
            Bytes sparts = req_auth;
            if (m.Rand) put_bytes(sparts, *m.Rand);
            const Bytes s = keyed(keys_->keyed, "kd1 radius salt", sparts);
            const auto salt = static_cast<std::uint16_t>(s[0] << 8 | s[1]);
            put(hide(secret_, req_auth, salt, *v));
          }
          break;
        default: break;  // no other form in RADIUS's table
      }
    }
    return Ok{};
  };
  if (auto st = put_fields(Place::attribute); !st) return st.error();
  if (*kind != Kind::challenge) put_attr(p, nas_identifier, registrar);
  if (*kind == Kind::request) put_int_attr(p, service_type, kAuthenticateOnly);
  if (*kind == Kind::accounting) {
    put_int_attr(p, acct_status_type, kAcctStart);
    if (m.Rand) put_attr(p, acct_session_id, to_hex(*m.Rand));
  }
  if (auto st = put_fields(Place::vendor_attribute); !st) return st.error();
  if (p.size() > kMaxPacket) return err(Code::oversized, "radius: the packet would exceed 4096 bytes");
  set_length(p);

  switch (*kind) {
    case Kind::request: {
      const Bytes ma = compute_ma(keys_->ma, p, ma_at, req_auth);
      std::copy(ma.begin(), ma.end(), p.begin() + static_cast<std::ptrdiff_t>(ma_at));
      put_authenticator(p, req_auth);
      break;
    }
    case Kind::challenge: {
      const Bytes ma = compute_ma(keys_->ma, p, ma_at, req_auth);
      std::copy(ma.begin(), ma.end(), p.begin() + static_cast<std::ptrdiff_t>(ma_at));
      put_authenticator(p, packet_md5(secret_, p, req_auth));
      break;
    }
    case Kind::accounting: {
      const Bytes ma = compute_ma(keys_->ma, p, ma_at, kZero16);
      std::copy(ma.begin(), ma.end(), p.begin() + static_cast<std::ptrdiff_t>(ma_at));
      put_authenticator(p, packet_md5(secret_, p, kZero16));
      break;
    }
  }
  return Bytes(p.begin(), p.end());
}

namespace {

struct Parsed {
  std::uint8_t code = 0, id = 0;
  ByteView packet;  // exactly Length bytes of the packet parsed, which must outlive this
  std::optional<std::size_t> ma_at;
  std::optional<std::uint32_t> acct_status;
  std::array<std::optional<ByteView>, std::size(kFields)> values;  // by entry of kFields, in packet
};

// The entry of kFields at place with that type, or nullopt (an attribute kd does not carry).
std::optional<std::size_t> entry_at(Place place, std::uint8_t type) {
  for (std::size_t i = 0; i < std::size(kFields); ++i)
    if (kFields[i].place == place && kFields[i].number == type) return i;
  return std::nullopt;
}

Status parse_vsa(Parsed& out, ByteView v) {
  if (v.size() < 4) return err(Code::malformed, "radius: a Vendor-Specific attribute shorter than its Vendor-Id");
  const std::uint32_t vendor = static_cast<std::uint32_t>(v[0]) << 24 | static_cast<std::uint32_t>(v[1]) << 16 |
                               static_cast<std::uint32_t>(v[2]) << 8 | v[3];
  if (vendor != kVendorId) return Ok{};  // another vendor's: skipped
  v = v.subspan(4);
  if (v.empty()) return err(Code::malformed, "radius: a KD Vendor-Specific attribute holds no sub-attribute");
  while (!v.empty()) {
    if (v.size() < 2 || v[1] < 2 || v[1] > v.size())
      return err(Code::malformed, "radius: a KD sub-attribute's length does not fit its Vendor-Specific attribute");
    const std::uint8_t type = v[0];
    const ByteView value = v.subspan(2, v[1] - 2u);
    v = v.subspan(v[1]);
    const auto i = entry_at(Place::vendor_attribute, type);
    if (!i) continue;  // unknown KD sub-attribute: skipped
    if (out.values[*i])
      return err(Code::malformed, std::string("radius: KD sub-attribute ") + std::to_string(type) + " appears twice");
    out.values[*i] = value;
  }
  return Ok{};
}

Result<Parsed> parse(ByteView wire) {
  if (wire.size() > kMaxPacket) return err(Code::oversized, "radius: over 4096 bytes (RFC 2865 section 3)");
  if (wire.size() < kMinPacket) return err(Code::malformed, "radius: shorter than the 20-byte header");
  const std::size_t len = static_cast<std::size_t>(wire[2]) << 8 | wire[3];
  if (len < kMinPacket) return err(Code::malformed, "radius: the Length field is below 20");
  if (len > wire.size()) return err(Code::malformed, "radius: the packet is shorter than its Length field (truncated)");
  Parsed out;
  out.code = wire[0];
  out.id = wire[1];
  out.packet = wire.first(len);  // octets beyond Length: padding
  bool seen_status = false;
  std::size_t at = kMinPacket;
  while (at < len) {
    if (len - at < 2) return err(Code::malformed, "radius: an attribute header is cut off by the Length field");
    const std::uint8_t type = out.packet[at], alen = out.packet[at + 1];
    if (alen < 2) return err(Code::malformed, "radius: an attribute length below 2");
    if (alen > len - at) return err(Code::malformed, "radius: an attribute runs past the Length field");
    const ByteView value(out.packet.data() + at + 2, alen - 2u);
    switch (type) {
      case message_authenticator:
        if (out.ma_at) return err(Code::malformed, "radius: Message-Authenticator appears twice");
        if (alen != 18) return err(Code::bad_length, "radius: Message-Authenticator must be 16 bytes");
        out.ma_at = at + 2;
        break;
      case acct_status_type:
        if (seen_status) return err(Code::malformed, "radius: Acct-Status-Type appears twice");
        if (alen != 6) return err(Code::bad_length, "radius: Acct-Status-Type must be 4 bytes");
        seen_status = true;
        out.acct_status = static_cast<std::uint32_t>(value[0]) << 24 | static_cast<std::uint32_t>(value[1]) << 16 |
                          static_cast<std::uint32_t>(value[2]) << 8 | value[3];
        break;
      case vendor_specific:
        if (auto s = parse_vsa(out, value); !s) return s.error();
        break;
      default:
        if (const auto i = entry_at(Place::attribute, type)) {
          if (out.values[*i]) return err(Code::malformed, "radius: " + std::string(kFields[*i].element) + " appears twice");
          out.values[*i] = value;
        }
        break;  // anything else (NAS-Identifier, Service-Type, Acct-Session-Id, other stacks' attributes)
    }
    at += alen;
  }
  return out;
}

const char* kBadMac = "radius: the Message-Authenticator does not verify (wrong shared secret or altered packet)";

}  // namespace

Result<Message> RadiusCodec::decode(ByteView wire) const { return decode_with(wire, std::nullopt); }

Result<Message> RadiusCodec::decode_after(ByteView wire, ByteView request) const {
  const auto ids = ids_of_request(request);
  if (!ids || wire.empty() || wire[0] != access_challenge) return decode(wire);
  return decode_with(wire, ids);
}

Result<Message> RadiusCodec::decode_with(ByteView wire, const std::optional<RequestIds>& ids) const {
  auto parsed = parse(wire);
  if (!parsed) return parsed.error();
  Parsed& p = *parsed;
  Kind kind;
  switch (p.code) {
    case access_request: kind = Kind::request; break;
    case access_challenge: kind = Kind::challenge; break;
    case accounting_request: kind = Kind::accounting; break;
    default: {
      const std::string_view name = code_text(p.code);
      return err(Code::unknown_step, std::string("radius: ") + (name.empty() ? std::string("code ") + std::to_string(p.code) : std::string(name)) +
                                         " is not a step of the AuC link");
    }
  }
  if (!p.ma_at)
    return err(Code::missing_field, "radius: no Message-Authenticator (RFC 3579); kd requires one on every packet");
  // The fields the envelope needs: the flow is the registrar's, IDsp or IDss.
  constexpr std::size_t sp = entry_index(Field::IDsp), ss = entry_index(Field::IDss);
  constexpr std::size_t idc = entry_index(Field::IDc), su = entry_index(Field::suite);
  auto name = [](std::size_t i) { return std::string(kFields[i].element); };
  const bool has_sp = p.values[sp].has_value(), has_ss = p.values[ss].has_value();
  if (has_sp && has_ss)
    return err(Code::malformed, "radius: both " + name(sp) + " and " + name(ss) + "; a packet belongs to one flow");
  if (!has_sp && !has_ss) return err(Code::missing_field, "radius: neither " + name(sp) + " nor " + name(ss));
  if (!p.values[idc]) return err(Code::missing_field, "radius: no " + name(idc) + " (IDc)");
  if (!p.values[su]) return err(Code::missing_field, "radius: no " + name(su));

  Message m;
  m.flow = has_sp ? Flow::proxied : Flow::direct;
  const std::string registrar = str_of(*p.values[has_sp ? sp : ss]);
  const std::string suite = str_of(*p.values[su]);
  const std::string user = str_of(*p.values[idc]);
  const ByteView packet_auth(p.packet.data() + 4, 16);
  Bytes req_auth;  // the Request Authenticator that keys the hiding

  switch (kind) {
    case Kind::request: {
      m.step = m.flow == Flow::proxied ? 3 : 2;
      req_auth.assign(packet_auth.begin(), packet_auth.end());  // any: chosen by the client
      if (unverified_) break;
      if (!crypto::ct_equal(compute_ma(keys_->ma, p.packet, *p.ma_at, req_auth),
                            ByteView(p.packet.data() + *p.ma_at, 16)))
        return err(Code::bad_mac, kBadMac);
      break;
    }
    case Kind::challenge: {
      m.step = m.flow == Flow::proxied ? 4 : 3;
      if (unverified_) break;
      std::uint8_t id = 0;
      if (ids) {  // the derived one (an HMAC) is not computed when unused
        req_auth = ids->auth;
        id = ids->id;
      } else {
        std::tie(req_auth, id) = request_authenticator(keys_->keyed, m.flow, suite, user, registrar);
      }
      const char* which = ids ? "the Access-Request it is matched with" : "kd's Access-Request for these fields";
      if (!crypto::ct_equal(packet_md5(secret_, p.packet, req_auth), packet_auth))
        return err(Code::bad_mac, std::string("radius: the Response Authenticator does not verify (wrong shared secret, "
                                              "altered packet, or not the answer to ") + which + ")");
      if (!crypto::ct_equal(compute_ma(keys_->ma, p.packet, *p.ma_at, req_auth),
                            ByteView(p.packet.data() + *p.ma_at, 16)))
        return err(Code::bad_mac, kBadMac);
      if (p.id != id) return err(Code::bad_mac, std::string("radius: the Identifier is not that of ") + which);
      break;
    }
    case Kind::accounting: {
      m.step = m.flow == Flow::proxied ? 11 : 7;
      if (!unverified_ && !crypto::ct_equal(packet_md5(secret_, p.packet, kZero16), packet_auth))
        return err(Code::bad_mac, "radius: the Accounting-Request's Request Authenticator does not verify (wrong "
                                  "shared secret or altered packet; RFC 2866 section 3)");
      if (!unverified_ && !crypto::ct_equal(compute_ma(keys_->ma, p.packet, *p.ma_at, kZero16),
                                            ByteView(p.packet.data() + *p.ma_at, 16)))
        return err(Code::bad_mac, kBadMac);
      if (!p.acct_status) return err(Code::missing_field, "radius: an Accounting-Request without Acct-Status-Type");
      if (*p.acct_status != kAcctStart)
        return err(Code::unknown_step, "radius: only Acct-Status-Type Start is a step of the AuC link");
      break;
    }
  }

  bool left_out = false;  // a hidden value, not unhidden for want of the secret
  for (std::size_t i = 0; i < std::size(kFields); ++i) {
    if (!p.values[i]) continue;
    const FieldEntry& e = kFields[i];
    const ByteView value = *p.values[i];
    switch (e.form) {
      case Form::string_octets: *string_slot(m, e.field) = str_of(value); break;
      case Form::octets: bytes_slot(m, e.field)->emplace(value.begin(), value.end()); break;
      case Form::hidden_octets: {
        const std::string element(e.element);
        if (kind != Kind::challenge)
          return err(Code::malformed, "radius: " + element + " travels only in an Access-Challenge");
        const std::string bad_form = "radius: " + element + " is not a well-formed hidden value (RFC 2868 section 3.5)";
        if (unverified_) {  // hidden under the secret: only its form is checked, the value left out
          if (value.size() < 2 + 16 || (value.size() - 2) % 16 != 0 || !(value[0] & 0x80))
            return err(Code::malformed, bad_form);
          left_out = true;
          break;
        }
        auto plain = unhide(secret_, req_auth, value);
        if (!plain) return err(Code::malformed, bad_form);
        *bytes_slot(m, e.field) = std::move(*plain);
        break;
      }
      default: break;  // no other form in RADIUS's table
    }
  }
  if (left_out) {
    // The step needs Authenticator_c, which only the secret unhides: everything else is validated
    // against a stand-in of the suite's length, and the message leaves without it.
    const crypto::Suite* s = crypto::find_suite(suite);
    m.Authenticator_c = Bytes(s ? s->auth_len : 0);
    auto st = msg::validate(m);
    m.Authenticator_c.reset();
    if (!st) return err(st.error().code, std::string("radius: ") + st.error().detail);
    return m;
  }
  if (auto s = msg::validate(m); !s) return err(s.error().code, std::string("radius: ") + s.error().detail);
  return m;
}

namespace radius {

Bytes answer_packet(std::string_view secret, ByteView request, PacketCode code, std::string_view reply) {
  const ByteView req_auth = request.subspan(4, 16);
  Bytes p;
  put_u8(p, code);
  put_u8(p, request[1]);
  put_u16(p, 0);  // length, below
  put_bytes(p, kZero16);
  if (code == access_reject) {
    const std::size_t ma_at = p.size() + 2;
    put_attr(p, message_authenticator, kZero16);
    if (!reply.empty()) put_attr(p, kReplyMessage, reply.substr(0, 253));
    set_length(p);
    const Bytes ma = compute_ma(crypto::Md5HmacKey(view_of(secret)), p, ma_at, req_auth);
    std::copy(ma.begin(), ma.end(), p.begin() + static_cast<std::ptrdiff_t>(ma_at));
  }
  set_length(p);
  put_authenticator(p, packet_md5(secret, p, req_auth));
  return p;
}

bool answers(std::string_view secret, ByteView response, ByteView request) {
  if (response.size() < kMinPacket || request.size() < kMinPacket) return false;
  if (recipient(response) != msg::Role::sw || response[1] != request[1]) return false;
  if ((std::size_t{response[2]} << 8 | response[3]) != response.size()) return false;
  const auto want = packet_md5(secret, response, request.subspan(4, 16));
  if (!crypto::ct_equal(want, response.subspan(4, 16))) return false;
  // A Message-Authenticator there must verify, and an Access-* answer must have one (RFC 3579
  // section 3.2; kd requires it on every Access-* packet, as decode() does).
  const auto p = parse(response);
  if (!p) return false;
  if (!p->ma_at) return p->code == accounting_response;
  return crypto::ct_equal(compute_ma(crypto::Md5HmacKey(view_of(secret)), p->packet, *p->ma_at, request.subspan(4, 16)),
                          ByteView(p->packet.data() + *p->ma_at, 16));
}

bool authentic_request(std::string_view secret, ByteView packet) {
  if (packet.empty() || (packet[0] != access_request && packet[0] != accounting_request)) return false;
  const auto p = parse(packet);
  if (!p || !p->ma_at) return false;
  const ByteView auth = p->code == accounting_request ? ByteView(kZero16) : ByteView(p->packet.data() + 4, 16);
  if (p->code == accounting_request && !crypto::ct_equal(packet_md5(secret, p->packet, kZero16),
                                                         ByteView(p->packet.data() + 4, 16)))
    return false;
  return crypto::ct_equal(compute_ma(crypto::Md5HmacKey(view_of(secret)), p->packet, *p->ma_at, auth), ByteView(p->packet.data() + *p->ma_at, 16));
}

}  // namespace radius

}  // namespace kd::wire
