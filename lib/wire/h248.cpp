#include "wire/h248.hpp"

#include <array>
#include <initializer_list>
#include <type_traits>
#include <utility>
#include <vector>

#include "wire/envelope_id.hpp"
#include "wire/h248_fields.hpp"
#include "wire/host.hpp"
#include "wire/text.hpp"

namespace kd::wire {

using msg::Field;
using msg::Flow;
using msg::Message;
using msg::Role;
using msg::StepSpec;
using text::iequal;
using text::is_alpha;
using text::is_digit;
using text::lower;
using text::malformed;
using text::quoted;

namespace {

// The four MEGACO commands kd's steps become.
enum class Kind { restart, challenge, answer, success };  // one per Phase

std::optional<Kind> kind_of(const StepSpec& s) {
  const auto p = phase_of(s);
  return p ? std::optional<Kind>(static_cast<Kind>(*p)) : std::nullopt;
}

// A token in its long or short form (RFC 3525 B.2), case-insensitive.
bool is_token(std::string_view s, std::string_view long_form, std::string_view short_form) {
  return iequal(s, long_form) || iequal(s, short_form);
}

// ---- the KD package (h248_fields.hpp) ---------------------------------------------------------

// The entry of a field (for TS2..TS4, its own entry of "ts").
const FieldEntry& item_of(Field f) {
  for (const FieldEntry& e : h248::kFields)
    if (e.field == f) return e;
  return h248::kFields[0];  // not reached: every field has an entry
}

bool known_item(std::string_view name) {
  for (const FieldEntry& e : h248::kFields)
    if (e.element == name) return true;
  return false;
}

// ---- encoding --------------------------------------------------------------------------------

// Values as MEGACO text: strings as quotedString (IPc holds ':' and '[', which VALUE cannot),
// hex and numbers as bare VALUE, the list as "[...]" of quoted "name;q=x" (RFC 3329 form).
std::string value_text(const std::string& s) { return quoted(s); }
std::string value_text(const Bytes& b) { return to_hex(b); }
std::string value_text(std::uint64_t v) { return std::to_string(v); }
std::string value_text(bool v) { return v ? "ON" : "OFF"; }
std::string value_text(const msg::MechList& l) {
  std::string out = "[";
  for (const auto& mech : l) {
    if (out.size() > 1) out += ", ";
    out += quoted(mech.name + ";q=" + msg::qvalue_text(mech.q));
  }
  return out + "]";
}

std::string envelope_value(std::string_view label, std::initializer_list<std::string_view> parts, std::size_t n) {
  return envelope_hex("kd-h248 ", label, parts, n);
}

// A UINT32 in 1..2^31-1 from 8 envelope hex digits (0 is avoided: some stacks reserve it).
std::string envelope_uint32(std::string_view label, std::initializer_list<std::string_view> parts) {
  std::uint32_t v = 0;
  for (char c : envelope_value(label, parts, 8)) v = v * 16 + static_cast<std::uint32_t>(is_digit(c) ? c - '0' : c - 'a' + 10);
  return std::to_string(1 + v % 0x7fffffffU);
}

struct Envelope {
  std::string mid, transaction, termination, request_id;
};

Envelope envelope(const Message& m, const StepSpec& spec) {
  const std::string& reg = m.flow == Flow::proxied ? *m.IDsp : *m.IDss;
  const std::string flow(msg::flow_name(m.flow));
  const std::string link = term_link(spec) ? "term" : "core";
  Envelope e;
  switch (spec.from) {
    case Role::term: e.mid = h248::mid_for(*m.IDc); break;
    case Role::proxy: e.mid = h248::mid_for(*m.IDsp); break;
    // The proxied flow's messages do not name the switch: an RFC 2606 name stands in.
    default: e.mid = m.IDss ? h248::mid_for(*m.IDss) : "<switch.invalid>:2944"; break;
  }
  e.transaction = envelope_uint32("transaction", {to_hex(msg::canonical(m))});
  e.termination = "kd/" + envelope_value("termination", {flow, link, *m.suite, *m.IDc, reg}, 12);
  // The challenge's Events and the answer's ObservedEvents share the RequestID: both hold Rand.
  if (m.Rand) e.request_id = envelope_uint32("request-id", {flow, link, *m.suite, *m.IDc, reg, to_hex(*m.Rand)});
  return e;
}

// ---- parsing ---------------------------------------------------------------------------------

// SafeChar (RFC 3525 B.2): the characters of NAME, VALUE and the other bare words.
bool safe_char(char c) {
  return is_alpha(c) || is_digit(c) || std::string_view("+-&!_/'?@^`~*$\\()%|.").find(c) != std::string_view::npos;
}

struct Value {
  std::string_view text;
  bool quoted = false;
};

// One element: name [op value] [{ elements }]; a bare quotedString (in an Error descriptor) has no
// name. Local, Remote and DigitMap bodies are octet strings, kept raw.
struct Node {
  std::string_view name;
  char op = 0;  // '=', or '<', '>', '#' (INEQUAL)
  std::vector<Value> values;
  char list = 0;  // '[' or '{' when the value is a list
  bool body = false;
  std::vector<Node> kids;
};

class Parser {
public:
  explicit Parser(std::string_view s) : s_(s) {}

