// The codec's promise for any message it decoded (kd-protocol(7), BINDINGS): it encodes, decoding
// that gives the same logical message back, and encoding that gives the same bytes again. The
// decoded input's own bytes need not come back: decoders accept every form the protocol allows.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "core/bytes.hpp"
#include "core/error.hpp"
#include "msg/message.hpp"
#include "wire/codec.hpp"

namespace kd::wiretest {

inline std::string shown(const Bytes& b) {
  return printable(std::string_view(reinterpret_cast<const char*>(b.data()), b.size()));
}

inline ::testing::AssertionResult round_trips(const wire::Codec& codec, const msg::Message& m) {
  auto again = codec.encode(m);
  if (!again) return ::testing::AssertionFailure() << "does not encode: " << again.error().detail;
  auto back = codec.decode(*again);
  if (!back)
    return ::testing::AssertionFailure() << "its encoding does not decode (" << code_name(back.error().code)
                                         << ": " << back.error().detail << "): " << shown(*again);
  if (!(*back == m)) return ::testing::AssertionFailure() << "its encoding decodes to another message: " << shown(*again);
  auto twice = codec.encode(*back);
  if (!twice || *twice != *again)
    return ::testing::AssertionFailure() << "encoding it again gives other bytes: " << shown(*again);
  return ::testing::AssertionSuccess();
}

}  // namespace kd::wiretest
