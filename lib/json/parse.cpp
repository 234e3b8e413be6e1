// Strict JSON reading for every form of json/ (internal.hpp): duplicate keys refused, NUL bytes
// refused, integers beyond 64 bits kept as integers.
#include <limits>
#include <set>
#include <vector>

#include "json/internal.hpp"

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
  const std::string& duplicate() const { return dup_; }

private:
  bool saturate_;
  std::vector<std::set<std::string>> keys_;
  std::string dup_;
};

}  // namespace

json parse_or_discard(std::string_view text) {
  if (text.find('\0') != std::string_view::npos) return json(json::value_t::discarded);
  return json::parse(text.begin(), text.end(), nullptr, false);
}

Status parse_strict(std::string_view text, json& j, bool saturate) {
  // nlohmann takes a NUL byte for the end of its input: what follows it would go unread.
  if (text.find('\0') != std::string_view::npos) return err(Code::malformed, "not valid JSON: a NUL byte");
  StrictDom dom(j, saturate);
  if (!json::sax_parse(text.begin(), text.end(), &dom) || dom.is_errored()) return err(Code::malformed, "not valid JSON");
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
