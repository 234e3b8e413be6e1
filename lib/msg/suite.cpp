#include "msg/suite.hpp"

#include <array>

namespace kd::msg {

namespace {

constexpr std::array<Suite, 3> kSuites{{
    {1, "KD-AES128GCM-SHA256", CipherId::aes, 16, HashId::sha256, 32, 16, 16},
    {2, "KD-AES256GCM-SHA384", CipherId::aes, 32, HashId::sha384, 48, 24, 24},
    {3, "KD-SM4GCM-SM3", CipherId::sm4, 16, HashId::sm3, 32, 16, 16},
}};

}  // namespace

std::span<const Suite> all_suites() noexcept { return kSuites; }

const Suite* find_suite(std::string_view name) noexcept {
  for (const auto& s : kSuites)
    if (s.name == name) return &s;
  return nullptr;
}

const Suite& default_suite() noexcept { return kSuites[0]; }

}  // namespace kd::msg
