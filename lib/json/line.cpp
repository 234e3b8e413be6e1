#include "json/line.hpp"

#include "json/internal.hpp"

namespace kd::json {

LineKind line_kind(std::string_view line) {
  json j = parse_or_discard(line);
  if (!j.is_object()) return LineKind::message;
  if (j.contains("wire")) return LineKind::wire;
  if (j.contains("event") || j.contains("registration") || j.contains("summary")) return LineKind::report;
  if (j.contains("fields") || (j.contains("error") && j.contains("frame"))) return LineKind::record;
  return LineKind::message;
}

std::optional<std::string> string_field(std::string_view line, std::string_view key) {
  json j = parse_or_discard(line);
  if (!j.is_object()) return std::nullopt;
  auto it = j.find(std::string(key));
  if (it == j.end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

}  // namespace kd::json
