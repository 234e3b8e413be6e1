// The H.323 RAS binding. The envelope is the H.225.0 RasMessage (module H323-MESSAGES) in the
// ALIGNED variant of PER (X.691); clause numbers below are X.691's. kd writes only root components
// (every extension bit 0) except the GatekeeperRejectReason securityDenial, an extension
// alternative. The decoder reads every root component of the four message types, including those
// kd never writes, and skips extension additions and extension alternatives as open types, so a
// peer's extra elements (tokens, cryptoTokens, featureSet, ...) do no harm.
#include "wire/h323.hpp"

#include <arpa/inet.h>

#include <array>
#include <initializer_list>
#include <optional>
#include <utility>

#include "wire/envelope_id.hpp"
#include "wire/h323_fields.hpp"

namespace kd::wire {

using msg::Field;
using msg::Flow;
using msg::Message;
using msg::Role;
using msg::StepSpec;
using h323::Ras;

namespace {

// ---- aligned PER writer -------------------------------------------------------------------

// Bits needed for a constrained whole number of the range (11.5.7.2: the bit-field case).
unsigned width(std::uint32_t range) {
  unsigned n = 0;
  while ((std::uint64_t{1} << n) < range) ++n;
  return n;
}

class PerWriter {
public:
  void bit(bool b) {
    if (bits_ % 8 == 0) out_.push_back(0);
    if (b) out_.back() = static_cast<std::uint8_t>(out_.back() | (0x80u >> (bits_ % 8)));
    ++bits_;
  }
  void bits(std::uint32_t v, unsigned n) {
    for (unsigned i = n; i-- > 0;) bit(((v >> i) & 1u) != 0);
  }
  // Padding bits are zero: a started octet is already zero-filled.
  void align() { bits_ = out_.size() * 8; }
  void octets(ByteView b) {
    align();
    out_.insert(out_.end(), b.begin(), b.end());
    bits_ = out_.size() * 8;
  }
  // 11.5.7 (aligned): a range up to 255 is a bit-field, 256 one aligned octet, up to 64K two.
  void constrained(std::uint32_t v, std::uint32_t lo, std::uint32_t hi) {
    const std::uint32_t range = hi - lo + 1, off = v - lo;
    if (range <= 255) {
      bits(off, width(range));
    } else {
      align();
      bits(off, range == 256 ? 8 : 16);
    }
  }
  // 11.9.3.6-7: an unconstrained length determinant, aligned; kd's lengths stay under 16K.
  void length(std::size_t n) {
    align();
    if (n < 128) bits(static_cast<std::uint32_t>(n), 8);
    else bits(0x8000u | static_cast<std::uint32_t>(n), 16);
  }
  void oid(ByteView contents) {  // 24: the BER contents octets behind a length
    length(contents.size());
    octets(contents);
  }
  void octet_string(ByteView b) {  // 17.8: unconstrained
    length(b.size());
    octets(b);
  }
  // 27.5.7: BMPString of ASCII text, 16 bits a character; the string is aligned since ub * 16 > 16.
  void bmp(std::string_view s, std::uint32_t lo, std::uint32_t hi) {
    constrained(static_cast<std::uint32_t>(s.size()), lo, hi);
    align();
    for (char c : s) bits(static_cast<std::uint8_t>(c), 16);
  }
  Bytes finish() && { return std::move(out_); }

private:
  Bytes out_;
  std::size_t bits_ = 0;
};

// ---- aligned PER reader ---------------------------------------------------------------------

// Reads with a sticky first error: after a failure every read yields zero and consumes nothing,
// so the parsers below stay linear and check ok() where it matters. Every read is checked
// against the bits that remain, and every count against them too, so nothing hostile can make
// it loop long or allocate.
class PerReader {
public:
  explicit PerReader(ByteView in) : in_(in) {}
  bool ok() const { return !error_; }
  const Error& error() const { return *error_; }
  std::size_t pos() const { return pos_; }
  std::size_t remaining() const { return in_.size() * 8 - pos_; }

