// The admin side against the real broker binary: /metrics and the audit log after real logins,
// every x2gojumpctl command over the control socket (drain with a resumable session, restart,
// learned host keys, explain), the status page in headless Chromium, and SIGHUP reloads that
// add a server under an open SSH session or are rejected.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <ctime>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "broker/admin/ControlProtocol.h"
#include "broker/store/SessionStore.h"
#include "tests/fixtures/LocalUsers.h"
#include "tests/fixtures/RawClient.h"
#include "tests/fixtures/Testbed.h"
#include "tests/fixtures/X2goFarm.h"

namespace x2gojump::test {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using std::chrono::seconds;

// Where one suite's broker keeps its admin endpoints.
struct AdminEndpoints {
  TempDir dir{"xj-admin"};
  std::uint16_t http_port = free_port();
  std::string socket() const { return dir.file("control.sock"); }
  std::string audit_log() const { return dir.file("audit.log"); }
  std::string admin_table() const {
    return "[admin]\nlisten = [\"127.0.0.1:" + std::to_string(http_port) + "\"]\n" +
           "control_socket = " + toml_string(socket()) + "\naudit_log = " + toml_string(audit_log()) + "\n";
  }
  std::string tables() const { return admin_table() + "[health]\nprobe_interval_s = 1\n"; }
};

RunResult ctl_at(const std::string& socket, std::vector<std::string> args) {
  std::vector<std::string> argv{X2GOJUMP_CTL_BIN, "--socket", socket};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_process({.argv = argv}, std::chrono::seconds(60));
}

std::string http_get(std::uint16_t port, const std::string& path) {
  return http_exchange(port, "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
}

// The value of one series ("name{labels}") in Prometheus text, 0 if absent.
double metric(const std::string& text, const std::string& series) {
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
  }
  return 0;
}

// "SHA256:..." as ssh-keygen -l prints it for an OpenSSH public key line.
std::string keygen_fingerprint(const std::string& key) {
  std::string out = shell("ssh-keygen -l -f - <<< '" + key + "'");
  std::istringstream fields(out);
  std::string bits, fingerprint;
  fields >> bits >> fingerprint;
  return fingerprint;
}

std::int64_t unix_now() { return static_cast<std::int64_t>(std::time(nullptr)); }

// The status page's DOM as headless Chromium renders it, with a throwaway profile and no
// background traffic: the page is all it loads.
RunResult chromium_dom(std::uint16_t port) {
  TempDir profile("xj-chromium");
  return run_process({.argv = {"/usr/bin/chromium", "--headless", "--no-sandbox", "--disable-gpu",
                               "--user-data-dir=" + profile.path(), "--no-first-run",
                               "--disable-background-networking", "--disable-component-update",
                               "--disable-sync", "--disable-extensions", "--disable-default-apps",
                               "--dump-dom", "http://127.0.0.1:" + std::to_string(port) + "/"}},
                     std::chrono::seconds(120));
}

// A suite with its own testbed whose broker has the admin interfaces on; Suite::options() adds
// what the suite needs.
template <typename Suite>
class AdminSuite : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    endpoints_ = std::make_unique<AdminEndpoints>();
    TestbedOptions options = Suite::options();
    options.customize = [more = options.customize](BrokerSettings& s) {
      s.extra_tables = endpoints_->tables();
      if (more) more(s);
    };
    tb_ = std::make_unique<Testbed>(std::move(options));
    tb_->broker();
  }
  static void TearDownTestSuite() {
    tb_.reset();
    endpoints_.reset();
  }
  void TearDown() override {
    if (HasFailure()) std::cerr << tb_->diagnostics();
  }

  static RunResult ctl(std::vector<std::string> args) { return ctl_at(endpoints_->socket(), std::move(args)); }
  static nlohmann::json ctl_json(std::vector<std::string> args) {
    args.insert(args.begin(), "--json");
    RunResult r = ctl(args);
    EXPECT_EQ(r.exit_code, 0) << describe(r);
    return nlohmann::json::parse(r.out, nullptr, false);
  }
  static std::string metrics_text() { return http_body(http_get(endpoints_->http_port, "/metrics")); }

  static inline std::unique_ptr<AdminEndpoints> endpoints_;
  static inline std::unique_ptr<Testbed> tb_;
};