  Status header(std::string& mid) {
    if (auto st = lwsp(); !st) return st;
    // The token is read by hand: '/' is a SafeChar, so word() would run on into the version.
    if (iequal(s_.substr(i_, 6), "MEGACO")) i_ += 6;
    else if (!eat('!')) return malformed("not a MEGACO text message: it does not start with MEGACO/ or !/");
    if (!eat('/')) return malformed("no / after the MEGACO token");
    std::size_t v0 = i_;
    while (i_ < s_.size() && is_digit(s_[i_])) ++i_;
    if (i_ == v0 || i_ - v0 > 2) return malformed("the MEGACO version must be one or two digits");
    // H.248.1 versions 1 to 3 share the text syntax kd uses; later ones are not known here.
    if (const auto v = s_.substr(v0, i_ - v0); v != "1" && v != "2" && v != "3")
      return malformed("unsupported MEGACO version " + std::string(v) + " (kd reads versions 1 to 3)");
    if (auto st = sep("the version"); !st) return st;
    std::size_t m0 = i_;
    if (i_ < s_.size() && (s_[i_] == '[' || s_[i_] == '<')) {
      const char close = s_[i_] == '[' ? ']' : '>';
      std::size_t end = s_.find(close, i_);
      if (end == std::string_view::npos) return malformed("unterminated mId");
      i_ = end + 1;
      if (eat(':')) {
        std::size_t p0 = i_;
        while (i_ < s_.size() && is_digit(s_[i_])) ++i_;
        if (i_ == p0 || i_ - p0 > 5) return malformed("bad port in the mId");
      }
    } else {
      while (i_ < s_.size() && (safe_char(s_[i_]) || s_[i_] == '{' || s_[i_] == '}')) ++i_;  // deviceName, MTP{...}
      if (i_ == m0) return malformed("no mId after the version");
    }
    mid = std::string(s_.substr(m0, i_ - m0));
    return sep("the mId");
  }

  // The first character of the body (after white space and comments), '\0' at its end: a cheap
  // look at what the message holds before parsing it.
  char body_start() {
    (void)lwsp();
    return i_ < s_.size() ? s_[i_] : '\0';
  }

  // transactionList: elements one after another, no separator but white space.
  Status body(std::vector<Node>& out) {
    while (true) {
      if (auto st = lwsp(); !st) return st;
      if (i_ >= s_.size()) return Ok{};
      out.emplace_back();
      if (auto st = node(out.back(), 1); !st) return st;
    }
  }

private:
  std::string_view s_;
  std::size_t i_ = 0;
  std::size_t items_ = 0;

  std::string at() const { return " at offset " + std::to_string(i_); }

  // LWSP: white space, line ends and ";" comments up to the end of the line.
  Status lwsp() {
    while (i_ < s_.size()) {
      char c = s_[i_];
      if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
        ++i_;
      } else if (c == ';') {
        while (i_ < s_.size() && s_[i_] != '\r' && s_[i_] != '\n') ++i_;
      } else {
        break;
      }
    }
    return Ok{};
  }

