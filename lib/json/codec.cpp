#include "json/codec.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>
#include <limits>
#include <set>
#include <tuple>
#include <vector>

#include <nlohmann/json.hpp>

namespace kd::json {

using nlohmann::json;
using ojson = nlohmann::ordered_json;

namespace {

// Not json::parse with a callback: that one walks a parent's members after each child object ends,
// so a state file with n challenges took n^2 to read (3.7 MB: seconds). This is
// nlohmann's own DOM builder, and also: the first key that appears twice in an object (nlohmann would
// silently keep the last); and, with saturate, an integer written beyond 2^64-1 kept as 2^64-1
// rather than as the floating-point number nlohmann makes of it, so that it reads as an integer
// above its range (bad_length), not as a fraction (malformed).
class StrictDom : public nlohmann::detail::json_sax_dom_parser<json> {
public:
  using Base = nlohmann::detail::json_sax_dom_parser<json>;
  StrictDom(json& j, bool saturate) : Base(j, false), saturate_(saturate) {}
  bool start_object(std::size_t n) {
    keys_.emplace_back();
    return Base::start_object(n);
  }
  bool end_object() {
    keys_.pop_back();
    return Base::end_object();
  }
  bool key(string_t& k) {
    if (dup_.empty() && !keys_.empty() && !keys_.back().insert(k).second) dup_ = k;
    return Base::key(k);
  }
  bool number_float(number_float_t v, const string_t& text) {
    // The lexer makes a float of an integer literal only when it does not fit in 64 bits; a
    // negative one keeps its sign and stays a float (a negative number is malformed anyway).
    if (saturate_ && text.find_first_not_of("0123456789") == string_t::npos)
      return Base::number_unsigned(std::numeric_limits<number_unsigned_t>::max());
    return Base::number_float(v, text);
  }
  const std::string& duplicate() const { return dup_; }

private:
  bool saturate_;
  std::vector<std::set<std::string>> keys_;
  std::string dup_;
};

// Parses text into j, refusing duplicate keys. saturate: see StrictDom (message lines only: a state
// file or a keystore holding such a number is damaged, and refused as a float is).
// For a quick look at a line's kind: a discarded value when it is not JSON (a NUL byte included).
json parse_or_discard(std::string_view text) {
  if (text.find('\0') != std::string_view::npos) return json(json::value_t::discarded);
  return json::parse(text.begin(), text.end(), nullptr, false);
}

Status parse_strict(std::string_view text, json& j, bool saturate = false) {
  // nlohmann takes a NUL byte for the end of its input: what follows it would go unread.
  if (text.find('\0') != std::string_view::npos) return err(Code::malformed, "not valid JSON: a NUL byte");
  StrictDom dom(j, saturate);
  if (!json::sax_parse(text.begin(), text.end(), &dom) || dom.is_errored()) return err(Code::malformed, "not valid JSON");
  if (!dom.duplicate().empty()) return err(Code::malformed, "key \"" + dom.duplicate() + "\" appears twice");
  return Ok{};
}

Status want_type(bool ok, std::string_view field, std::string_view type) {
  if (!ok) return err(Code::malformed, std::string(field) + " must be " + std::string(type));
  return Ok{};
}

Result<Bytes> hex_field(const json& v, std::string_view field) {
  if (!v.is_string()) return err(Code::malformed, std::string(field) + " must be a hex string");
  const auto& s = v.get_ref<const std::string&>();
  for (char c : s)
    if ((c < '0' || c > '9') && (c < 'a' || c > 'f'))
      return err(Code::malformed, std::string(field) + " must be lowercase hex");
  auto b = from_hex(s);
  if (!b) return err(Code::malformed, std::string(field) + " has an odd number of hex digits");
  return std::move(*b);
}

Result<std::uint64_t> uint_field(const json& v, std::string_view field) {
  if (!v.is_number_unsigned() && !(v.is_number_integer() && v.get<std::int64_t>() >= 0))
    return err(Code::malformed, std::string(field) + " must be a non-negative integer");
  return v.get<std::uint64_t>();
}

Result<msg::MechList> mech_list(const json& v) {
  if (!v.is_array()) return err(Code::malformed, "SecMechList must be an array");
  if (v.size() > msg::kMaxMechs) return err(Code::bad_length, "SecMechList must hold 1 to 16 mechanisms");
  msg::MechList out;
  for (const auto& e : v) {
    if (!e.is_object() || e.size() != 2 || !e.contains("name") || !e.contains("q"))
      return err(Code::malformed, "each SecMechList entry must be {\"name\":..., \"q\":...}");
    if (!e["name"].is_string()) return err(Code::malformed, "a mechanism name must be a string");
    auto q = uint_field(e["q"], "q");
    if (!q) return q.error();
    if (*q > 1000) return err(Code::bad_length, "a mechanism's q must be 0 to 1000");
    out.push_back({e["name"].get<std::string>(), static_cast<std::uint16_t>(*q)});
  }
  return out;
}

template <class T>
Status read_field(const json& v, msg::Field f, std::optional<T>& out) {
  const auto name = msg::field_name(f);
  if constexpr (std::is_same_v<T, std::string>) {
    if (auto s = want_type(v.is_string(), name, "a string"); !s) return s;
    out = v.get<std::string>();
  } else if constexpr (std::is_same_v<T, Bytes>) {
    auto b = hex_field(v, name);
    if (!b) return b.error();
    out = std::move(*b);
  } else if constexpr (std::is_same_v<T, std::uint64_t>) {
    auto u = uint_field(v, name);
    if (!u) return u.error();
    out = *u;
  } else if constexpr (std::is_same_v<T, bool>) {
    if (auto s = want_type(v.is_boolean(), name, "true or false"); !s) return s;
    out = v.get<bool>();
  } else {
    auto l = mech_list(v);
    if (!l) return l.error();
    out = std::move(*l);
  }
  return Ok{};
}

template <class T>
void write_field(ojson& j, msg::Field f, const T& v) {
  const std::string name(msg::field_name(f));
  if constexpr (std::is_same_v<T, Bytes>) {
    j[name] = to_hex(v);
  } else if constexpr (std::is_same_v<T, msg::MechList>) {
    ojson arr = ojson::array();
    for (const auto& m : v) arr.push_back(ojson{{"name", m.name}, {"q", m.q}});
    j[name] = std::move(arr);
  } else {
    j[name] = v;
  }
}

}  // namespace

namespace {

// A message from the JSON object j of the message line form.
Result<msg::Message> message_of(const json& j, std::string* step_name, msg::Sizes sizes) {
  if (!j.is_object()) return err(Code::malformed, "a message must be a JSON object");
  for (const char* k : {"step", "flow", "to"})
    if (!j.contains(k) || !j[k].is_string())
      return err(j.contains(k) ? Code::malformed : Code::missing_field,
                 std::string("\"") + k + "\" must be present and a string");
  const auto& step = j["step"].get_ref<const std::string&>();
  if (step_name) *step_name = step;
  const msg::StepSpec* spec = msg::find_step(step);
  auto flow = msg::parse_flow(j["flow"].get<std::string>());
  if (!flow) return err(Code::unknown_step, "flow must be \"proxied\" or \"direct\"");
  if (!spec || spec->flow != *flow)
    return err(Code::unknown_step, "no step \"" + step + "\" in the " + std::string(msg::flow_name(*flow)) + " flow");
  if (j["to"].get<std::string>() != msg::role_name(spec->to))
    return err(Code::malformed, "\"to\" is \"" + j["to"].get<std::string>() + "\" but " + step +
                                    " goes to " + std::string(msg::role_name(spec->to)));

  msg::Message m;
  m.flow = spec->flow;
  m.step = spec->step;
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& key = it.key();
    if (key == "step" || key == "flow" || key == "to") continue;
    auto f = msg::parse_field(key);
    if (!f) return err(Code::malformed, "unexpected field \"" + key + "\"");
    Status st = Ok{};
    for_each_field(m, [&](msg::Field g, auto& slot) {
      if (g == *f) st = read_field(*it, g, slot);
    });
    if (!st) return st.error();
  }
  if (auto s = msg::validate(m, sizes); !s) return s.error();
  return m;
}

}  // namespace

