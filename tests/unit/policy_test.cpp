// Mechanism arguments ("name[:q],...", q as in RFC 3261's qvalue, kept in thousandths) and the
// choice of a mechanism by the terminal's priority among what the chooser supports.
#include <gtest/gtest.h>

#include "flow/policy.hpp"

namespace {

using kd::Code;
using kd::flow::Policy;
using kd::msg::Mech;
using kd::msg::MechList;

MechList parsed(std::string_view arg) {
  auto r = kd::flow::parse_mech_arg(arg);
  EXPECT_TRUE(r.ok()) << arg << ": " << (r.ok() ? "" : r.error().detail);
  return r.ok() ? *r : MechList{};
}

#define EXPECT_ARG_FAILS(arg, want)                                                      \
  do {                                                                                   \
    auto r_ = kd::flow::parse_mech_arg(arg);                                             \
    ASSERT_FALSE(r_.ok()) << "\"" << (arg) << "\" accepted";                             \
    EXPECT_EQ(kd::code_name(r_.error().code), kd::code_name(want)) << "\"" << (arg) << "\""; \
  } while (0)

// ---- parse_mech_arg -----------------------------------------------------------------------

TEST(MechArg, NameAloneHasQ1000) { EXPECT_EQ(parsed("tls"), (MechList{{"tls", 1000}})); }

TEST(MechArg, QOfOneIs1000) {
  EXPECT_EQ(parsed("tls:1"), (MechList{{"tls", 1000}}));
  EXPECT_EQ(parsed("tls:1.0"), (MechList{{"tls", 1000}}));
  EXPECT_EQ(parsed("tls:1.000"), (MechList{{"tls", 1000}}));
}

TEST(MechArg, DecimalQIsKeptInThousandths) {
  EXPECT_EQ(parsed("tls:0.5"), (MechList{{"tls", 500}}));
  EXPECT_EQ(parsed("tls:0.125"), (MechList{{"tls", 125}}));
  EXPECT_EQ(parsed("tls:0.05"), (MechList{{"tls", 50}}));
  EXPECT_EQ(parsed("tls:0.001"), (MechList{{"tls", 1}}));
  EXPECT_EQ(parsed("tls:0.999"), (MechList{{"tls", 999}}));
}

TEST(MechArg, QOfZeroIsKept) {
  EXPECT_EQ(parsed("tls:0"), (MechList{{"tls", 0}}));
  EXPECT_EQ(parsed("tls:0.000"), (MechList{{"tls", 0}}));
}

TEST(MechArg, SeveralItemsKeepTheirOrder) {
  EXPECT_EQ(parsed("ipsec-3gpp:0.9,tls,kd-app:0.1"),
            (MechList{{"ipsec-3gpp", 900}, {"tls", 1000}, {"kd-app", 100}}));
}

TEST(MechArg, QAboveOneIsRejected) {
  EXPECT_ARG_FAILS("tls:1.5", Code::malformed);
  EXPECT_ARG_FAILS("tls:1.001", Code::malformed);
  EXPECT_ARG_FAILS("tls:2", Code::malformed);
  EXPECT_ARG_FAILS("tls:10", Code::malformed);
}

TEST(MechArg, MoreThanThreeDecimalsIsRejected) {
  EXPECT_ARG_FAILS("tls:0.1234", Code::malformed);
  EXPECT_ARG_FAILS("tls:1.0000", Code::malformed);
}

TEST(MechArg, QThatIsNotADecimalIsRejected) {
  for (const char* arg : {"tls:", "tls:.5", "tls:0.", "tls:1.", "tls:-0.5", "tls:0.5x", "tls:0x1",
                          "tls: 0.5", "tls:1:0.5", "tls:+1", "tls:1e0"})
    EXPECT_ARG_FAILS(arg, Code::malformed);
}

TEST(MechArg, UppercaseNameIsRejected) {
  EXPECT_ARG_FAILS("TLS", Code::malformed);
  EXPECT_ARG_FAILS("tls,IPsec-ike", Code::malformed);
}

TEST(MechArg, EmptyItemIsRejected) {
  EXPECT_ARG_FAILS("", Code::bad_length);
  EXPECT_ARG_FAILS("tls,,kd-app", Code::bad_length);
  EXPECT_ARG_FAILS("tls,", Code::bad_length);
  EXPECT_ARG_FAILS(",tls", Code::bad_length);
  EXPECT_ARG_FAILS(":0.5", Code::bad_length);
}

TEST(MechArg, DuplicateNameIsRejected) { EXPECT_ARG_FAILS("tls:0.5,tls:1", Code::malformed); }

TEST(MechArg, SeventeenItemsAreRejected) {
  std::string arg;
  for (int i = 0; i < 17; ++i) arg += (i ? ",m" : "m") + std::to_string(i);
  EXPECT_ARG_FAILS(arg, Code::bad_length);
}

TEST(NameList, PlainNamesAreParsedAndBadOnesRejected) {
  auto ok = kd::flow::parse_name_list("tls,kd-app");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(*ok, (std::vector<std::string>{"tls", "kd-app"}));
  EXPECT_FALSE(kd::flow::parse_name_list("tls,,kd-app").ok());
  EXPECT_FALSE(kd::flow::parse_name_list("tls:1").ok());
  EXPECT_FALSE(kd::flow::parse_name_list("TLS").ok());
}

// --support reads its list by --mechs's rules (trial 4): a name twice, or more than 16, is refused.
TEST(NameList, SameRulesAsAMechanismList) {
  auto twice = kd::flow::parse_name_list("tls,kd-app,tls");
  ASSERT_FALSE(twice.ok());
  EXPECT_EQ(twice.error().detail, kd::flow::parse_mech_arg("tls,kd-app,tls").error().detail);
  std::string arg;
  for (int i = 0; i < 17; ++i) arg += (i ? ",m" : "m") + std::to_string(i);
  auto many = kd::flow::parse_name_list(arg);
  ASSERT_FALSE(many.ok());
  EXPECT_EQ(many.error().code, Code::bad_length);
  arg = arg.substr(0, arg.rfind(','));
  EXPECT_TRUE(kd::flow::parse_name_list(arg).ok()) << "16 names";
}

// ---- choose_mechanism ---------------------------------------------------------------------

std::string chosen(const MechList& offered, const Policy& p = Policy{}) {
  auto r = kd::flow::choose_mechanism(offered, p);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().detail);
  return r.ok() ? *r : std::string("<none>");
}

