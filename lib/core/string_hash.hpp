// A hash for std::string keys that also looks them up by std::string_view (a find() that builds no
// string), for std::unordered_map<std::string, V, StringHash, std::equal_to<>>.
#pragma once

#include <cstddef>
#include <functional>
#include <string_view>

namespace kd {

struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view k) const noexcept { return std::hash<std::string_view>{}(k); }
};

}  // namespace kd
