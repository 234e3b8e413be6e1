// Negative cases of the JSON binding's encoding (default suite only: the encoding does not depend
// on the suite).
#include <cctype>

#include "vectors/internal.hpp"

namespace kd::vectors::cases {

// Encoding errors of the JSON binding, on the flow's first message and its answer.
void json_cases(CaseBuilder& b) {
  const auto reg = b.registration_step();
  const std::string line = b.line(reg);
  auto replace = [&](std::string s, const std::string& from, const std::string& to) {
    auto at = s.find(from);
    if (at == std::string::npos) throw std::logic_error("no " + from + " in " + s);
    return s.replace(at, from.size(), to);
  };
  const std::string ts = std::string("\"TS1\":") + std::to_string(kNow);
  const M m = b.message(reg);
  const std::string n1 = to_hex(*m.N1);
  struct Raw {
    std::string text, code, comment, flag;
  };
  std::string upper = n1;
  for (auto& ch : upper) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  const std::vector<Raw> raws = {
      {line.substr(0, line.size() / 2), "malformed", "the line cut in half", "MalformedJson"},
      {"not json at all", "malformed", "not JSON", "MalformedJson"},
      {"[]", "malformed", "a JSON array, not an object", "MalformedJson"},
      {"{}", "missing_field", "an empty object", "MissingField"},
      {replace(line, "{", "{\"IDc\":\"alice\","), "malformed", "IDc twice", "DuplicateField"},
      {replace(line, "\"IPc\"", "\"Extra\":1,\"IPc\""), "malformed", "a field kd does not know", "UnexpectedField"},
      {replace(line, ts, std::string("\"TS1\":\"") + std::to_string(kNow) + "\""), "malformed", "TS1 as a string", "MalformedJson"},
      {replace(line, ts, "\"TS1\":-1"), "malformed", "TS1 negative", "MalformedJson"},
      {replace(line, ts, ts + ".5"), "malformed", "TS1 with a fraction", "MalformedJson"},
      {replace(line, n1, upper), "malformed", "N1 in uppercase hex", "BadHex"},
      {replace(line, n1, n1.substr(1)), "malformed", "N1 with an odd number of hex digits", "BadHex"},
      {replace(line, n1, std::string("zz") + n1.substr(2)), "malformed", "N1 with a non-hex digit", "BadHex"},
      {replace(line, n1, n1.substr(2)), "bad_length", "N1 of 15 bytes", "BadLength"},
      {replace(line, n1, n1 + "00"), "bad_length", "N1 of 17 bytes", "BadLength"},
      {replace(line, "\"IDc\":\"alice\"", "\"IDc\":\"\""), "bad_length", "IDc empty", "BadLength"},
      {replace(line, "\"IDc\":\"alice\"", std::string("\"IDc\":\"") + std::string(65, 'a') + "\""), "bad_length", "IDc of 65 characters", "BadLength"},
      {replace(line, "\"IDc\":\"alice\"", "\"IDc\":\"al ice\""), "malformed", "IDc with a space", "MalformedJson"},
      {replace(line, "\"IPc\":\"", std::string("\"IPc\":\"") + std::string(70000, '1')), "oversized", "a line of over 65536 bytes", "Oversized"},
      {replace(line, "\"step\":\"" + reg + "\"", "\"step\":\"s12\""), "unknown_step", "a step kd does not have", "MalformedJson"},
      {replace(line, "\"flow\":\"" + std::string(msg::flow_name(b.setup().flow)) + "\"",
               std::string("\"flow\":\"") + (b.proxied() ? "direct" : "proxied") + "\""),
       "unknown_step", "the step of the other flow", "MalformedJson"},
      {replace(line, "\"to\":\"" + std::string(msg::role_name(b.edge_role())) + "\"", "\"to\":\"auc\""), "malformed",
       "\"to\" disagrees with the step", "MalformedJson"},
  };
  for (const auto& r : raws) b.invalid_line(reg, r.text, r.code, r.comment, {r.flag});
  M x = m;
  x.N1.reset();
  b.invalid(reg, x, "missing_field", "N1 missing", {"MissingField"});

  const auto ans = b.answer_step();
  M a = b.message(ans);
  M y = a;
  y.SecMechList = msg::MechList{};
  b.invalid(ans, y, "bad_length", "an empty SecMechList", {"BadLength"});
  y = a;
  y.SecMechList = msg::MechList{};
  for (int i = 0; i < 17; ++i) y.SecMechList->push_back({std::string("m") + std::to_string(i), 500});
  b.invalid(ans, y, "bad_length", "17 mechanisms", {"BadLength"});
  y = a;
  y.SecMechList->push_back((*a.SecMechList)[0]);
  b.invalid(ans, y, "malformed", "a mechanism listed twice", {"DuplicateField"});
  y = a;
  (*y.SecMechList)[0].q = 1001;
  b.invalid(ans, y, "bad_length", "q of 1001", {"BadLength"});
  y = a;
  (*y.SecMechList)[0].name = "TLS";
  b.invalid(ans, y, "malformed", "a mechanism name in uppercase", {"MalformedJson"});
  M c = b.message(b.challenge_step());
  c.SecMechReq = false;
  b.invalid(b.challenge_step(), c, "malformed", "SecMechReq false", {"MalformedJson"});
  c = b.message(b.challenge_step());
  c.Rand->push_back(0);
  b.invalid(b.challenge_step(), c, "bad_length", "Rand of 17 bytes", {"BadLength"});
}

// Integers written beyond 2^64-1 are integers above their range (bad_length), not malformed: catches
// a parser that turns them into floating-point numbers and calls them fractions.
void json_number_cases(CaseBuilder& b) {
  auto widen = [](std::string line, const std::string& key, const std::string& digits) {
    const auto at = line.find("\"" + key + "\":");
    if (at == std::string::npos) throw std::logic_error("no " + key + " in " + line);
    const auto from = at + key.size() + 3, to = line.find_first_not_of("0123456789", from);
    return line.replace(from, to - from, digits);
  };
  b.invalid_line(b.registration_step(), widen(b.line(b.registration_step()), "TS1", "18446744073709551616"), "bad_length",
                 "TS1 of 2^64, an integer beyond 64 bits", {"BadLength"});
  b.invalid_line(b.answer_step(), widen(b.line(b.answer_step()), "q", "18446744073709551617"), "bad_length",
                 "a q of 2^64 + 1, an integer beyond 64 bits", {"BadLength"});
}

}  // namespace kd::vectors::cases
