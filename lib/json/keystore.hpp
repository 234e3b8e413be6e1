// The keystore file (kd-auc(1), KEYSTORE): {"kd_keystore":1,"entities":[...]}.
#pragma once

#include <string>
#include <string_view>

#include "core/error.hpp"
#include "flow/state.hpp"

namespace kd::json {

Result<flow::Keystore> decode_keystore(std::string_view text);
std::string encode_keystore(const flow::Keystore& ks);

}  // namespace kd::json