class AdminOps : public AdminSuite<AdminOps> {
 public:
  // b2 is not pinned: its key is learned on first use, so trust-hostkey has something to forget.
  static TestbedOptions options() {
    return {.customize = [](BrokerSettings& s) {
      s.broker_extra = "accept_new_backend_host_keys = true\n";
      s.servers.at(1).host_key.clear();
    }};
  }

 protected:
  static std::string state_of(const std::string& server) {
    const nlohmann::json answer = ctl_json({"servers"});
    for (const auto& s : answer["servers"]) {
      if (s["name"] == server) return s["state"];
    }
    return "";
  }
};

TEST_F(AdminOps, MetricsCountLoginsRoutesBytesAndChannels) {
  const std::string before = metrics_text();
  ASSERT_THAT(before, HasSubstr("# TYPE x2gojump_logins_total counter"));
  write_file(tb_->dir().file("upload.txt"), "bytes that travel up\n");
  auto ok = tb_->broker_client().run("xjalice", test_user("xjalice").password, "cat",
                                     {.stdin_path = tb_->dir().file("upload.txt")});
  ASSERT_EQ(ok.exit_code, 0) << describe(ok);
  EXPECT_EQ(ok.out, "bytes that travel up\n");
  auto refused = tb_->broker_client().run("xjbob", "not-bobs-password", "true");
  EXPECT_EQ(refused.exit_code, 255);
  // Counters move once the connections are over (bytes are published as they are relayed).
  std::string after;
  ASSERT_TRUE(wait_until(
      [&] {
        after = metrics_text();
        return metric(after, "x2gojump_connections_active") == 0;
      },
      seconds(20)));
  auto delta = [&](const std::string& series) { return metric(after, series) - metric(before, series); };
  EXPECT_EQ(delta("x2gojump_logins_total{result=\"success\",reason=\"ok\"}"), 1);
  EXPECT_GE(delta("x2gojump_logins_total{result=\"failure\",reason=\"bad-credentials\"}"), 1);
  EXPECT_GE(delta("x2gojump_connections_total"), 2);
  EXPECT_GE(delta("x2gojump_channels_total{type=\"session\"}"), 1);
  EXPECT_GE(delta("x2gojump_relay_bytes_total{direction=\"down\"}"), 21);
  EXPECT_GE(delta("x2gojump_relay_bytes_total{direction=\"up\"}"), 21);
  double routes = 0;
  for (const char* reason : {"placement", "fallback-source-ip", "session-suspended", "session-running"}) {
    routes += delta(std::string("x2gojump_routes_total{reason=\"") + reason + "\"}");
  }
  EXPECT_EQ(routes, 1);
  EXPECT_EQ(metric(after, "x2gojump_server_state{server=\"b1\",state=\"up\"}"), 1);
  const std::string response = http_get(endpoints_->http_port, "/metrics");
  EXPECT_THAT(response, HasSubstr("Content-Type: text/plain; version=0.0.4"));
}

