// The JSON forms: messages and events (one line each), the keystore and the role state files.
// nlohmann/json stays inside json/.
#pragma once

#include <string>
#include <string_view>

#include "core/error.hpp"
#include "flow/roles.hpp"
#include "flow/state.hpp"
#include "msg/message.hpp"

namespace kd::json {

inline constexpr std::size_t kMaxLine = 65536;

// Decodes and validates one message line. On failure, *step_name gets the "step" the line claimed,
// when it could be read, so that the error can name it.
Result<msg::Message> decode_message(std::string_view line, std::string* step_name = nullptr);
std::string encode_message(const msg::Message& m);
std::string encode_event(const flow::Event& e, bool show_key);
std::string encode_error(const Error& e, std::string_view step);

// The string value of a top-level key of a JSON object line, if it has one (for routing and for
// reading events without a full decode).
std::optional<std::string> string_field(std::string_view line, std::string_view key);

Result<flow::Keystore> decode_keystore(std::string_view text);
std::string encode_keystore(const flow::Keystore& ks);

// State files: {"kd_state":1,"role":"<role>",...}. Errors name what is wrong (Code::malformed).
Result<flow::TermState> decode_term_state(std::string_view text);
Result<flow::ProxyState> decode_proxy_state(std::string_view text);
Result<flow::SwitchState> decode_switch_state(std::string_view text);
Result<flow::AucState> decode_auc_state(std::string_view text);
std::string encode_state(const flow::TermState& s);
std::string encode_state(const flow::ProxyState& s);
std::string encode_state(const flow::SwitchState& s);
std::string encode_state(const flow::AucState& s);

}  // namespace kd::json
