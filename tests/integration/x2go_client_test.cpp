// Real X2Go clients through the broker, end to end: pyhoca-cli and x2goclient under Xvfb run real
// X2Go sessions (x2goserver, x2goagent, xterm) on the fake hosts of an X2goFarm, which they reach
// only through the broker. Client source addresses are 127.0.0.x (LD_PRELOAD shim); they are
// chosen with the broker's own rendezvous hash so that the source-address fallback alone would
// send the client elsewhere than the session routing must, which lets each test fail.
#include <gtest/gtest.h>

#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <stdexcept>

#include "tests/fixtures/EchoServer.h"
#include "tests/fixtures/LocalUsers.h"
#include "tests/fixtures/PyhocaClient.h"
#include "tests/fixtures/X2goClientQt.h"
#include "tests/fixtures/X2goFarm.h"
#include "tests/fixtures/Xvfb.h"

namespace x2gojump::test {
namespace {

using std::chrono::seconds;

// Generous: one pyhoca-cli action takes 3-15 s on a loaded 2-core machine.
constexpr auto kAttach = seconds(180);
constexpr auto kDetach = seconds(120);
constexpr auto kBrokerSees = seconds(60);
constexpr auto kPoll = std::chrono::milliseconds(100);

class X2goClients : public ::testing::Test {
 protected:
  void SetUp() override {
    // No sticky placement: every login is routed by sessions, then by the source-IP fallback.
    farm_ = std::make_unique<X2goFarm>(X2goFarmOptions{.limits_extra = "placement_ttl_s = 0\n"});
    xvfb_ = std::make_unique<Xvfb>(farm_->dir());
  }
  void TearDown() override {
    if (HasFailure()) std::cerr << farm_->diagnostics();
    xvfb_.reset();
    farm_.reset();
  }

  // A client "machine": its own HOME, the shared Xvfb, the given source address.
  PyhocaClient pyhoca(const std::string& user, const std::string& machine,
                      const std::string& source, PyhocaSettings extra = {}) {
    extra.port = farm_->broker_port();
    extra.user = user;
    extra.password = test_user(user).password;
    extra.dir = farm_->dir() + "/client-" + machine;
    extra.display = xvfb_->display();
    extra.source_address = source;
    return PyhocaClient(std::move(extra));
  }

  // Waits until the broker's state (fed by the agents) holds session_id with status; returns the
  // server holding it, nullopt on timeout.
  std::optional<std::string> broker_sees(const std::string& session_id, char status) {
    std::optional<std::string> server;
    wait_until(
        [&] {
          for (const auto& row : farm_->broker_sessions()) {
            if (row.session_id == session_id && row.status == status) server = row.server;
          }
          return server.has_value();
        },
        kBrokerSees, kPoll);
    return server;
  }

  bool broker_forgot(const std::string& session_id) {
    return wait_until(
        [&] {
          for (const auto& row : farm_->broker_sessions()) {
            if (row.session_id == session_id) return false;
          }
          return true;
        },
        kBrokerSees, kPoll);
  }

  // A column of the session's row in host k's x2goserver session DB ("" if there is none).
  std::string host_session_column(int k, const std::string& session_id, const std::string& column) {
    RunResult r = run_process(
        {.argv = {"sqlite3", "-readonly", farm_->session_db(k),
                  "SELECT " + column + " FROM sessions WHERE session_id = '" + session_id + "'"}},
        seconds(30));
    EXPECT_EQ(r.exit_code, 0) << describe(r);
    return r.out.substr(0, r.out.find('\n'));
  }

  // The broker's log from byte offset `from` on (take broker_log_size() before an action).
  std::size_t broker_log_size() { return farm_->broker().log().size(); }
  std::string broker_log_since(std::size_t from) { return farm_->broker().log().substr(from); }
  static std::string login_line(const std::string& source, const std::string& user,
                                const std::string& server, const std::string& reason) {
    return "[" + source + "] login ok user=" + user + " server=" + server + " reason=" + reason;
  }

