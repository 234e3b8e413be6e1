// The role state files, one per role: what a role remembers between two runs of its tool.
#pragma once

#include <map>
#include <span>
#include <string>
#include <string_view>

#include "core/bytes.hpp"
#include "core/error.hpp"
#include "core/tracked_map.hpp"
#include "flow/state.hpp"

namespace kd::json {

// State files: {"kd_state":1,"role":"<role>",...}. Errors name what is wrong (Code::malformed).
Result<flow::TermState> decode_term_state(std::string_view text);
Result<flow::ProxyState> decode_proxy_state(std::string_view text);
// The switch's file also holds, beside the role's state, what the edge keeps for a binding whose
// answers echo the request's transaction (SIP): by IDc, the terminal's last request as it came on
// the wire, until the switch answers it (member "requests", absent when empty). The role never
// sees it; decode checks it always and stores it when requests is given.
using KeptRequests = TrackedMap<Bytes>;
Result<flow::SwitchState> decode_switch_state(std::string_view text, KeptRequests* requests = nullptr);
Result<flow::AucState> decode_auc_state(std::string_view text);
std::string encode_state(const flow::TermState& s);
std::string encode_state(const flow::ProxyState& s);
std::string encode_state(const flow::SwitchState& s, const KeptRequests& requests = {});
std::string encode_state(const flow::AucState& s);

// What changed since the state was loaded or last marked saved, entry by entry, so that a service
// makes a batch durable in proportion to what the batch changed (kd-live(7), DURABILITY): a JSON
// object with the state file's members, each an object of key -> the entry's new value, or null
// for an entry removed; "{}" when nothing changed.
// append_state_changes writes the same at the end of out (a service's journal batch, in place).
void append_state_changes(std::string& out, const flow::TermState& s);
void append_state_changes(std::string& out, const flow::ProxyState& s);
void append_state_changes(std::string& out, const flow::SwitchState& s, const KeptRequests& requests);
void append_state_changes(std::string& out, const flow::AucState& s);
template <class... State>
std::string encode_state_changes(const State&... s) {
  std::string out;
  append_state_changes(out, s...);
  return out;
}
bool state_changed(const flow::TermState& s);
bool state_changed(const flow::ProxyState& s);
bool state_changed(const flow::SwitchState& s, const KeptRequests& requests);
bool state_changed(const flow::AucState& s);
// The state as it is now is durable: no entry has changed.
void mark_state_saved(flow::TermState& s);
void mark_state_saved(flow::ProxyState& s);
void mark_state_saved(flow::SwitchState& s, KeptRequests& requests);
void mark_state_saved(flow::AucState& s);
// Whether the state's maps remember their changes (TrackedMap::set_tracking): off where nothing
// saves them (a service without --state).
void track_state_changes(flow::TermState& s, bool on);
void track_state_changes(flow::ProxyState& s, bool on);
void track_state_changes(flow::SwitchState& s, KeptRequests& requests, bool on);
void track_state_changes(flow::AucState& s, bool on);

// A state file's text with changes (encode_state_changes) applied, in the form encode_state
// writes; state_text must be a state file of the same role. Code::malformed when either is not
// what it should be.
// A journal's batches go through one parse and one dump, however many there are.
Result<std::string> apply_state_changes(std::string_view state_text, std::span<const std::string> changes);
inline Result<std::string> apply_state_changes(std::string_view state_text, const std::string& changes) {
  return apply_state_changes(state_text, std::span<const std::string>(&changes, 1));
}

}  // namespace kd::json
