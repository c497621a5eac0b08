// Session channels through the broker: exec, exit codes, stdout/stderr, bulk data both ways, sftp,
// a pty with window changes, and many channels on one connection. Every test also runs straight
// against the backend sshd ("Direct"), which proves the test itself right.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <pty.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <iostream>
#include <memory>

#include "tests/fixtures/LocalUsers.h"
#include "tests/fixtures/Testbed.h"

namespace x2gojump::test {
namespace {

using std::chrono::seconds;

enum class Target { Direct, Broker };
void PrintTo(Target t, std::ostream* os) { *os << (t == Target::Broker ? "broker" : "direct sshd"); }

class Relay : public ::testing::TestWithParam<Target> {
 protected:
  static void SetUpTestSuite() { tb_ = std::make_unique<Testbed>(TestbedOptions{.backends = 1}); }
  static void TearDownTestSuite() {
    big_file_.clear();
    tb_.reset();
  }

  void TearDown() override {
    if (HasFailure() && GetParam() == Target::Broker) std::cerr << tb_->diagnostics();
  }

  SshClient client() { return GetParam() == Target::Broker ? tb_->broker_client() : tb_->backend_client(0); }
  std::string tag() { return GetParam() == Target::Broker ? "broker" : "direct"; }
  static std::string alice_pw() { return test_user("xjalice").password; }
  RunResult alice(const std::string& command, SshOptions options = {}) {
    return client().run("xjalice", alice_pw(), command, options);
  }

  // 100 MiB of random data, made once per suite run and readable by the test users.
  static const std::string& big_file() {
    if (big_file_.empty()) {
      std::string p = tb_->dir().file("big.bin");
      shell("head -c 100M /dev/urandom > '" + p + "' && chmod 644 '" + p + "'");
      big_file_ = p;
    }
    return big_file_;
  }
  static std::string sha256_of(const std::string& path) {
    std::string out = shell("sha256sum < '" + path + "'");
    return out.substr(0, 64);
  }