  void fail(Code c, std::string_view what, std::string_view why) {
    if (!error_)
      error_ = err(c, std::string(what) + " at bit " + std::to_string(pos_) + ": " + std::string(why));
  }
  bool need(std::size_t n, std::string_view what) {
    if (!ok()) return false;
    if (n <= remaining()) return true;
    fail(Code::malformed, what,
         "truncated: " + std::to_string(n) + " bits needed, " + std::to_string(remaining()) + " remain");
    return false;
  }
  bool bit(std::string_view what) {
    if (!need(1, what)) return false;
    const bool b = ((in_[pos_ / 8] >> (7 - pos_ % 8)) & 1) != 0;
    ++pos_;
    return b;
  }
  std::uint32_t bits(unsigned n, std::string_view what) {
    if (!need(n, what)) return 0;
    std::uint32_t v = 0;
    for (unsigned i = 0; i < n; ++i) v = (v << 1) | (bit(what) ? 1u : 0u);
    return v;
  }
  void align() { pos_ = (pos_ + 7) / 8 * 8; }  // never past the end: the size is whole octets
  std::uint32_t constrained(std::uint32_t lo, std::uint32_t hi, std::string_view what) {
    const std::uint32_t range = hi - lo + 1;
    std::uint32_t off;
    if (range <= 255) {
      off = bits(width(range), what);
    } else {
      align();
      off = bits(range == 256 ? 8 : 16, what);
    }
    if (ok() && off > hi - lo) fail(Code::malformed, what, "value out of its range");
    return lo + off;
  }
  std::size_t length(std::string_view what) {
    align();
    const std::uint32_t first = bits(8, what);
    if ((first & 0x80) == 0) return first;
    if ((first & 0x40) == 0) return ((first & 0x3f) << 8) | bits(8, what);
    fail(Code::malformed, what, "a fragmented length (16K or more) is not supported");
    return 0;
  }
  // A count of things each at least one bit long.
  std::size_t count(std::string_view what) {
    const std::size_t n = length(what);
    if (ok() && n > remaining()) {
      fail(Code::malformed, what, "a count of " + std::to_string(n) + " exceeds the bits that remain");
      return 0;
    }
    return n;
  }
  ByteView octets(std::size_t n, std::string_view what) {
    align();
    if (!need(n * 8, what)) return {};
    ByteView v = in_.subspan(pos_ / 8, n);
    pos_ += n * 8;
    return v;
  }
  void skip(std::size_t nbits, std::string_view what) {
    if (need(nbits, what)) pos_ += nbits;
  }
  // 11.6: a normally small non-negative whole number (extension alternative indexes).
  std::uint32_t small_number(std::string_view what) {
    if (!bit(what)) return bits(6, what);
    const std::size_t n = length(what);
    if (ok() && (n == 0 || n > 4)) fail(Code::malformed, what, "a bad normally small number");
    std::uint32_t v = 0;
    for (std::uint8_t b : octets(n, what)) v = (v << 8) | b;
    return v;
  }
  // 11.9.3.4: a normally small length (the extension bit-map of a SEQUENCE).
  std::size_t small_length(std::string_view what) {
    if (!bit(what)) return bits(6, what) + 1;
    const std::size_t n = length(what);
    if (ok() && n == 0) fail(Code::malformed, what, "an empty extension bit-map");
    return n;
  }

private:
  ByteView in_;
  std::size_t pos_ = 0;
  std::optional<Error> error_;
};

// ---- readers for the H.225.0 types -------------------------------------------------------------

// 10.2: an open type is a length and that many octets; kd skips the ones it does not use.
void skip_open_type(PerReader& r, std::string_view what) { r.octets(r.length(what), what); }

// 19.7-19.9: after the root of an extensible SEQUENCE whose extension bit was set, a bit-map of the
// additions present and each present addition as an open type.
void skip_extensions(PerReader& r, bool ext, std::string_view what) {
  if (!ext || !r.ok()) return;
  const std::size_t n = r.small_length(what);
  if (r.ok() && n > r.remaining()) {
    r.fail(Code::malformed, what, "the extension bit-map is longer than the message");
    return;
  }
  std::size_t present = 0;
  for (std::size_t i = 0; i < n; ++i) present += r.bit(what) ? 1 : 0;
  for (std::size_t i = 0; i < present && r.ok(); ++i) skip_open_type(r, what);
}

// An extension alternative of a CHOICE: its index, then its value as an open type.
void skip_extension_alternative(PerReader& r, std::string_view what) {
  r.small_number(what);
  skip_open_type(r, what);
}

ByteView read_oid(PerReader& r, std::string_view what) {
  ByteView c = r.octets(r.length(what), what);
  if (r.ok() && (c.empty() || (c.back() & 0x80) != 0))
    r.fail(Code::malformed, what, "not a valid OBJECT IDENTIFIER");
  return c;
}

void read_h221(PerReader& r) {  // H221NonStandard
  const bool ext = r.bit("H221NonStandard");
  r.constrained(0, 255, "t35CountryCode");
  r.constrained(0, 255, "t35Extension");
  r.constrained(0, 65535, "manufacturerCode");
  skip_extensions(r, ext, "H221NonStandard");
}

struct NonStandard {
  bool kd = false;  // nonStandardIdentifier is kd's object identifier
  ByteView data;
  std::size_t data_bit = 0;
};

NonStandard read_nonstandard(PerReader& r) {  // NonStandardParameter
  NonStandard ns;
  if (r.bit("nonStandardIdentifier")) {
    skip_extension_alternative(r, "nonStandardIdentifier");
  } else if (r.bits(1, "nonStandardIdentifier") == 0) {
    ByteView oid = read_oid(r, "nonStandardIdentifier object");
    ns.kd = std::equal(oid.begin(), oid.end(), std::begin(h323::kKdOid), std::end(h323::kKdOid));
  } else {
    read_h221(r);
  }
  const std::size_t n = r.length("nonStandardParameter data");
  ns.data_bit = r.pos();
  ns.data = r.octets(n, "nonStandardParameter data");
  return ns;
}

// SEQUENCE { nonStandardData NonStandardParameter OPTIONAL, ... }: TerminalInfo, GatekeeperInfo,
// McuInfo, H310Caps..T120OnlyCaps (their other components are extension additions).
void read_info(PerReader& r, std::string_view what) {
  const bool ext = r.bit(what);
  if (r.bit(what)) read_nonstandard(r);
  skip_extensions(r, ext, what);
}

void read_transport(PerReader& r) {  // TransportAddress
  constexpr std::string_view what = "TransportAddress";
  if (r.bit(what)) return skip_extension_alternative(r, what);
  switch (r.constrained(0, 6, what)) {
    case 0:  // ipAddress
      r.octets(4, "ipAddress ip");
      r.constrained(0, 65535, "ipAddress port");
      break;
    case 1: {  // ipSourceRoute
      const bool ext = r.bit("ipSourceRoute");
      r.octets(4, "ipSourceRoute ip");
      r.constrained(0, 65535, "ipSourceRoute port");
      const std::size_t n = r.count("ipSourceRoute route");
      for (std::size_t i = 0; i < n && r.ok(); ++i) r.octets(4, "ipSourceRoute route");
      if (r.bit("ipSourceRoute routing")) skip_extension_alternative(r, "ipSourceRoute routing");
      else r.bits(1, "ipSourceRoute routing");
      skip_extensions(r, ext, "ipSourceRoute");
      break;
    }
    case 2:  // ipxAddress; the 2-octet port is a fixed size of at most two octets: not aligned (17.6)
      r.octets(6, "ipxAddress node");
      r.octets(4, "ipxAddress netnum");
      r.skip(16, "ipxAddress port");
      break;
    case 3: {  // ip6Address
      const bool ext = r.bit("ip6Address");
      r.octets(16, "ip6Address ip");
      r.constrained(0, 65535, "ip6Address port");
      skip_extensions(r, ext, "ip6Address");
      break;
    }
    case 4: r.octets(16, "netBios"); break;
    case 5: r.octets(r.constrained(1, 20, "nsap"), "nsap"); break;
    case 6: read_nonstandard(r); break;
    default: r.fail(Code::malformed, what, "no such alternative"); break;  // 7 of 0..6
  }
}

void read_transports(PerReader& r, std::string_view what) {  // SEQUENCE OF TransportAddress
  const std::size_t n = r.count(what);
  for (std::size_t i = 0; i < n && r.ok(); ++i) read_transport(r);
}

void read_bmp(PerReader& r, std::uint32_t lo, std::uint32_t hi, std::string_view what) {
  const std::uint32_t n = r.constrained(lo, hi, what);
  r.align();
  r.skip(std::size_t{n} * 16, what);
}

void read_aliases(PerReader& r, std::string_view what) {  // SEQUENCE OF AliasAddress
  const std::size_t n = r.count(what);
  for (std::size_t i = 0; i < n && r.ok(); ++i) {
    if (r.bit("AliasAddress")) {
      skip_extension_alternative(r, "AliasAddress");
    } else if (r.bits(1, "AliasAddress") == 0) {
      // dialledDigits: IA5String (SIZE (1..128)) FROM "0123456789#*,": 4 bits a character (27.5.2),
      // aligned since ub * 4 > 16.
      const std::uint32_t len = r.constrained(1, 128, "dialledDigits");
      r.align();
      r.skip(std::size_t{len} * 4, "dialledDigits");
    } else {
      read_bmp(r, 1, 256, "h323-ID");
    }
  }
}

void read_vendor(PerReader& r) {  // VendorIdentifier
  const bool ext = r.bit("VendorIdentifier");
  const bool product = r.bit("VendorIdentifier"), version = r.bit("VendorIdentifier");
  read_h221(r);
  if (product) r.octets(r.constrained(1, 256, "productId"), "productId");
  if (version) r.octets(r.constrained(1, 256, "versionId"), "versionId");
  skip_extensions(r, ext, "VendorIdentifier");
}

void read_endpoint_type(PerReader& r) {  // EndpointType
  constexpr std::string_view what = "EndpointType";
  const bool ext = r.bit(what);
  bool opt[6];
  for (bool& o : opt) o = r.bit(what);
  if (opt[0]) read_nonstandard(r);
  if (opt[1]) read_vendor(r);
  if (opt[2]) read_info(r, "GatekeeperInfo");
  if (opt[3]) {  // GatewayInfo
    const bool gext = r.bit("GatewayInfo");
    const bool protocols = r.bit("GatewayInfo"), nonstd = r.bit("GatewayInfo");
    if (protocols) {
      const std::size_t n = r.count("GatewayInfo protocol");
      for (std::size_t i = 0; i < n && r.ok(); ++i) {  // SupportedProtocols
        if (r.bit("SupportedProtocols")) skip_extension_alternative(r, "SupportedProtocols");
        else if (r.constrained(0, 8, "SupportedProtocols") == 0) read_nonstandard(r);
        else read_info(r, "SupportedProtocols caps");
      }
    }
    if (nonstd) read_nonstandard(r);
    skip_extensions(r, gext, "GatewayInfo");
  }
  if (opt[4]) read_info(r, "McuInfo");
  if (opt[5]) read_info(r, "TerminalInfo");
  r.bits(2, "EndpointType mc, undefinedNode");
  skip_extensions(r, ext, what);
}

void read_qseries(PerReader& r) {  // QseriesOptions
  const bool ext = r.bit("QseriesOptions");
  r.bits(7, "QseriesOptions");
  const bool qext = r.bit("Q954Details");
  r.bits(2, "Q954Details");
  skip_extensions(r, qext, "Q954Details");
  skip_extensions(r, ext, "QseriesOptions");
}

// ---- steps and envelope ----------------------------------------------------------------------

std::optional<Ras> ras_of(const StepSpec& s) {
  if (s.flow == Flow::proxied) {
    switch (s.step) {
      case 1: case 2: return Ras::grq;
      case 5: case 6: return Ras::grj;
      case 7: case 8: return Ras::rrq;
      case 9: case 10: return Ras::rcf;
      default: return std::nullopt;
    }
  }
  switch (s.step) {
    case 1: return Ras::grq;
    case 4: return Ras::grj;
    case 5: return Ras::rrq;
    case 6: return Ras::rcf;
    default: return std::nullopt;
  }
}

constexpr std::string_view kRasNames[] = {
    "gatekeeperRequest", "gatekeeperConfirm", "gatekeeperReject", "registrationRequest",
    "registrationConfirm", "registrationReject", "unregistrationRequest", "unregistrationConfirm",
    "unregistrationReject", "admissionRequest", "admissionConfirm", "admissionReject",
    "bandwidthRequest", "bandwidthConfirm", "bandwidthReject", "disengageRequest", "disengageConfirm",
    "disengageReject", "locationRequest", "locationConfirm", "locationReject", "infoRequest",
    "infoRequestResponse", "nonStandardMessage", "unknownMessageResponse"};


Bytes envelope_value(std::string_view label, std::initializer_list<std::string_view> parts) {
  return envelope_digest("kd-h323 ", label, parts);
}

const std::string& registrar(const Message& m) { return m.flow == Flow::proxied ? *m.IDsp : *m.IDss; }

struct Address {
  bool v6 = false;
  std::array<std::uint8_t, 16> ip{};
  std::optional<std::uint16_t> port;
};

// The documentation address (RFC 5737) that stands for an address kd does not know.
constexpr Address kUnknownAddress{false, {192, 0, 2, 1}, std::nullopt};
constexpr std::uint16_t kCallSignalPort = 1720;

std::optional<std::uint16_t> parse_port(std::string_view s) {
  if (s.empty() || s.size() > 5) return std::nullopt;
  std::uint32_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<std::uint32_t>(c - '0');
  }
  if (v > 65535) return std::nullopt;
  return static_cast<std::uint16_t>(v);
}

// IPc as an address: "a.b.c.d", "a.b.c.d:port", an IPv6 address, or "[v6]" with an optional ":port".
std::optional<Address> parse_address(std::string_view s) {
  Address a;
  std::string_view host = s;
  if (!s.empty() && s.front() == '[') {
    const std::size_t close = s.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    host = s.substr(1, close - 1);
    std::string_view rest = s.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':' || !(a.port = parse_port(rest.substr(1)))) return std::nullopt;
    }
    a.v6 = true;
  } else if (const std::size_t colon = s.find(':'); colon != std::string_view::npos) {
    if (s.find(':', colon + 1) != std::string_view::npos) {
      a.v6 = true;  // two colons or more: a bare IPv6 address
    } else {
      host = s.substr(0, colon);
      if (!(a.port = parse_port(s.substr(colon + 1)))) return std::nullopt;
    }
  }
  const std::string h(host);
  if (inet_pton(a.v6 ? AF_INET6 : AF_INET, h.c_str(), a.ip.data()) != 1) return std::nullopt;
  return a;
}

