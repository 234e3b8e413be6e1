// The role state files, one per role: what a role remembers between two runs of its tool.
#pragma once

#include <string>
#include <string_view>

#include "core/error.hpp"
#include "flow/state.hpp"

namespace kd::json {

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
