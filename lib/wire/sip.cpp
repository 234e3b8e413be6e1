// The SIP codec: its steps, and the way in to encoding (sip_encode.cpp) and decoding
// (sip_decode.cpp).
#include "wire/sip.hpp"

#include "wire/sip_text.hpp"

namespace kd::wire {

using msg::Flow;
using msg::Message;
using msg::StepSpec;
using namespace sip::detail;

std::optional<StepShape> sip::detail::shape_of(const StepSpec& s) {
  if (s.flow == Flow::proxied) {
    switch (s.step) {
      case 1: case 2: return StepShape{Kind::request, 1};
      case 5: case 6: return StepShape{Kind::challenge, 1};
      case 7: case 8: return StepShape{Kind::request, 2};
      case 9: case 10: return StepShape{Kind::success, 2};
      default: return std::nullopt;
    }
  }
  switch (s.step) {
    case 1: return StepShape{Kind::request, 1};
    case 4: return StepShape{Kind::challenge, 1};
    case 5: return StepShape{Kind::request, 2};
    case 6: return StepShape{Kind::success, 2};
    default: return std::nullopt;
  }
}

bool SipCodec::carries(const StepSpec& s) const noexcept { return shape_of(s).has_value(); }

Result<Bytes> SipCodec::encode(const Message& m) const { return sip::detail::encode(m, nullptr, {}, transport_); }

Result<Bytes> SipCodec::encode_after(const Message& m, ByteView previous) const {
  const SipText* prev = nullptr;
  if (previous.empty() || !parse_text_kept(previous, prev)) return sip::detail::encode(m, nullptr, {}, transport_);
  return sip::detail::encode(m, prev, {}, transport_);
}

Result<Bytes> SipCodec::encode_fresh(const Message& m, ByteView previous, ByteView txn) const {
  const StepSpec* spec = msg::find_step(m.flow, m.step);
  const auto sh = spec ? shape_of(*spec) : std::nullopt;
  if (!sh || sh->kind != Kind::request || txn.size() < 12) return encode_after(m, previous);
  const std::string branch = "z9hG4bK" + to_hex(txn.first(12));
  std::string call_id, from_tag;
  if (txn.size() >= kTxnBytes + kRegistrationBytes) {
    const ByteView registration = txn.subspan(kTxnBytes, kRegistrationBytes);
    call_id = to_hex(registration.first(16));
    from_tag = to_hex(registration.subspan(16, 8));
  }
  const Fresh fresh{branch, call_id, from_tag, sent_by_};
  const SipText* prev = nullptr;
  if (previous.empty() || !parse_text_kept(previous, prev)) return sip::detail::encode(m, nullptr, fresh, transport_);
  return sip::detail::encode(m, prev, fresh, transport_);
}

Result<Message> SipCodec::decode(ByteView wire) const {
  Message m;
  if (auto st = decode_into(wire, m); !st) return st.error();
  return m;
}

}  // namespace kd::wire