Address endpoint_address(const Message& m) {
  if (m.IPc)
    if (auto a = parse_address(*m.IPc)) return *a;
  return kUnknownAddress;
}

void write_transport(PerWriter& w, const Address& a, std::uint16_t port) {
  w.bit(false);  // TransportAddress: a root alternative
  if (a.v6) {
    w.constrained(3, 0, 6);  // ip6Address
    w.bit(false);            // no extension additions
    w.octets(ByteView(a.ip.data(), 16));
  } else {
    w.constrained(0, 0, 6);  // ipAddress
    w.octets(ByteView(a.ip.data(), 4));
  }
  w.constrained(port, 0, 65535);
}

void write_h323_id(PerWriter& w, std::string_view id) {  // SEQUENCE OF AliasAddress, one h323-ID
  w.length(1);
  w.bit(false);  // AliasAddress: a root alternative
  w.bits(1, 1);  // h323-ID
  w.bmp(id, 1, 256);
}

void write_terminal_type(PerWriter& w) {  // EndpointType with the terminal member only
  w.bit(false);
  w.bits(0b000001, 6);  // nonStandardData, vendor, gatekeeper, gateway, mcu absent; terminal present
  w.bits(0b00, 2);      // TerminalInfo: no extensions, no nonStandardData
  w.bits(0b00, 2);      // mc FALSE, undefinedNode FALSE
}

