// Malformed encodings of each wire binding: text (SIP, MGCP, H.248), H.323 RAS and RADIUS, each
// mutated from the bytes of a real run (make_wire_negative).
#include <algorithm>
#include <type_traits>

#include "vectors/internal.hpp"
#include "wire/h323.hpp"
#include "wire/radius.hpp"

namespace kd::vectors {

using namespace cases;

namespace {

// The first byte-string KD value a message holds, in this order (every step has one).
std::optional<std::pair<msg::Field, Bytes>> kd_value(const M& m) {
  std::optional<std::pair<msg::Field, Bytes>> out;
  for (msg::Field want : {msg::Field::N1, msg::Field::N2, msg::Field::Rand, msg::Field::Authenticator_c,
                          msg::Field::EKc, msg::Field::EKsp, msg::Field::EKss, msg::Field::MAC}) {
    msg::for_each_field(m, [&](msg::Field f, const auto& opt) {
      if constexpr (std::is_same_v<std::decay_t<decltype(opt)>, std::optional<Bytes>>)
        if (!out && f == want && opt) out = std::pair{f, *opt};
    });
    if (out) break;
  }
  return out;
}

std::string text_of(const Bytes& b) { return std::string(b.begin(), b.end()); }
Bytes bytes_of(const std::string& s) { return to_bytes(s); }

class WireBuilder {
public:
  WireBuilder(Group& g, int& next, const std::string& binding) : g_(g), next_(next), binding_(binding) {}

