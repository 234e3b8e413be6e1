// kd-decode's output lines (record.hpp): a fast writer for the common case, checked against
// ordered_json's dump by tests/wire/decoded_line_test.cpp, and the general path through ordered_json.
#include "json/record.hpp"

#include <array>
#include <charconv>
#include <cstring>

#include "json/internal.hpp"
#include "json/message.hpp"

namespace kd::json {

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

namespace {

// kd-decode prints one line per message of captures with millions of them; building an ordered_json
// per line cost more than decoding the message. This writer appends to the caller's buffer the same
// text as ordered_json::dump() for values whose strings are all printable ASCII (a decoded message's
// fields, check names and details, addresses). A string with any other byte (which dump() would
// escape as \uXXXX: kd writes JSON as ASCII, so nothing reaches a terminal raw) spoils the line
// (finish() returns false): the caller then drops what was appended and takes the general path. Keys and the names of steps,
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
  // A JSON array of strings (a vector of std::string or std::string_view).
  template <class Strings>
  void str_array(const Strings& v) {
    raw("[");
    for (std::size_t i = 0; i < v.size(); ++i) {
      if (i) raw(",");
      str(v[i]);
    }
    raw("]");
  }
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
    w.str_array(r.unverified);
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

// The members every line of a datagram begins with: where and when it was captured, its binding.
ojson record_head(const DecodedRecord& r) {
  ojson j;
  j["frame"] = r.frame;
  if (r.time) j["time"] = *r.time;
  if (!r.src.empty()) j["src"] = r.src;
  if (!r.dst.empty()) j["dst"] = r.dst;
  if (!r.transport.empty()) j["transport"] = r.transport;
  j["binding"] = r.binding;
  return j;
}

// The general path: any record, through ordered_json.
std::string encode_decoded_json(const DecodedRecord& r) {
  ojson j = record_head(r);
  if (r.message) {
    const auto& spec = msg::spec_of(*r.message);
    j["step"] = spec.name;
    j["flow"] = msg::flow_name(spec.flow);
    j["from"] = msg::role_name(spec.from);
    j["to"] = msg::role_name(spec.to);
    ojson fields;
    write_fields(fields, *r.message);
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
  return j.dump(-1, ' ', true, json::error_handler_t::replace);  // details may quote input
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
  w.str_array(r.steps);
  w.key("completed"); w.boolean(r.completed);
  if (!r.mech.empty()) { w.key("SecMech"); w.str(r.mech); }
  if (!r.unverified.empty()) {
    w.key("unverified");
    w.str_array(r.unverified);
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
  return out.dump(-1, ' ', true, json::error_handler_t::replace);
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

void encode_provisional(const DecodedRecord& r, const ProvisionalAnswer& p, std::string& out) {
  ojson j = record_head(r);
  j["provisional"] = p.element;
  j["transaction"] = p.transaction;
  if (!p.answers.empty()) j["answers"] = p.answers;
  if (p.delay_ms) j["delay_ms"] = p.delay_ms;
  out += j.dump();
}

void encode_retransmission(const DecodedRecord& r, std::uint64_t of, std::string_view step, std::string& out) {
  ojson j = record_head(r);
  j["retransmission"] = of;
  if (!step.empty()) j["repeats"] = step;
  out += j.dump();
}

std::string encode_summary(const DecodeSummary& s) {
  ojson j;
  j["frames"] = s.frames;
  j["messages"] = s.messages;
  j["errors"] = s.errors;
  j["skipped"] = s.skipped;
  j["provisional"] = s.provisional;
  j["retransmissions"] = s.retransmissions;
  j["truncated"] = s.truncated;
  j["registrations"] = s.registrations;
  j["completed"] = s.completed;
  j["failed_checks"] = s.failed_checks;
  j["unverified"] = s.unverified;
  ojson out;
  out["summary"] = std::move(j);
  return out.dump();
}

}  // namespace kd::json
