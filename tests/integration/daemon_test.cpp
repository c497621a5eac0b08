// The daemons as services: sd_notify readiness, watchdog and stop messages (a datagram socket
// stands in for systemd's NOTIFY_SOCKET), the agent's SIGHUP reload, the broker's privilege drop
// when started as root, and its refusal of secret files that others can read.
#include <gtest/gtest.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "tests/fixtures/LocalUsers.h"
#include "tests/fixtures/Process.h"
#include "tests/fixtures/TestEnv.h"
#include "tests/fixtures/Testbed.h"

namespace x2gojump {
namespace {

using namespace std::chrono_literals;
using test::Process;
using test::ProcessOptions;
using test::TempDir;

// Receives what a service would send to systemd.
class NotifySocket {
 public:
  explicit NotifySocket(const TempDir& dir) : path_(dir.file("notify")) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    path_.copy(address.sun_path, sizeof address.sun_path - 1);
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
      throw std::runtime_error("cannot bind " + path_);
    }
    // Like systemd's own socket: a daemon that dropped root can still report.
    ::chmod(dir.path().c_str(), 0755);
    ::chmod(path_.c_str(), 0666);
  }
  ~NotifySocket() { ::close(fd_); }
  const std::string& path() const { return path_; }

  // Waits for a message starting with prefix; messages before it are consumed.
  bool wait_for(const std::string& prefix, std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      char buffer[4096];
      ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
      if (n >= 0) {
        std::string message(buffer, static_cast<std::size_t>(n));
        received_.push_back(message);
        if (message.rfind(prefix, 0) == 0) return true;
        continue;
      }
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return false;
      pollfd p{fd_, POLLIN, 0};
      ::poll(&p, 1, static_cast<int>(left.count()));
    }
  }
  std::string history() const {
    std::string all;
    for (const auto& m : received_) all += "[" + m + "] ";
    return all;
  }

 private:
  std::string path_;
  int fd_ = -1;
  std::vector<std::string> received_;
};

// tests/fixtures/agent_api_stub.py: records every POST ("time\tpath\tAuthorization\tbody").
class Stub {
 public:
  Stub(const TempDir& dir, const std::string& name)
      : record_(dir.file(name + ".requests")), port_(test::free_port()) {
    process_ = std::make_unique<Process>(ProcessOptions{
        .argv = {"python3", X2GOJUMP_FIXTURES_DIR "/agent_api_stub.py", std::to_string(port_),
                 record_},
        .stderr_path = dir.file(name + ".err")});
    if (!test::wait_for_tcp_port("127.0.0.1", port_, 10s, process_.get())) {
      throw std::runtime_error("stub broker did not start");
    }
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  // Requests so far that carried this bearer token.
  int count(const std::string& token) const {
    std::istringstream lines(test::read_file(record_));
    int n = 0;
    for (std::string line; std::getline(lines, line);) {
      if (line.find("\tBearer " + token + "\t") != std::string::npos) ++n;
    }
    return n;
  }

 private:
  std::string record_;
  std::uint16_t port_;
  std::unique_ptr<Process> process_;
};

class AgentServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // An empty session table with X2Go's schema (agent_test.cpp covers the rows).
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(dir_.file("x2go_sessions").c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db,
                           "CREATE TABLE sessions(session_id varchar(500) primary key,"
                           " display integer not null, uname varchar(100) not null,"
                           " server varchar(100) not null, client inet,"
                           " status char(1) not null default 'R', init_time timestamp,"
                           " last_time timestamp, cookie char(33), agent_pid int, gr_port int,"
                           " sound_port int, fs_port int, tekictrl_port int, tekidata_port int)",
                           nullptr, nullptr, nullptr),
              SQLITE_OK);
    sqlite3_close(db);
    test::write_file(dir_.file("token-a"), std::string(kTokenA) + "\n", 0600);
    test::write_file(dir_.file("token-b"), std::string(kTokenB) + "\n", 0600);
  }
  void TearDown() override {
    if (HasFailure()) std::fprintf(stderr, "agent log:\n%s\n", log().c_str());
  }

  void write_config(const Stub& broker, const std::string& token_file) {
    test::write_file(dir_.file("agent.toml"),
                     "[agent]\nserver_name = \"h1\"\n"
                     "session_db = \"" + dir_.file("x2go_sessions") + "\"\n"
                     "listsessions_command = \"/bin/false\"\n"
                     "heartbeat_interval_s = 1\n"
                     "host_key_files = []\n\n"
                     "[[broker]]\nurl = \"" + broker.url() + "\"\nallow_plain_http = true\n"
                     "token_file = \"" + token_file + "\"\n");
  }
  std::string log() const { return test::read_file(dir_.file("agent.log")); }

  static constexpr const char* kTokenA = "daemon-test-token-aaaaaaaaaaaaaaaa";
  static constexpr const char* kTokenB = "daemon-test-token-bbbbbbbbbbbbbbbb";
  TempDir dir_{"xj-daemon"};
};

