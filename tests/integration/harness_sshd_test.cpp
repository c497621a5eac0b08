// Checks the test harness itself against a plain sshd (no broker), so a broker test failure
// can't be blamed on the fixtures.
#include <gtest/gtest.h>

#include "tests/fixtures/EchoServer.h"
#include "tests/fixtures/LocalUsers.h"
#include "tests/fixtures/SshClient.h"
#include "tests/fixtures/SshdBackend.h"
#include "tests/fixtures/TestEnv.h"

namespace x2gojump::test {
namespace {

class HarnessSshd : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ensure_local_users();
    dir_ = new TempDir("xj-harness");
    sshd_ = new SshdBackend("h1", dir_->file("h1"));
  }
  static void TearDownTestSuite() {
    delete sshd_;
    delete dir_;
  }
  static TempDir* dir_;
  static SshdBackend* sshd_;
};
TempDir* HarnessSshd::dir_ = nullptr;
SshdBackend* HarnessSshd::sshd_ = nullptr;

TEST_F(HarnessSshd, PasswordLoginReportsBackendName) {
  SshClient ssh("127.0.0.1", sshd_->port());
  auto r = ssh.run("xjcarol", test_user("xjcarol").password, "id -un; echo $X2GOJUMP_BACKEND");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "xjcarol\nh1\n");
}

TEST_F(HarnessSshd, WrongPasswordIsSshFailure) {
  SshClient ssh("127.0.0.1", sshd_->port());
  auto r = ssh.run("xjalice", "not-the-password", "true");
  EXPECT_EQ(r.exit_code, 255) << r.err;
  EXPECT_NE(r.err.find("Permission denied"), std::string::npos) << r.err;
}

TEST_F(HarnessSshd, HostKeyIsOpenSshLine) {
  EXPECT_EQ(sshd_->host_public_key().rfind("ssh-ed25519 AAAA", 0), 0u) << sshd_->host_public_key();
  EXPECT_EQ(sshd_->host_public_key().find(' ', 12), std::string::npos);
}

TEST_F(HarnessSshd, EchoServerEchoesAndCloses) {
  EchoServer echo;
  EXPECT_EQ(echo_roundtrip(echo.port(), "hello echo"), "hello echo");
  EXPECT_EQ(echo.connections(), 1);
}

TEST_F(HarnessSshd, ProcessTimeoutKillsTree) {
  auto r = run_process({.argv = {"bash", "-c", "sleep 30 & sleep 30"}}, std::chrono::milliseconds(200));
  EXPECT_EQ(r.exit_code, -1);
  EXPECT_LT(r.elapsed, std::chrono::seconds(5));
}

}  // namespace
}  // namespace x2gojump::test