  std::unique_ptr<X2goFarm> farm_;
  std::unique_ptr<Xvfb> xvfb_;
};

TEST_F(X2goClients, PyhocaStartListSuspendResumeTerminate) {
  const std::string home = farm_->fallback_source(1);
  PyhocaClient client = pyhoca("xjalice", "home", home);
  auto attached = client.start("xterm");
  ASSERT_TRUE(attached->wait_attached(kAttach)) << attached->log();
  const std::string name = attached->session_name();
  ASSERT_FALSE(name.empty()) << attached->log();
  ASSERT_EQ(broker_sees(name, 'R'), farm_->host_name(1));

  PyhocaResult listed = client.list();
  ASSERT_TRUE(listed.ok) << listed.log;
  ASSERT_NE(listed.find(name), nullptr) << listed.log;
  EXPECT_EQ(listed.find(name)->status, "R") << listed.log;
  EXPECT_EQ(listed.find(name)->hostname, farm_->host_name(1)) << listed.log;

  PyhocaResult suspended = client.suspend(name);
  ASSERT_TRUE(suspended.ok) << suspended.log;
  EXPECT_TRUE(attached->wait_detached(kDetach)) << attached->log();
  ASSERT_EQ(broker_sees(name, 'S'), farm_->host_name(1));

  listed = client.list();
  ASSERT_TRUE(listed.ok) << listed.log;
  ASSERT_NE(listed.find(name), nullptr) << listed.log;
  EXPECT_EQ(listed.find(name)->status, "S") << listed.log;

  auto resumed = client.resume(name);
  ASSERT_TRUE(resumed->wait_attached(kAttach)) << resumed->log();
  ASSERT_EQ(broker_sees(name, 'R'), farm_->host_name(1));

  PyhocaResult terminated = client.terminate(name);
  ASSERT_TRUE(terminated.ok) << terminated.log;
  EXPECT_TRUE(resumed->wait_detached(kDetach)) << resumed->log();
  EXPECT_TRUE(broker_forgot(name));
  // x2goserver keeps the row as F (finished) until it is purged.
  EXPECT_EQ(host_session_column(1, name, "status"), "F");
}

TEST_F(X2goClients, PyhocaResumesFromAnotherSourceAddress) {
  // Home hashes to host 1, the road to host 2: only the session routing brings the user back.
  const std::string home = farm_->fallback_source(1);
  const std::string road = farm_->fallback_source(2);
  PyhocaClient at_home = pyhoca("xjalice", "home", home);
  PyhocaClient on_the_road = pyhoca("xjalice", "road", road);

  auto attached = at_home.start("xterm");
  ASSERT_TRUE(attached->wait_attached(kAttach)) << attached->log();
  const std::string name = attached->session_name();
  ASSERT_EQ(broker_sees(name, 'R'), farm_->host_name(1));

  // Suspended from the road (the home client notices and exits), listed and resumed from there.
  PyhocaResult suspended = on_the_road.suspend(name);
  ASSERT_TRUE(suspended.ok) << suspended.log;
  EXPECT_TRUE(attached->wait_detached(kDetach)) << attached->log();
  ASSERT_EQ(broker_sees(name, 'S'), farm_->host_name(1));

  const std::size_t mark = broker_log_size();
  PyhocaResult listed = on_the_road.list();
  ASSERT_TRUE(listed.ok) << listed.log;
  ASSERT_NE(listed.find(name), nullptr) << listed.log;
  EXPECT_EQ(listed.find(name)->status, "S") << listed.log;
  EXPECT_EQ(listed.find(name)->hostname, farm_->host_name(1)) << listed.log;

  auto resumed = on_the_road.resume(name);
  ASSERT_TRUE(resumed->wait_attached(kAttach)) << resumed->log();
  ASSERT_EQ(broker_sees(name, 'R'), farm_->host_name(1));
  EXPECT_NE(broker_log_since(mark).find(
                login_line(road, "xjalice", farm_->host_name(1), "session-suspended")),
            std::string::npos)
      << broker_log_since(mark);
}

TEST_F(X2goClients, UsersSpreadAndTheMostRecentlySuspendedSessionWins) {
  // Two users whose fallback hashes differ land on different hosts.
  PyhocaClient alice = pyhoca("xjalice", "alice", farm_->fallback_source(2));
  PyhocaClient bob = pyhoca("xjbob", "bob", farm_->fallback_source(1));
  auto alice_session = alice.start("xterm");
  auto bob_session = bob.start("xterm");
  ASSERT_TRUE(alice_session->wait_attached(kAttach)) << alice_session->log();
  ASSERT_TRUE(bob_session->wait_attached(kAttach)) << bob_session->log();
  const std::string alice_name = alice_session->session_name();
  EXPECT_EQ(broker_sees(alice_name, 'R'), farm_->host_name(2));
  EXPECT_EQ(broker_sees(bob_session->session_name(), 'R'), farm_->host_name(1));

  PyhocaResult suspended = alice.suspend(alice_name);
  ASSERT_TRUE(suspended.ok) << suspended.log;
  EXPECT_TRUE(alice_session->wait_detached(kDetach)) << alice_session->log();
  ASSERT_EQ(broker_sees(alice_name, 'S'), farm_->host_name(2));

  // alice also has an older suspended session on host 1: a session DB row suspended an hour ago,
  // written only now (while it existed, the broker would have sent her suspend request there:
  // suspended sessions rank before running ones). Her source now hashes to host 1 and host 1
  // sorts first by name, so only "most recently suspended" picks her real session on host 2.
  const std::string old_name = "xjalice-90-1700000000_stRxterm_dp24";
  farm_->exec_session_db(
      1,
      "INSERT INTO sessions (session_id, display, uname, server, client, status, init_time,"
      " last_time, cookie, agent_pid, gr_port, sound_port, fs_port, tekictrl_port, tekidata_port)"
      " VALUES ('" +
          old_name + "', 90, 'xjalice', '" + farm_->host_name(1) +
          "', '127.0.0.1', 'S',"
          " datetime('now','localtime','-2 hours'), datetime('now','localtime','-1 hour'),"
          " '0123456789abcdef0123456789abcdef', 4242, 30090, 31090, 32090, -1, -1)");
  ASSERT_EQ(broker_sees(old_name, 'S'), farm_->host_name(1));

  PyhocaClient alice_elsewhere = pyhoca("xjalice", "alice-elsewhere", farm_->fallback_source(1));
  const std::size_t mark = broker_log_size();
  PyhocaResult listed = alice_elsewhere.list();
  ASSERT_TRUE(listed.ok) << listed.log;
  ASSERT_NE(listed.find(alice_name), nullptr) << listed.log;
  EXPECT_EQ(listed.find(alice_name)->hostname, farm_->host_name(2)) << listed.log;
  EXPECT_EQ(listed.find(old_name), nullptr) << listed.log;  // it is on the other host

  auto resumed = alice_elsewhere.resume(alice_name);
  ASSERT_TRUE(resumed->wait_attached(kAttach)) << resumed->log();
  EXPECT_EQ(broker_sees(alice_name, 'R'), farm_->host_name(2));
  EXPECT_NE(broker_log_since(mark).find(
                login_line(farm_->fallback_source(1), "xjalice", farm_->host_name(2), "session-suspended")),
            std::string::npos)
      << broker_log_since(mark);
}

TEST_F(X2goClients, PyhocaResumesWithSoundAndAgentForwarding) {
  // The client's ssh-agent holds one key; its pulse server is an echo server.
  const std::string agent_dir = farm_->dir() + "/ssh-agent";
  std::filesystem::create_directories(agent_dir);
  const std::string agent_socket = agent_dir + "/agent.sock";
  Process agent({.argv = {"ssh-agent", "-D", "-a", agent_socket}});
  ASSERT_TRUE(wait_until([&] { return std::filesystem::exists(agent_socket); }, seconds(20)));
  const std::string key = agent_dir + "/id";
  shell("ssh-keygen -q -t ed25519 -N '' -C xj-e2e-agent-key -f '" + key + "' <<<y >/dev/null");
  shell("SSH_AUTH_SOCK='" + agent_socket + "' ssh-add -q '" + key + "'");
  EchoServer pulse;

  PyhocaClient client =
      pyhoca("xjalice", "home", farm_->fallback_source(2),
             {.sound = true, .pulse_port = pulse.port(), .ssh_auth_sock = agent_socket});
  auto attached = client.start("xterm");
  ASSERT_TRUE(attached->wait_attached(kAttach)) << attached->log();
  const std::string name = attached->session_name();
  ASSERT_EQ(broker_sees(name, 'R'), farm_->host_name(2));
  // Ctrl-C suspends on the client's own connection, which then cancels its sound forward with
  // an empty bind address (x2go-over-ssh.md §3): the broker must let the client finish.
  attached->interrupt();
  EXPECT_TRUE(attached->wait_detached(kDetach)) << attached->log();
  EXPECT_NE(attached->log().find("has been suspended"), std::string::npos) << attached->log();
  ASSERT_EQ(broker_sees(name, 'S'), farm_->host_name(2));

  // The resume must bring the cookie again (SFTP) and forward the sound port again. The host's
  // /tmp is a directory of its state dir; ~/.x2go/C-<session> links to /tmp/.x2go-<user>/.
  const std::string cookie_on_host =
      farm_->host_dir(2) + "/tmp/.x2go-xjalice/C-" + name + "/.pulse-cookie";
  ASSERT_TRUE(std::filesystem::remove(cookie_on_host)) << cookie_on_host;
  auto resumed = client.resume(name);
  ASSERT_TRUE(resumed->wait_attached(kAttach)) << resumed->log();
  // python-x2go sets up sound (SFTP, then tcpip-forward) alongside the attach: poll for both.
  const std::string cookie = read_file(client.home() + "/.config/pulse/cookie");
  EXPECT_TRUE(wait_until([&] { return read_file(cookie_on_host) == cookie; }, kBrokerSees, kPoll))
      << "the pulse cookie did not arrive by SFTP";

  // A pulse client on the host reaches the client's pulse server: tcpip-forward of the sound
  // port, then a forwarded-tcpip channel back through the broker.
  const std::string sound_port = host_session_column(2, name, "sound_port");
  ASSERT_FALSE(sound_port.empty());
  RunResult echoed;
  wait_until(
      [&] {
        echoed =
            farm_->run_in_host(2, "exec 3<>/dev/tcp/127.0.0.1/" + sound_port +
                                      " && printf xj-pulse-probe >&3 && timeout 30 head -c 14 <&3");
        return echoed.out == "xj-pulse-probe";
      },
      kBrokerSees, std::chrono::milliseconds(500));
  EXPECT_EQ(echoed.out, "xj-pulse-probe") << describe(echoed) << "\n" << resumed->log();
  EXPECT_GE(pulse.connections(), 1);

  // The resumed connection forwards the agent: ssh-add on the host lists the client's key.
  RunResult keys = run_process({.argv = {"bash", "-c",
                                         "for s in \"$0\"/tmp/ssh-*/agent.*; do [ -S \"$s\" ] && "
                                         "SSH_AUTH_SOCK=$s ssh-add -l; done; true",
                                         farm_->host_dir(2)}},
                               seconds(30));
  EXPECT_NE(keys.out.find("xj-e2e-agent-key"), std::string::npos) << describe(keys);
}

TEST_F(X2goClients, HostDownHidesItsSessionsAndNewSessionsStartElsewhere) {
  const std::string source = farm_->fallback_source(1);
  PyhocaClient client = pyhoca("xjalice", "home", source);
  const std::string on_host1 = farm_->insert_session(1, "xjalice", 'S');
  ASSERT_EQ(broker_sees(on_host1, 'S'), farm_->host_name(1));
  PyhocaResult listed = client.list();
  ASSERT_TRUE(listed.ok) << listed.log;
  ASSERT_NE(listed.find(on_host1), nullptr) << listed.log;
  EXPECT_EQ(listed.find(on_host1)->hostname, farm_->host_name(1)) << listed.log;

  // Host 1 goes down: sshd gone, agent silent.
  farm_->kill_agent(1);
  farm_->stop_sshd(1);
  ASSERT_TRUE(farm_->wait_for([&] { return farm_->server_health(farm_->host_name(1)) == "down"; },
                              kBrokerSees))
      << farm_->server_health(farm_->host_name(1));

  const std::size_t mark = broker_log_size();
  listed = client.list();
  ASSERT_TRUE(listed.ok) << listed.log;
  EXPECT_TRUE(listed.sessions.empty()) << listed.log;

  auto attached = client.start("xterm");
  ASSERT_TRUE(attached->wait_attached(kAttach)) << attached->log();
  EXPECT_EQ(broker_sees(attached->session_name(), 'R'), farm_->host_name(2));
  const std::string log = broker_log_since(mark);
  EXPECT_EQ(log.find("server=" + farm_->host_name(1)), std::string::npos) << log;
  EXPECT_NE(log.find(login_line(source, "xjalice", farm_->host_name(2), "fallback-source-ip")),
            std::string::npos)
      << log;
}

TEST_F(X2goClients, QtClientPasswordLoginSuspendAndResumeFromAnotherAddress) {
  const std::string home = farm_->fallback_source(1);
  const std::string road = farm_->fallback_source(2);
  auto settings = [&](const std::string& machine, const std::string& source) {
    return QtClientSettings{.port = farm_->broker_port(),
                            .user = "xjalice",
                            .password = test_user("xjalice").password,
                            .dir = farm_->dir() + "/qt-" + machine,
                            .display = xvfb_->display(),
                            .source_address = source};
  };

  std::string name;
  {
    X2goClientQt client(settings("home", home));
    ASSERT_TRUE(client.log_in(kAttach)) << client.log() << client.window_list();
    const std::string title = client.wait_session_window(kAttach);
    EXPECT_EQ(title, "xjalice@" + farm_->host_name(1) + ": ~")
        << client.window_list() << client.log();
    name = client.session_name();
    ASSERT_EQ(broker_sees(name, 'R'), farm_->host_name(1)) << client.log();
    ASSERT_TRUE(client.suspend(kDetach)) << client.log();
    ASSERT_EQ(broker_sees(name, 'S'), farm_->host_name(1));
  }

  const std::size_t mark = broker_log_size();
  X2goClientQt client(settings("road", road));
  ASSERT_TRUE(client.log_in(kAttach)) << client.log() << client.window_list();
  const std::string title = client.wait_session_window(kAttach);
  EXPECT_EQ(title, "xjalice@" + farm_->host_name(1) + ": ~")
      << client.window_list() << client.log();
  EXPECT_TRUE(client.resumed()) << client.log();
  EXPECT_TRUE(client.used_keyboard_interactive()) << client.log();
  EXPECT_EQ(client.session_name(), name);
  ASSERT_EQ(broker_sees(name, 'R'), farm_->host_name(1));
  EXPECT_NE(broker_log_since(mark).find(
                login_line(road, "xjalice", farm_->host_name(1), "session-suspended")),
            std::string::npos)
      << broker_log_since(mark);

  ASSERT_TRUE(client.terminate(kDetach)) << client.log() << client.window_list();
  EXPECT_TRUE(broker_forgot(name));
}

}  // namespace
}  // namespace x2gojump::test
