#include <gtest/gtest.h>

#include <chrono>
#include <thread>
#include <vector>

#include "broker/health/FailurePenalty.h"

namespace x2gojump {
namespace {

using namespace std::chrono_literals;
using Clock = FailurePenalty::Clock;

const Clock::time_point kT0 = Clock::time_point(1000h);

TEST(FailurePenalty, UnknownServerIsNotPenalised) {
  FailurePenalty penalty(180s);
  EXPECT_FALSE(penalty.penalised("b1", kT0));
  penalty.record_failure("b2", kT0);
  EXPECT_FALSE(penalty.penalised("b1", kT0));
  EXPECT_FALSE(penalty.penalised("", kT0));
}

TEST(FailurePenalty, PenalisedForExactlyThePenalty) {
  FailurePenalty penalty(180s);
  penalty.record_failure("b1", kT0);
  EXPECT_TRUE(penalty.penalised("b1", kT0));
  EXPECT_TRUE(penalty.penalised("b1", kT0 + 179s));
  EXPECT_TRUE(penalty.penalised("b1", kT0 + 180s - 1ns));
  EXPECT_FALSE(penalty.penalised("b1", kT0 + 180s));
  EXPECT_FALSE(penalty.penalised("b1", kT0 + 24h));
}

TEST(FailurePenalty, ALaterFailureExtendsAnEarlierOneNeverShortens) {
  FailurePenalty penalty(60s);
  penalty.record_failure("b1", kT0);
  penalty.record_failure("b1", kT0 + 50s);
  EXPECT_TRUE(penalty.penalised("b1", kT0 + 109s));
  EXPECT_FALSE(penalty.penalised("b1", kT0 + 110s));
  // Recorded out of order (two threads): the latest failure still counts.
  penalty.record_failure("b1", kT0);
  EXPECT_TRUE(penalty.penalised("b1", kT0 + 109s));
}

TEST(FailurePenalty, FailureAfterNowCounts) {
  FailurePenalty penalty(60s);
  penalty.record_failure("b1", kT0 + 5s);
  EXPECT_TRUE(penalty.penalised("b1", kT0));
}

TEST(FailurePenalty, ZeroPenaltyNeverPenalises) {
  FailurePenalty penalty(0s);
  penalty.record_failure("b1", kT0);
  EXPECT_FALSE(penalty.penalised("b1", kT0));
  EXPECT_FALSE(penalty.penalised("b1", kT0 - 1s));
}

TEST(FailurePenalty, ServersAreIndependent) {
  FailurePenalty penalty(60s);
  penalty.record_failure("b1", kT0);
  penalty.record_failure("b2", kT0 + 30s);
  EXPECT_FALSE(penalty.penalised("b1", kT0 + 70s));
  EXPECT_TRUE(penalty.penalised("b2", kT0 + 70s));
}

TEST(FailurePenalty, ConcurrentRecordsAndReads) {
  FailurePenalty penalty(60s);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&penalty, t] {
      const std::string server = "b" + std::to_string(t % 2);
      for (int i = 0; i < 2000; ++i) {
        penalty.record_failure(server, kT0 + std::chrono::milliseconds(i));
        EXPECT_TRUE(penalty.penalised(server, kT0 + std::chrono::milliseconds(i)));
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_TRUE(penalty.penalised("b0", kT0 + 1999ms + 60s - 1ns));
  EXPECT_FALSE(penalty.penalised("b0", kT0 + 1999ms + 60s));
  EXPECT_FALSE(penalty.penalised("b2", kT0));
}

}  // namespace
}  // namespace x2gojump