  Status sep(std::string_view after) {
    std::size_t before = i_;
    lwsp();
    if (i_ == before) return malformed("no white space after " + std::string(after));
    return Ok{};
  }

  bool eat(char c) {
    if (i_ < s_.size() && s_[i_] == c) {
      ++i_;
      return true;
    }
    return false;
  }

  std::string_view word() {
    std::size_t w0 = i_;
    while (i_ < s_.size() && safe_char(s_[i_])) ++i_;
    return s_.substr(w0, i_ - w0);
  }

  Result<Value> value() {
    if (eat('"')) {
      std::size_t q0 = i_;
      while (i_ < s_.size() && s_[i_] != '"') {
        const auto c = static_cast<unsigned char>(s_[i_]);
        if ((c < 0x20 && c != '\t') || c > 0x7e) return malformed("a control or non-ASCII character in a quoted string" + at());
        ++i_;
      }
      if (i_ >= s_.size()) return malformed("unterminated quoted string");
      return Value{s_.substr(q0, i_++ - q0), true};
    }
    std::string_view w = word();
    if (w.empty()) return malformed("expected a value" + found());
    return Value{w, false};
  }

  std::string found() const {
    if (i_ >= s_.size()) return ", found the end of the message";
    const auto c = static_cast<unsigned char>(s_[i_]);
    if (c < 0x21 || c > 0x7e) return " at offset " + std::to_string(i_) + ", found byte " + std::to_string(c);
    return " at offset " + std::to_string(i_) + ", found '" + std::string(1, s_[i_]) + "'";
  }

  static bool raw_body(std::string_view name) {
    return is_token(name, "Local", "L") || is_token(name, "Remote", "R") || is_token(name, "DigitMap", "DM");
  }

  static bool is_timestamp(std::string_view w) {
    if (w.size() != 17 || (w[8] != 'T' && w[8] != 't')) return false;
    for (std::size_t k = 0; k < 17; ++k)
      if (k != 8 && !is_digit(w[k])) return false;
    return true;
  }