TEST_F(AdminOps, AuditLogHasLoginsRoutesAndEndsButNoPasswords) {
  const std::string wrong_password = "wrong-Secret-4711";
  tb_->landing("xjcarol", "127.0.0.3");
  tb_->broker_client().run("xjcarol", wrong_password, "true");
  std::vector<nlohmann::json> events;
  auto has = [&](const std::string& event, const std::string& key, const std::string& value) {
    return std::any_of(events.begin(), events.end(), [&](const nlohmann::json& e) {
      return e.value("event", "") == event && e.value("user", "") == "xjcarol" && e.value(key, "") == value;
    });
  };
  ASSERT_TRUE(wait_until(
      [&] {
        events.clear();
        std::istringstream lines(read_file(endpoints_->audit_log()));
        for (std::string line; std::getline(lines, line);) {
          auto event = nlohmann::json::parse(line, nullptr, false);  // the last line may be half written
          if (event.is_object()) events.push_back(std::move(event));
        }
        return has("connection_end", "source", "127.0.0.3") && has("login", "result", "failure");
      },
      seconds(20)))
      << read_file(endpoints_->audit_log());
  EXPECT_TRUE(has("login", "result", "success"));
  EXPECT_TRUE(has("route", "server", "b1") || has("route", "server", "b2"));
  for (const auto& e : events) {
    if (e["event"] == "login" && e["result"] == "failure" && e["user"] == "xjcarol") {
      EXPECT_EQ(e["reason"], "bad-credentials");
      EXPECT_EQ(e["source"], "127.0.0.1");
    }
    if (e["event"] == "connection_end" && e["user"] == "xjcarol") {
      EXPECT_GT(e["bytes_down"].get<std::int64_t>(), 0);
      EXPECT_GE(e["duration_s"].get<double>(), 0);
    }
  }
  const std::string text = read_file(endpoints_->audit_log());
  EXPECT_THAT(text, Not(HasSubstr(wrong_password)));
  EXPECT_THAT(text, Not(HasSubstr(test_user("xjcarol").password)));
  EXPECT_THAT(tb_->broker().log(), Not(HasSubstr(wrong_password)));
}

TEST_F(AdminOps, ServersShowStateAndHostKeyFingerprints) {
  RunResult r = ctl({"servers"});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_THAT(r.out, HasSubstr("SERVER  STATE"));
  EXPECT_THAT(r.out, HasSubstr(keygen_fingerprint(tb_->backend(0).host_public_key()) + " (config)"));
  auto servers = ctl_json({"servers"})["servers"];
  ASSERT_EQ(servers.size(), 2u);
  EXPECT_EQ(servers[0]["name"], "b1");
  EXPECT_EQ(servers[1]["name"], "b2");
  EXPECT_EQ(servers[0]["host_key"]["fingerprint"], keygen_fingerprint(tb_->backend(0).host_public_key()));
}

TEST_F(AdminOps, SessionsAreListedAndFiltered) {
  const std::int64_t now = unix_now();
  {
    SessionStore store(tb_->broker().state_db());
    store.replace_sessions("b1", {SessionRecord{"xjdave-60-1_stDMATE_dp24", "xjdave", 'S', 60, now, now}});
    store.replace_sessions("b2", {SessionRecord{"xjdave-61-1_stDMATE_dp24", "xjdave", 'R', 61, now, now},
                                  SessionRecord{"xjbob-62-1_stDMATE_dp24", "xjbob", 'R', 62, now, now}});
  }
  RunResult all = ctl({"sessions"});
  ASSERT_EQ(all.exit_code, 0) << describe(all);
  EXPECT_THAT(all.out, HasSubstr("xjdave-60-1_stDMATE_dp24  suspended"));
  EXPECT_THAT(all.out, HasSubstr("xjbob-62-1_stDMATE_dp24"));
  EXPECT_EQ(ctl_json({"sessions", "--user", "xjdave"})["sessions"].size(), 2u);
  EXPECT_EQ(ctl_json({"sessions", "--server", "b2"})["sessions"].size(), 2u);
  EXPECT_EQ(ctl_json({"sessions", "--user", "xjdave", "--server", "b1"})["sessions"].size(), 1u);
  RunResult unknown = ctl({"sessions", "--server", "nope"});
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_THAT(unknown.err, HasSubstr("unknown server \"nope\""));
  SessionStore store(tb_->broker().state_db());
  store.replace_sessions("b1", {});
  store.replace_sessions("b2", {});
}