void write_vendor(PerWriter& w) {  // VendorIdentifier: no registered T.35 code; product "kd", version "1"
  w.bit(false);
  w.bits(0b11, 2);  // productId, versionId present
  w.bit(false);     // H221NonStandard: no extensions
  w.constrained(0, 0, 255);
  w.constrained(0, 0, 255);
  w.constrained(0, 0, 65535);
  for (std::string_view s : {"kd", "1"}) {
    w.constrained(static_cast<std::uint32_t>(s.size()), 1, 256);
    w.octets(ByteView(reinterpret_cast<const std::uint8_t*>(s.data()), s.size()));
  }
}

void write_nonstandard(PerWriter& w, ByteView data) {  // NonStandardParameter with kd's object
  w.bit(false);  // nonStandardIdentifier: a root alternative
  w.bits(0, 1);  // object
  w.oid(h323::kKdOid);
  w.octet_string(data);
}

// ---- the KD data: msg::canonical(), read back by h323_fields.hpp -------------------------------

struct TlvError {
  std::size_t bit;
  Error operator()(Code c, std::size_t octet, const std::string& why) const {
    return err(c, "KD data at bit " + std::to_string(bit + 8 * octet) + ": " + why);
  }
};

// The value of a TLV, into m as e's form says.
Status read_value(const FieldEntry& e, Message& m, ByteView v, const TlvError& err_at, std::size_t at) {
  switch (e.form) {
    case Form::string_octets: string_slot(m, e.field)->emplace(v.begin(), v.end()); break;
    case Form::octets: bytes_slot(m, e.field)->emplace(v.begin(), v.end()); break;
    case Form::u64_octets: {
      if (v.size() != 8) return err_at(Code::bad_length, at, "a timestamp must be 8 octets");
      std::uint64_t n = 0;
      for (std::uint8_t b : v) n = (n << 8) | b;
      *number_slot(m, e.field) = n;
      break;
    }
    case Form::flag_octet:
      if (v.size() != 1 || v[0] != 1) return err_at(Code::malformed, at, std::string(e.element) + " must be the one octet 01");
      *flag_slot(m, e.field) = true;
      break;
    case Form::mech_octets: {
      msg::MechList& out = list_slot(m, e.field)->emplace();
      std::size_t i = 0;
      while (i < v.size()) {
        if (out.size() == msg::kMaxMechs)
          return err_at(Code::bad_length, at + i, std::string(e.element) + " holds more than 16 mechanisms");
        const std::size_t n = v[i];
        if (v.size() - i < 1 + n + 2)
          return err_at(Code::malformed, at + i, "a truncated " + std::string(e.element) + " entry");
        msg::Mech mech;
        mech.name.assign(v.begin() + static_cast<std::ptrdiff_t>(i + 1), v.begin() + static_cast<std::ptrdiff_t>(i + 1 + n));
        mech.q = static_cast<std::uint16_t>(v[i + 1 + n] << 8 | v[i + 2 + n]);
        out.push_back(std::move(mech));
        i += 1 + n + 2;
      }
      break;
    }
    default: break;  // no other form in H.323's table
  }
  return Ok{};
}

