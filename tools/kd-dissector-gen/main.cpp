// kd-dissector-gen BODY OUT: writes the Wireshark dissector kd.lua (kd-dissector(7)) to OUT: a
// Lua rendering of every binding's field table (wire::all_field_tables()), of the steps
// (msg::all_steps()) and of the dissector's fields, followed by BODY, the hand-written Lua that
// parses each protocol generically and reads only those tables. A build-time tool, not installed:
// the mapping has one source, the tables the codecs read, so a change there reaches Wireshark
// with the next build.
#include <cctype>
#include <cstdio>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "cli/io.hpp"
#include "msg/message.hpp"
#include "wire/codec.hpp"
#include "wire/fields.hpp"

namespace kd::tools {
namespace {

using wire::FieldEntry;
using wire::Form;

std::string lua_string(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + '"';
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool is_timestamp(msg::Field f) {
  return f == msg::Field::TS1 || f == msg::Field::TS2 || f == msg::Field::TS3 || f == msg::Field::TS4;
}

// kd.<name>: the logical field's name in lower case; the four timestamps are one field, kd.ts, as
// every binding carries the step's one timestamp in one element (kd.step says which it is).
std::string dissector_name(msg::Field f) { return is_timestamp(f) ? "ts" : lower(wire::carried_name(f)); }
std::string dissector_label(msg::Field f) { return is_timestamp(f) ? "TS" : std::string(wire::carried_name(f)); }

// The Wireshark type that shows a value of this form.
std::string_view value_type(Form form) {
  switch (form) {
    case Form::hex:
    case Form::quoted_hex:
    case Form::octets:
    case Form::hidden_octets: return "bytes";
    case Form::decimal:
    case Form::u64_octets: return "uint64";
    case Form::true_flag:
    case Form::on_off:
    case Form::option_tag:
    case Form::flag_octet: return "bool";
    case Form::flow:
    case Form::token:
    case Form::quoted:
    case Form::mech_list:
    case Form::quoted_mech_list:
    case Form::contact_host:
    case Form::string_octets:
    case Form::mech_octets: return "string";
  }
  return "?";
}

std::string sip_messages(std::uint8_t in) {
  std::string out;
  const std::pair<std::uint8_t, std::string_view> kinds[] = {
      {wire::sip_register, "register"}, {wire::sip_challenge, "challenge"}, {wire::sip_ok, "ok"}};
  for (const auto& [bit, name] : kinds)
    if (in & bit) out += std::string(out.empty() ? "" : ", ") + lua_string(name);
  return out;
}

// Every field some table carries, in tag order after the flow, with the type its forms agree on.
// Returns false (after saying why) when two forms of one field would show as different types.
bool render_fields(std::string& out) {
  std::map<int, std::string_view> type_of;  // by msg::Field number (kFlow is 0)
  for (const wire::BindingFields& t : wire::all_field_tables())
    for (const FieldEntry& e : t.fields) {
      const int n = static_cast<int>(e.field);
      const std::string_view type = value_type(e.form);
      if (auto [it, fresh] = type_of.emplace(n, type); !fresh && it->second != type) {
        std::fprintf(stderr, "kd-dissector-gen: %s is %s in one table and %s in another\n",
                     std::string(wire::carried_name(e.field)).c_str(), std::string(it->second).c_str(),
                     std::string(type).c_str());
        return false;
      }
    }
  out += "-- The logical fields the tables carry (kFlow first, then tag order): the Wireshark field\n"
         "-- kd.<name>, its label and its type.\n"
         "KD.fields = {\n";
  for (const auto& [n, type] : type_of) {
    const auto f = static_cast<msg::Field>(n);
    const std::string name = f == wire::kFlow ? "flow" : dissector_name(f);
    const std::string label = f == wire::kFlow ? "Flow" : dissector_label(f);
    out += "  { carried = " + lua_string(wire::carried_name(f)) + ", name = " + lua_string(name) +
           ", label = " + lua_string(label) + ", type = " + lua_string(type) + " },\n";
  }
  out += "}\n\n";
  return true;
}

void render_steps(std::string& out) {
  out += "-- The steps (kd-protocol(7), THE TWO FLOWS): exactly these fields are present in each.\n"
         "KD.flows = { [" +
         std::to_string(static_cast<int>(msg::Flow::proxied)) + "] = " + lua_string(msg::flow_name(msg::Flow::proxied)) +
         ", [" + std::to_string(static_cast<int>(msg::Flow::direct)) +
         "] = " + lua_string(msg::flow_name(msg::Flow::direct)) + " }\nKD.steps = {\n";
  for (const msg::StepSpec& s : msg::all_steps()) {
    out += "  { name = " + lua_string(s.name) + ", flow = " + lua_string(msg::flow_name(s.flow)) +
           ", number = " + std::to_string(s.step) + ", from = " + lua_string(msg::role_name(s.from)) +
           ", to = " + lua_string(msg::role_name(s.to)) + ",\n    fields = {";
    for (std::size_t i = 0; i < s.fields.size(); ++i)
      out += std::string(i ? ", " : " ") + lua_string(msg::field_name(s.fields[i]));
    out += " } },\n";
  }
  out += "}\n\n";
}

void render_tables(std::string& out) {
  out += "-- Every binding's field table (lib/wire/<binding>_fields.hpp; its shape: lib/wire/fields.hpp),\n"
         "-- entries in wire order.\nKD.bindings = {\n";
  for (const wire::BindingFields& t : wire::all_field_tables()) {
    out += "  { name = " + lua_string(wire::binding_name(t.binding)) + ", vendor_id = " + std::to_string(t.vendor_id) +
           ",\n    holders = {";
    for (std::size_t i = 0; i < t.holders.size(); ++i) out += std::string(i ? ", " : " ") + lua_string(t.holders[i]);
    out += " },\n    entries = {\n";
    for (const FieldEntry& e : t.fields) {
      out += "      { field = " + lua_string(wire::carried_name(e.field)) + ", element = " + lua_string(e.element) +
             ", form = " + lua_string(wire::form_name(e.form)) + ", place = " + lua_string(wire::place_name(e.place)) +
             ", number = " + std::to_string(e.number) + ", fallback = " + (e.fallback ? "true" : "false");
      if (e.in != 0) out += ", sip_in = { " + sip_messages(e.in) + " }";
      out += " },\n";
    }
    out += "    } },\n";
  }
  out += "}\n\n";
}

int run(std::span<char*> args) {
  if (args.size() != 3) {
    std::fprintf(stderr, "usage: kd-dissector-gen BODY.lua OUT.lua\n");
    return 2;
  }
  try {
    const std::optional<std::string> body = cli::read_file(args[1], "Lua body");
    if (!body) {
      std::fprintf(stderr, "kd-dissector-gen: no Lua body %s\n", args[1]);
      return 3;
    }
    std::string out =
        "-- kd.lua: Wireshark's view of the KD values of kd's bindings (kd-dissector(7)).\n"
        "-- Generated by kd-dissector-gen from kd's field tables (lib/wire/*_fields.hpp) and its\n"
        "-- hand-written part (tools/kd-dissector-gen/kd-body.lua): edit those, not this file.\n\n"
        "local KD = {}\n\n";
    if (!render_fields(out)) return 1;
    render_steps(out);
    render_tables(out);
    out += *body;
    cli::write_file_atomic(args[2], out);
  } catch (const cli::IoError& e) {
    std::fprintf(stderr, "kd-dissector-gen: %s\n", e.what.c_str());
    return 3;
  }
  return 0;
}

}  // namespace
}  // namespace kd::tools

int main(int argc, char** argv) { return kd::tools::run(std::span<char*>(argv, static_cast<std::size_t>(argc))); }
