// Fault injection on the directory: slapd killed (SIGKILL) or stalled (SIGSTOP: TCP still
// connects, nothing answers). New logins must fail fast with "directory unavailable" within the
// configured LDAP timeouts (connect 1 s, operation 2 s in the test config), and at the same time an
// already-established connection through the broker must keep relaying: an open forwarded channel
// keeps echoing with low latency, and new channels on that connection still open.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <future>
#include <memory>
#include <random>

#include "tests/fixtures/EchoServer.h"
#include "tests/fixtures/LocalUsers.h"
#include "tests/fixtures/RawClient.h"
#include "tests/fixtures/Testbed.h"

namespace x2gojump::test {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using Clock = std::chrono::steady_clock;

constexpr const char* kDirectoryDown = "x2gojump: directory unavailable, try again later";

std::string random_bytes(std::size_t size, unsigned seed) {
  std::mt19937 gen(seed);
  std::string out(size, '\0');
  for (auto& c : out) c = static_cast<char>(gen());
  return out;
}

// Sends payload on an open echo connection and reads the same number of bytes back.
bool echo_on(int fd, const std::string& payload) {
  if (!send_all(fd, payload)) return false;
  std::string got;
  auto deadline = Clock::now() + seconds(10);
  while (got.size() < payload.size() && Clock::now() < deadline) {
    char buf[16384];
    ssize_t n = ::read(fd, buf, std::min(sizeof buf, payload.size() - got.size()));
    if (n <= 0) return false;
    got.append(buf, static_cast<std::size_t>(n));
  }
  return got == payload;
}

class DirectoryFault : public ::testing::Test {
 protected:
  void SetUp() override {
    tb_ = std::make_unique<Testbed>(TestbedOptions{.backends = 1});
    master_ = std::make_unique<SshMaster>(tb_->broker_client(), "xjalice", test_user("xjalice").password,
                                          tb_->dir().file("ctl-established"));
    lport_ = free_port();
    auto r = master_->control("forward", {"-L", "127.0.0.1:" + std::to_string(lport_) + ":127.0.0.1:" +
                                                    std::to_string(echo_.port())});
    ASSERT_EQ(r.exit_code, 0) << describe(r) << master_->master_stderr();
    live_ = tcp_connect(lport_);
    ASSERT_GE(live_, 0);
    ASSERT_TRUE(echo_on(live_, random_bytes(64 * 1024, 1))) << "the channel does not work before the fault";
  }
  void TearDown() override {
    if (live_ >= 0) ::close(live_);
    if (HasFailure()) std::fprintf(stderr, "%s\n", tb_->diagnostics().c_str());
    master_.reset();
  }

  // While the directory is broken: parallel new logins are refused fast and the established
  // connection keeps relaying the whole time.
  void expect_fail_fast_while_relaying() {
    const std::vector<std::string> users{"xjbob", "xjcarol", "xjeve", "xjalice"};
    std::vector<std::future<RunResult>> logins;
    for (const auto& user : users) {
      logins.push_back(std::async(std::launch::async, [this, user] {
        return tb_->broker_client().run(user, test_user(user).password, "true");
      }));
    }
    int round_trips = 0;
    Clock::duration worst{0};
    const std::string chunk = random_bytes(64 * 1024, 2);
    auto all_done = [&] {
      return std::all_of(logins.begin(), logins.end(),
                         [](auto& f) { return f.wait_for(seconds(0)) == std::future_status::ready; });
    };
    while (!all_done()) {
      auto t0 = Clock::now();
      ASSERT_TRUE(echo_on(live_, chunk)) << "the established channel broke during the outage";
      worst = std::max(worst, Clock::now() - t0);
      ++round_trips;
    }
    double slowest_login = 0;
    for (auto& f : logins) {
      RunResult r = f.get();
      EXPECT_EQ(r.exit_code, 255) << describe(r);
      EXPECT_NE(r.err.find(kDirectoryDown), std::string::npos) << describe(r);
      slowest_login = std::max(slowest_login, std::chrono::duration<double>(r.elapsed).count());
    }
    double worst_ms = std::chrono::duration<double, std::milli>(worst).count();
    std::printf("[ figures  ] %zu logins refused, slowest after %.2f s; %d echo round trips of 64 KiB "
                "meanwhile, slowest %.1f ms\n",
                users.size(), slowest_login, round_trips, worst_ms);
    // connect 1 s + one operation 2 s, plus client start and key exchange on a loaded machine.
    EXPECT_LT(slowest_login, 5.0);
    EXPECT_GT(round_trips, 0);
    EXPECT_LT(worst_ms, 1000.0) << "relaying stalled while logins waited for the directory";

    // The established connection still opens new channels (exec and direct-tcpip): no LDAP needed.
    auto r = master_->run("echo alive");
    EXPECT_EQ(r.out, "alive\n") << describe(r) << master_->master_stderr();
    const std::string big = random_bytes(1 << 20, 3);
    EXPECT_TRUE(echo_roundtrip(lport_, big) == big) << "a new forwarded channel failed";
    EXPECT_TRUE(echo_on(live_, big)) << "the long-lived channel failed after the outage";
    EXPECT_TRUE(tb_->broker().running());
  }

  EchoServer echo_;
  std::unique_ptr<Testbed> tb_;
  std::unique_ptr<SshMaster> master_;
  std::uint16_t lport_ = 0;
  int live_ = -1;
};

TEST_F(DirectoryFault, KilledDirectory) {
  tb_->slapd().kill();
  expect_fail_fast_while_relaying();
}

TEST_F(DirectoryFault, StalledDirectory) {
  tb_->slapd().pause();
  expect_fail_fast_while_relaying();
  tb_->slapd().resume();
  auto r = tb_->broker_client().run("xjbob", test_user("xjbob").password, "id -un");
  EXPECT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_EQ(r.out, "xjbob\n");
}

}  // namespace
}  // namespace x2gojump::test