  Status node(Node& n, int depth) {
    if (depth > h248::kMaxDepth) return malformed("elements nested deeper than " + std::to_string(h248::kMaxDepth));
    if (++items_ > h248::kMaxItems) return malformed("more than " + std::to_string(h248::kMaxItems) + " elements");
    if (i_ < s_.size() && s_[i_] == '"') {
      auto v = value();
      if (!v) return v.error();
      n.values.push_back(*v);
      return Ok{};
    }
    n.name = word();
    if (n.name.empty()) return malformed("expected a name" + found());
    lwsp();
    if (is_timestamp(n.name) && eat(':')) {  // observedEvent = [TimeStamp LWSP COLON] LWSP pkgdName
      lwsp();
      n.name = word();
      if (n.name.empty()) return malformed("expected an event name after the time stamp" + found());
      lwsp();
    }
    if (i_ < s_.size() && std::string_view("=<>#").find(s_[i_]) != std::string_view::npos) {
      n.op = s_[i_++];
      lwsp();
      if (n.op == '=' && i_ < s_.size() && (s_[i_] == '[' || s_[i_] == '{')) {
        n.list = s_[i_++];
        const char close = n.list == '[' ? ']' : '}';
        while (true) {
          if (++items_ > h248::kMaxItems) return malformed("more than " + std::to_string(h248::kMaxItems) + " elements");
          lwsp();
          auto v = value();
          if (!v) return v.error();
          n.values.push_back(*v);
          lwsp();
          if (eat(close)) break;
          // [a:b] is a range (RFC 3525 alternativeValue); any other list is comma-separated.
          if (!eat(',') && !(n.list == '[' && eat(':'))) return malformed("expected , or " + std::string(1, close) + found());
        }
      } else {
        auto v = value();
        if (!v) return v.error();
        n.values.push_back(*v);
      }
      lwsp();
    }
    if (!eat('{')) return Ok{};
    n.body = true;
    if (raw_body(n.name)) {  // octetString: up to the first '}' not escaped as "\}"
      for (; i_ < s_.size(); ++i_) {
        if (s_[i_] == '\\') ++i_;
        else if (s_[i_] == '}') break;
      }
      if (!eat('}')) return malformed("unterminated " + std::string(n.name) + " descriptor");
      return Ok{};
    }
    lwsp();
    if (eat('}')) return Ok{};
    while (true) {
      n.kids.emplace_back();
      if (auto st = node(n.kids.back(), depth + 1); !st) return st;
      lwsp();
      if (eat('}')) return Ok{};
      if (!eat(',')) {
        if (i_ >= s_.size()) return malformed("truncated message: missing } after " + std::string(n.name));
        return malformed("expected , or } in " + std::string(n.name) + found());
      }
      lwsp();
    }
  }
};

// ---- from the tree to the logical message -------------------------------------------------------

struct Found {
  std::string name;  // the item name, lowercase
  const Node* node;
};

using Items = std::vector<Found>;

Status add_item(Items& items, std::string name, const Node& n, std::string_view where) {
  if (!known_item(name)) return malformed("unknown KD item " + std::string(where) + name);
  for (const auto& f : items)
    if (f.name == name) return malformed("KD item " + name + " appears twice");
  items.push_back({std::move(name), &n});
  return Ok{};
}

// The package and item of a pkgdName ("kd/rand" -> "kd", "rand").
std::pair<std::string_view, std::string_view> split_pkgd(std::string_view name) {
  std::size_t slash = name.find('/');
  if (slash == std::string_view::npos) return {{}, name};
  return {name.substr(0, slash), name.substr(slash + 1)};
}

bool is_kd_auth(std::string_view name) {
  auto [pkg, item] = split_pkgd(name);
  return iequal(pkg, "kd") && iequal(item, "auth");
}

// kd/* properties anywhere in a Media descriptor: TerminationState, LocalControl, Stream.
Status media_items(const Node& media, Items& items, int depth) {
  for (const Node& k : media.kids) {
    auto [pkg, item] = split_pkgd(k.name);
    if (iequal(pkg, "kd")) {
      if (auto st = add_item(items, lower(item), k, "kd/"); !st) return st;
    } else if (depth < 3 && (is_token(k.name, "TerminationState", "TS") || is_token(k.name, "LocalControl", "O") ||
                             is_token(k.name, "Stream", "ST"))) {
      if (auto st = media_items(k, items, depth + 1); !st) return st;
    }
  }
  return Ok{};
}

// The parameters of one kd/auth event (requested or observed); Stream is MEGACO's own.
Status event_items(const Node& ev, Items& items) {
  for (const Node& p : ev.kids) {
    if (is_token(p.name, "Stream", "ST") || is_token(p.name, "KeepActive", "KA")) continue;
    if (auto st = add_item(items, lower(p.name), p, "kd/auth parameter "); !st) return st;
  }
  return Ok{};
}

bool is_uint32(std::string_view v) {
  if (v.empty() || v.size() > 10) return false;
  std::uint64_t x = 0;
  for (char c : v) {
    if (!is_digit(c)) return false;
    x = x * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return x <= 0xffffffffULL;
}

// The one kd/auth event of an Events or ObservedEvents descriptor; nullptr when there is none.
Result<const Node*> kd_event(const Node& cmd, std::string_view long_form, std::string_view short_form) {
  const Node* found = nullptr;
  for (const Node& d : cmd.kids) {
    // A bare "Events" (no RequestID, no body) clears the events: valid, and not a challenge.
    if (!is_token(d.name, long_form, short_form) || (!d.op && !d.body)) continue;
    if (d.op != '=' || d.list || d.values.size() != 1 || (d.values[0].text != "*" && !is_uint32(d.values[0].text)))
      return malformed(std::string(d.name) + " needs a RequestID (a UINT32)");
    for (const Node& ev : d.kids) {
      if (!is_kd_auth(ev.name)) continue;
      if (found) return malformed("the event kd/auth appears twice");
      found = &ev;
    }
  }
  return found;
}

const Node* item(const Items& items, std::string_view name) {
  for (const auto& f : items)
    if (f.name == name) return f.node;
  return nullptr;
}

Result<std::string_view> single(const Node& n, std::string_view name) {
  if (n.op != '=') return malformed("KD item " + std::string(name) + " must be given with =");
  if (n.list || n.values.size() != 1) return malformed("KD item " + std::string(name) + " must be a single value");
  return n.values[0].text;
}

Result<msg::MechList> mech_values(const Node& n) {
  if (n.op != '=') return malformed("KD item mechs must be given with =");
  if (n.values.size() > msg::kMaxMechs) return err(Code::bad_length, "SecMechList must hold 1 to 16 mechanisms");
  msg::MechList out;
  for (const Value& v : n.values) {
    std::string_view e = v.text;
    msg::Mech mech;
    std::size_t semi = e.find(';');
    mech.name = std::string(e.substr(0, semi));
    if (semi != std::string_view::npos) {
      std::string_view q = e.substr(semi + 1);
      if (q.size() < 2 || text::lower_ascii(q[0]) != 'q' || q[1] != '=') return malformed("mechs: bad parameter for " + mech.name);
      auto qv = msg::parse_qvalue(q.substr(2));
      if (!qv) return malformed("mechs: bad q-value for " + mech.name);
      mech.q = *qv;
    }
    out.push_back(std::move(mech));
  }
  return out;
}

// Fills m's fields from the KD items; the step is known.
Status fill(Message& m, const Items& items) {
  const StepSpec& spec = msg::spec_of(m);
  for (const auto& item : items) {
    // Named copies, not a structured binding: clang 14 cannot capture those in the lambda below.
    const auto& name = item.name;
    const auto& node = item.node;
    Field field = Field::suite;
    for (const FieldEntry& e : h248::kFields)
      if (e.element == name) {
        field = e.field;
        break;
      }
    if (name == "ts") {
      field = has_field(spec, Field::TS1) ? Field::TS1 : has_field(spec, Field::TS2) ? Field::TS2
            : has_field(spec, Field::TS3) ? Field::TS3 : Field::TS4;
      if (!has_field(spec, field)) return malformed("ts does not belong in " + std::string(spec.name));
    }
    if (item_of(field).form == Form::quoted_mech_list) {
      auto l = mech_values(*node);
      if (!l) return l.error();
      m.SecMechList = std::move(*l);
      continue;
    }
    auto v = single(*node, name);
    if (!v) return v.error();
    Status st = Ok{};
    for_each_field(m, [&](Field f, auto& slot) {
      if (f != field || !st) return;
      using T = typename std::decay_t<decltype(slot)>::value_type;
      if constexpr (std::is_same_v<T, std::string>) {
        slot = std::string(*v);
      } else if constexpr (std::is_same_v<T, Bytes>) {
        auto b = text::hex_value(name, *v);
        if (!b) st = b.error();
        else slot = std::move(*b);
      } else if constexpr (std::is_same_v<T, std::uint64_t>) {
        auto x = text::uint_value(name, *v);
        if (!x) st = x.error();
        else slot = *x;
      } else if constexpr (std::is_same_v<T, bool>) {
        if (iequal(*v, "ON")) slot = true;
        else if (iequal(*v, "OFF")) slot = false;
        else st = malformed(name + " must be ON or OFF");
      }
    });
    if (!st) return st;
  }
  return Ok{};
}

// Strips the optional "O-" and "W-" prefixes of a command (RFC 3525 commandRequestList).
std::string_view command_name(std::string_view n) {
  for (int k = 0; k < 2; ++k)
    if (n.size() > 2 && (n[0] == 'O' || n[0] == 'o' || n[0] == 'W' || n[0] == 'w') && n[1] == '-') n.remove_prefix(2);
  return n;
}

bool is_command(std::string_view n) {
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 8> kCommands{{
      {"Add", "A"}, {"Move", "MV"}, {"Modify", "MF"}, {"Subtract", "S"}, {"AuditValue", "AV"},
      {"AuditCapability", "AC"}, {"Notify", "N"}, {"ServiceChange", "SC"}}};
  for (const auto& [l, s] : kCommands)
    if (is_token(n, l, s)) return true;
  return false;
}

// The one command of the one action of the one transaction request.
Result<const Node*> the_command(const std::vector<Node>& top) {
  if (top.empty()) return malformed("the MEGACO message holds no transaction");
  if (top.size() > 1) return malformed("the MEGACO message holds more than one transaction; kd's steps travel one per message");
  const Node& t = top[0];
  if (is_token(t.name, "Reply", "P") || is_token(t.name, "Pending", "PN") ||
      is_token(t.name, "TransactionResponseAck", "K"))
    return err(Code::unknown_step, "a MEGACO " + std::string(t.name) + " is no step of kd's flows");
  if (is_token(t.name, "Error", "ER")) return err(Code::unknown_step, "a MEGACO error message is no step of kd's flows");
  if (!is_token(t.name, "Transaction", "T")) return malformed("unknown element " + std::string(t.name) + " in the message body");
  if (t.op != '=' || t.list || t.values.size() != 1 || !is_uint32(t.values[0].text))
    return malformed("the Transaction needs a TransactionID (a UINT32)");
  if (t.kids.empty()) return malformed("the Transaction holds no action");
  if (t.kids.size() > 1) return malformed("the Transaction holds more than one action");
  const Node& a = t.kids[0];
  if (!is_token(a.name, "Context", "C")) return malformed("expected a Context in the Transaction, found " + std::string(a.name));
  if (a.op != '=' || a.list || a.values.size() != 1) return malformed("the Context needs a ContextID");
  const std::string_view ctx = a.values[0].text;
  if (ctx != "-" && ctx != "*" && ctx != "$" && !is_uint32(ctx)) return malformed("bad ContextID " + std::string(ctx));
  const Node* cmd = nullptr;
  for (const Node& k : a.kids) {
    if (!is_command(command_name(k.name))) continue;  // context properties: Priority, Emergency, Topology...
    if (cmd) return malformed("the action holds more than one command; kd's steps travel one per message");
    cmd = &k;
  }
  if (!cmd) return malformed("the action holds no command");
  if (cmd->op != '=' || cmd->list || cmd->values.size() != 1 || cmd->values[0].quoted)
    return malformed(std::string(command_name(cmd->name)) + " needs a TerminationID");
  return cmd;
}

}  // namespace

namespace h248 {

std::string mid_for(std::string_view id) {
  const std::string host = host_for(id);
  // host_for gives a host name (its last label starts with a letter), an IPv4 address or "invalid".
  bool v4 = !host.empty();
  for (char c : host) v4 = v4 && (is_digit(c) || c == '.');
  return (v4 ? "[" + host + "]" : "<" + host + ">") + ":2944";
}

}  // namespace h248

bool H248Codec::carries(const StepSpec& s) const noexcept { return kind_of(s).has_value(); }

Result<Bytes> H248Codec::encode(const Message& m) const { return encode_with(m, {}); }

Result<Bytes> H248Codec::encode_fresh(const Message& m, ByteView previous, ByteView txn) const {
  const StepSpec* spec = msg::find_step(m.flow, m.step);
  const auto kind = spec ? kind_of(*spec) : std::nullopt;
  if (!kind || (*kind != Kind::restart && *kind != Kind::answer) || txn.size() < 4) return encode_after(m, previous);
  const std::uint32_t v = static_cast<std::uint32_t>(txn[0]) << 24 | static_cast<std::uint32_t>(txn[1]) << 16 |
                          static_cast<std::uint32_t>(txn[2]) << 8 | txn[3];
  return encode_with(m, std::to_string(1 + v % 0x7fffffffU));
}

Result<Bytes> H248Codec::encode_with(const Message& m, const std::string& transaction) const {
  const StepSpec* spec = msg::find_step(m.flow, m.step);
  if (!spec) return err(Code::unknown_step, "no such step");
  auto kind = kind_of(*spec);
  if (!kind) return err(Code::unknown_step, std::string(spec->name) + " does not travel over H.248");
  if (auto st = msg::validate(m, msg::Sizes::loose); !st) return st.error();
  Envelope e = envelope(m, *spec);
  if (!transaction.empty()) e.transaction = transaction;

  std::vector<std::pair<std::string, std::string>> kd;  // item name, value text, in tag order
  for_each_field(m, [&](Field f, const auto& v) {
    if (v) kd.emplace_back(item_of(f).element, value_text(*v));
  });

  std::string out;
  int depth = 0;
  auto line = [&](std::string_view text) {
    if (!text.empty() && text[0] == '}') --depth;
    out.append(static_cast<std::size_t>(2 * depth), ' ');
    out += text;
    out += "\r\n";
    if (!text.empty() && text.back() == '{') ++depth;
  };
  // The KD values, one per line, as "<prefix><name> = <value>" with <name> upper-cased for X-.
  auto items = [&](std::string_view prefix, bool upper) {
    for (std::size_t k = 0; k < kd.size(); ++k) {
      std::string name = kd[k].first;
      if (upper)
        name = text::upper(name);
      line(std::string(prefix) + name + " = " + kd[k].second + (k + 1 < kd.size() ? "," : ""));
    }
  };
  line("MEGACO/1 " + e.mid);
  line("Transaction = " + e.transaction + " {");
  line("Context = - {");
  switch (*kind) {
    case Kind::restart:
      line("ServiceChange = ROOT {");
      line("Services {");
      line("Method = Restart,");
      line("Reason = \"901\",");
      line("Profile = kd/1,");
      items("X-", true);
      break;
    case Kind::challenge:
      line("Modify = " + e.termination + " {");
      line("Events = " + e.request_id + " {");
      line("kd/auth {");
      items("", false);
      break;
    case Kind::answer:
      line("Notify = " + e.termination + " {");
      line("ObservedEvents = " + e.request_id + " {");
      line("kd/auth {");
      items("", false);
      break;
    case Kind::success:
      line("Modify = " + e.termination + " {");
      line("Media {");
      line("TerminationState {");
      items("kd/", false);
      break;
  }
  while (depth > 0) line("}");
  return Bytes(out.begin(), out.end());
}

Result<Message> H248Codec::decode(ByteView wire) const {
  if (wire.size() > h248::kMaxMessage)
    return err(Code::oversized, "the MEGACO message exceeds " + std::to_string(h248::kMaxMessage) + " bytes");
  const std::string_view text(reinterpret_cast<const char*>(wire.data()), wire.size());
  Parser p(text);
  std::string mid;
  if (auto st = p.header(mid); !st) return st.error();
  std::vector<Node> top;
  if (auto st = p.body(top); !st) return st.error();
  auto c = the_command(top);
  if (!c) return c.error();
  const Node& cmd = **c;
  const std::string_view name = command_name(cmd.name);

  Kind kind;
  Items items;
  if (is_token(name, "ServiceChange", "SC")) {
    const Node* sv = nullptr;
    for (const Node& d : cmd.kids)
      if (is_token(d.name, "Services", "SV")) sv = &d;
    if (!sv) return malformed("the ServiceChange has no Services descriptor");
    const Node* method = nullptr;
    for (const Node& p2 : sv->kids) {
      if (is_token(p2.name, "Method", "MT")) method = &p2;
      // Extensions (X-name or X+name) with a KD item name; other parties' extensions pass.
      const std::string_view x = p2.name;
      if (x.size() > 2 && (x[0] == 'X' || x[0] == 'x') && (x[1] == '-' || x[1] == '+') && known_item(lower(x.substr(2))))
        if (auto st = add_item(items, lower(x.substr(2)), p2, "X-"); !st) return st.error();
    }
    if (!method || method->op != '=' || method->values.size() != 1) return malformed("the ServiceChange has no Method");
    if (!is_token(method->values[0].text, "Restart", "RS"))
      return err(Code::unknown_step, "a ServiceChange with Method " + std::string(method->values[0].text) + " is no step of kd's flows");
    kind = Kind::restart;
  } else if (is_token(name, "Modify", "MF")) {
    auto ev = kd_event(cmd, "Events", "E");
    if (!ev) return ev.error();
    kind = *ev ? Kind::challenge : Kind::success;
    if (*ev)
      if (auto st = event_items(**ev, items); !st) return st.error();
    for (const Node& d : cmd.kids)
      if (is_token(d.name, "Media", "M"))
        if (auto st = media_items(d, items, 0); !st) return st.error();
  } else if (is_token(name, "Notify", "N")) {
    auto ev = kd_event(cmd, "ObservedEvents", "OE");
    if (!ev) return ev.error();
    if (!*ev) return err(Code::unknown_step, "a Notify without the event kd/auth is no step of kd's flows");
    if (auto st = event_items(**ev, items); !st) return st.error();
    kind = Kind::answer;
  } else {
    return err(Code::unknown_step, "a MEGACO " + std::string(name) + " is no step of kd's flows");
  }
  if (items.empty()) return err(Code::missing_field, "the " + std::string(name) + " carries no KD values");

  Message m;
  const bool sp = item(items, "idsp"), ss = item(items, "idss");
  if (sp && ss) return malformed("both idsp and idss: the flow is ambiguous");
  if (!sp && !ss) return err(Code::missing_field, "no idsp or idss: the registrar is missing");
  m.flow = sp ? Flow::proxied : Flow::direct;
  const bool tl = m.flow == Flow::direct || item(items, "n1") || item(items, "n2") || item(items, "ts");
  const bool proxied = m.flow == Flow::proxied;
  switch (kind) {
    case Kind::restart: m.step = proxied ? (tl ? 1 : 2) : 1; break;
    case Kind::challenge: m.step = proxied ? (tl ? 6 : 5) : 4; break;
    case Kind::answer: m.step = proxied ? (tl ? 7 : 8) : 5; break;
    case Kind::success: m.step = proxied ? (tl ? 10 : 9) : 6; break;
  }
  if (auto st = fill(m, items); !st) return st.error();
  if (auto st = msg::validate(m); !st) return st.error();
  return m;
}

}  // namespace kd::wire