Result<msg::Message> decode_message(std::string_view line, std::string* step_name, msg::Sizes sizes) {
  if (line.size() > kMaxLine)
    return err(Code::oversized, "message longer than " + std::to_string(kMaxLine) + " bytes");
  json j;
  if (auto s = parse_strict(line, j, true); !s) return s.error();
  return message_of(j, step_name, sizes);
}

Result<msg::Message> decode_record(std::string_view line, std::string* step_name, msg::Sizes sizes) {
  if (line.size() > kMaxLine)
    return err(Code::oversized, "line longer than " + std::to_string(kMaxLine) + " bytes");
  json r;
  if (auto s = parse_strict(line, r, true); !s) return s.error();
  if (!r.is_object()) return err(Code::malformed, "a kd-decode line must be a JSON object");
  if (r.contains("error")) return err(Code::malformed, "a kd-decode line of a message that did not decode");
  json j = json::object();
  for (const char* k : {"step", "flow", "to"})
    if (r.contains(k)) j[k] = r[k];
  const auto fields = r.find("fields");
  if (fields == r.end() || !fields->is_object()) return err(Code::malformed, "\"fields\" must be an object");
  for (auto it = fields->begin(); it != fields->end(); ++it) {
    if (j.contains(it.key())) return err(Code::malformed, "unexpected field \"" + it.key() + "\"");
    j[it.key()] = *it;
  }
  return message_of(j, step_name, sizes);
}

LineKind line_kind(std::string_view line) {
  json j = parse_or_discard(line);
  if (!j.is_object()) return LineKind::message;
  if (j.contains("wire")) return LineKind::wire;
  if (j.contains("event") || j.contains("registration") || j.contains("summary")) return LineKind::report;
  if (j.contains("fields") || (j.contains("error") && j.contains("frame"))) return LineKind::record;
  return LineKind::message;
}

std::string encode_message(const msg::Message& m) {
  const auto& spec = msg::spec_of(m);
  ojson j;
  j["step"] = spec.name;
  j["flow"] = msg::flow_name(m.flow);
  j["to"] = msg::role_name(spec.to);
  for_each_field(m, [&](msg::Field f, const auto& v) {
    if (v) write_field(j, f, *v);
  });
  return j.dump();
}

std::string encode_event(const flow::Event& e, bool show_key) {
  ojson j;
  j["event"] = e.name;
  if (e.step) {
    j["step"] = e.step->name;
    j["flow"] = msg::flow_name(e.step->flow);
  }
  j["suite"] = e.suite;
  j["IDc"] = e.idc;
  if (e.step) j[e.step->flow == msg::Flow::proxied ? "IDsp" : "IDss"] = e.peer;
  if (!e.mech.empty()) j["SecMech"] = e.mech;
  if (!e.ipc.empty()) j["IPc"] = e.ipc;
  if (show_key && !e.session_key.empty()) j["session_key"] = to_hex(e.session_key.view());
  return j.dump();
}

