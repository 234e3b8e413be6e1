// What the role tools report besides messages: an event line, or an error line naming its code.
#pragma once

#include <string>
#include <string_view>

#include "core/error.hpp"
#include "flow/roles.hpp"

namespace kd::json {

std::string encode_event(const flow::Event& e, bool show_key);
std::string encode_error(const Error& e, std::string_view step);

}  // namespace kd::json
