// Strict JSON reading for every form of json/ (internal.hpp): duplicate keys refused, NUL bytes
// refused, integers beyond 64 bits kept as integers.
#include <algorithm>
#include <limits>
#include <set>
#include <vector>

#include "json/internal.hpp"
#include "json/message.hpp"

namespace kd::json {

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
  template <class Exception>
  bool parse_error(std::size_t position, const std::string& last_token, const Exception& ex) {
    error_at_ = position;
    return Base::parse_error(position, last_token, ex);
  }
  const std::string& duplicate() const { return dup_; }
  // nlohmann's position of the error: the characters read, the one it could not take included.
  std::size_t error_at() const { return error_at_; }

private:
  bool saturate_;
  std::size_t error_at_ = 0;
  std::vector<std::set<std::string>> keys_;
  std::string dup_;
};

}  // namespace

std::string not_json_at(std::string_view text, std::size_t position) {
  const std::size_t at = std::min(position > 0 ? position - 1 : 0, text.size());
  const std::size_t line_start = at == 0 ? 0 : text.rfind('\n', at - 1) + 1;  // npos + 1 == 0
  const auto line = 1 + static_cast<std::size_t>(std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(at), '\n'));
  return "not valid JSON at line " + std::to_string(line) + ", column " + std::to_string(at - line_start + 1) +
         (at >= text.size() ? " (the text ends)" : "");
}

json parse_or_discard(std::string_view text) {
  if (text.find('\0') != std::string_view::npos) return json(json::value_t::discarded);
  return json::parse(text.begin(), text.end(), nullptr, false);
}

Status parse_strict(std::string_view text, json& j, bool saturate) {
  if (text.starts_with("\xff\xfe") || text.starts_with("\xfe\xff"))  // a byte order mark of UTF-16
    return err(Code::malformed, "not valid JSON: UTF-16 text (kd reads UTF-8)");
  // nlohmann takes a NUL byte for the end of its input: what follows it would go unread.
  if (text.find('\0') != std::string_view::npos) return err(Code::malformed, "not valid JSON: a NUL byte");
  StrictDom dom(j, saturate);
  if (!json::sax_parse(text.begin(), text.end(), &dom) || dom.is_errored()) return err(Code::malformed, not_json_at(text, dom.error_at()));
  if (!dom.duplicate().empty()) return err(Code::malformed, "key \"" + dom.duplicate() + "\" appears twice");
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

}  // namespace kd::json
