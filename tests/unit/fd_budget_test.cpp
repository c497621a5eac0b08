// The file-descriptor budget: connections that fit in a descriptor limit, and raising the limit.
#include "broker/net/FdBudget.h"

#include <gtest/gtest.h>
#include <sys/resource.h>

namespace x2gojump {
namespace {

TEST(FdBudget, ReservesDescriptorsAndCountsFourPerConnection) {
  EXPECT_EQ(connections_for_fds(1024), (1024 - kReservedFds) / kFdsPerConnection);
  EXPECT_EQ(connections_for_fds(1024), 192);
  EXPECT_EQ(connections_for_fds(524288), (524288 - 256) / 4);
}

TEST(FdBudget, TinyLimitsStillAllowOneConnection) {
  EXPECT_EQ(connections_for_fds(0), 1);
  EXPECT_EQ(connections_for_fds(kReservedFds), 1);
  EXPECT_EQ(connections_for_fds(kReservedFds + kFdsPerConnection), 1);
  EXPECT_EQ(connections_for_fds(kReservedFds + 2 * kFdsPerConnection), 2);
}

TEST(FdBudget, HugeLimitsAreCapped) {
  EXPECT_EQ(connections_for_fds(UINT64_MAX), 1000000);
}

// Runs in a child so the test process keeps its own limits.
TEST(FdBudget, RaisesTheSoftLimitToTheHardLimit) {
  EXPECT_EXIT(
      {
        rlimit limit{};
        ::getrlimit(RLIMIT_NOFILE, &limit);
        rlim_t hard = limit.rlim_max;
        limit.rlim_cur = 64;
        ::setrlimit(RLIMIT_NOFILE, &limit);
        std::uint64_t now = raise_fd_limit();
        ::getrlimit(RLIMIT_NOFILE, &limit);
        bool ok = limit.rlim_cur == hard && (now == hard || (hard == RLIM_INFINITY && now == UINT64_MAX));
        std::exit(ok ? 0 : 1);
      },
      ::testing::ExitedWithCode(0), "");
}

}  // namespace
}  // namespace x2gojump