TEST_F(AgentServiceTest, NotifiesAndReloadsOnSighupKeepingTheRunningConfigWhenTheNewOneIsBad) {
  NotifySocket notify(dir_);
  Stub a(dir_, "a");
  Stub b(dir_, "b");
  write_config(a, "token-a");
  Process agent(ProcessOptions{
      .argv = {X2GOJUMP_AGENT_BIN, "--config", dir_.file("agent.toml")},
      .env = {{"NOTIFY_SOCKET", notify.path()}, {"WATCHDOG_USEC", "400000"}},
      .stdout_path = dir_.file("agent.log"),
      .stderr_path = dir_.file("agent.log")});

  ASSERT_TRUE(notify.wait_for("READY=1", 20s)) << notify.history();
  ASSERT_TRUE(test::wait_until([&] { return a.count(kTokenA) >= 1; }, 20s));
  // Pings every 200 ms from the event loop.
  ASSERT_TRUE(notify.wait_for("WATCHDOG=1", 5s)) << notify.history();
  ASSERT_TRUE(notify.wait_for("WATCHDOG=1", 5s)) << notify.history();

  // A valid new configuration: another broker, another token file.
  write_config(b, "token-b");
  agent.signal(SIGHUP);
  ASSERT_TRUE(notify.wait_for("RELOADING=1", 20s)) << notify.history();
  ASSERT_TRUE(notify.wait_for("READY=1", 20s)) << notify.history();
  ASSERT_TRUE(test::wait_until([&] { return b.count(kTokenB) >= 1; }, 20s)) << log();
  // The old generation is gone before the new one sends: broker a hears nothing more.
  const int a_after_reload = a.count(kTokenA);
  ASSERT_TRUE(test::wait_until([&] { return b.count(kTokenB) >= 3; }, 20s));
  EXPECT_EQ(a.count(kTokenA), a_after_reload);
  ASSERT_TRUE(notify.wait_for("WATCHDOG=1", 5s)) << "no pings after the reload";

  // A bad configuration is rejected; the agent keeps reporting to b.
  test::write_file(dir_.file("agent.toml"), "[agent]\nno_such_key = 1\n");
  agent.signal(SIGHUP);
  ASSERT_TRUE(notify.wait_for("RELOADING=1", 20s)) << notify.history();
  ASSERT_TRUE(notify.wait_for("READY=1", 20s)) << notify.history();
  EXPECT_NE(log().find("reload rejected"), std::string::npos) << log();
  const int b_before = b.count(kTokenB);
  EXPECT_TRUE(test::wait_until([&] { return b.count(kTokenB) >= b_before + 2; }, 20s));
  EXPECT_TRUE(agent.running());

  EXPECT_EQ(agent.stop(10s), 0);
  EXPECT_TRUE(notify.wait_for("STOPPING=1", 5s)) << notify.history();
}

// A broker configuration without LDAP or backends behind it: enough to start or to be refused.
struct LoneBroker {
  explicit LoneBroker(const TempDir& dir) : dir_(dir) {
    test::shell("ssh-keygen -q -t ed25519 -N '' -C '' -f '" + key() + "' <<<y >/dev/null");
  }
  std::string key() const { return dir_.file("host_key"); }
  std::string state_db() const { return dir_.file("state.db"); }
  test::RunResult run(const std::string& broker_extra = "", const std::string& tables = "") const {
    test::write_file(dir_.file("broker.toml"),
                     "[broker]\nlisten = [\"127.0.0.1:" + std::to_string(test::free_port()) +
                         "\"]\nhost_keys = [\"" + key() + "\"]\nstate_db = \"" + state_db() +
                         "\"\n" + broker_extra +
                         "\n[ldap]\nuris = [\"ldap://127.0.0.1:9\"]\n"
                         "base_dn = \"dc=example,dc=org\"\n"
                         "\n[[server]]\nname = \"b1\"\naddress = \"127.0.0.1\"\nport = 9\n" +
                         tables);
    return test::run_process({.argv = {X2GOJUMP_BROKER_BIN, "--config", dir_.file("broker.toml")}},
                             30s);
  }
  const TempDir& dir_;
};

TEST(BrokerFileModes, RefusesSecretFilesOthersCanAccess) {
  TempDir dir("xj-daemon");
  LoneBroker broker(dir);

  test::write_file(broker.state_db(), "", 0644);
  auto r = broker.run();
  EXPECT_EQ(r.exit_code, 1) << test::describe(r);
  EXPECT_NE(r.err.find(broker.state_db() + " is accessible by others (mode 0644"),
            std::string::npos)
      << test::describe(r);
  ::unlink(broker.state_db().c_str());

  ::chmod(broker.key().c_str(), 0640);
  r = broker.run();
  EXPECT_EQ(r.exit_code, 1) << test::describe(r);
  EXPECT_NE(r.err.find("is accessible by group or others"), std::string::npos) << test::describe(r);
  ::chmod(broker.key().c_str(), 0600);

  test::shell("cd '" + dir.path() + "' && openssl req -x509 -newkey ec -pkeyopt "
              "ec_paramgen_curve:P-256 -nodes -keyout api.key -out api.crt -subj /CN=localhost "
              "-days 1 2>/dev/null && chmod 644 api.key");
  r = broker.run("", "\n[agent_api]\nlisten = [\"127.0.0.1:" + std::to_string(test::free_port()) +
                         "\"]\ntls_cert = \"api.crt\"\ntls_key = \"api.key\"\n");
  EXPECT_EQ(r.exit_code, 1) << test::describe(r);
  EXPECT_NE(r.err.find(dir.file("api.key") + " is accessible by others"), std::string::npos)
      << test::describe(r);
}

