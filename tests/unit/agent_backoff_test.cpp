// The agent's retry delays per broker.
#include <gtest/gtest.h>

#include "agent/report/Backoff.h"

namespace x2gojump {
namespace {

using std::chrono::milliseconds;

TEST(Backoff, DoublesFromHalfASecondUpToThirtySeconds) {
  Backoff backoff;
  std::vector<long> ceilings;
  for (int i = 0; i < 10; ++i) ceilings.push_back(backoff.next(1.0).count());
  EXPECT_EQ(ceilings,
            (std::vector<long>{500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000, 30000}));
  EXPECT_EQ(backoff.failures(), 10);
}

TEST(Backoff, JitterScalesIntoTheUpperHalf) {
  Backoff low, mid;
  EXPECT_EQ(low.next(0.0), milliseconds(250));
  EXPECT_EQ(low.next(0.0), milliseconds(500));
  EXPECT_EQ(mid.next(0.5), milliseconds(375));
  // Out-of-range randomness is clamped rather than trusted.
  Backoff wild;
  EXPECT_EQ(wild.next(-3.0), milliseconds(250));
  EXPECT_EQ(wild.next(7.0), milliseconds(1000));
}

TEST(Backoff, ResetStartsOver) {
  Backoff backoff;
  for (int i = 0; i < 5; ++i) backoff.next(1.0);
  backoff.reset();
  EXPECT_EQ(backoff.failures(), 0);
  EXPECT_EQ(backoff.next(1.0), milliseconds(500));
}

TEST(Backoff, LongOutagesStayAtTheCap) {
  Backoff backoff(milliseconds(1), milliseconds(30000));
  milliseconds last{0};
  for (int i = 0; i < 100000; ++i) last = backoff.next(1.0);
  EXPECT_EQ(last, milliseconds(30000));
}

TEST(Backoff, CustomBounds) {
  Backoff backoff(milliseconds(100), milliseconds(250));
  EXPECT_EQ(backoff.next(1.0), milliseconds(100));
  EXPECT_EQ(backoff.next(1.0), milliseconds(200));
  EXPECT_EQ(backoff.next(1.0), milliseconds(250));
}

}  // namespace
}  // namespace x2gojump