TEST_F(AdminOps, DrainedServerTakesNoNewUserButKeepsResumableSessions) {
  const std::string source = "127.0.0.31";
  const std::string drained = tb_->landing("xjbob", source);
  ASSERT_TRUE(drained == "b1" || drained == "b2") << drained;
  const std::string other = drained == "b1" ? "b2" : "b1";

  RunResult r = ctl({"drain", drained});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_THAT(r.out, HasSubstr(drained + ": draining"));
  // The same user and source (its sticky placement points at the drained server) goes elsewhere.
  EXPECT_EQ(tb_->landing("xjbob", source), other);
  // A user with a suspended session there still gets it back.
  {
    SessionStore store(tb_->broker().state_db());
    store.replace_sessions(drained, {SessionRecord{"xjeve-70-1_stDMATE_dp24", "xjeve", 'S', 70, unix_now(), unix_now()}});
  }
  EXPECT_EQ(tb_->landing("xjeve", "127.0.0.32"), drained);
  // Health rounds (every second here) must not turn it back to up; nothing to wait for but time.
  std::this_thread::sleep_for(seconds(3));
  EXPECT_EQ(state_of(drained), "draining");
  // Draining is kept in the state database across a restart.
  tb_->broker().restart();
  EXPECT_EQ(state_of(drained), "draining");

  r = ctl({"undrain", drained});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_THAT(r.out, HasSubstr(drained + ": no longer draining"));
  EXPECT_TRUE(wait_until([&] { return state_of(drained) == "up"; }, seconds(15))) << state_of(drained);
  EXPECT_THAT(read_file(endpoints_->audit_log()), HasSubstr("\"event\":\"drain\",\"server\":\"" + drained + "\""));
  SessionStore(tb_->broker().state_db()).replace_sessions(drained, {});
}

TEST_F(AdminOps, TrustHostKeyForgetsALearnedKeyAndTheNextLoginLearnsItAgain) {
  const std::string b2_key = tb_->backend(1).host_public_key();
  {
    SessionStore store(tb_->broker().state_db());
    if (!store.learned_host_key("b2")) store.learn_host_key("b2", b2_key);
  }
  RunResult pinned = ctl({"trust-hostkey", "b1"});
  EXPECT_EQ(pinned.exit_code, 1);
  EXPECT_THAT(pinned.err, HasSubstr("pinned in the configuration"));

  auto b2 = ctl_json({"servers"})["servers"][1];
  EXPECT_EQ(b2["host_key"]["source"], "learned");
  EXPECT_EQ(b2["host_key"]["fingerprint"], keygen_fingerprint(b2_key));
  RunResult r = ctl({"trust-hostkey", "b2"});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_THAT(r.out, HasSubstr("b2: learned host key forgotten"));
  EXPECT_EQ(ctl_json({"servers"})["servers"][1]["host_key"]["source"], "none");
  EXPECT_THAT(read_file(endpoints_->audit_log()), HasSubstr("\"event\":\"trust_hostkey\",\"server\":\"b2\""));

  // With b1 drained the next login goes to b2 and learns its key again (trust on first use).
  ASSERT_EQ(ctl({"drain", "b1"}).exit_code, 0);
  EXPECT_EQ(tb_->landing("xjalice", "127.0.0.41"), "b2");
  EXPECT_TRUE(wait_until([&] { return SessionStore(tb_->broker().state_db()).learned_host_key("b2") == b2_key; },
                         seconds(10)));
  EXPECT_EQ(ctl({"undrain", "b1"}).exit_code, 0);
}

