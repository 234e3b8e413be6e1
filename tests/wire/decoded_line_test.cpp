// kd-decode's output lines: the fast writer must print exactly what nlohmann's dump() prints for the
// same JSON (checked by parsing each line and dumping it again), for every message of both flows.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "flows.hpp"
#include "json/codec.hpp"

namespace {

TEST(DecodedLine, EqualsTheCanonicalDumpForEveryStep) {
  for (auto flow : {kd::msg::Flow::proxied, kd::msg::Flow::direct}) {
    for (const auto& suite : kd::crypto::all_suites()) {
      auto msgs = kd::wiretest::run_flow(suite, flow);
      ASSERT_FALSE(msgs.empty());
      for (const auto& m : msgs) {
        std::vector<kd::engine::Check> checks{{"nonce_echo", true, ""},
                                              {"mac", false, "the MAC does not \"verify\" \\ here"}};
        kd::json::DecodedRecord r;
        r.frame = 7;
        r.time = "1700000000.000001000";
        r.src = "[2001:db8::1]:5060";
        r.dst = "192.0.2.20:5060";
        r.transport = "udp";
        r.binding = "sip";
        r.message = &m;
        r.checks = &checks;
        const std::string line = kd::json::encode_decoded(r);
        const auto parsed = nlohmann::ordered_json::parse(line);
        EXPECT_EQ(parsed.dump(), line);
        EXPECT_EQ(parsed["step"], std::string(kd::msg::spec_of(m).name));
        EXPECT_EQ(parsed["checks"][1]["detail"], "the MAC does not \"verify\" \\ here");
        // The fields are the message's JSON form without its envelope.
        auto logical = nlohmann::ordered_json::parse(kd::json::encode_message(m));
        logical.erase("step");
        logical.erase("flow");
        logical.erase("to");
        EXPECT_EQ(parsed["fields"], logical);
      }
    }
  }
}

TEST(DecodedLine, AnErrorQuotingBadBytesIsStillOneValidLine) {
  kd::json::DecodedRecord r;
  r.frame = 1;
  r.binding = "unknown";
  r.error = kd::Error{kd::Code::malformed, std::string("bad \xff\x01 byte")};
  const std::string line = kd::json::encode_decoded(r);
  const auto parsed = nlohmann::json::parse(line);
  EXPECT_EQ(parsed["error"]["code"], "malformed");
}

}  // namespace
