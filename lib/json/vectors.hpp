// The JSON files of testvectors/ (kd-vectors(5)).
#pragma once

#include <string>
#include <string_view>

#include "core/error.hpp"
#include "vectors/vectors.hpp"

namespace kd::json {

std::string encode_positive(const vectors::Positive& v);
Result<vectors::Positive> decode_positive(std::string_view text);
std::string encode_negative(const vectors::Negative& v);
Result<vectors::Negative> decode_negative(std::string_view text);
// "positive", "negative", or an error for a file that is neither.
Result<std::string> vector_type(std::string_view text);

}  // namespace kd::json
