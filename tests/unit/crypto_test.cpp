#include <gtest/gtest.h>

#include "crypto/suite.hpp"

TEST(Suites, DefaultIsAes128) { EXPECT_EQ(kd::crypto::default_suite().name, "KD-AES128GCM-SHA256"); }