namespace kd::wire::h248 {

namespace {

// The one transaction element of a message, if it parses, holds exactly one and its name starts
// with the letter `first` (any case; checked before the body is parsed, as a service reads every
// datagram with this).
std::optional<Node> only_transaction(ByteView wire, char first) {
  if (wire.size() > kMaxMessage) return std::nullopt;
  Parser p(std::string_view(reinterpret_cast<const char*>(wire.data()), wire.size()));
  std::string mid;
  std::vector<Node> top;
  if (!p.header(mid) || (p.body_start() | 0x20) != first || !p.body(top) || top.size() != 1) return std::nullopt;
  return std::move(top[0]);
}

// "NAME = UINT32" of a transaction element, its value.
std::optional<std::uint32_t> transaction_id(const Node& t) {
  if (t.op != '=' || t.list || t.values.size() != 1 || !is_uint32(t.values[0].text)) return std::nullopt;
  std::uint64_t v = 0;
  for (char c : t.values[0].text) v = v * 10 + static_cast<std::uint64_t>(c - '0');
  return static_cast<std::uint32_t>(v);
}

}  // namespace

Bytes pending(std::string_view mid, std::uint32_t transaction) {
  const std::string t = "MEGACO/1 " + std::string(mid) + "\r\nPending = " + std::to_string(transaction) + " {\r\n}\r\n";
  return Bytes(t.begin(), t.end());
}

std::optional<std::uint32_t> read_pending(ByteView wire) {
  const auto t = only_transaction(wire, 'p');
  // RFC 3525: transactionPending = PendingToken EQUAL TransactionID LBRKT RBRKT
  if (!t || !is_token(t->name, "Pending", "PN") || !t->body || !t->kids.empty()) return std::nullopt;
  return transaction_id(*t);
}

std::optional<std::uint32_t> request_transaction(ByteView wire) {
  const auto t = only_transaction(wire, 't');
  if (!t || !is_token(t->name, "Transaction", "T")) return std::nullopt;
  return transaction_id(*t);
}

}  // namespace kd::wire::h248
