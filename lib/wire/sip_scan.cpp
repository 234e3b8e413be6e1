// The SIP decoder's byte scanners. Lines are short and quoted values mostly long hex strings, so
// rather than a memchr per line or per value one pass tests sixteen bytes at a time where SSE2 is
// there (all x86-64), a byte at a time elsewhere.
#include <bit>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "wire/sip_text.hpp"

namespace kd::wire::sip::detail {

HeaderSection split_lines(std::string_view text, std::vector<std::string_view>& lines) {
  constexpr std::size_t npos = std::string_view::npos;
  std::size_t line_start = 0, first_nul = npos;
  auto at_lf = [&](std::size_t lf) {  // true at the empty line
    std::size_t end = lf;
    if (end > line_start && text[end - 1] == '\r') --end;
    if (end == line_start) return true;
    lines.push_back(text.substr(line_start, end - line_start));
    line_start = lf + 1;
    return false;
  };
  std::size_t i = 0;
#if defined(__SSE2__)
  const __m128i lf = _mm_set1_epi8('\n'), zero = _mm_setzero_si128();
  for (; i + 16 <= text.size(); i += 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(text.data() + i));
    auto lfs = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, lf)));
    const auto nuls = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, zero)));
    if (nuls && first_nul == npos) first_nul = i + static_cast<std::size_t>(std::countr_zero(nuls));
    for (; lfs; lfs &= lfs - 1) {
      const std::size_t at = i + static_cast<std::size_t>(std::countr_zero(lfs));
      if (at_lf(at)) return {at + 1, true, first_nul <= at};
    }
  }
#endif
  for (; i < text.size(); ++i) {
    if (text[i] == '\0' && first_nul == npos) first_nul = i;
    if (text[i] == '\n' && at_lf(i)) return {i + 1, true, first_nul <= i};
  }
  return {line_start, false, first_nul < line_start};
}

std::size_t quote_or_backslash(std::string_view s, std::size_t i) {
#if defined(__SSE2__)
  const __m128i quote = _mm_set1_epi8('"'), backslash = _mm_set1_epi8('\\');
  for (; i + 16 <= s.size(); i += 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s.data() + i));
    const auto hit = static_cast<unsigned>(_mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash))));
    if (hit) return i + static_cast<std::size_t>(std::countr_zero(hit));
  }
#endif
  while (i < s.size() && s[i] != '"' && s[i] != '\\') ++i;
  return i;
}

}  // namespace kd::wire::sip::detail