  void add(const std::string& step, const std::string& codec, Bytes wire, const std::string& error,
           const std::string& comment, const std::string& flag) {
    Case c;
    c.tc_id = next_++;
    c.comment = step + ": " + comment;
    c.flags = {flag};
    c.before = step;
    c.step = step;
    c.wire_binding = codec;
    c.wire = std::move(wire);
    c.input = {msg::find_step(step)->to, json::encode_wire_line(codec, *msg::find_step(step), c.wire)};
    c.result = "invalid";
    c.error = error;
    g_.tests.push_back(std::move(c));
  }

private:
  Group& g_;
  int& next_;
  std::string binding_;
};

// A text message with the span [at, at + n) replaced.
std::string splice(std::string s, std::size_t at, std::size_t n, const std::string& with) {
  return s.replace(at, n, with);
}

// The parameter holding a KD value in a text binding: [start, end) around the hex at `at`.
// MGCP and H.248 (one parameter a line): the whole line with its line end; SIP: back to the
// previous delimiter.
std::pair<std::size_t, std::size_t> param_span(const std::string& binding, const std::string& t, std::size_t at,
                                               std::size_t n) {
  if (binding == "mgcp" || binding == "h248") {
    std::size_t start = t.rfind('\n', at);
    start = start == std::string::npos ? 0 : start + 1;
    std::size_t end = t.find('\n', at);
    return {start, end == std::string::npos ? t.size() : end + 1};
  }
  std::size_t end = at + n;
  if (end < t.size() && t[end] == '"') ++end;
  std::size_t start = at;
  while (start > 0 && t[start - 1] != ',' && t[start - 1] != ' ' && t[start - 1] != '{' && t[start - 1] != '\n' &&
         t[start - 1] != '\t')
    --start;
  return {start, end};
}

// Malformed encodings of a text binding (SIP, MGCP, H.248 text) built from message m of step.
void text_cases(WireBuilder& b, const std::string& binding, const std::string& step, const Bytes& wire, const M& m,
                bool full) {
  const std::string t = text_of(wire);
  const std::size_t len = t.size();
  b.add(step, binding, bytes_of(t.substr(0, len / 2)), "malformed", "the message cut in half (" + std::to_string(len / 2) + " of " + std::to_string(len) + " bytes)", "Truncated");
  if (!full) return;
  b.add(step, binding, bytes_of(t.substr(0, len / 4)), "malformed", "the message cut after a quarter", "Truncated");
  b.add(step, binding, bytes_of(t.substr(0, len * 3 / 4)), "malformed", "the message cut after three quarters", "Truncated");
  auto kv = kd_value(m);
  if (!kv) throw std::logic_error(step + " holds no byte-string KD value");
  const std::string name(msg::field_name(kv->first));
  const std::string hex = to_hex(kv->second);
  const std::size_t at = t.find(hex);
  if (at == std::string::npos) throw std::logic_error(step + ": " + name + " is not in the " + binding + " text as hex");
  std::string upper = hex;
  for (auto& ch : upper) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  b.add(step, binding, bytes_of(splice(t, at, 1, "z")), "malformed", name + " with a non-hex digit", "BadHex");
  b.add(step, binding, bytes_of(splice(t, at, hex.size(), upper)), "malformed", name + " in uppercase hex", "BadHex");
  b.add(step, binding, bytes_of(splice(t, at, 1, "")), "malformed", name + " with an odd number of hex digits", "BadHex");
  b.add(step, binding, bytes_of(splice(t, at, 2, "")), "bad_length", name + " one byte short", "BadLength");
  b.add(step, binding, bytes_of(splice(t, at + hex.size(), 0, "00")), "bad_length", name + " one byte long", "BadLength");
  auto [ps, pe] = param_span(binding, t, at, hex.size());
  const std::string param = t.substr(ps, pe - ps);
  std::string without;
  if (binding == "mgcp" || binding == "h248") {
    without = splice(t, ps, pe - ps, "");
  } else if (pe < len && t[pe] == ',') {
    without = splice(t, ps, pe + 1 - ps, "");
  } else {
    std::size_t cs = ps;
    while (cs > 0 && (t[cs - 1] == ' ' || t[cs - 1] == '\t')) --cs;
    if (cs > 0 && t[cs - 1] == ',') --cs;
    without = splice(t, cs, pe - cs, "");
  }
  b.add(step, binding, bytes_of(without), "missing_field", "the parameter holding " + name + " left out", "MissingParameter");
  const std::string twice = binding == "sip" ? splice(t, pe, 0, ", " + param) : splice(t, pe, 0, param);
  b.add(step, binding, bytes_of(twice), "malformed", "the parameter holding " + name + " given twice", "DuplicateParameter");
}

void envelope_cases(WireBuilder& b, const std::string& binding, const std::string& step, const Bytes& wire) {
  Bytes big = wire;
  big.resize(70000, binding == "h323" ? 0x00 : 'a');
  b.add(step, binding, big, "oversized", "the message padded to 70000 bytes", "Oversized");
  Bytes garbage{0x7c};
  for (int i = 0; i < 63; ++i) garbage.push_back(static_cast<std::uint8_t>(0xa5 ^ i));
  b.add(step, binding, garbage, "malformed", "64 bytes of garbage", "Garbage");
  const std::string t = text_of(wire);
  auto swap_first = [&](const std::string& from, const std::string& to) {
    const std::size_t at = t.find(from);
    if (at == std::string::npos || at > 200) throw std::logic_error(step + ": no " + from + " in the first line");
    return bytes_of(splice(t, at, from.size(), to));
  };
  if (binding == "sip") {
    b.add(step, binding, swap_first("SIP/2.0", "SIP/3.0"), "malformed", "SIP/3.0 on the request line", "WrongVersion");
    std::string options = t;
    for (std::size_t at; (at = options.find("REGISTER")) != std::string::npos;) options.replace(at, 8, "OPTIONS");
    b.add(step, binding, bytes_of(options), "unknown_step", "an OPTIONS request (request line and CSeq), not REGISTER", "UnknownVerb");
  } else if (binding == "mgcp") {
    b.add(step, binding, swap_first("MGCP 1.0", "MGCP one"), "malformed", "MGCP version \"one\" on the command line", "WrongVersion");
    b.add(step, binding, swap_first("MGCP 1.0", "MGCQ 1.0"), "malformed", "MGCQ in the place of MGCP on the command line", "WrongVersion");
    b.add(step, binding, swap_first("RSIP ", "AUEP "), "unknown_step", "an AUEP command, not RSIP", "UnknownVerb");
  } else if (binding == "h248") {
    b.add(step, binding, swap_first("MEGACO/", "MEGAKO/"), "malformed", "MEGAKO/ in the place of MEGACO/", "WrongVersion");
    const std::size_t sc = t.find("ServiceChange = ROOT");
    if (sc == std::string::npos) throw std::logic_error(step + ": no ServiceChange");
    b.add(step, binding, bytes_of(splice(t, sc, 13, "AuditValue")), "unknown_step", "an AuditValue command, not ServiceChange", "UnknownVerb");
    const std::size_t rm = t.find("Method = Restart");
    if (rm == std::string::npos) throw std::logic_error(step + ": no Method = Restart");
    b.add(step, binding, bytes_of(splice(t, rm + 9, 7, "Forced")), "unknown_step", "a ServiceChange with Method Forced, not Restart", "UnknownVerb");
  } else if (binding == "h323") {
    Bytes x = wire;
    x[0] = static_cast<std::uint8_t>((x[0] & 0x83) | (5u << 2));  // RasMessage alternative 5: registrationReject
    b.add(step, binding, x, "unknown_step", "the RasMessage alternative changed to registrationReject", "UnknownVerb");
    Bytes oid(std::begin(wire::h323::kProtocolOid), std::end(wire::h323::kProtocolOid));
    auto it = std::search(wire.begin(), wire.end(), oid.begin(), oid.end());
    if (it == wire.end()) throw std::logic_error("no protocolIdentifier in " + step);
    x = wire;
    x[static_cast<std::size_t>(it - wire.begin()) + 3] ^= 0x01;  // 0.0.8.2251.0.4
    b.add(step, binding, x, "malformed", "protocolIdentifier 0.0.8.2251.0.4, not H.225.0", "WrongVersion");
  }
}

// The KD data of an H.323 message is its canonical encoding inside an OCTET STRING; these cases
// change one TLV and rewrite the PER length in front of the data.
void h323_cases(WireBuilder& b, const std::string& step, const Bytes& wire, const M& m, bool full) {
  const std::size_t len = wire.size();
  b.add(step, "h323", Bytes(wire.begin(), wire.begin() + static_cast<std::ptrdiff_t>(len / 2)), "malformed",
        "the message cut in half", "Truncated");
  if (!full) return;
  b.add(step, "h323", Bytes(wire.begin(), wire.end() - 1), "malformed", "the last octet missing", "Truncated");
  b.add(step, "h323", Bytes(wire.begin(), wire.begin() + 3), "malformed", "only the first three octets", "Truncated");
  const Bytes kd = msg::canonical(m);
  auto it = std::search(wire.begin(), wire.end(), kd.begin(), kd.end());
  if (it == wire.end()) throw std::logic_error(step + ": the KD data is not in the RAS message");
  const std::size_t at = static_cast<std::size_t>(it - wire.begin());
  const std::size_t lenlen = kd.size() < 128 ? 1 : 2;
  auto with_data = [&](const Bytes& data) {
    if ((data.size() < 128 ? 1u : 2u) != lenlen) throw std::logic_error("the KD data changed its length form");
    Bytes x(wire.begin(), wire.begin() + static_cast<std::ptrdiff_t>(at - lenlen));
    if (lenlen == 1) x.push_back(static_cast<std::uint8_t>(data.size()));
    else {
      x.push_back(static_cast<std::uint8_t>(0x80 | (data.size() >> 8)));
      x.push_back(static_cast<std::uint8_t>(data.size() & 0xff));
    }
    x.insert(x.end(), data.begin(), data.end());
    x.insert(x.end(), wire.begin() + static_cast<std::ptrdiff_t>(at + kd.size()), wire.end());
    return x;
  };
  auto kv = kd_value(m);
  const auto tag = static_cast<std::uint8_t>(kv->first);
  const std::string name(msg::field_name(kv->first));
  // Locate the TLV of the value.
  std::size_t i = 5, tlv = 0, tlv_len = 0;
  while (i + 3 <= kd.size()) {
    const std::size_t l = static_cast<std::size_t>(kd[i + 1] << 8 | kd[i + 2]);
    if (kd[i] == tag) {
      tlv = i;
      tlv_len = 3 + l;
      break;
    }
    i += 3 + l;
  }
  if (!tlv_len) throw std::logic_error(step + ": no TLV for " + name);
  const Bytes head(kd.begin(), kd.begin() + static_cast<std::ptrdiff_t>(tlv));
  const Bytes field(kd.begin() + static_cast<std::ptrdiff_t>(tlv), kd.begin() + static_cast<std::ptrdiff_t>(tlv + tlv_len));
  const Bytes tail(kd.begin() + static_cast<std::ptrdiff_t>(tlv + tlv_len), kd.end());
  auto join = [](std::initializer_list<Bytes> parts) {
    Bytes out;
    for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
    return out;
  };
  Bytes shorter = field;
  shorter.pop_back();
  shorter[2] = static_cast<std::uint8_t>(shorter[2] - 1);
  b.add(step, "h323", with_data(join({head, shorter, tail})), "bad_length", name + " one octet short", "BadLength");
  Bytes longer = field;
  longer.push_back(0);
  longer[2] = static_cast<std::uint8_t>(longer[2] + 1);
  b.add(step, "h323", with_data(join({head, longer, tail})), "bad_length", name + " one octet long", "BadLength");
  b.add(step, "h323", with_data(join({head, tail})), "missing_field", name + " left out of the KD data", "MissingParameter");
  b.add(step, "h323", with_data(join({head, field, field, tail})), "malformed", name + " given twice", "DuplicateParameter");
  Bytes overrun = field;
  overrun[1] = 0x7f;
  b.add(step, "h323", with_data(join({head, overrun, tail})), "malformed",
        name + " claiming more octets than the KD data holds", "BadLengthField");
  Bytes magic = kd;
  magic[2] = '2';
  b.add(step, "h323", with_data(magic), "malformed", "KD data starting with \"KD2\"", "WrongVersion");
}

// RADIUS: the attribute at which the Message-Authenticator's value starts, or 0.
std::size_t message_authenticator(const Bytes& p) {
  std::size_t i = 20;
  while (i + 2 <= p.size()) {
    if (p[i] == wire::radius::message_authenticator) return i + 2;
    if (p[i + 1] < 2) return 0;
    i += p[i + 1];
  }
  return 0;
}

void radius_cases(WireBuilder& b, const std::string& step, const Bytes& wire, bool full) {
  const std::size_t len = wire.size();
  auto with_length = [&](std::size_t l) {
    Bytes x = wire;
    x[2] = static_cast<std::uint8_t>(l >> 8);
    x[3] = static_cast<std::uint8_t>(l & 0xff);
    return x;
  };
  b.add(step, "radius", Bytes(wire.begin(), wire.begin() + static_cast<std::ptrdiff_t>(len / 2)), "malformed",
        "the packet cut in half (shorter than its Length)", "Truncated");
  b.add(step, "radius", with_length(len + 1), "malformed", "Length one more than the packet's octets", "BadLengthField");
  b.add(step, "radius", with_length(19), "malformed", "Length 19, below the minimum of 20", "BadLengthField");
  const std::size_t ma = message_authenticator(wire);
  if (!ma) throw std::logic_error(step + ": no Message-Authenticator");
  Bytes x = wire;
  x[ma] ^= 0x01;
  b.add(step, "radius", x, "bad_mac", "a bit of the Message-Authenticator flipped", "BadMac");
  if (!full) return;
  x = wire;
  x[len - 1] ^= 0x01;
  b.add(step, "radius", x, "bad_mac", "a bit of the last attribute flipped, Message-Authenticator left as it was", "BadMac");
  b.add(step, "radius", Bytes(wire.begin(), wire.begin() + 10), "malformed", "10 octets, shorter than a header", "Truncated");
  Bytes big = wire;
  big.resize(5000, 0);
  big[2] = static_cast<std::uint8_t>(5000 >> 8);
  big[3] = static_cast<std::uint8_t>(5000 & 0xff);
  b.add(step, "radius", big, "oversized", "a packet of 5000 octets (Length 5000), over RADIUS's 4096", "Oversized");
  x = wire;
  x[0] = 40;  // Disconnect-Request (RFC 5176)
  b.add(step, "radius", x, "unknown_step", "packet code 40 (Disconnect-Request)", "UnknownVerb");
  x = wire;
  x.push_back(0x01);  // an attribute header cut short inside the Length
  x.push_back(0x09);
  x[2] = static_cast<std::uint8_t>(x.size() >> 8);
  x[3] = static_cast<std::uint8_t>(x.size() & 0xff);
  b.add(step, "radius", x, "malformed", "a last attribute whose length overruns the packet", "BadLengthField");
}

}  // namespace

Negative make_wire_negative(const std::string& binding) {
  Negative n;
  n.notes = {
      {"Truncated", {"INPUT", "The message cut short. Catches decoders that read past the end or accept a partial message."}},
      {"BadHex", {"INPUT", "A KD value that is not lowercase hex of even length."}},
      {"BadLength", {"INPUT", "A KD value of the wrong size."}},
      {"MissingParameter", {"INPUT", "A KD value the step needs is absent."}},
      {"DuplicateParameter", {"INPUT", "A KD value given twice. Catches decoders that keep one silently."}},
      {"Oversized", {"INPUT", "A message over the binding's size limit (64 KiB; RADIUS 4096 octets). Catches unbounded reads."}},
      {"Garbage", {"INPUT", "Bytes that are no message of the protocol."}},
      {"WrongVersion", {"INPUT", "Another protocol version or identifier."}},
      {"UnknownVerb", {"INPUT", "A message of the protocol that is no step of kd's flows (another method, verb, RAS message or packet code)."}},
      {"BadMac", {"INTEGRITY", "A RADIUS packet whose Message-Authenticator does not verify under the shared secret."}},
      {"BadLengthField", {"INPUT", "A length field that disagrees with the octets present."}},
  };
  const std::string suite(crypto::default_suite().name);
  for (auto flow : {msg::Flow::proxied, msg::Flow::direct}) {
    int next = flow == msg::Flow::proxied ? 1 : 1001;
    Group g;
    g.setup = base_setup(suite, flow);
    InProcessDriver d;
    Run run = run_registration(g.setup, d);
    if (!run.errors.empty()) throw std::logic_error("wire negative run failed: " + run.errors.front());
    g.setup.binding = binding == "radius" ? "sip" : binding;
    g.setup.radius_secret = kRadiusSecret;
    WireBuilder b(g, next, binding);
    const std::string reg = flow == msg::Flow::proxied ? "s1" : "d1";
    for (const auto& r : run.records) {
      if (!r.to) continue;
      const M m = *json::decode_message(r.line);
      std::string used;
      auto wire = encode_wire(g.setup, m, &used);
      if (!wire) throw std::logic_error(r.step + ": " + wire.error().detail);
      if (used != binding) continue;
      const bool full = r.step == reg || r.step == "s7" || r.step == "d5" || r.step == "s10" || r.step == "d6" ||
                        r.step == "s3" || r.step == "d2";
      if (binding == "radius") {
        radius_cases(b, r.step, *wire, full);
        continue;
      }
      if (binding == "h323") h323_cases(b, r.step, *wire, m, full);
      else text_cases(b, binding, r.step, *wire, m, full);
      if (r.step == reg) envelope_cases(b, binding, r.step, *wire);
    }
    n.groups.push_back(std::move(g));
  }
  return n;
}

}  // namespace kd::vectors
