// The message line and the wire line (message.hpp), and a message's fields as JSON members
// (internal.hpp), which kd-decode's lines share.
#include "json/message.hpp"

#include "json/internal.hpp"

namespace kd::json {

namespace {

Status want_type(bool ok, std::string_view field, std::string_view type) {
  if (!ok) return err(Code::malformed, std::string(field) + " must be " + std::string(type));
  return Ok{};
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
    if (key == kTxnMember) {
      if (!it->is_string() || !valid_txn(it->get_ref<const std::string&>()))
        return err(Code::malformed, "\"txn\" must be a string of 1 to 64 letters, digits, '.', '_' or '-'");
      continue;
    }
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

void write_fields(ojson& j, const msg::Message& m) {
  for_each_field(m, [&](msg::Field f, const auto& v) {
    if (v) write_field(j, f, *v);
  });
}

Result<msg::Message> decode_message(std::string_view line, std::string* step_name, msg::Sizes sizes) {
  if (line.size() > kMaxLine)
    return err(Code::oversized, "message longer than " + std::to_string(kMaxLine) + " bytes");
  json j;
  if (auto s = parse_strict(line, j, true); !s) return s.error();
  return message_of(j, step_name, sizes);
}

std::string encode_message(const msg::Message& m, std::string_view txn) {
  const auto& spec = msg::spec_of(m);
  ojson j;
  j["step"] = spec.name;
  j["flow"] = msg::flow_name(m.flow);
  j["to"] = msg::role_name(spec.to);
  write_fields(j, m);
  if (!txn.empty()) j[std::string(kTxnMember)] = txn;
  return j.dump();
}

bool valid_txn(std::string_view txn) noexcept {
  if (txn.empty() || txn.size() > kMaxTxn) return false;
  for (const char c : txn)
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
      return false;
  return true;
}

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

}  // namespace kd::json