TEST_F(AdminOps, ExplainShowsTheDecision) {
  RunResult r = ctl({"explain", "xjalice", "--from", "127.0.0.9"});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_THAT(r.out, HasSubstr("xjalice from 127.0.0.9: ok"));
  EXPECT_THAT(r.out, HasSubstr("no [[pool]]: every server"));
  EXPECT_THAT(r.out, HasSubstr("would try, best first:"));
  auto json = ctl_json({"explain", "xjalice", "--from", "127.0.0.9"})["explain"];
  EXPECT_EQ(json["status"], "ok");
  EXPECT_EQ(json["candidates"].size(), 2u);
  // The same answer a login gets: the first candidate is where xjalice lands from there.
  EXPECT_EQ(json["candidates"][0]["server"], tb_->landing("xjalice", "127.0.0.9"));

  RunResult unknown = ctl({"explain", "xjnobody"});
  EXPECT_EQ(unknown.exit_code, 0) << describe(unknown);
  EXPECT_THAT(unknown.out, HasSubstr("xjnobody from an unknown address: unknown-user"));
  RunResult bad = ctl({"explain", "xjalice", "--from", "not-an-address"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_THAT(bad.err, HasSubstr("not an IP address"));
}

TEST_F(AdminOps, StatusPageInHeadlessChromiumShowsEveryServer) {
  if (::access("/usr/bin/chromium", X_OK) != 0) GTEST_SKIP() << "chromium is not installed";
  RunResult r = chromium_dom(endpoints_->http_port);
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  for (std::size_t i = 0; i < tb_->backend_count(); ++i) {
    EXPECT_THAT(r.out, HasSubstr("<td>" + tb_->backend(i).name() + "</td>"));
  }
  EXPECT_THAT(r.out, HasSubstr("Servers (2)"));
  EXPECT_THAT(r.out, HasSubstr("Recent events"));
  EXPECT_THAT(r.out, HasSubstr("<meta http-equiv=\"refresh\""));
}

// A connected Unix stream socket to path, -1 on failure.
int unix_connect(const std::string& path) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::snprintf(address.sun_path, sizeof address.sun_path, "%s", path.c_str());
  if (fd >= 0 && ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// Local users who are neither the broker's user nor in its socket group cannot drive it; a
// request line longer than the limit and more than 16 connections at once are refused, and the
// socket serves its owner again right after.
TEST_F(AdminOps, ControlSocketServesOnlyItsOwnerAndGroupWithinItsLimits) {
  struct stat st {};
  ASSERT_EQ(::lstat(endpoints_->socket().c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0660u);
  EXPECT_EQ(st.st_uid, ::geteuid());

  // The directory must let "nobody" reach the socket, so that the socket's own mode decides.
  ASSERT_EQ(::chmod(endpoints_->dir.path().c_str(), 0711), 0);
  RunResult stranger = run_process(
      {.argv = {"setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", X2GOJUMP_CTL_BIN,
                "--socket", endpoints_->socket(), "drain", "b1"}},
      seconds(60));
  ::chmod(endpoints_->dir.path().c_str(), 0700);
  EXPECT_NE(stranger.exit_code, 0) << describe(stranger);
  EXPECT_THAT(stranger.err, HasSubstr("permission denied on " + endpoints_->socket()));
  EXPECT_NE(state_of("b1"), "draining");

  int long_line = unix_connect(endpoints_->socket());
  ASSERT_GE(long_line, 0);
  ASSERT_TRUE(send_all(long_line, std::string(kMaxControlRequestBytes + 100, 'x')));
  EXPECT_THAT(read_until_close(long_line, seconds(15)), HasSubstr("request too long"));
  ::close(long_line);

  std::vector<int> idle;
  for (int i = 0; i < 16; ++i) idle.push_back(unix_connect(endpoints_->socket()));
  EXPECT_EQ(std::count(idle.begin(), idle.end(), -1), 0);
  RunResult crowded = ctl({"servers"});
  EXPECT_NE(crowded.exit_code, 0) << "a 17th connection was served: " << describe(crowded);
  for (int fd : idle) ::close(fd);
  EXPECT_TRUE(wait_until([&] { return ctl({"servers"}).exit_code == 0; }, seconds(15)));
}

TEST(AdminCtl, ClearErrorWhenTheBrokerIsNotRunning) {
  TempDir dir("xj-ctl");
  RunResult missing = ctl_at(dir.file("control.sock"), {"servers"});
  EXPECT_EQ(missing.exit_code, 3);
  EXPECT_THAT(missing.err, HasSubstr("x2gojumpctl: cannot reach the broker at " + dir.file("control.sock") +
                                     ": is x2gojump-broker running?"));
  // A socket file left behind by a broker that died: nobody accepts on it.
  int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::string stale = dir.file("stale.sock");
  std::snprintf(address.sun_path, sizeof address.sun_path, "%s", stale.c_str());
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  ::close(fd);
  RunResult dead = ctl_at(stale, {"drain", "b1"});
  EXPECT_EQ(dead.exit_code, 3);
  EXPECT_THAT(dead.err, HasSubstr("is x2gojump-broker running?"));
  // Found through the broker configuration.
  write_file(dir.file("broker.toml"), "[admin]\ncontrol_socket = \"control.sock\"\n");
  RunResult via_config = run_process({.argv = {X2GOJUMP_CTL_BIN, "--config", dir.file("broker.toml"), "servers"}},
                                     std::chrono::seconds(30));
  EXPECT_EQ(via_config.exit_code, 3);
  EXPECT_THAT(via_config.err, HasSubstr("cannot reach the broker at " + dir.file("control.sock")));
}

class AdminReload : public AdminSuite<AdminReload> {
 public:
  // Three backends, the broker told about two; a reload adds the third.
  static TestbedOptions options() {
    return {.backends = 3, .customize = [](BrokerSettings& s) { s.servers.pop_back(); }};
  }

 protected:
  static std::size_t server_count() {
    nlohmann::json answer = ctl_json({"servers"});
    return answer.is_object() ? answer["servers"].size() : 0;
  }
  static void reload_with(const std::string& config) {
    write_file(tb_->broker().config_path(), config, 0600);
    ASSERT_EQ(::kill(tb_->broker().pid(), SIGHUP), 0);
  }
  static std::string third_server() {
    SshdBackend& b3 = tb_->backend(2);
    return "\n[[server]]\nname = \"b3\"\naddress = \"127.0.0.1\"\nport = " + std::to_string(b3.port()) +
           "\nhost_key = " + toml_string(b3.host_public_key()) + "\n";
  }
};

TEST_F(AdminReload, GoodConfigAddsAServerWithoutDroppingSessions) {
  const std::string original = read_file(tb_->broker().config_path());
  ASSERT_EQ(server_count(), 2u);
  SshMaster master(tb_->broker_client(), "xjalice", test_user("xjalice").password,
                   tb_->dir().file("reload-master.sock"));
  RunResult before = master.run("echo before");
  ASSERT_EQ(before.exit_code, 0) << describe(before);

  reload_with(original + third_server());
  ASSERT_TRUE(wait_until([] { return server_count() == 3; }, seconds(15))) << tb_->broker_log_tail();
  EXPECT_THAT(tb_->broker().log(), HasSubstr("configuration reloaded: 3 servers"));

  RunResult after = master.run("echo after");
  EXPECT_EQ(after.exit_code, 0) << describe(after);
  EXPECT_EQ(after.out, "after\n");
  EXPECT_TRUE(master.alive());
  // The new server is a routing target now: with b1 and b2 drained only b3 is left.
  ASSERT_EQ(ctl({"drain", "b1"}).exit_code, 0);
  ASSERT_EQ(ctl({"drain", "b2"}).exit_code, 0);
  EXPECT_EQ(tb_->landing("xjbob", "127.0.0.5"), "b3");
  ctl({"undrain", "b1"});
  ctl({"undrain", "b2"});
  EXPECT_GE(metric(metrics_text(), "x2gojump_config_reloads_total{result=\"success\"}"), 1);
}

TEST_F(AdminReload, BadConfigIsRejectedAndTheOldOneStays) {
  const std::string good = read_file(tb_->broker().config_path());
  const std::size_t servers = server_count();
  ASSERT_GE(servers, 2u);
  auto rejections = [] {
    const std::string log = tb_->broker().log();
    std::size_t count = 0;
    for (auto at = log.find("configuration reload rejected"); at != std::string::npos;
         at = log.find("configuration reload rejected", at + 1)) {
      ++count;
    }
    return count;
  };
  const std::size_t rejected_before = rejections();
  reload_with(good + "\n[[server]]\nname = \"b9\"\naddress = \"127.0.0.1\"\nbogus_key = 1\n");
  ASSERT_TRUE(wait_until([&] { return rejections() > rejected_before; }, seconds(15))) << tb_->broker_log_tail();
  EXPECT_THAT(tb_->broker().log(), HasSubstr("bogus_key: unknown key"));
  EXPECT_EQ(server_count(), servers);
  EXPECT_TRUE(tb_->broker().running());
  EXPECT_GE(metric(metrics_text(), "x2gojump_config_reloads_total{result=\"failure\"}"), 1);
  EXPECT_NE(tb_->landing("xjalice", "127.0.0.6"), "");
  EXPECT_THAT(read_file(endpoints_->audit_log()), HasSubstr("\"event\":\"config_reload\",\"result\":\"failure\""));
  write_file(tb_->broker().config_path(), good, 0600);
}

}  // namespace
}  // namespace x2gojump::test

namespace x2gojump::test {
namespace {

TEST_F(AdminReload, LimitsApplyToTheNextConnection) {
  const std::string good = read_file(tb_->broker().config_path());
  std::string one_connection = good;
  one_connection.insert(one_connection.find("[limits]\n") + 9, "max_connections = 1\n");
  SshMaster master(tb_->broker_client(), "xjbob", test_user("xjbob").password,
                   tb_->dir().file("limits-master.sock"));
  reload_with(one_connection);
  // The open connection stays; a second one is refused at accept time.
  EXPECT_TRUE(wait_until(
      [] { return tb_->broker_client().run("xjalice", test_user("xjalice").password, "true").exit_code == 255; },
      seconds(15)));
  EXPECT_EQ(master.run("echo still").out, "still\n");
  reload_with(good);
  EXPECT_TRUE(wait_until(
      [] { return tb_->broker_client().run("xjalice", test_user("xjalice").password, "true").exit_code == 0; },
      seconds(15)));
}

}  // namespace
}  // namespace x2gojump::test

namespace x2gojump::test {
namespace {

// The same against a farm of fake X2Go hosts whose agents report real x2goserver sessions.
class AdminFarm : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    endpoints_ = std::make_unique<AdminEndpoints>();
    try {
      farm_ = std::make_unique<X2goFarm>(X2goFarmOptions{
          .customize = [](BrokerSettings& s) { s.extra_tables += endpoints_->admin_table(); }});
    } catch (const std::exception& error) {
      setup_error_ = error.what();
    }
  }
  static void TearDownTestSuite() {
    farm_.reset();
    endpoints_.reset();
  }
  void SetUp() override { ASSERT_NE(farm_, nullptr) << setup_error_; }
  void TearDown() override {
    if (farm_ && HasFailure()) std::cerr << farm_->diagnostics();
  }
  static RunResult ctl(std::vector<std::string> args) { return ctl_at(endpoints_->socket(), std::move(args)); }
  static nlohmann::json servers() {
    RunResult r = ctl({"--json", "servers"});
    EXPECT_EQ(r.exit_code, 0) << describe(r);
    return nlohmann::json::parse(r.out, nullptr, false)["servers"];
  }
  // Waits until the broker's table has session id (reported by host k's agent).
  static bool reported(const std::string& id) {
    return farm_->wait_for(
        [&] {
          for (const auto& row : farm_->broker_sessions()) {
            if (row.session_id == id) return true;
          }
          return false;
        },
        seconds(15));
  }
  static std::string hostname_after_login(const std::string& user, const std::string& source) {
    RunResult r = farm_->broker_client().run(user, test_user(user).password, "hostname", {.source_address = source});
    EXPECT_EQ(r.exit_code, 0) << user << ": " << describe(r);
    return r.out.empty() ? "" : r.out.substr(0, r.out.find('\n'));
  }

  static inline std::unique_ptr<AdminEndpoints> endpoints_;
  static inline std::unique_ptr<X2goFarm> farm_;
  static inline std::string setup_error_;
};

TEST_F(AdminFarm, CtlMetricsAndStatusPageShowWhatTheAgentsReport) {
  const std::string id = farm_->insert_session(1, "xjalice", 'S');
  ASSERT_TRUE(reported(id));
  nlohmann::json list = servers();
  ASSERT_EQ(list.size(), 2u);
  for (int k = 1; k <= 2; ++k) {
    const auto& server = list[k - 1];
    EXPECT_EQ(server["name"], farm_->host_name(k));
    EXPECT_EQ(server["state"], "up");
    ASSERT_TRUE(server["last_report_age_s"].is_number()) << server;
    EXPECT_LE(server["last_report_age_s"].get<int>(), 10);
    EXPECT_EQ(server["host_key"]["fingerprint"],
              keygen_fingerprint(read_file(farm_->host_dir(k) + "/ssh_host_ed25519_key.pub")));
  }
  EXPECT_EQ(list[0]["sessions"]["suspended"], 1);
  RunResult table = ctl({"sessions", "--user", "xjalice"});
  EXPECT_THAT(table.out, HasSubstr(id));

  const std::string metrics = http_body(http_get(endpoints_->http_port, "/metrics"));
  EXPECT_GE(metric(metrics, "x2gojump_agent_reports_accepted_total"), 2);
  EXPECT_EQ(metric(metrics, "x2gojump_server_sessions{server=\"x2go-host-1\",status=\"suspended\"}"), 1);
  EXPECT_THAT(metrics, HasSubstr("x2gojump_server_last_report_age_seconds{server=\"x2go-host-2\"} "));

  if (::access("/usr/bin/chromium", X_OK) == 0) {
    RunResult page = chromium_dom(endpoints_->http_port);
    ASSERT_EQ(page.exit_code, 0) << describe(page);
    for (int k = 1; k <= farm_->host_count(); ++k) {
      EXPECT_THAT(page.out, HasSubstr("<td>" + farm_->host_name(k) + "</td>"));
    }
    EXPECT_THAT(page.out, HasSubstr("Servers (2)"));
  }
  farm_->remove_session(1, id);
}

TEST_F(AdminFarm, DrainedHostStillGivesBackAReportedSession) {
  const std::string host1 = farm_->host_name(1);
  const std::string id = farm_->insert_session(1, "xjeve", 'S');
  ASSERT_TRUE(reported(id));
  ASSERT_EQ(ctl({"drain", host1}).exit_code, 0);
  // A newcomer whose address hashes to host 1 goes to host 2; xjeve gets her session back.
  EXPECT_EQ(hostname_after_login("xjcarol", farm_->fallback_source(1)), farm_->host_name(2));
  EXPECT_EQ(hostname_after_login("xjeve", farm_->fallback_source(2)), host1);
  auto explain = nlohmann::json::parse(ctl({"--json", "explain", "xjeve"}).out, nullptr, false);
  EXPECT_EQ(explain["explain"]["candidates"][0]["server"], host1);
  EXPECT_EQ(explain["explain"]["candidates"][0]["reason"], "session-suspended");
  ASSERT_EQ(ctl({"undrain", host1}).exit_code, 0);
  EXPECT_TRUE(farm_->wait_for([&] { return farm_->server_health(host1) == "up"; }, seconds(15)));
  farm_->remove_session(1, id);
}

}  // namespace
}  // namespace x2gojump::test
