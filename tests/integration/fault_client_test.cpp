// Fault injection on the client side of the broker: a client that stops reading in the middle of
// a big download (SIGSTOP: its TCP window closes) must not make the broker buffer the backend's
// data or slow anybody else down, and it resumes intact; a client killed with SIGKILL mid-transfer
// must release everything the broker held for it (backend connection, descriptors).
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <memory>

#include "tests/fixtures/LocalUsers.h"
#include "tests/fixtures/RawClient.h"
#include "tests/fixtures/Testbed.h"
#include "tests/fixtures/Transfer.h"

namespace x2gojump::test {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using Clock = std::chrono::steady_clock;

constexpr std::uint64_t kDownloadBytes = 256ull << 20;

double mib(std::uint64_t bytes) { return static_cast<double>(bytes) / (1 << 20); }

class ClientFault : public ::testing::Test {
 protected:
  void SetUp() override {
    tb_ = std::make_unique<Testbed>(TestbedOptions{.backends = 1});
    broker_pid_ = tb_->broker().pid();
    baseline_ = tb_->broker_fds_at_rest();
  }
  void TearDown() override {
    if (HasFailure()) std::fprintf(stderr, "%s\n", tb_->diagnostics().c_str());
  }

  // The broker holds no more descriptors than before the test's connections.
  void expect_no_leak() { tb_->expect_broker_fds_back_to(baseline_); }

  std::unique_ptr<Testbed> tb_;
  pid_t broker_pid_ = -1;
  Testbed::FdBaseline baseline_;
};

TEST_F(ClientFault, StalledClientNeitherBloatsTheBrokerNorSlowsOthers) {
  Download stalled(*tb_, "xjalice", kDownloadBytes);
  ASSERT_TRUE(wait_until([&] { return stalled.received() >= (32u << 20) || !stalled.ssh().running(); },
                         seconds(60)));
  ASSERT_TRUE(stalled.ssh().running()) << stalled.err();
  stalled.signal_all(SIGSTOP);
  // Wait until nothing moves any more: the client's socket and window are full, and the reader
  // drained what ssh wrote into the pipe before it stopped.
  ASSERT_TRUE(wait_until_steady([&] { return stalled.received(); }, seconds(20), milliseconds(1000)))
      << "a stopped client kept receiving";
  const std::uint64_t rss_stalled = rss_kib(broker_pid_);
  const std::uint64_t at_stall = stalled.received();

  // Someone else downloads 64 MiB meanwhile, at full speed.
  auto t0 = Clock::now();
  Download other(*tb_, "xjbob", 64u << 20);
  other.finish();
  double other_s = std::chrono::duration<double>(Clock::now() - t0).count();
  EXPECT_EQ(other.received(), 64u << 20) << other.err();
  EXPECT_EQ(stalled.received(), at_stall) << "the stopped client kept receiving";
  const std::uint64_t rss_after = rss_kib(broker_pid_);
  std::printf("[ figures  ] client stopped after %.0f MiB; broker RSS %.1f -> %.1f MiB while it stayed "
              "stopped; another user's 64 MiB took %.2f s\n",
              mib(at_stall), rss_stalled / 1024.0, rss_after / 1024.0, other_s);
  // The backend keeps writing into its stopped channel: the broker must not hold more than about
  // one SSH window of it.
  EXPECT_LT(rss_after, rss_stalled + 32 * 1024) << "the broker buffers for a client that does not read";
  EXPECT_LT(other_s, 30.0);

  // The stalled client resumes and gets every byte.
  stalled.signal_all(SIGCONT);
  stalled.finish();
  EXPECT_EQ(stalled.received(), kDownloadBytes) << stalled.err();
  expect_no_leak();
}

TEST_F(ClientFault, KilledClientReleasesEverything) {
  auto stream_one = [&](const std::string& user) {
    // Endless (1 TiB): a stream must still be flowing when the test kills its client.
    auto d = std::make_unique<Download>(*tb_, user, 1ull << 40);
    EXPECT_TRUE(wait_until([&] { return d->received() >= (16u << 20) || !d->ssh().running(); }, seconds(60)));
    return d;
  };
  std::vector<std::unique_ptr<Download>> downloads;
  for (const char* user : {"xjalice", "xjbob", "xjcarol"}) downloads.push_back(stream_one(user));
  for (auto& d : downloads) {
    ASSERT_TRUE(d->ssh().running()) << d->err();
    d->signal_all(SIGKILL);
    d->finish();
  }
  EXPECT_TRUE(tb_->broker().running());
  // The broker noticed each client going away and dropped its backend connection.
  EXPECT_TRUE(wait_until([&] {
    std::string log = tb_->broker().log();
    int closed = 0;
    for (auto at = log.find("connection closed user="); at != std::string::npos;
         at = log.find("connection closed user=", at + 1)) {
      ++closed;
    }
    return closed >= 4;  // SetUp's login and the three killed ones
  }, seconds(15))) << tb_->broker_log_tail();
  expect_no_leak();
  auto r = tb_->broker_client().run("xjalice", test_user("xjalice").password, "echo ok");
  EXPECT_EQ(r.out, "ok\n") << describe(r);
}

// Stopping the broker (SIGTERM) while a transfer runs: it exits at once with status 0, the client
// is disconnected rather than left hanging, and the end of its connection is logged.
TEST_F(ClientFault, BrokerStopEndsOpenConnectionsPromptly) {
  Download running(*tb_, "xjalice", 1ull << 40);
  ASSERT_TRUE(wait_until([&] { return running.received() >= (16u << 20) || !running.ssh().running(); },
                         seconds(60)));
  ASSERT_TRUE(running.ssh().running()) << running.err();
  const auto t0 = Clock::now();
  const int code = tb_->broker().stop();
  const double stop_s = std::chrono::duration<double>(Clock::now() - t0).count();
  std::printf("[ figures  ] broker stopped %.2f s after SIGTERM with a transfer running\n", stop_s);
  EXPECT_EQ(code, 0);
  EXPECT_LT(stop_s, 5.0);
  running.finish();
  EXPECT_NE(running.ssh().wait(seconds(0)), 0) << running.err();
  const std::string log = tb_->broker().log();
  EXPECT_NE(log.find("connection closed user=xjalice reason=\"broker shutting down\""), std::string::npos)
      << log;
}

}  // namespace
}  // namespace x2gojump::test
