// The role state files, one per role: what a role remembers between two runs of its tool.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "core/bytes.hpp"
#include "core/error.hpp"
#include "flow/state.hpp"

namespace kd::json {

// State files: {"kd_state":1,"role":"<role>",...}. Errors name what is wrong (Code::malformed).
Result<flow::TermState> decode_term_state(std::string_view text);
Result<flow::ProxyState> decode_proxy_state(std::string_view text);
// The switch's file also holds, beside the role's state, what the edge keeps for a binding whose
// answers echo the request's transaction (SIP): by IDc, the terminal's last request as it came on
// the wire, until the switch answers it (member "requests", absent when empty). The role never
// sees it; decode checks it always and stores it when requests is given.
using KeptRequests = std::map<std::string, Bytes>;
Result<flow::SwitchState> decode_switch_state(std::string_view text, KeptRequests* requests = nullptr);
Result<flow::AucState> decode_auc_state(std::string_view text);
std::string encode_state(const flow::TermState& s);
std::string encode_state(const flow::ProxyState& s);
std::string encode_state(const flow::SwitchState& s, const KeptRequests& requests = {});
std::string encode_state(const flow::AucState& s);

}  // namespace kd::json
