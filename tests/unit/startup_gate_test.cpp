#include "broker/net/StartupGate.h"

#include <gtest/gtest.h>

namespace x2gojump {
namespace {

constexpr StartupLimits kLimits{10, 30, 100, 1000};

TEST(StartupGate, AdmitsEverythingBelowBegin) {
  for (int n = 0; n < 10; ++n) {
    EXPECT_TRUE(admit_connection(kLimits, n, n, 0.0)) << n;
  }
}

TEST(StartupGate, DropsEverythingAtOrAboveFull) {
  EXPECT_FALSE(admit_connection(kLimits, 100, 100, 0.999));
  EXPECT_FALSE(admit_connection(kLimits, 500, 500, 0.999));
}

TEST(StartupGate, DropsWithRateAtBegin) {
  // 30 % dropped at begin: random draws below 0.30 are dropped, above are admitted.
  EXPECT_FALSE(admit_connection(kLimits, 10, 10, 0.29));
  EXPECT_TRUE(admit_connection(kLimits, 10, 10, 0.31));
}

TEST(StartupGate, DropProbabilityRisesLinearlyToFull) {
  // Halfway between begin (10) and full (100): 30 + 70 * 0.5 = 65 % dropped.
  EXPECT_FALSE(admit_connection(kLimits, 55, 55, 0.64));
  EXPECT_TRUE(admit_connection(kLimits, 55, 55, 0.66));
}

TEST(StartupGate, AdmissionFallsMonotonicallyWithLoad) {
  int previous = 1001;
  for (int n = 10; n <= 100; n += 5) {
    int admitted = 0;
    for (int i = 0; i < 1000; ++i) admitted += admit_connection(kLimits, n, n, i / 1000.0);
    EXPECT_LE(admitted, previous) << n;
    previous = admitted;
  }
  EXPECT_EQ(previous, 0);
}

TEST(StartupGate, GlobalConnectionCapWins) {
  EXPECT_FALSE(admit_connection(kLimits, 0, 1000, 0.5));
  EXPECT_TRUE(admit_connection(kLimits, 0, 999, 0.5));
}

TEST(StartupGate, RateHundredDropsFromBegin) {
  StartupLimits strict{5, 100, 50, 1000};
  EXPECT_FALSE(admit_connection(strict, 5, 5, 0.999));
  EXPECT_TRUE(admit_connection(strict, 4, 4, 0.0));
}

}  // namespace
}  // namespace x2gojump