  static std::unique_ptr<Testbed> tb_;
  static std::string big_file_;
};
std::unique_ptr<Testbed> Relay::tb_;
std::string Relay::big_file_;

TEST_P(Relay, ExecExitCodes) {
  for (int code : {0, 3, 42}) {
    auto r = alice("exit " + std::to_string(code));
    EXPECT_EQ(r.exit_code, code) << describe(r);
  }
}

TEST_P(Relay, ExitBySignalIs255) {
  auto r = alice("kill -9 $$");
  EXPECT_EQ(r.exit_code, 255) << describe(r);
}

TEST_P(Relay, StdoutAndStderrSeparated) {
  auto r = alice("echo to-stdout; echo to-stderr >&2; echo more-stdout");
  EXPECT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_EQ(r.out, "to-stdout\nmore-stdout\n");
  EXPECT_NE(r.err.find("to-stderr\n"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("stdout"), std::string::npos) << r.err;
}

TEST_P(Relay, EnvironmentAndUser) {
  auto r = alice("id -un; echo $HOME; echo $X2GOJUMP_BACKEND");
  EXPECT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_EQ(r.out, "xjalice\n/home/xjalice\nb1\n");
}

TEST_P(Relay, Upload100MiB) {
  const std::string& file = big_file();
  auto r = alice("sha256sum", {.stdin_path = file, .timeout = seconds(120)});
  EXPECT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_EQ(r.out, sha256_of(file) + "  -\n");
}

TEST_P(Relay, Download100MiB) {
  const std::string& file = big_file();
  std::string got = tb_->dir().file("download-" + tag() + ".bin");
  auto r = alice("cat '" + file + "'", {.stdout_path = got, .timeout = seconds(120)});
  EXPECT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_EQ(shell("stat -c %s '" + got + "'"), "104857600\n");
  EXPECT_EQ(sha256_of(got), sha256_of(file));
  ::unlink(got.c_str());
}

TEST_P(Relay, SftpPutGetByteIdentical) {
  std::string src = tb_->dir().file("sftp-src-" + tag() + ".bin");
  std::string back = tb_->dir().file("sftp-back-" + tag() + ".bin");
  std::string remote = "xj-sftp-" + tag() + "-" + std::to_string(::getpid()) + ".bin";
  shell("head -c 8M /dev/urandom > '" + src + "'");
  std::string batch = tb_->dir().file("sftp-batch-" + tag());
  write_file(batch, "put " + src + " " + remote + "\nget " + remote + " " + back + "\nrm " + remote + "\n");
  auto r = client().sftp("xjalice", alice_pw(), batch);
  EXPECT_EQ(r.exit_code, 0) << describe(r);
  std::string original = read_file(src);
  EXPECT_EQ(original.size(), 8u << 20);
  EXPECT_TRUE(read_file(back) == original) << "sftp get differs from put";
}

TEST_P(Relay, PtyWithWindowChange) {
  // ssh takes the pty size from its stdin, so give it a real terminal with a known size.
  int master = -1, slave = -1;
  winsize size{37, 101, 0, 0};
  ASSERT_EQ(::openpty(&master, &slave, nullptr, nullptr, &size), 0);
  ::fcntl(master, F_SETFD, FD_CLOEXEC);
  ::fcntl(slave, F_SETFD, FD_CLOEXEC);
  std::string out = tb_->dir().file("pty-" + tag() + ".out");
  std::string err = out + ".err";
  SshOptions o{.force_tty = true};
  // Report the size, then wait for SIGWINCH and report the new one.
  std::string command =
      "tty; stty size; trap 'stty size; exit 7' WINCH; echo armed; while :; do sleep 0.05; done";
  auto ssh = std::make_unique<Process>(ProcessOptions{.argv = client().ssh_argv("xjalice", command, o),
                                                      .env = SshClient::process_env(alice_pw(), o),
                                                      .stdin_fd = slave,
                                                      .stdout_path = out,
                                                      .stderr_path = err});
  ::close(slave);
  bool armed = wait_until([&] { return read_file(out).find("armed") != std::string::npos || !ssh->running(); },
                          seconds(20)) &&
               ssh->running();
  ASSERT_TRUE(armed) << read_file(out) << read_file(err);
  size = {50, 120, 0, 0};
  ASSERT_EQ(::ioctl(master, TIOCSWINSZ, &size), 0);
  // The ssh under sshpass reads the new size from its stdin (our pty) on SIGWINCH.
  for (pid_t p : descendants_of(ssh->pid())) ::kill(p, SIGWINCH);
  auto code = ssh->wait(seconds(20));
  ::close(master);
  std::string text = read_file(out);
  EXPECT_EQ(code, 7) << text << read_file(err);
  EXPECT_NE(text.find("/dev/pts/"), std::string::npos) << text;
  EXPECT_NE(text.find("37 101\r\n"), std::string::npos) << text;
  EXPECT_NE(text.find("50 120\r\n"), std::string::npos) << text;
}

TEST_P(Relay, FiftyParallelChannelsOnOneConnection) {
  std::string ctl = tb_->dir().file("ctl-" + tag());
  SshMaster master(client(), "xjalice", alice_pw(), ctl);
  std::vector<std::unique_ptr<Process>> clients;
  for (int i = 0; i < 50; ++i) {
    std::string base = ctl + "-" + std::to_string(i);
    clients.push_back(master.start("echo " + std::to_string(i), base + ".out", base + ".err"));
  }
  for (int i = 0; i < 50; ++i) {
    std::string base = ctl + "-" + std::to_string(i);
    auto code = clients[static_cast<std::size_t>(i)]->wait(seconds(60));
    EXPECT_EQ(code, 0) << "channel " << i << ": " << read_file(base + ".err");
    EXPECT_EQ(read_file(base + ".out"), std::to_string(i) + "\n") << "channel " << i;
  }
  EXPECT_TRUE(master.alive()) << master.master_stderr();
}

INSTANTIATE_TEST_SUITE_P(Via, Relay, ::testing::Values(Target::Direct, Target::Broker),
                         [](const auto& p) { return p.param == Target::Broker ? "Broker" : "Direct"; });

}  // namespace
}  // namespace x2gojump::test