// "KD1" || flow || step || (tag, u16 length, value) in strictly rising tag order: exactly what
// msg::canonical() writes, so that the message re-encodes to the same octets.
Result<Message> read_kd_data(ByteView d, std::size_t bit) {
  const TlvError e{bit};
  if (d.size() < 5 || d[0] != 'K' || d[1] != 'D' || d[2] != '1')
    return e(Code::malformed, 0, "does not start with \"KD1\", flow and step");
  Message m;
  if (d[3] != static_cast<std::uint8_t>(Flow::proxied) && d[3] != static_cast<std::uint8_t>(Flow::direct))
    return e(Code::unknown_step, 3, "no such flow " + std::to_string(d[3]));
  m.flow = static_cast<Flow>(d[3]);
  m.step = d[4];
  std::size_t i = 5;
  int last = 0;
  while (i < d.size()) {
    if (d.size() - i < 3) return e(Code::malformed, i, "a truncated field header");
    const int tag = d[i];
    const std::size_t len = static_cast<std::size_t>(d[i + 1] << 8 | d[i + 2]);
    const FieldEntry* entry = h323::entry_of_tag(static_cast<std::uint32_t>(tag));
    if (tag <= last || !entry)
      return e(Code::malformed, i, "field tag " + std::to_string(tag) + " is unknown, repeated or out of order");
    if (len > d.size() - i - 3)
      return e(Code::malformed, i, "field tag " + std::to_string(tag) + " claims " + std::to_string(len) +
                                       " octets, " + std::to_string(d.size() - i - 3) + " remain");
    last = tag;
    if (auto st = read_value(*entry, m, d.subspan(i + 3, len), e, i + 3); !st) return st.error();
    i += 3 + len;
  }
  return m;
}

