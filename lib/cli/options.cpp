#include "cli/options.hpp"

#include <algorithm>
#include <functional>

#include <CLI/CLI.hpp>

#include "cli/tools.hpp"
#include "core/number.hpp"
#include "msg/message.hpp"

namespace kd::cli {

Result<std::uint64_t> parse_number(std::string_view text, NumberRange range) {
  const std::string want = "must be a whole number from " + std::to_string(range.lo) + " to " + std::to_string(range.hi);
  const Decimal d = parse_decimal(text, range.lo, range.hi);
  switch (d.fault) {
    case NumberFault::none: return d.value;
    case NumberFault::empty: return err(Code::malformed, "no value: " + want);
    case NumberFault::not_digits: return err(Code::malformed, "\"" + std::string(text) + "\" " + want + " (decimal digits only)");
    case NumberFault::too_large: return err(Code::bad_length, std::string(text) + " is too large: " + want);
    case NumberFault::too_small: break;
  }
  return err(Code::bad_length, std::string(text) + " is too small: " + want);
}

IdPattern::IdPattern(const std::string& pattern, std::uint64_t count) : count_(count) {
  int numbers = 0;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    const char next = i + 1 < pattern.size() ? pattern[i + 1] : '\0';
    if (pattern[i] != '%') {
      (numbers ? after_ : before_) += pattern[i];
      continue;
    }
    if (next != '%' && next != 'd')
      throw UsageError("--id \"" + pattern + "\": a % must begin %d or %% (character " + std::to_string(i + 1) + ")");
    if (next == 'd') ++numbers;
    else (numbers ? after_ : before_) += '%';
    ++i;
  }
  if (numbers != 1)
    throw UsageError("--id \"" + pattern + "\": with --count, the pattern must hold %d exactly once (user%d: user0, user1, ...)");
  // Ids with as many digits differ only in digits, so whether one is an identity (its characters,
  // its length) holds for all: checking 0, 10, 100, ... finds the first that is not.
  for (std::uint64_t n = 0; n < count; n = n == 0 ? 10 : n * 10) {
    if (auto st = msg::check_identity("--id (as " + at(n) + ")", at(n)); !st) throw UsageError(st.error().detail);
    if (n > std::numeric_limits<std::uint64_t>::max() / 10) break;
  }
}

namespace {

CLI::Option* add(CLI::App& app, const std::string& name, NumberRange range, const std::string& help,
                 std::function<void(std::uint64_t)> set) {
  auto store = [name, range, set = std::move(set)](const std::string& text) {
    auto v = parse_number(text, range);
    // Thrown through CLI11's parse, which lets it pass: a bad number ends the parse at once.
    if (!v) throw UsageError(name + ": " + v.error().detail);
    set(*v);
  };
  return app.add_option_function<std::string>(name, store, help)->type_name("UINT");
}

}  // namespace

CLI::Option* add_number(CLI::App& app, const std::string& name, std::uint64_t& into,
                        NumberRange range, const std::string& help) {
  return add(app, name, range, help, [&into](std::uint64_t v) { into = v; });
}

CLI::Option* add_number(CLI::App& app, const std::string& name, std::uint32_t& into,
                        NumberRange range, const std::string& help) {
  range.hi = std::min<std::uint64_t>(range.hi, std::numeric_limits<std::uint32_t>::max());
  return add(app, name, range, help, [&into](std::uint64_t v) { into = static_cast<std::uint32_t>(v); });
}

CLI::Option* add_number(CLI::App& app, const std::string& name,
                        std::optional<std::uint64_t>& into, NumberRange range, const std::string& help) {
  return add(app, name, range, help, [&into](std::uint64_t v) { into = v; });
}

CLI::Option* refuse_empty(CLI::Option* opt, const std::string& what) {
  return opt->check(CLI::Validator(
      [what](const std::string& v) { return v.empty() ? "must not be empty (give " + what + ")" : std::string(); }, ""));
}

CLI::Option* add_retransmit(CLI::App& app, std::string& into, const std::string& help) {
  return refuse_empty(app.add_option("--retransmit", into, help), "one or more of initial=MS,max=MS,count=N,timeout=MS,keep=MS,provisional=MS");
}

CLI::Option* add_decode_as(CLI::App& app, std::vector<std::string>& into) {
  return app
      .add_option("--decode-as", into,
                  "in captures, read this port as this binding: udp.port==PORT,BINDING or tcp.port==... (repeatable)")
      ->allow_extra_args(false);  // one mapping per --decode-as: the input file is not a mapping
}

CLI::Option* add_keys(CLI::App& app, std::string& into, const std::string& help) {
  return refuse_empty(app.add_option("--keys", into, help), "a file name");
}

CLI::Option* add_skew(CLI::App& app, std::uint64_t& into, const std::string& help) {
  return add_number(app, "--skew", into, {}, help);
}

CLI::Option* add_binding(CLI::App& app, std::string& into, const std::string& help) {
  return app.add_option("--binding", into, help);
}

CLI::Option* add_radius_secret_file(CLI::App& app, std::string& into, const std::string& help) {
  return refuse_empty(app.add_option("--radius-secret-file", into, help), "a file name");
}

CLI::Option* add_addr(CLI::App& app, std::vector<std::string>& into, const std::string& help) {
  return app.add_option("--addr", into, help)
      ->allow_extra_args(false);  // one address per --addr: the input file is not an address
}

}  // namespace kd::cli
