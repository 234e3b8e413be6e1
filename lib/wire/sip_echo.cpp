// What a SIP reply or forwarded request takes from the message it answers or forwards.
#include "wire/sip_text.hpp"

namespace kd::wire::sip::detail {

using text::all_of;
using text::iequal;
using text::is_digit;
using text::trim;

namespace {

bool has_tag(std::string_view name_addr) {
  // The tag parameter follows the URI: after its closing '>', or anywhere in a bare URI's params.
  std::size_t gt = name_addr.rfind('>');
  std::string_view params = gt == std::string_view::npos ? name_addr : name_addr.substr(gt + 1);
  for (std::size_t i = 0; i + 5 <= params.size(); ++i)
    if (params[i] == ';' && iequal(trim(params.substr(i + 1, 3)), "tag")) return true;
  return false;
}

}  // namespace

std::optional<Echo> echo_of(const SipText& prev, Kind kind) {
  Echo e;
  prev.each(Hdr::via, [&](std::string_view v) {
    each_item(v, [&](std::string_view via) {
      if (!via.empty()) e.vias.push_back(via);
      return true;
    });
  });
  if (prev.request && kind == Kind::request) {  // a proxy forwarding the request
    e.own_via = true;
    if (prev.count(Hdr::max_forwards) == 1) {
      std::string_view mf = prev.first(Hdr::max_forwards);
      if (mf.empty() || mf.size() > 3 || !all_of(mf, is_digit)) return std::nullopt;
      unsigned v = 0;
      for (char c : mf) v = v * 10 + static_cast<unsigned>(c - '0');
      e.max_forwards = v > 0 ? v - 1 : 0;
    }
  } else if (prev.request) {  // the registrar answering it
    e.add_to_tag = !has_tag(prev.first(Hdr::to));
  } else if (kind != Kind::request && e.vias.size() > 1) {  // a proxy forwarding the response
    e.vias.erase(e.vias.begin());
  } else {
    return std::nullopt;
  }
  if (e.vias.empty()) return std::nullopt;
  e.from = prev.first(Hdr::from);
  e.to = prev.first(Hdr::to);
  e.call_id = prev.first(Hdr::call_id);
  e.cseq = prev.first(Hdr::cseq);
  return e;
}

}  // namespace kd::wire::sip::detail