Error failure(const PerReader& r) { return err(r.error().code, "h323: " + r.error().detail); }

}  // namespace

namespace h323 {

std::uint16_t request_seq_num(const Message& m) {
  const StepSpec& spec = msg::spec_of(m);
  const auto ras = ras_of(spec);
  const bool registration = ras == Ras::rrq || ras == Ras::rcf;
  const bool term = term_link(spec);
  const Bytes h = envelope_value("seq", {msg::flow_name(m.flow), term ? "term" : "core", *m.suite, *m.IDc, registrar(m),
                                 registration ? "2" : "1", term ? to_hex(*m.N1) : std::string()});
  return static_cast<std::uint16_t>(1 + (h[0] << 8 | h[1]) % 65535);
}

std::string endpoint_identifier(const Message& m) {
  const StepSpec& spec = msg::spec_of(m);
  return to_hex(envelope_value("endpoint-id", {msg::flow_name(m.flow), term_link(spec) ? "term" : "core", *m.suite,
                                       *m.IDc, registrar(m)}))
      .substr(0, 16);
}

}  // namespace h323

bool H323Codec::carries(const StepSpec& s) const noexcept { return ras_of(s).has_value(); }

namespace {

// The requestSeqNum of wire when it is a RAS message of kind want (the decoder's first fields).
std::optional<std::uint16_t> seq_num_of(ByteView wire, Ras want) {
  PerReader r(wire);
  if (r.bit("RasMessage")) return std::nullopt;  // an extension alternative
  if (r.constrained(0, 24, "RasMessage") != static_cast<std::uint32_t>(want)) return std::nullopt;
  r.bit("extension");
  r.bits(want == Ras::grq ? 4 : want == Ras::grj ? 2 : 3, "options");
  const std::uint32_t seq = r.constrained(1, 65535, "requestSeqNum");
  if (!r.ok()) return std::nullopt;
  return static_cast<std::uint16_t>(seq);
}

}  // namespace

Result<Bytes> H323Codec::encode(const Message& m) const { return encode_with(m, std::nullopt); }

Result<Bytes> H323Codec::encode_after(const Message& m, ByteView previous) const {
  // A GRJ or RCF answers its GRQ or RRQ under the request's requestSeqNum (H.225.0 7.8), whoever
  // chose it. After kd's own request (a derived number) that is encode(m) byte for byte.
  const StepSpec* spec = msg::find_step(m.flow, m.step);
  const auto ras = spec ? ras_of(*spec) : std::nullopt;
  if (!ras || (*ras != Ras::grj && *ras != Ras::rcf)) return encode(m);
  return encode_with(m, seq_num_of(previous, *ras == Ras::grj ? Ras::grq : Ras::rrq));
}

Result<Bytes> H323Codec::encode_answer(const Message& m, ByteView previous, ByteView request_bytes) const {
  const StepSpec* spec = msg::find_step(m.flow, m.step);
  const auto ras = spec ? ras_of(*spec) : std::nullopt;
  if (!ras || (*ras != Ras::grj && *ras != Ras::rcf)) return encode_after(m, previous);
  if (const auto seq = seq_num_of(request_bytes, *ras == Ras::grj ? Ras::grq : Ras::rrq)) return encode_with(m, seq);
  return encode_after(m, previous);
}

Result<Bytes> H323Codec::encode_fresh(const Message& m, ByteView previous, ByteView txn) const {
  const StepSpec* spec = msg::find_step(m.flow, m.step);
  const auto ras = spec ? ras_of(*spec) : std::nullopt;
  if (!ras || (*ras != Ras::grq && *ras != Ras::rrq) || txn.size() < 2) return encode_after(m, previous);
  return encode_with(m, static_cast<std::uint16_t>(1 + (txn[0] << 8 | txn[1]) % 65535));
}

