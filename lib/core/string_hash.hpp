// A hash for std::string keys that also looks them up by std::string_view (a find() that builds no
// string), for std::unordered_map<std::string, V, StringHash, std::equal_to<>>.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <type_traits>

namespace kd {

// Not noexcept, on purpose: libstdc++ keeps each node's hash code only for a hash that may throw
// (or one it knows to be slow, as std::hash<std::string>). Without the kept code every rehash
// hashed every key again, erase() hashed its key again to find the bucket, and a lookup compared
// the whole key of every node in its bucket: std::_Hash_bytes was 7.7% of a kd-bench
// registration (perf, 1000 identities, each state's tables growing from empty each round).
struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view k) const { return std::hash<std::string_view>{}(k); }
};
static_assert(!std::is_nothrow_invocable_v<const StringHash&, const std::string&>,
              "a noexcept StringHash makes libstdc++ drop the hash codes its tables keep");

}  // namespace kd