TEST(BrokerFileModes, RefusesAnUnknownServiceUser) {
  if (::geteuid() != 0) GTEST_SKIP() << "the privilege drop needs root";
  TempDir dir("xj-daemon");
  LoneBroker broker(dir);
  auto r = broker.run("user = \"xj-no-such-user\"\n");
  EXPECT_EQ(r.exit_code, 1) << test::describe(r);
  EXPECT_NE(r.err.find("user \"xj-no-such-user\" does not exist"), std::string::npos)
      << test::describe(r);
}

// "Uid:\t0\t0\t0\t0" -> the four numbers.
std::vector<unsigned long> status_ids(pid_t pid, const std::string& field) {
  std::istringstream lines(test::read_file("/proc/" + std::to_string(pid) + "/status"));
  std::vector<unsigned long> ids;
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind(field + ":", 0) != 0) continue;
    std::istringstream values(line.substr(field.size() + 1));
    for (unsigned long id; values >> id;) ids.push_back(id);
  }
  return ids;
}

std::string status_field(pid_t pid, const std::string& field) {
  std::istringstream lines(test::read_file("/proc/" + std::to_string(pid) + "/status"));
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind(field + ":\t", 0) == 0) return line.substr(field.size() + 2);
  }
  return "";
}

TEST(BrokerService, DropsRootToTheConfiguredUserNotifiesAndServesLogins) {
  if (::geteuid() != 0) GTEST_SKIP() << "the privilege drop needs root";
  const passwd* nobody = ::getpwnam("nobody");
  ASSERT_NE(nobody, nullptr);
  const unsigned long uid = nobody->pw_uid, gid = nobody->pw_gid;

  TempDir dir("xj-daemon");
  NotifySocket notify(dir);
  test::Testbed tb({.backends = 1, .customize = [](test::BrokerSettings& s) {
                      s.broker_extra += "user = \"nobody\"\n";
                      // The broker reads the CA file at each LDAP connection, i.e. as nobody, and
                      // the fixture's is root's alone; plain ldap:// does not need it.
                      s.ldap.ca_file.clear();
                    }});
  // The broker inherits this environment; later tests must not.
  ::setenv("NOTIFY_SOCKET", notify.path().c_str(), 1);
  ::setenv("WATCHDOG_USEC", "400000", 1);
  struct Unset {
    ~Unset() {
      ::unsetenv("NOTIFY_SOCKET");
      ::unsetenv("WATCHDOG_USEC");
    }
  } unset;
  test::BrokerProcess& broker = tb.broker();
  ::unsetenv("NOTIFY_SOCKET");
  ::unsetenv("WATCHDOG_USEC");

  ASSERT_TRUE(notify.wait_for("READY=1", 20s)) << notify.history() << tb.diagnostics();
  const pid_t pid = broker.pid();
  EXPECT_EQ(status_ids(pid, "Uid"), std::vector<unsigned long>(4, uid));
  EXPECT_EQ(status_ids(pid, "Gid"), std::vector<unsigned long>(4, gid));
  for (unsigned long group : status_ids(pid, "Groups")) EXPECT_NE(group, 0u);
  EXPECT_EQ(status_field(pid, "CapEff"), "0000000000000000");
  EXPECT_EQ(status_field(pid, "CapPrm"), "0000000000000000");
  EXPECT_NE(broker.log().find("switched to user nobody"), std::string::npos) << broker.log();

  // The state DB opened as root now belongs to the user, so a start as that user works too.
  struct stat info {};
  ASSERT_EQ(::stat(broker.state_db().c_str(), &info), 0);
  EXPECT_EQ(info.st_uid, uid);

  auto r = tb.broker_client().run("xjalice", test::test_user("xjalice").password,
                                  "echo $X2GOJUMP_BACKEND");
  EXPECT_EQ(r.exit_code, 0) << test::describe(r) << tb.diagnostics();
  EXPECT_EQ(r.out, "b1\n");
  EXPECT_TRUE(notify.wait_for("WATCHDOG=1", 5s)) << notify.history();

  broker.stop();
  EXPECT_TRUE(notify.wait_for("STOPPING=1", 5s)) << notify.history();
}

}  // namespace
}  // namespace x2gojump