Result<Bytes> H323Codec::encode_with(const Message& m, std::optional<std::uint16_t> seq_num) const {
  const StepSpec* spec = msg::find_step(m.flow, m.step);
  if (!spec) return err(Code::unknown_step, "h323: no such step");
  const auto ras = ras_of(*spec);
  if (!ras) return err(Code::unknown_step, "h323: " + std::string(spec->name) + " is not a RAS message");
  if (auto st = msg::validate(m, msg::Sizes::loose); !st) return st.error();  // the envelope reads IDc and the registrar
  const Bytes data = msg::canonical(m);
  if (data.size() > h323::kMaxNonStandardData)
    return err(Code::oversized, "h323: the KD data exceeds " + std::to_string(h323::kMaxNonStandardData) + " octets");
  const std::string& gk = registrar(m);
  const Address ep = endpoint_address(m);
  const std::uint16_t seq = seq_num.value_or(h323::request_seq_num(m));

  PerWriter w;
  w.bit(false);  // RasMessage: a root alternative
  w.constrained(static_cast<std::uint32_t>(*ras), 0, 24);
  w.bit(false);  // the message SEQUENCE: no extension additions
  switch (*ras) {
    case Ras::grq:
      w.bits(0b1101, 4);  // nonStandardData, gatekeeperIdentifier, (no callServices), endpointAlias
      w.constrained(seq, 1, 65535);
      w.oid(h323::kProtocolOid);
      write_nonstandard(w, data);
      write_transport(w, ep, h323::kRasPort);  // rasAddress
      write_terminal_type(w);
      w.bmp(gk, 1, 128);
      write_h323_id(w, *m.IDc);
      break;
    case Ras::grj:
      w.bits(0b11, 2);  // nonStandardData, gatekeeperIdentifier
      w.constrained(seq, 1, 65535);
      w.oid(h323::kProtocolOid);
      write_nonstandard(w, data);
      w.bmp(gk, 1, 128);
      // rejectReason securityDenial: the first extension alternative (23.8), its NULL value an
      // open type of one zero octet (10.1.3).
      w.bit(true);
      w.bits(0, 7);
      w.octet_string(Bytes{0});
      break;
    case Ras::rrq:
      w.bits(0b111, 3);  // nonStandardData, terminalAlias, gatekeeperIdentifier
      w.constrained(seq, 1, 65535);
      w.oid(h323::kProtocolOid);
      write_nonstandard(w, data);
      w.bit(true);  // discoveryComplete: the GRQ went first
      w.length(1);
      write_transport(w, ep, ep.port.value_or(kCallSignalPort));  // callSignalAddress
      w.length(1);
      write_transport(w, ep, h323::kRasPort);  // rasAddress
      write_terminal_type(w);
      write_h323_id(w, *m.IDc);
      w.bmp(gk, 1, 128);
      write_vendor(w);
      break;
    case Ras::rcf:
      w.bits(0b111, 3);  // nonStandardData, terminalAlias, gatekeeperIdentifier
      w.constrained(seq, 1, 65535);
      w.oid(h323::kProtocolOid);
      write_nonstandard(w, data);
      w.length(1);
      write_transport(w, kUnknownAddress, kCallSignalPort);  // the gatekeeper's callSignalAddress
      write_h323_id(w, *m.IDc);
      w.bmp(gk, 1, 128);
      w.bmp(h323::endpoint_identifier(m), 1, 128);
      break;
  }
  return std::move(w).finish();
}

