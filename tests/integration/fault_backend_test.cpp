// Fault injection on the backend hop: the backend sshd is killed (SIGKILL, with its per-connection
// children) in the middle of a 1 GiB transfer through the broker, in each direction. The client
// must end promptly with an error (never hang), the broker must stay up, a bystander's connection
// to the other backend must keep working, and the next login must be served at once. And a
// backend that stalls (SIGSTOP) delays a login by at most the backend timeout.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <memory>

#include "tests/fixtures/LocalUsers.h"
#include "tests/fixtures/Testbed.h"
#include "tests/fixtures/Transfer.h"

namespace x2gojump::test {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using Clock = std::chrono::steady_clock;

constexpr std::uint64_t kTransferBytes = 1ull << 30;  // what the client asked for
constexpr std::uint64_t kKillAfterBytes = 256ull << 20;  // how much has moved when the backend dies

double mib(std::uint64_t bytes) { return static_cast<double>(bytes) / (1 << 20); }
double secs(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

class BackendKilled : public ::testing::Test {
 protected:
  void SetUp() override {
    tb_ = std::make_unique<Testbed>(TestbedOptions{.limits_extra = "placement_ttl_s = 0\n"});
  }
  void TearDown() override {
    if (HasFailure()) std::fprintf(stderr, "%s\n", tb_->diagnostics().c_str());
  }

  static std::string alice_pw() { return test_user("xjalice").password; }

  // A source address whose logins land on a different backend than `from`'s do.
  std::string source_not_on(const std::string& backend) {
    for (int i = 3; i < 40; ++i) {
      std::string source = "127.0.0." + std::to_string(i);
      if (tb_->landing("xjalice", source) != backend) return source;
    }
    return "";
  }

  SshdBackend& backend_named(const std::string& name) { return tb_->backend(name == "b1" ? 0 : 1); }

  // Both directions share the checks after the kill.
  void expect_clean_failure_and_recovery(Process& ssh, Clock::time_point killed_at,
                                         const std::string& err_path, SshMaster& bystander,
                                         std::uint64_t moved) {
    auto code = ssh.wait(seconds(30));
    ASSERT_TRUE(code.has_value()) << "the client still hangs 30 s after its backend died";
    double ended_after = secs(Clock::now() - killed_at);
    std::printf("[ figures  ] client exit %d %.2f s after the kill, %.0f MiB moved before it\n", *code,
                ended_after, mib(moved));
    EXPECT_NE(*code, 0) << read_file(err_path);
    EXPECT_LT(moved, kTransferBytes);
    EXPECT_TRUE(tb_->broker().running()) << "the broker died with the backend";
    EXPECT_NE(tb_->broker().log().find("backend connection lost"), std::string::npos)
        << "client stderr: " << read_file(err_path);

    // Someone else's connection to the other backend is unaffected.
    auto r = bystander.run("echo still-here");
    EXPECT_EQ(r.out, "still-here\n") << describe(r) << bystander.master_stderr();

    // The next login is served at once (the dead backend refuses the connect; the other one serves).
    auto login_start = Clock::now();
    auto again = tb_->broker_client().run("xjalice", alice_pw(), "echo $X2GOJUMP_BACKEND");
    double login_s = secs(Clock::now() - login_start);
    std::printf("[ figures  ] next login %.2f s after the failure\n", login_s);
    EXPECT_EQ(again.exit_code, 0) << describe(again);
    EXPECT_LT(login_s, 10.0);
  }

  // xjalice's logins from kVictimSource land on victim_; xjbob holds a connection to the other
  // backend (bystander_), which must survive what happens to victim_.
  void place_victim_and_bystander() {
    victim_ = tb_->landing("xjalice", kVictimSource);
    ASSERT_TRUE(victim_ == "b1" || victim_ == "b2") << victim_;
    const std::string other_source = source_not_on(victim_);
    ASSERT_FALSE(other_source.empty()) << "no source address reaches the other backend";
    bystander_ = std::make_unique<SshMaster>(tb_->broker_client(), "xjbob", test_user("xjbob").password,
                                             tb_->dir().file("ctl-bystander"),
                                             SshOptions{.source_address = other_source});
  }

  static constexpr const char* kVictimSource = "127.0.0.2";
  std::unique_ptr<Testbed> tb_;
  std::string victim_;
  std::unique_ptr<SshMaster> bystander_;
};

// The backend streams 1 GiB of zeros; ssh's stdout is a pipe the test reads and counts.
TEST_F(BackendKilled, DuringDownload) {
  ASSERT_NO_FATAL_FAILURE(place_victim_and_bystander());

  Download download(*tb_, "xjalice", kTransferBytes, {.source_address = kVictimSource});
  auto start = Clock::now();
  bool flowing = wait_until([&] { return download.received() >= kKillAfterBytes || !download.ssh().running(); },
                            seconds(120));
  ASSERT_TRUE(flowing && download.ssh().running()) << "transfer did not reach " << mib(kKillAfterBytes)
                                                   << " MiB: " << download.received() << " bytes\n"
                                                   << download.err();
  std::printf("[ figures  ] download through the broker: %.0f MiB in %.2f s\n", mib(download.received()),
              secs(Clock::now() - start));
  auto killed_at = Clock::now();
  backend_named(victim_).kill();
  expect_clean_failure_and_recovery(download.ssh(), killed_at, download.err_path(), *bystander_,
                                    download.received());
}

// The client uploads 1 GiB of zeros from a pipe the test fills; the backend discards it.
TEST_F(BackendKilled, DuringUpload) {
  ASSERT_NO_FATAL_FAILURE(place_victim_and_bystander());

  Upload upload(*tb_, "xjalice", "cat > /dev/null", kTransferBytes, {.source_address = kVictimSource});
  auto start = Clock::now();
  bool flowing =
      wait_until([&] { return upload.sent() >= kKillAfterBytes || !upload.ssh().running(); }, seconds(120));
  ASSERT_TRUE(flowing && upload.ssh().running()) << "transfer did not reach " << mib(kKillAfterBytes)
                                                 << " MiB: " << upload.sent() << " bytes\n" << upload.err();
  std::printf("[ figures  ] upload through the broker: %.0f MiB in %.2f s\n", mib(upload.sent()),
              secs(Clock::now() - start));
  auto killed_at = Clock::now();
  backend_named(victim_).kill();
  expect_clean_failure_and_recovery(upload.ssh(), killed_at, upload.err_path(), *bystander_, upload.sent());
}

// The backend stops reading in the middle of an upload (SIGSTOP on its per-connection sshd and
// the user's process): the client must be held back by the SSH windows, not buffered by the
// broker, other users stay unaffected, and the upload completes intact once the backend resumes.
using BackendStalledMidTransfer = BackendKilled;

TEST_F(BackendStalledMidTransfer, UploadWaitsWithoutBuffering) {
  const std::string source = "127.0.0.2";
  const std::string victim = tb_->landing("xjalice", source);
  ASSERT_TRUE(victim == "b1" || victim == "b2") << victim;
  std::string other_source = source_not_on(victim);
  ASSERT_FALSE(other_source.empty());
  constexpr std::uint64_t kBytes = 128ull << 20;

  Upload upload(*tb_, "xjalice", "wc -c", kBytes, {.source_address = source});
  ASSERT_TRUE(wait_until([&] { return upload.sent() >= (16u << 20) || !upload.ssh().running(); }, seconds(60)));
  ASSERT_TRUE(upload.ssh().running()) << upload.err();

  SshdBackend& stalled = backend_named(victim);
  std::vector<pid_t> sessions = descendants_of(stalled.pid());  // not the listener: new logins
  for (pid_t p : sessions) ::kill(p, SIGSTOP);
  const std::uint64_t at_stop = upload.sent();
  // Quiet means no byte for a whole second: the windows and socket buffers are full.
  bool quiet = wait_until_steady([&] { return upload.sent(); }, seconds(20), milliseconds(1000));
  const pid_t broker = tb_->broker().pid();
  const std::uint64_t rss_stalled = rss_kib(broker);
  const std::uint64_t at_quiet = upload.sent();

  auto t0 = Clock::now();
  Download other(*tb_, "xjbob", 64u << 20, {.source_address = other_source});
  other.finish();
  double other_s = secs(Clock::now() - t0);
  const std::uint64_t rss_after = rss_kib(broker);
  const std::uint64_t absorbed = upload.sent() - at_stop;
  for (pid_t p : sessions) ::kill(p, SIGCONT);
  std::printf("[ figures  ] backend stopped after %.0f MiB of upload; the path absorbed %.1f MiB more, then "
              "nothing; broker RSS %.1f -> %.1f MiB; another user's 64 MiB took %.2f s\n",
              mib(at_stop), mib(absorbed), rss_stalled / 1024.0, rss_after / 1024.0, other_s);
  EXPECT_TRUE(quiet) << "the client never stopped sending into a stopped backend";
  // Two SSH windows (client->broker, broker->backend) and the socket buffers, never the stream.
  EXPECT_LT(absorbed, 24u << 20) << "quiet after " << mib(at_quiet - at_stop) << " MiB";
  EXPECT_LT(rss_after, rss_stalled + 32 * 1024) << "the broker buffers for a backend that does not read";
  EXPECT_EQ(other.received(), 64u << 20) << other.err();
  EXPECT_LT(other_s, 30.0);

  auto code = upload.ssh().wait(seconds(120));
  EXPECT_EQ(code, 0) << upload.err();
  EXPECT_EQ(upload.out(), std::to_string(kBytes) + "\n") << "the upload lost or gained bytes";
}

// A backend that stops answering (SIGSTOP on its sshd: TCP still connects, no SSH banner ever
// comes) must cost a login no more than backend_auth_timeout before the next server is tried, and
// must not hold up logins that go elsewhere.
TEST(BackendStalled, LoginsMoveOnWithinTheAuthTimeout) {
  Testbed tb(TestbedOptions{.limits_extra = "placement_ttl_s = 0\nbackend_auth_timeout_ms = 2000\n"});
  std::string stalled_source, healthy_source;
  std::string stalled_name;
  for (int i = 2; i < 40 && (stalled_source.empty() || healthy_source.empty()); ++i) {
    std::string source = "127.0.0." + std::to_string(i);
    auto r = tb.broker_client().run("xjalice", test_user("xjalice").password, "echo $X2GOJUMP_BACKEND",
                                    {.source_address = source});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    if (stalled_name.empty()) stalled_name = r.out;
    (r.out == stalled_name ? stalled_source : healthy_source) = source;
  }
  ASSERT_FALSE(stalled_source.empty() || healthy_source.empty());
  SshdBackend& stalled = tb.backend(stalled_name == "b1\n" ? 0 : 1);
  ::kill(stalled.pid(), SIGSTOP);

  auto t0 = Clock::now();
  auto moved = tb.broker_client().run("xjalice", test_user("xjalice").password, "echo $X2GOJUMP_BACKEND",
                                      {.source_address = stalled_source});
  double moved_s = secs(Clock::now() - t0);
  t0 = Clock::now();
  auto other = tb.broker_client().run("xjbob", test_user("xjbob").password, "echo $X2GOJUMP_BACKEND",
                                      {.source_address = healthy_source});
  double other_s = secs(Clock::now() - t0);
  ::kill(stalled.pid(), SIGCONT);
  std::printf("[ figures  ] with %s stalled: its user moved on after %.2f s, another user took %.2f s\n",
              stalled_name.substr(0, 2).c_str(), moved_s, other_s);
  EXPECT_EQ(moved.exit_code, 0) << describe(moved) << tb.diagnostics();
  EXPECT_NE(moved.out, stalled_name);
  EXPECT_LT(moved_s, 2.0 + 5.0);  // the auth timeout plus a loaded machine's slack
  EXPECT_EQ(other.exit_code, 0) << describe(other);
  EXPECT_LT(other_s, 5.0);
  EXPECT_TRUE(tb.broker().running());
}

}  // namespace
}  // namespace x2gojump::test
