// The JSON files of testvectors/ (kd-vectors(5)): the vectors' own format, kept with them (json/
// is below vectors/, which encodes messages with it).
#pragma once

#include <string>
#include <string_view>

#include "core/error.hpp"
#include "vectors/vectors.hpp"

namespace kd::vectors {

std::string encode_positive(const Positive& v);
Result<Positive> decode_positive(std::string_view text);
std::string encode_negative(const Negative& v);
Result<Negative> decode_negative(std::string_view text);
// "positive", "negative", or an error for a file that is neither.
Result<std::string> vector_type(std::string_view text);

}  // namespace kd::vectors