Result<Message> H323Codec::decode(ByteView wire) const {
  if (wire.size() > h323::kMaxMessage)
    return err(Code::oversized, "h323: the RAS message exceeds " + std::to_string(h323::kMaxMessage) + " octets");
  if (wire.empty()) return err(Code::malformed, "h323: an empty RAS message");
  PerReader r(wire);
  if (r.bit("RasMessage")) {
    const std::uint32_t k = r.small_number("RasMessage");
    if (!r.ok()) return failure(r);
    return err(Code::unknown_step, "h323: RasMessage extension alternative " + std::to_string(k) +
                                       " (requestInProgress or later) carries no KD step");
  }
  const std::uint32_t index = r.constrained(0, 24, "RasMessage");
  if (!r.ok()) return failure(r);
  const auto ras = static_cast<Ras>(index);
  if (ras != Ras::grq && ras != Ras::grj && ras != Ras::rrq && ras != Ras::rcf)
    return err(Code::unknown_step, "h323: " + std::string(kRasNames[index]) + " carries no KD step");

  const std::string_view name = kRasNames[index];
  const bool ext = r.bit(name);
  const unsigned nopt = ras == Ras::grq ? 4 : ras == Ras::grj ? 2 : 3;
  const std::uint32_t opt = r.bits(nopt, name);
  auto present = [&](unsigned i) { return ((opt >> (nopt - 1 - i)) & 1u) != 0; };
  r.constrained(1, 65535, "requestSeqNum");
  const ByteView pid = read_oid(r, "protocolIdentifier");
  if (r.ok() && (pid.size() != 6 || !std::equal(pid.begin(), pid.begin() + 5, h323::kProtocolOid)))
    r.fail(Code::malformed, "protocolIdentifier", "not H.225.0 (0.0.8.2250.0.version)");
  NonStandard ns;
  if (present(0)) ns = read_nonstandard(r);
  switch (ras) {
    case Ras::grq:
      read_transport(r);  // rasAddress
      read_endpoint_type(r);
      if (present(1)) read_bmp(r, 1, 128, "gatekeeperIdentifier");
      if (present(2)) read_qseries(r);
      if (present(3)) read_aliases(r, "endpointAlias");
      break;
    case Ras::grj:
      if (present(1)) read_bmp(r, 1, 128, "gatekeeperIdentifier");
      if (r.bit("rejectReason")) skip_extension_alternative(r, "rejectReason");
      else r.bits(2, "rejectReason");
      break;
    case Ras::rrq:
      r.bit("discoveryComplete");
      read_transports(r, "callSignalAddress");
      read_transports(r, "rasAddress");
      read_endpoint_type(r);
      if (present(1)) read_aliases(r, "terminalAlias");
      if (present(2)) read_bmp(r, 1, 128, "gatekeeperIdentifier");
      read_vendor(r);
      break;
    case Ras::rcf:
      read_transports(r, "callSignalAddress");
      if (present(1)) read_aliases(r, "terminalAlias");
      if (present(2)) read_bmp(r, 1, 128, "gatekeeperIdentifier");
      read_bmp(r, 1, 128, "endpointIdentifier");
      break;
  }
  skip_extensions(r, ext, name);
  if (!r.ok()) return failure(r);
  if (const std::size_t rest = r.remaining() / 8; rest > 0)
    return err(Code::malformed, "h323: " + std::to_string(rest) + " octets after the " + std::string(name));
  if (!ns.kd)
    return err(Code::missing_field, "h323: the " + std::string(name) + " has no nonStandardData with kd's identifier");

  auto m = read_kd_data(ns.data, ns.data_bit);
  if (!m) return err(m.error().code, "h323: " + m.error().detail);
  const StepSpec* spec = msg::find_step(m->flow, m->step);
  if (!spec) return err(Code::unknown_step, "h323: the KD data names no step of its flow");
  const auto want = ras_of(*spec);
  if (!want) return err(Code::unknown_step, "h323: " + std::string(spec->name) + " is not a RAS message");
  if (*want != ras)
    return err(Code::malformed, "h323: " + std::string(spec->name) + " does not travel in a " + std::string(name));
  if (auto st = msg::validate(*m); !st) return err(st.error().code, "h323: " + st.error().detail);
  return m;
}

}  // namespace kd::wire

namespace kd::wire::h323 {

Bytes request_in_progress(std::uint16_t seq_num, std::uint16_t delay_ms) {
  PerWriter body;  // RequestInProgress: extension bit, four OPTIONAL bits, both numbers
  body.bit(false);
  body.bits(0, 4);
  body.constrained(seq_num, 1, 65535);
  body.constrained(delay_ms, 1, 65535);
  const Bytes inner = std::move(body).finish();
  PerWriter w;
  w.bit(true);     // an extension alternative of RasMessage ...
  w.bits(0, 7);    // ... the normally small number 0: requestInProgress (11.6)
  w.length(inner.size());  // as an open type (10.2)
  w.octets(inner);
  return std::move(w).finish();
}

std::optional<Rip> read_request_in_progress(ByteView wire) {
  if (wire.size() > kMaxMessage || wire.empty()) return std::nullopt;
  PerReader r(wire);
  if (!r.bit("RasMessage") || r.small_number("RasMessage") != 0) return std::nullopt;
  const std::size_t n = r.length("requestInProgress");
  if (!r.ok() || n * 8 != r.remaining()) return std::nullopt;
  const bool ext = r.bit("RequestInProgress");
  const std::uint32_t opt = r.bits(4, "RequestInProgress");
  Rip rip;
  rip.seq_num = static_cast<std::uint16_t>(r.constrained(1, 65535, "requestSeqNum"));
  if ((opt & 0x8u) != 0) read_nonstandard(r);
  if ((opt & 0x7u) != 0) return std::nullopt;  // tokens, cryptoTokens, integrityCheckValue: not read
  rip.delay_ms = static_cast<std::uint16_t>(r.constrained(1, 65535, "delay"));
  skip_extensions(r, ext, "RequestInProgress");
  if (!r.ok() || r.remaining() >= 8) return std::nullopt;
  return rip;
}

std::optional<std::uint16_t> seq_num_of(ByteView wire) {
  if (wire.size() > kMaxMessage || wire.empty()) return std::nullopt;
  PerReader r(wire);
  if (r.bit("RasMessage")) return std::nullopt;
  const auto ras = static_cast<Ras>(r.constrained(0, 24, "RasMessage"));
  if (ras != Ras::grq && ras != Ras::grj && ras != Ras::rrq && ras != Ras::rcf) return std::nullopt;
  r.bit("extension");
  r.bits(ras == Ras::grq ? 4 : ras == Ras::grj ? 2 : 3, "OPTIONAL");
  const std::uint32_t seq = r.constrained(1, 65535, "requestSeqNum");
  if (!r.ok()) return std::nullopt;
  return static_cast<std::uint16_t>(seq);
}

}  // namespace kd::wire::h323
