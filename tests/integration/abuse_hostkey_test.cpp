// A backend presenting a different host key than the broker expects (an impostor at the server's
// address, or a reinstalled server nobody re-pinned): the broker must never send it a password,
// must say why in its log, and must keep using the other servers. Three ways to get there: a
// wrong pin, a server whose key changes under a correct pin, and a trust-on-first-use key that
// changes later.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <memory>

#include "tests/fixtures/LocalUsers.h"
#include "tests/fixtures/Testbed.h"

namespace x2gojump::test {
namespace {

using std::chrono::seconds;

// Gives b1's sshd a new host key (as if another machine answered at its address) and restarts it.
void replace_host_key(Testbed& tb) {
  const std::string key = tb.dir().file("b1") + "/ssh_host_ed25519_key";
  tb.backend(0).stop();
  shell("rm -f '" + key + "' '" + key + ".pub' && ssh-keygen -q -t ed25519 -N '' -C '' -f '" + key + "'");
  tb.backend(0).start();
}

// Every source lands on b2, b1 never saw a password, and the broker logged the mismatch.
void expect_b1_avoided(Testbed& tb) {
  for (int i = 2; i < 12; ++i) {
    std::string source = "127.0.0." + std::to_string(i);
    EXPECT_EQ(tb.landing("xjalice", source), "b2") << "from " << source;
  }
  EXPECT_EQ(read_file(tb.backend(0).log_path()).find("password for"), std::string::npos)
      << "the impostor was sent a password";
  std::string log = tb.broker().log();
  EXPECT_NE(log.find("backend b1"), std::string::npos) << log.substr(log.size() > 3000 ? log.size() - 3000 : 0);
  EXPECT_TRUE(log.find("does not match the pin") != std::string::npos ||
              log.find("host key") != std::string::npos);
}

class ImpostorBackend : public ::testing::Test {
 protected:
  void TearDown() override {
    if (HasFailure() && tb_) std::fprintf(stderr, "%s\n", tb_->diagnostics().c_str());
  }
  std::unique_ptr<Testbed> tb_;
};

TEST_F(ImpostorBackend, WrongPinIsAvoidedOtherServerServes) {
  TempDir other_key("xj-wrongkey");
  shell("ssh-keygen -q -t ed25519 -N '' -C '' -f '" + other_key.file("k") + "'");
  std::string wrong = read_file(other_key.file("k.pub"));
  wrong = wrong.substr(0, wrong.find(' ', wrong.find(' ') + 1));
  tb_ = std::make_unique<Testbed>(TestbedOptions{
      .limits_extra = "placement_ttl_s = 0\n",
      .customize = [&](BrokerSettings& s) { s.servers.at(0).host_key = wrong; }});
  expect_b1_avoided(*tb_);
}

TEST_F(ImpostorBackend, KeyChangedUnderACorrectPin) {
  tb_ = std::make_unique<Testbed>(TestbedOptions{.limits_extra = "placement_ttl_s = 0\n"});
  // Before: some sources land on b1 (otherwise avoiding it below would prove nothing).
  bool b1_used = false;
  for (int i = 2; i < 12 && !b1_used; ++i) b1_used = tb_->landing("xjalice", "127.0.0." + std::to_string(i)) == "b1";
  ASSERT_TRUE(b1_used);
  // The logins above sent b1 passwords legitimately; only count what the impostor sees.
  replace_host_key(*tb_);
  ASSERT_EQ(::truncate(tb_->backend(0).log_path().c_str(), 0), 0);
  expect_b1_avoided(*tb_);
}

TEST_F(ImpostorBackend, TrustOnFirstUseKeyChangedLater) {
  tb_ = std::make_unique<Testbed>(TestbedOptions{
      .limits_extra = "placement_ttl_s = 0\n", .customize = [](BrokerSettings& s) {
        s.broker_extra = "accept_new_backend_host_keys = true\n";
        s.servers.at(0).host_key.clear();  // b1 unpinned: its first key is learned
      }});
  bool b1_used = false;
  for (int i = 2; i < 12 && !b1_used; ++i) b1_used = tb_->landing("xjalice", "127.0.0." + std::to_string(i)) == "b1";
  ASSERT_TRUE(b1_used) << "b1's key was never learned";
  replace_host_key(*tb_);
  ASSERT_EQ(::truncate(tb_->backend(0).log_path().c_str(), 0), 0);
  expect_b1_avoided(*tb_);
}

TEST_F(ImpostorBackend, OnlyServerIsAnImpostorClearMessage) {
  tb_ = std::make_unique<Testbed>(TestbedOptions{.backends = 1});
  replace_host_key(*tb_);
  auto r = tb_->broker_client().run("xjalice", test_user("xjalice").password, "true");
  EXPECT_EQ(r.exit_code, 255) << describe(r);
  EXPECT_NE(r.err.find("x2gojump: no X2Go server available"), std::string::npos) << describe(r);
  EXPECT_LT(r.elapsed, seconds(10));
  EXPECT_EQ(read_file(tb_->backend(0).log_path()).find("password for"), std::string::npos);
}

}  // namespace
}  // namespace x2gojump::test
