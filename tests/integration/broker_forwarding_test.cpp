// Port and agent forwarding through the broker (ssh -L, -R with cancel, -R port 0, -A), each also
// run straight against the backend sshd ("Direct") to prove the test itself right. The backend runs
// on this machine, so "the backend side" is 127.0.0.1 here too.
#include <gtest/gtest.h>

#include <iostream>
#include <memory>
#include <random>
#include <sstream>

#include "tests/fixtures/EchoServer.h"
#include "tests/fixtures/LocalUsers.h"
#include "tests/fixtures/Testbed.h"

namespace x2gojump::test {
namespace {

using std::chrono::seconds;

enum class Target { Direct, Broker };
void PrintTo(Target t, std::ostream* os) { *os << (t == Target::Broker ? "broker" : "direct sshd"); }

std::string random_payload(std::size_t size) {
  std::mt19937 gen(static_cast<unsigned>(size));
  std::string out(size, '\0');
  for (auto& c : out) c = static_cast<char>(gen());
  return out;
}

class Forwarding : public ::testing::TestWithParam<Target> {
 protected:
  static void SetUpTestSuite() { tb_ = std::make_unique<Testbed>(TestbedOptions{.backends = 1}); }
  static void TearDownTestSuite() { tb_.reset(); }

  void TearDown() override {
    if (HasFailure() && GetParam() == Target::Broker) std::cerr << tb_->diagnostics();
  }

  SshClient client() { return GetParam() == Target::Broker ? tb_->broker_client() : tb_->backend_client(0); }
  std::string tag() { return GetParam() == Target::Broker ? "broker" : "direct"; }
  static std::string alice_pw() { return test_user("xjalice").password; }
  std::unique_ptr<SshMaster> master(const std::string& name) {
    return std::make_unique<SshMaster>(client(), "xjalice", alice_pw(), tb_->dir().file(name + "-" + tag()));
  }

  static std::unique_ptr<Testbed> tb_;
};
std::unique_ptr<Testbed> Forwarding::tb_;

TEST_P(Forwarding, LocalForwardReachesBackendLoopback) {
  EchoServer echo;  // 127.0.0.1 only: reachable only from "the backend side"
  auto m = master("ctl-L");
  std::uint16_t lport = free_port();
  auto r = m->control("forward", {"-L", "127.0.0.1:" + std::to_string(lport) + ":127.0.0.1:" +
                                            std::to_string(echo.port())});
  ASSERT_EQ(r.exit_code, 0) << describe(r) << m->master_stderr();
  const std::string payload = random_payload(300 * 1024);  // several channel windows
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(echo_roundtrip(lport, payload) == payload) << "round trip " << i;
  }
  EXPECT_EQ(echo.connections(), 3);
  EXPECT_TRUE(m->alive()) << m->master_stderr();
}

TEST_P(Forwarding, RemoteForwardThenCancel) {
  EchoServer echo;  // "client side"
  auto m = master("ctl-R");
  std::uint16_t rport = free_port();
  std::string spec = "127.0.0.1:" + std::to_string(rport) + ":127.0.0.1:" + std::to_string(echo.port());
  auto r = m->control("forward", {"-R", spec});
  ASSERT_EQ(r.exit_code, 0) << describe(r) << m->master_stderr();
  // The mux client returns once the server accepted tcpip-forward, so sshd listens now.
  ASSERT_TRUE(tcp_port_open("127.0.0.1", rport)) << m->master_stderr();

  // A program on the backend connects to the forwarded port and reaches the client's echo server.
  r = m->run("printf 'hello via -R' | nc -N 127.0.0.1 " + std::to_string(rport));
  EXPECT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_EQ(r.out, "hello via -R");
  const std::string payload = random_payload(200 * 1024);
  EXPECT_TRUE(echo_roundtrip(rport, payload) == payload);

  r = m->control("cancel", {"-R", spec});
  EXPECT_EQ(r.exit_code, 0) << describe(r);
  // cancel-tcpip-forward is sent without want-reply, so wait until sshd has closed the port.
  EXPECT_TRUE(wait_until([&] { return !tcp_port_open("127.0.0.1", rport); }, seconds(10)))
      << "port " << rport << " still open after cancel";
  r = m->run("echo still-connected");
  EXPECT_EQ(r.out, "still-connected\n") << describe(r) << m->master_stderr();
}

TEST_P(Forwarding, RemoteForwardPortZeroReportsAllocatedPort) {
  EchoServer echo;
  auto m = master("ctl-R0");
  auto r = m->control("forward", {"-R", "127.0.0.1:0:127.0.0.1:" + std::to_string(echo.port())});
  ASSERT_EQ(r.exit_code, 0) << describe(r) << m->master_stderr();
  int port = 0;
  try {
    port = std::stoi(r.out);  // the mux client prints the port the server allocated
  } catch (const std::exception&) {
  }
  ASSERT_GT(port, 0) << describe(r);
  EXPECT_EQ(echo_roundtrip(static_cast<std::uint16_t>(port), "allocated"), "allocated");
}

TEST_P(Forwarding, AgentForwarding) {
  std::string sock = tb_->dir().file("agent-" + tag() + ".sock");
  std::string key = tb_->dir().file("agent-key-" + tag());
  std::map<std::string, std::string> env{{"SSH_AUTH_SOCK", sock}};
  ::unlink(sock.c_str());
  Process agent({.argv = {"ssh-agent", "-D", "-a", sock}});
  // ssh-add -l: 1 = agent reachable but empty, 2 = no agent yet.
  ASSERT_TRUE(wait_until([&] {
    return run_process({.argv = {"ssh-add", "-l"}, .env = env}, seconds(5)).exit_code == 1;
  }, seconds(10)));
  shell("ssh-keygen -q -t ed25519 -N '' -C xj-agent-test -f '" + key + "'");
  ASSERT_EQ(run_process({.argv = {"ssh-add", key}, .env = env}, seconds(10)).exit_code, 0);
  std::istringstream listing(shell("ssh-keygen -lf '" + key + ".pub'"));  // "256 SHA256:... comment (ED25519)"
  std::string bits, fingerprint;
  listing >> bits >> fingerprint;
  ASSERT_EQ(fingerprint.rfind("SHA256:", 0), 0u) << listing.str();

  auto r = client().run("xjalice", alice_pw(), "ssh-add -l", {.forward_agent = true, .env = env});
  EXPECT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_NE(r.out.find(fingerprint), std::string::npos) << describe(r);

  // Control: without -A the backend sees no agent at all.
  r = client().run("xjalice", alice_pw(), "ssh-add -l", {.env = env});
  EXPECT_EQ(r.exit_code, 2) << describe(r);
  agent.stop();
}

INSTANTIATE_TEST_SUITE_P(Via, Forwarding, ::testing::Values(Target::Direct, Target::Broker),
                         [](const auto& p) { return p.param == Target::Broker ? "Broker" : "Direct"; });

}  // namespace
}  // namespace x2gojump::test