Policy supporting(std::vector<std::string> names) {
  Policy p;
  p.supported = std::move(names);
  return p;
}

TEST(ChooseMechanism, HighestQWins) {
  EXPECT_EQ(chosen({{"tls", 300}, {"ipsec-3gpp", 900}, {"kd-app", 500}}), "ipsec-3gpp");
  EXPECT_EQ(chosen({{"tls", 1}, {"ipsec-ike", 2}}), "ipsec-ike");
}

TEST(ChooseMechanism, TiesGoToTheEarlierEntry) {
  EXPECT_EQ(chosen({{"kd-app", 700}, {"tls", 700}, {"ipsec-ike", 700}}), "kd-app");
  EXPECT_EQ(chosen({{"tls", 100}, {"ipsec-man", 700}, {"ipsec-ike", 700}}), "ipsec-man");
}

TEST(ChooseMechanism, UnsupportedEntriesAreSkippedWhateverTheirQ) {
  EXPECT_EQ(chosen({{"quic-x", 1000}, {"tls", 1}}), "tls");
  EXPECT_EQ(chosen({{"tls", 1000}, {"kd-app", 10}}, supporting({"kd-app"})), "kd-app");
}

TEST(ChooseMechanism, QZeroMeansNotAcceptable) {
  EXPECT_EQ(chosen({{"tls", 0}, {"kd-app", 1}}), "kd-app");
  auto r = kd::flow::choose_mechanism({{"tls", 0}}, Policy{});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Code::no_acceptable_mechanism);
}

TEST(ChooseMechanism, ForbiddenMechanismsAreNeverChosenEvenWhenSupported) {
  const Policy lax = supporting({"null", "none", "digest", "tls"});
  EXPECT_EQ(chosen({{"null", 1000}, {"none", 1000}, {"digest", 1000}, {"tls", 1}}, lax), "tls");
  for (const char* bad : {"null", "none", "digest"}) {
    auto r = kd::flow::choose_mechanism({{bad, 1000}}, lax);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().code, Code::no_acceptable_mechanism) << bad;
  }
}

TEST(ChooseMechanism, NothingAcceptableIsNoAcceptableMechanism) {
  for (const MechList& offered : {MechList{{"quic-x", 1000}}, MechList{}, MechList{{"tls", 0}, {"null", 1000}}}) {
    auto r = kd::flow::choose_mechanism(offered, Policy{});
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, Code::no_acceptable_mechanism);
  }
  auto r = kd::flow::choose_mechanism({{"tls", 1000}}, supporting({}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Code::no_acceptable_mechanism);
}

TEST(ChooseMechanism, IsForbiddenNamesExactlyNullNoneDigest) {
  EXPECT_TRUE(kd::flow::is_forbidden("null"));
  EXPECT_TRUE(kd::flow::is_forbidden("none"));
  EXPECT_TRUE(kd::flow::is_forbidden("digest"));
  EXPECT_FALSE(kd::flow::is_forbidden("tls"));
  EXPECT_FALSE(kd::flow::is_forbidden("nullx"));
}

TEST(ChooseMechanism, DefaultPolicySupportsTheDocumentedMechanisms) {
  EXPECT_EQ(Policy{}.supported,
            (std::vector<std::string>{"tls", "ipsec-3gpp", "ipsec-ike", "ipsec-man", "kd-app"}));
  EXPECT_EQ(Policy{}.skew, 300u);
  EXPECT_EQ(Policy{}.challenge_ttl, 60u);
  EXPECT_EQ(Policy{}.max_attempts, 3u);
}

}  // namespace
