// Logins through the broker with the stock OpenSSH client: LDAP decides, the backend must agree,
// and every refusal reaches the user as an SSH banner with a fixed text (ssh prints it on stderr).
#include <gtest/gtest.h>

#include <memory>

#include "tests/fixtures/LocalUsers.h"
#include "tests/fixtures/Testbed.h"

namespace x2gojump::test {
namespace {

using std::chrono::seconds;

void expect_refused(const RunResult& r, const std::string& banner, const Testbed& tb) {
  EXPECT_EQ(r.exit_code, 255) << describe(r);
  EXPECT_NE(r.err.find(banner), std::string::npos)
      << "expected banner \"" << banner << "\"\n" << describe(r) << "\n" << tb.diagnostics();
  EXPECT_EQ(r.out, "");
}

class BrokerAuth : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    // The backend refuses xjeve although LDAP accepts her: "the X2Go server refused the login".
    tb_ = std::make_unique<Testbed>(TestbedOptions{.backends = 1, .backend_config = {"DenyUsers xjeve\n"}});
  }
  static void TearDownTestSuite() { tb_.reset(); }

  RunResult login(const std::string& user, const std::string& password, bool kbd = false) {
    return tb_->broker_client().run(user, password, "id -un", {.keyboard_interactive = kbd});
  }

  static std::unique_ptr<Testbed> tb_;
};
std::unique_ptr<Testbed> BrokerAuth::tb_;

TEST_F(BrokerAuth, PasswordLogin) {
  auto r = login("xjalice", test_user("xjalice").password);
  EXPECT_EQ(r.exit_code, 0) << describe(r) << tb_->diagnostics();
  EXPECT_EQ(r.out, "xjalice\n");
}

TEST_F(BrokerAuth, PasswordWithUtf8AndSpace) {
  auto r = login("xjcarol", test_user("xjcarol").password);
  EXPECT_EQ(r.exit_code, 0) << describe(r) << tb_->diagnostics();
  EXPECT_EQ(r.out, "xjcarol\n");
}

TEST_F(BrokerAuth, KeyboardInteractiveLogin) {
  auto r = login("xjbob", test_user("xjbob").password, true);
  EXPECT_EQ(r.exit_code, 0) << describe(r) << tb_->diagnostics();
  EXPECT_EQ(r.out, "xjbob\n");
}

TEST_F(BrokerAuth, WrongPassword) {
  expect_refused(login("xjalice", "not-alice-secret"), "x2gojump: login incorrect", *tb_);
  // LDAP said no, so the password must never have been tried on the backend.
  EXPECT_EQ(read_file(tb_->backend(0).log_path()).find("Failed password for xjalice"), std::string::npos);
}

TEST_F(BrokerAuth, WrongPasswordKeyboardInteractive) {
  expect_refused(login("xjbob", "not-bob-secret", true), "x2gojump: login incorrect", *tb_);
}

TEST_F(BrokerAuth, UnknownUser) {
  expect_refused(login("xjnobody", "whatever"), "x2gojump: login incorrect", *tb_);
}

TEST_F(BrokerAuth, LockedUser) {
  // xjdave's password is right (LDAP and locally); only the ppolicy lock refuses him.
  expect_refused(login("xjdave", test_user("xjdave").password), "x2gojump: account locked", *tb_);
}

TEST_F(BrokerAuth, InvalidUserNames) {
  // Debian's OpenSSH 9.2 client itself refuses names like "-x" or "a(b)" (shell metacharacters),
  // so only names it lets through can reach the broker here; LoginName's unit tests cover the rest.
  for (const char* name :
       {"bad*name", "a b", ".hidden", "a/b", "Ünïcode", "x123456789012345678901234567890123"}) {
    SCOPED_TRACE(name);
    expect_refused(login(name, "alice-secret"), "x2gojump: invalid user name", *tb_);
  }
}

TEST_F(BrokerAuth, BackendRefusesLogin) {
  expect_refused(login("xjeve", test_user("xjeve").password), "x2gojump: the X2Go server refused the login",
                 *tb_);
}

TEST_F(BrokerAuth, PasswordsNeverLogged) {
  EXPECT_EQ(login("xjalice", test_user("xjalice").password).exit_code, 0);
  EXPECT_EQ(login("xjalice", "Wr0ng-Pa55-xyzzy").exit_code, 255);
  EXPECT_EQ(login("xjcarol", test_user("xjcarol").password, true).exit_code, 0);
  std::string log = tb_->broker().log();
  EXPECT_FALSE(log.empty());
  for (const char* secret : {"alice-secret", "Wr0ng-Pa55-xyzzy", "carol pässword", "broker-secret"}) {
    EXPECT_EQ(log.find(secret), std::string::npos) << "secret in the broker log: " << secret;
  }
}

// LDAP failures: each test gets its own slapd, since it breaks it.
class BrokerLdapDown : public ::testing::Test {
 protected:
  void SetUp() override {
    tb_ = std::make_unique<Testbed>(TestbedOptions{.backends = 1});
    // Warm up: the broker may keep its LDAP connection open; it must notice that it went bad.
    auto r = tb_->broker_client().run("xjalice", test_user("xjalice").password, "true");
    ASSERT_EQ(r.exit_code, 0) << describe(r) << tb_->diagnostics();
  }

  void expect_unavailable_fast() {
    auto r = tb_->broker_client().run("xjbob", test_user("xjbob").password, "true");
    expect_refused(r, "x2gojump: directory unavailable, try again later", *tb_);
    // connect_timeout 1 s + operation_timeout 2 s; a client must not wait for its own timeout.
    EXPECT_LT(r.elapsed, seconds(5));
  }

  std::unique_ptr<Testbed> tb_;
};

TEST_F(BrokerLdapDown, DirectoryStopped) {
  tb_->slapd().stop();
  expect_unavailable_fast();
}

TEST_F(BrokerLdapDown, DirectoryRecoversAfterStall) {
  tb_->slapd().pause();
  expect_unavailable_fast();
  tb_->slapd().resume();
  auto r = tb_->broker_client().run("xjalice", test_user("xjalice").password, "id -un");
  EXPECT_EQ(r.exit_code, 0) << describe(r) << tb_->diagnostics();
  EXPECT_EQ(r.out, "xjalice\n");
}

}  // namespace
}  // namespace x2gojump::test