std::string encode_error(const Error& e, std::string_view step) {
  ojson j;
  j["event"] = "error";
  j["code"] = code_name(e.code);
  if (step.empty()) j["step"] = nullptr;
  else j["step"] = step;
  j["detail"] = e.detail;
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::optional<std::string> string_field(std::string_view line, std::string_view key) {
  json j = parse_or_discard(line);
  if (!j.is_object()) return std::nullopt;
  auto it = j.find(std::string(key));
  if (it == j.end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

// ---- wire lines --------------------------------------------------------------------------------

bool is_wire_line(std::string_view line) {
  // Cheap test first: most lines are logical messages.
  if (line.find("\"wire\"") == std::string_view::npos) return false;
  json j = parse_or_discard(line);
  return j.is_object() && j.contains("wire");
}

Result<WireLine> decode_wire_line(std::string_view line) {
  if (line.size() > 2 * kMaxLine + 256) return err(Code::oversized, "wire line exceeds the size limit");
  json j;
  if (auto s = parse_strict(line, j); !s) return s.error();
  if (!j.is_object()) return err(Code::malformed, "a wire line must be a JSON object");
  WireLine w;
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& k = it.key();
    if (!it->is_string()) return err(Code::malformed, k + " must be a string");
    const auto& v = it->get_ref<const std::string&>();
    if (k == "binding") w.binding = v;
    else if (k == "step") w.step = v;
    else if (k == "to") w.to = v;
    else if (k == "flow") continue;  // implied by step
    else if (k == "wire") {
      if (v.size() > 2 * kMaxLine) return err(Code::oversized, "wire exceeds 65536 bytes");
      auto b = from_hex(v);
      if (!b || v.empty()) return err(Code::malformed, "wire must be non-empty hex");
      w.wire = std::move(*b);
    } else {
      return err(Code::malformed, "unexpected field \"" + k + "\" in a wire line");
    }
  }
  if (w.binding.empty()) return err(Code::missing_field, "a wire line needs \"binding\"");
  if (w.wire.empty()) return err(Code::missing_field, "a wire line needs \"wire\"");
  return w;
}

std::string encode_wire_line(std::string_view binding, const msg::StepSpec& spec, ByteView wire) {
  ojson j;
  j["binding"] = binding;
  j["step"] = spec.name;
  j["flow"] = msg::flow_name(spec.flow);
  j["to"] = msg::role_name(spec.to);
  j["wire"] = to_hex(wire);
  return j.dump();
}

// ---- kd-decode ---------------------------------------------------------------------------------

namespace {

// kd-decode prints one line per message of captures with millions of them; building an ordered_json
// per line cost more than decoding the message. This writer appends to the caller's buffer the same
// text as ordered_json::dump() for values whose strings are all printable ASCII (a decoded message's
// fields, check names and details, addresses). A string with any other byte (which dump() would
// escape as \u00XX, or replace when it is not UTF-8) spoils the line (finish() returns false): the
// caller then drops what was appended and takes the general path. Keys and the names of steps,
// flows and roles are kd's own literals, written as they are. The text goes through a buffer on the
// stack: each piece asks once for room and is then copied without further checks (the small
// methods inline, so a literal's copy is a few moves), not a call into std::string.
class FastLine {
public:
  explicit FastLine(std::string& out) : out_(out) {}
  FastLine(const FastLine&) = delete;
  FastLine& operator=(const FastLine&) = delete;

  void key(std::string_view k) {
    char* p = room(k.size() + 4);
    if (!p) {  // longer than the buffer: not one of kd's keys, but still right
      put(first_ ? "{\"" : ",\"");
      put(k);
      put("\":");
    } else {
      p[0] = first_ ? '{' : ',';
      p[1] = '"';
      copy(p + 2, k.data(), k.size());
      p[k.size() + 2] = '"';
      p[k.size() + 3] = ':';
      used_ += k.size() + 4;
    }
    first_ = false;
  }
  void str(std::string_view v) {
    // Most strings need no escape: copied as they are, scanned on the way.
    if (char* p = room(v.size() + 2); p && copy_plain(p + 1, v)) {
      p[0] = '"';
      p[v.size() + 1] = '"';
      used_ += v.size() + 2;
      return;
    }
    str_escaped(v);  // what was copied is written over
  }
  void lit(std::string_view v) {  // a string known to need no escape
    put('"');
    put(v);
    put('"');
  }
  void hex(ByteView v) {
    char* p = room(2 * v.size() + 2);
    if (!p) return hex_long(v);
    *p++ = '"';
    for (auto b : v) {
      std::memcpy(p, &kHexPairs[2 * b], 2);
      p += 2;
    }
    *p = '"';
    used_ += 2 * v.size() + 2;
  }
  void num(std::uint64_t v) {
    char* p = room(20);  // the most digits of a 64-bit number
    used_ += static_cast<std::size_t>(std::to_chars(p, p + 20, v).ptr - p);
  }
  void boolean(bool v) { put(v ? std::string_view("true") : std::string_view("false")); }
  void raw(std::string_view v) { put(v); }
  void open() { first_ = true; }
  void close() {
    put(first_ ? std::string_view("{}") : std::string_view("}"));
    first_ = false;
  }
  // Appends what is buffered to out; true when every string could be written.
  bool finish() {
    flush();
    return ok_;
  }

private:
  // plain: printed as it is; escaped: after a backslash; other: needs the general path.
  enum class Class : std::uint8_t { plain, escaped, other };
  static constexpr std::array<Class, 256> kClass = [] {
    std::array<Class, 256> t{};
    for (std::size_t c = 0; c < t.size(); ++c) t[c] = c < 0x20 || c >= 0x7f ? Class::other : Class::plain;
    t['"'] = t['\\'] = Class::escaped;
    return t;
  }();
  // Each byte's two hex digits, side by side.
  static constexpr std::array<char, 512> kHexPairs = [] {
    constexpr char kDigits[] = "0123456789abcdef";
    std::array<char, 512> t{};
    for (std::size_t b = 0; b < 256; ++b) {
      t[2 * b] = kDigits[b >> 4];
      t[2 * b + 1] = kDigits[b & 0x0f];
    }
    return t;
  }();
  static constexpr std::size_t kBuffer = 2048;  // a typical line fits

  // The copies below move the short pieces a line is made of in two overlapping words, not a call.
  template <class Word>
  static Word load(const char* s) noexcept {
    Word w;
    std::memcpy(&w, s, sizeof w);
    return w;
  }
  template <class Word>
  static void store(char* d, Word w) noexcept {
    std::memcpy(d, &w, sizeof w);
  }
  static void copy(char* d, const char* s, std::size_t n) noexcept {
    if (n > 16) {
      std::memcpy(d, s, n);
    } else if (n >= 8) {
      const auto a = load<std::uint64_t>(s), b = load<std::uint64_t>(s + n - 8);
      store(d, a);
      store(d + n - 8, b);
    } else if (n >= 4) {
      const auto a = load<std::uint32_t>(s), b = load<std::uint32_t>(s + n - 4);
      store(d, a);
      store(d + n - 4, b);
    } else if (n) {
      const char a = s[0], b = s[n / 2], c = s[n - 1];
      d[0] = a;
      d[n / 2] = b;
      d[n - 1] = c;
    }
  }
  // Nonzero when a byte of x is not plain (kClass): a byte below 0x20, at or above 0x7f, a quote
  // or a backslash sets the high bit of its lane in one of the masks.
  static std::uint64_t special(std::uint64_t x) noexcept {
    constexpr std::uint64_t kOnes = 0x0101010101010101, kHigh = 0x8080808080808080;
    auto zero_lane = [](std::uint64_t y) { return (y - kOnes) & ~y & kHigh; };  // a lane of y is 0
    const std::uint64_t control = (x - 0x20 * kOnes) & ~x & kHigh;               // a lane < 0x20
    const std::uint64_t high = (x | ((x & ~kHigh) + kOnes)) & kHigh;             // a lane >= 0x7f
    return control | high | zero_lane(x ^ ('"' * kOnes)) | zero_lane(x ^ ('\\' * kOnes));
  }
  // Copies v to d eight bytes at a time (the last word overlapping the one before), testing each
  // word on the way; true when every byte is plain.
  static bool copy_plain(char* d, std::string_view v) noexcept {
    const char* s = v.data();
    const std::size_t n = v.size();
    std::uint64_t bad = 0;
    if (n >= 8) {
      for (std::size_t i = 0; i + 8 < n; i += 8) {
        const auto x = load<std::uint64_t>(s + i);
        bad |= special(x);
        store(d + i, x);
      }
      const auto x = load<std::uint64_t>(s + n - 8);
      bad |= special(x);
      store(d + n - 8, x);
    } else if (n >= 4) {
      const auto a = load<std::uint32_t>(s), b = load<std::uint32_t>(s + n - 4);
      bad = special(a | std::uint64_t{b} << 32);
      store(d, a);
      store(d + n - 4, b);
    } else if (n) {
      const auto a = static_cast<unsigned char>(s[0]), b = static_cast<unsigned char>(s[n / 2]),
                 c = static_cast<unsigned char>(s[n - 1]);
      bad = special(0x2020202020000000 | a | b << 8 | std::uint64_t{c} << 16);  // padded with spaces
      d[0] = s[0];
      d[n / 2] = s[n / 2];
      d[n - 1] = s[n - 1];
    }
    return bad == 0;
  }

  // Room for n more bytes, flushing the buffer first when needed; nullptr when n is more than the
  // whole buffer holds.
  char* room(std::size_t n) {
    if (n > kBuffer - used_) [[unlikely]] {
      flush();
      if (n > kBuffer) return nullptr;
    }
    return buf_ + used_;
  }
  void put(char c) {
    if (used_ == kBuffer) [[unlikely]] flush();
    buf_[used_++] = c;
  }
  void put(std::string_view v) {
    if (v.size() > kBuffer - used_) [[unlikely]] return put_long(v);
    std::memcpy(buf_ + used_, v.data(), v.size());
    used_ += v.size();
  }
  [[gnu::noinline]] void put_long(std::string_view v) {
    flush();
    if (v.size() > kBuffer) {  // longer than the buffer: straight to out
      out_.append(v);
      return;
    }
    std::memcpy(buf_, v.data(), v.size());
    used_ = v.size();
  }
  // A string with escapes, or longer than the buffer, piece by piece.
  [[gnu::noinline]] void str_escaped(std::string_view v) {
    put('"');
    std::size_t from = 0;
    for (std::size_t i = 0; i < v.size(); ++i) {
      const Class c = kClass[static_cast<unsigned char>(v[i])];
      if (c == Class::plain) continue;
      if (c == Class::other) {
        ok_ = false;
        return;
      }
      put(v.substr(from, i - from));  // the plain run before a quote or a backslash, then its escape
      put('\\');
      from = i;
    }
    put(v.substr(from));
    put('"');
  }
  [[gnu::noinline]] void hex_long(ByteView v) {
    put('"');
    for (auto b : v) put(std::string_view(&kHexPairs[2 * b], 2));
    put('"');
  }
  void flush() {
    out_.append(buf_, used_);
    used_ = 0;
  }

  std::string& out_;
  char buf_[kBuffer];
  std::size_t used_ = 0;
  bool first_ = true;
  bool ok_ = true;
};

// `,"step":"s1","flow":"proxied","from":"term","to":"proxy"`: the same for every message of a
// step, so made once for each, indexed by flow and step number (and no search for the spec).
std::string_view step_keys(const msg::Message& m) {
  static const std::array<std::string, 2 * 256> kTable = [] {
    std::array<std::string, 2 * 256> t;
    for (const auto& spec : msg::all_steps()) {
      std::string& k = t[(static_cast<std::size_t>(spec.flow) - 1) * 256 + spec.step];
      k.append(",\"step\":\"").append(spec.name);
      k.append("\",\"flow\":\"").append(msg::flow_name(spec.flow));
      k.append("\",\"from\":\"").append(msg::role_name(spec.from));
      k.append("\",\"to\":\"").append(msg::role_name(spec.to)).append("\"");
    }
    return t;
  }();
  static_assert(static_cast<int>(msg::Flow::proxied) == 1 && static_cast<int>(msg::Flow::direct) == 2);
  const std::size_t flow = static_cast<std::size_t>(m.flow) - 1;
  return flow < 2 ? kTable[flow * 256 + m.step] : std::string_view();
}

// Appends r (which has a message and no error) to out; false, with out left longer, when a string
// needs the general path.
bool encode_decoded_fast(const DecodedRecord& r, std::string& out) {
  FastLine w(out);
  w.key("frame");
  w.num(r.frame);
  if (r.time) { w.key("time"); w.str(*r.time); }
  if (!r.src.empty()) { w.key("src"); w.str(r.src); }
  if (!r.dst.empty()) { w.key("dst"); w.str(r.dst); }
  if (!r.transport.empty()) { w.key("transport"); w.str(r.transport); }
  w.key("binding");
  w.str(r.binding);
  w.raw(step_keys(*r.message));
  w.key("fields");
  w.open();
  for_each_field(*r.message, [&](msg::Field f, const auto& v) {
    if (!v) return;
    w.key(msg::field_name(f));
    using T = std::decay_t<decltype(*v)>;
    if constexpr (std::is_same_v<T, Bytes>) {
      w.hex(*v);
    } else if constexpr (std::is_same_v<T, msg::MechList>) {
      w.raw("[");
      bool first = true;
      for (const auto& m : *v) {
        if (!first) w.raw(",");
        first = false;
        w.raw("{\"name\":");
        w.str(m.name);
        w.raw(",\"q\":");
        w.num(m.q);
        w.raw("}");
      }
      w.raw("]");
    } else if constexpr (std::is_same_v<T, bool>) {
      w.boolean(*v);
    } else if constexpr (std::is_same_v<T, std::uint64_t>) {
      w.num(*v);
    } else {
      w.str(*v);
    }
  });
  w.close();
  if (!r.unverified.empty()) {
    w.key("unverified");
    w.raw("[");
    for (std::size_t i = 0; i < r.unverified.size(); ++i) {
      if (i) w.raw(",");
      w.str(r.unverified[i]);
    }
    w.raw("]");
  }
  if (r.checks && !r.checks->empty()) {
    w.raw(",\"checks\":[");
    bool first = true;
    for (const auto& c : *r.checks) {
      if (!first) w.raw(",");
      first = false;
      w.raw("{\"check\":");
      w.str(c.name);
      w.raw(c.ok ? ",\"ok\":true" : ",\"ok\":false,\"detail\":");
      if (!c.ok) w.str(c.detail);
      w.raw("}");
    }
    w.raw("]");
  }
  w.raw("}");
  return w.finish();
}

// The general path: any record, through ordered_json.
std::string encode_decoded_json(const DecodedRecord& r) {
  ojson j;
  j["frame"] = r.frame;
  if (r.time) j["time"] = *r.time;
  if (!r.src.empty()) j["src"] = r.src;
  if (!r.dst.empty()) j["dst"] = r.dst;
  if (!r.transport.empty()) j["transport"] = r.transport;
  j["binding"] = r.binding;
  if (r.message) {
    const auto& spec = msg::spec_of(*r.message);
    j["step"] = spec.name;
    j["flow"] = msg::flow_name(spec.flow);
    j["from"] = msg::role_name(spec.from);
    j["to"] = msg::role_name(spec.to);
    ojson fields;
    for_each_field(*r.message, [&](msg::Field f, const auto& v) {
      if (v) write_field(fields, f, *v);
    });
    j["fields"] = std::move(fields);
  }
  if (!r.unverified.empty()) j["unverified"] = std::vector<std::string>(r.unverified.begin(), r.unverified.end());
  if (r.error) j["error"] = {{"code", code_name(r.error->code)}, {"detail", r.error->detail}};
  if (r.checks && !r.checks->empty()) {
    ojson arr = ojson::array();
    for (const auto& c : *r.checks) {
      ojson o;
      o["check"] = c.name;
      o["ok"] = c.ok;
      if (!c.ok) o["detail"] = c.detail;
      arr.push_back(std::move(o));
    }
    j["checks"] = std::move(arr);
  }
  return j.dump(-1, ' ', false, json::error_handler_t::replace);  // details may quote input
}

// Appends r's line to out; false, with out left longer, when a string needs the general path.
bool encode_registration_fast(const RegistrationReport& r, bool show_key, std::string& out) {
  FastLine w(out);
  w.key("registration");
  w.open();
  w.key("flow"); w.lit(msg::flow_name(r.flow));
  w.key("IDc"); w.str(r.idc);
  w.key(r.flow == msg::Flow::proxied ? "IDsp" : "IDss"); w.str(r.peer);
  w.key("suite"); w.str(r.suite);
  w.key("steps");
  w.raw("[");
  for (std::size_t i = 0; i < r.steps.size(); ++i) {
    if (i) w.raw(",");
    w.str(r.steps[i]);
  }
  w.raw("]");
  w.key("completed"); w.boolean(r.completed);
  if (!r.mech.empty()) { w.key("SecMech"); w.str(r.mech); }
  if (!r.unverified.empty()) {
    w.key("unverified");
    w.raw("[");
    for (std::size_t i = 0; i < r.unverified.size(); ++i) {
      if (i) w.raw(",");
      w.str(r.unverified[i]);
    }
    w.raw("]");
  }
  if (!r.completed) {
    w.key("stopped_at"); w.str(r.stopped_at);
    w.key("reason"); w.str(r.reason);
  }
  if (show_key && !r.session_key.empty()) { w.key("session_key"); w.hex(r.session_key.view()); }
  w.close();
  w.raw("}");
  return w.finish();
}

std::string encode_registration_json(const RegistrationReport& r, bool show_key) {
  ojson j;
  j["flow"] = msg::flow_name(r.flow);
  j["IDc"] = r.idc;
  j[r.flow == msg::Flow::proxied ? "IDsp" : "IDss"] = r.peer;
  j["suite"] = r.suite;
  j["steps"] = r.steps;
  j["completed"] = r.completed;
  if (!r.mech.empty()) j["SecMech"] = r.mech;
  if (!r.unverified.empty()) j["unverified"] = r.unverified;
  if (!r.completed) {
    j["stopped_at"] = r.stopped_at;
    j["reason"] = r.reason;
  }
  if (show_key && !r.session_key.empty()) j["session_key"] = to_hex(r.session_key.view());
  ojson out;
  out["registration"] = std::move(j);
  return out.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace

void encode_decoded(const DecodedRecord& r, std::string& out) {
  const std::size_t start = out.size();
  if (!r.error && r.message) {
    if (encode_decoded_fast(r, out)) return;
    out.resize(start);
  }
  out += encode_decoded_json(r);
}

std::string encode_decoded(const DecodedRecord& r) {
  std::string out;
  encode_decoded(r, out);
  return out;
}

void encode_registration(const RegistrationReport& r, bool show_key, std::string& out) {
  const std::size_t start = out.size();
  if (encode_registration_fast(r, show_key, out)) return;
  out.resize(start);
  out += encode_registration_json(r, show_key);
}

std::string encode_registration(const RegistrationReport& r, bool show_key) {
  std::string out;
  encode_registration(r, show_key, out);
  return out;
}

std::string encode_summary(const DecodeSummary& s) {
  ojson j;
  j["frames"] = s.frames;
  j["messages"] = s.messages;
  j["errors"] = s.errors;
  j["skipped"] = s.skipped;
  j["truncated"] = s.truncated;
  j["registrations"] = s.registrations;
  j["completed"] = s.completed;
  j["failed_checks"] = s.failed_checks;
  j["unverified"] = s.unverified;
  ojson out;
  out["summary"] = std::move(j);
  return out.dump();
}

// ---- keystore -------------------------------------------------------------------------------

Result<flow::Keystore> decode_keystore(std::string_view text) {
  json j;
  if (auto s = parse_strict(text, j); !s) return s.error();
  // Members kd does not know are refused, not ignored: one may mean something this version cannot
  // honour (a newer format changes kd_keystore), and keys add would drop it in rewriting the file.
  auto unknown = [](const json& o, std::initializer_list<std::string_view> known, const std::string& where) {
    std::optional<Error> e;
    for (auto it = o.begin(); it != o.end() && !e; ++it)
      if (std::find(known.begin(), known.end(), it.key()) == known.end())
        e = err(Code::malformed, where + "unknown member \"" + it.key() + "\"");  // escaped where printed
    return e;
  };
  if (j.is_object())
    if (auto e = unknown(j, {"kd_keystore", "entities"}, "")) return *e;
  if (!j.is_object() || !j.contains("kd_keystore") || j["kd_keystore"] != 1 ||
      !j.contains("entities") || !j["entities"].is_array())
    return err(Code::malformed, "not a kd keystore (want {\"kd_keystore\":1,\"entities\":[...]})");
  flow::Keystore ks;
  for (const auto& e : j["entities"]) {
    if (!e.is_object() || !e.contains("id") || !e["id"].is_string())
      return err(Code::malformed, "each entity must be {\"id\":..., \"role\":..., \"key\":...}");
    flow::Entity ent;
    ent.id = e["id"].get<std::string>();
    if (auto s = msg::check_identity("id", ent.id); !s) return s.error();
    if (auto u = unknown(e, {"id", "role", "key"}, "entity " + ent.id + ": ")) return *u;
    if (!e.contains("role") || !e["role"].is_string() || !e.contains("key"))
      return err(Code::malformed, "entity " + ent.id + " must be {\"id\":..., \"role\":..., \"key\":...}");
    auto role = msg::parse_role(e["role"].get<std::string>());
    if (!role || *role == msg::Role::auc)
      return err(Code::malformed, "entity " + ent.id + ": role must be term, proxy or switch");
    ent.role = *role;
    auto key = hex_field(e["key"], "key");
    if (!key) return err(Code::malformed, "entity " + ent.id + ": key must be lowercase hex");
    if (key->size() < 16 || key->size() > 64)
      return err(Code::bad_length, "entity " + ent.id + ": key must be 16 to 64 bytes");
    ent.key = Secret(*key);
    secure_wipe(key->data(), key->size());
    if (ks.entities.count(ent.id)) return err(Code::malformed, "entity " + ent.id + " appears twice");
    ks.entities.emplace(ent.id, std::move(ent));
  }
  return ks;
}

std::string encode_keystore(const flow::Keystore& ks) {
  ojson arr = ojson::array();
  for (const auto& [id, e] : ks.entities)
    arr.push_back(ojson{{"id", id}, {"role", msg::role_name(e.role)}, {"key", to_hex(e.key.view())}});
  ojson j;
  j["kd_keystore"] = 1;
  j["entities"] = std::move(arr);
  return j.dump(2) + "\n";
}

// ---- state files ----------------------------------------------------------------------------
// Written with nlohmann's ADL hooks; read through them inside a try block, since a state file that
// does not parse is reported, not thrown.

}  // namespace kd::json

namespace kd::flow {

using nlohmann::json;

// Numbers of a state file: non-negative integers within range, or the file is damaged (nlohmann's
// get<unsigned>() would wrap -5 to 2^64-5, a challenge that never expires).
static std::uint64_t u64(const json& j, std::uint64_t max = UINT64_MAX) {
  if (!j.is_number_unsigned() || j.get<std::uint64_t>() > max)
    throw std::runtime_error("a number out of range: " + j.dump());
  return j.get<std::uint64_t>();
}
constexpr std::uint64_t kMaxSeq = std::uint64_t{1} << 62;  // so that the next number never wraps
static std::map<std::string, std::uint64_t> expiry_map(const json& j) {
  if (!j.is_object()) throw std::runtime_error("an expiry map must be an object: " + j.dump());
  std::map<std::string, std::uint64_t> m;
  for (const auto& [k, v] : j.items()) m[k] = u64(v);
  return m;
}

static json hex(const Bytes& b) { return to_hex(b); }
static Bytes unhex(const json& j) {
  auto b = from_hex(j.get<std::string>());
  if (!b) throw std::runtime_error("bad hex in state");
  return *b;
}
static json opt_hex(const std::optional<Bytes>& b) { return b ? json(to_hex(*b)) : json(nullptr); }
static std::optional<Bytes> opt_unhex(const json& j) {
  if (j.is_null()) return std::nullopt;
  return unhex(j);
}

static json mechs_json(const msg::MechList& l) {
  json a = json::array();
  for (const auto& m : l) a.push_back({{"name", m.name}, {"q", m.q}});
  return a;
}
static msg::MechList mechs_from(const json& a) {
  msg::MechList l;
  for (const auto& m : a) l.push_back({m.at("name").get<std::string>(), static_cast<std::uint16_t>(u64(m.at("q"), 1000))});
  return l;
}
static json flow_json(msg::Flow f) { return msg::flow_name(f); }
static msg::Flow flow_from(const json& j) {
  auto f = msg::parse_flow(j.get<std::string>());
  if (!f) throw std::runtime_error("bad flow in state");
  return *f;
}

void to_json(json& j, const ReplayCache& c) { j = c.expiry; }
void from_json(const json& j, ReplayCache& c) { c.expiry = expiry_map(j); }

void to_json(json& j, const EdgeExchange& e) {
  j = {{"phase", static_cast<int>(e.phase)}, {"suite", e.suite}, {"ipc", e.ipc},
       {"term_n1", hex(e.term_n1)}, {"n2", opt_hex(e.n2)}, {"rand", opt_hex(e.rand)},
       {"mechs", mechs_json(e.mechs)}, {"chosen", e.chosen}};
}
void from_json(const json& j, EdgeExchange& e) {
  int phase = static_cast<int>(u64(j.at("phase"), 2));
  if (phase < 0 || phase > 2) throw std::runtime_error("bad phase in state");
  e.phase = static_cast<EdgeExchange::Phase>(phase);
  e.suite = j.at("suite").get<std::string>();
  e.ipc = j.at("ipc").get<std::string>();
  e.term_n1 = unhex(j.at("term_n1"));
  e.n2 = opt_unhex(j.at("n2"));
  e.rand = opt_unhex(j.at("rand"));
  e.mechs = mechs_from(j.at("mechs"));
  e.chosen = j.at("chosen").get<std::string>();
}

void to_json(json& j, const TermRegistration& r) {
  j = {{"phase", static_cast<int>(r.phase)}, {"flow", flow_json(r.flow)}, {"suite", r.suite},
       {"peer", r.peer}, {"contact", r.contact}, {"mechs", mechs_json(r.mechs)}, {"n1", hex(r.n1)},
       {"rand", opt_hex(r.rand)}, {"chosen", r.chosen}, {"registered_at", r.registered_at}};
}
void from_json(const json& j, TermRegistration& r) {
  int phase = static_cast<int>(u64(j.at("phase"), 2));
  if (phase < 0 || phase > 2) throw std::runtime_error("bad phase in state");
  r.phase = static_cast<TermRegistration::Phase>(phase);
  r.flow = flow_from(j.at("flow"));
  r.suite = j.at("suite").get<std::string>();
  r.peer = j.at("peer").get<std::string>();
  r.contact = j.at("contact").get<std::string>();
  r.mechs = mechs_from(j.at("mechs"));
  r.n1 = unhex(j.at("n1"));
  r.rand = opt_unhex(j.at("rand"));
  r.chosen = j.at("chosen").get<std::string>();
  r.registered_at = u64(j.at("registered_at"));
}

void to_json(json& j, const Challenge& c) {
  j = {{"rand", hex(c.rand)}, {"authenticator", hex(c.authenticator)}, {"ekc", hex(c.ekc)},
       {"ekpeer", hex(c.ekpeer)}, {"expires", c.expires}};
}
void from_json(const json& j, Challenge& c) {
  c.rand = unhex(j.at("rand"));
  c.authenticator = unhex(j.at("authenticator"));
  c.ekc = unhex(j.at("ekc"));
  c.ekpeer = unhex(j.at("ekpeer"));
  c.expires = u64(j.at("expires"));
}

void to_json(json& j, const SwitchRegistration& r) {
  j = {{"flow", flow_json(r.flow)}, {"suite", r.suite}, {"peer", r.peer}, {"ipc", r.ipc},
       {"challenge", r.challenge ? json(*r.challenge) : json(nullptr)},
       {"edge", r.edge}};
}
void from_json(const json& j, SwitchRegistration& r) {
  r.flow = flow_from(j.at("flow"));
  r.suite = j.at("suite").get<std::string>();
  r.peer = j.at("peer").get<std::string>();
  r.ipc = j.at("ipc").get<std::string>();
  if (!j.at("challenge").is_null()) r.challenge = j.at("challenge").get<Challenge>();
  r.edge = j.at("edge").get<EdgeExchange>();
}

void to_json(json& j, const Failures& f) { j = {{"count", f.count}, {"until", f.until}}; }
void from_json(const json& j, Failures& f) {
  f.count = static_cast<std::uint32_t>(u64(j.at("count"), UINT32_MAX));
  f.until = u64(j.at("until"));
}

void to_json(json& j, const IssuedChallenge& c) {
  j = {{"idc", c.idc}, {"peer", c.peer}, {"suite", c.suite}, {"flow", flow_json(c.flow)},
       {"expires", c.expires}, {"answered", c.answered}, {"seq", c.seq}};
}
void from_json(const json& j, IssuedChallenge& c) {
  c.idc = j.at("idc").get<std::string>();
  c.peer = j.at("peer").get<std::string>();
  c.suite = j.at("suite").get<std::string>();
  c.flow = flow_from(j.at("flow"));
  c.expires = u64(j.at("expires"));
  c.answered = j.at("answered").get<bool>();
  // Absent from files written before challenges were numbered: decode_auc_state numbers them.
  c.seq = j.contains("seq") ? u64(j.at("seq"), kMaxSeq) : 0;
  if (j.contains("seq") && c.seq == 0) throw std::runtime_error("seq 0 in state");
}

void to_json(json& j, const AucRecord& r) {
  j = {{"peer", r.peer}, {"ipc", r.ipc}, {"suite", r.suite}, {"flow", flow_json(r.flow)}, {"at", r.at}};
}
void from_json(const json& j, AucRecord& r) {
  r.peer = j.at("peer").get<std::string>();
  r.ipc = j.at("ipc").get<std::string>();
  r.suite = j.at("suite").get<std::string>();
  r.flow = flow_from(j.at("flow"));
  r.at = u64(j.at("at"));
}

}  // namespace kd::flow

namespace kd::json {

namespace {

template <class State>
Result<State> decode_state(std::string_view text, std::string_view role,
                           void (*fill)(const json&, State&)) {
  json j;
  if (auto s = parse_strict(text, j); !s) return s.error();
  try {
    if (!j.is_object() || !j.contains("kd_state") || j["kd_state"] != 1)
      return err(Code::malformed, "not a kd state file (want {\"kd_state\":1,...})");
    if (!j.contains("role") || j["role"] != role)
      return err(Code::malformed, "this state file belongs to the " + j.value("role", std::string("?")) +
                                      ", not the " + std::string(role));
    State s;
    fill(j, s);
    return s;
  } catch (const std::exception& e) {
    return err(Code::malformed, std::string("state file is damaged: ") + e.what());
  }
}

json state_head(std::string_view role) { return json{{"kd_state", 1}, {"role", role}}; }

}  // namespace

Result<flow::TermState> decode_term_state(std::string_view text) {
  return decode_state<flow::TermState>(text, "term", [](const json& j, flow::TermState& s) {
    s.regs = j.at("registrations").get<std::map<std::string, flow::TermRegistration>>();
    s.seen_n2 = j.at("seen_n2").get<flow::ReplayCache>();
  });
}
Result<flow::ProxyState> decode_proxy_state(std::string_view text) {
  return decode_state<flow::ProxyState>(text, "proxy", [](const json& j, flow::ProxyState& s) {
    s.exchanges = j.at("exchanges").get<std::map<std::string, flow::EdgeExchange>>();
    s.seen_n1 = j.at("seen_n1").get<flow::ReplayCache>();
  });
}
Result<flow::SwitchState> decode_switch_state(std::string_view text) {
  return decode_state<flow::SwitchState>(text, "switch", [](const json& j, flow::SwitchState& s) {
    s.regs = j.at("registrations").get<std::map<std::string, flow::SwitchRegistration>>();
    s.failures = j.at("failures").get<std::map<std::string, flow::Failures>>();
    s.used_rands = flow::expiry_map(j.at("used_rands"));
    s.seen_n1 = j.at("seen_n1").get<flow::ReplayCache>();
    if (j.contains("requests")) {  // only while a SIP request waits for its answer
      if (!j.at("requests").is_object()) throw std::runtime_error("requests must be an object");
      for (const auto& [idc, wire] : j.at("requests").items()) s.requests[idc] = flow::unhex(wire);
    }
  });
}
Result<flow::AucState> decode_auc_state(std::string_view text) {
  return decode_state<flow::AucState>(text, "auc", [](const json& j, flow::AucState& s) {
    // Numbered challenges in issue order, then those of a file written before challenges were
    // numbered, oldest expiry first (ties by Rand); add() numbers these and applies the bound.
    std::vector<std::pair<std::string, flow::IssuedChallenge>> all;
    for (auto& [rand, c] : j.at("issued").get<std::map<std::string, flow::IssuedChallenge>>()) all.emplace_back(rand, c);
    std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) {
      return std::tuple(a.second.seq == 0, a.second.seq, a.second.expires, a.first) <
             std::tuple(b.second.seq == 0, b.second.seq, b.second.expires, b.first);
    });
    for (auto& [rand, c] : all) s.issued.add(rand, std::move(c));
    s.registered = j.at("registered").get<std::map<std::string, flow::AucRecord>>();
  });
}

std::string encode_state(const flow::TermState& s) {
  json j = state_head("term");
  j["registrations"] = s.regs;
  j["seen_n2"] = s.seen_n2;
  return j.dump(1) + "\n";
}
std::string encode_state(const flow::ProxyState& s) {
  json j = state_head("proxy");
  j["exchanges"] = s.exchanges;
  j["seen_n1"] = s.seen_n1;
  return j.dump(1) + "\n";
}
std::string encode_state(const flow::SwitchState& s) {
  json j = state_head("switch");
  j["registrations"] = s.regs;
  j["failures"] = s.failures;
  j["used_rands"] = s.used_rands;
  j["seen_n1"] = s.seen_n1;
  if (!s.requests.empty()) {
    json r = json::object();
    for (const auto& [idc, wire] : s.requests) r[idc] = to_hex(wire);
    j["requests"] = r;
  }
  return j.dump(1) + "\n";
}
std::string encode_state(const flow::AucState& s) {
  json j = state_head("auc");
  j["issued"] = s.issued.all();
  j["registered"] = s.registered;
  return j.dump(1) + "\n";
}

}  // namespace kd::json
