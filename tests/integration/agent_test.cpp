// The real x2gojump-agent against a session DB with X2Go's schema and stub brokers
// (tests/fixtures/agent_api_stub.py) that record every request.
#include <sqlite3.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>

#include <chrono>
#include <cstdio>
#include <memory>
#include <mutex>
#include <optional>
#include <functional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "broker/agentapi/AgentApiServer.h"
#include "broker/store/SessionStore.h"
#include "common/Snapshot.h"
#include "tests/fixtures/Process.h"
#include "tests/fixtures/TestEnv.h"

namespace x2gojump {
namespace {

using namespace std::chrono_literals;
using test::Process;
using test::ProcessOptions;
using test::TempDir;

constexpr const char* kToken = "agent-test-token-0123456789abcdef";
constexpr const char* kServer = "x2go-host-1";
constexpr const char* kHostKey =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKOzcTu/G9dPqXNYEpOGQv7NtsUiUIHqkorz/qcHfDBi";

// One request a stub recorded.
struct Request {
  double received = 0;  // unix seconds, from the stub's clock
  std::string path;
  std::string authorization;
  std::string body;
  std::optional<Snapshot> snapshot;  // body parsed as the broker would
  std::string parse_error;
};

double unix_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// A stub broker on 127.0.0.1:<free port>; survives kill() + start() on the same port.
class StubBroker {
 public:
  StubBroker(const TempDir& dir, const std::string& name, std::vector<std::string> extra = {})
      : dir_(dir), name_(name), extra_(std::move(extra)), port_(test::free_port()) {
    test::write_file(status_file(), "200\n");
  }

  void start() {
    std::vector<std::string> argv = {"python3",
                                     X2GOJUMP_FIXTURES_DIR "/agent_api_stub.py",
                                     std::to_string(port_),
                                     record_file(),
                                     "--status-file",
                                     status_file()};
    argv.insert(argv.end(), extra_.begin(), extra_.end());
    process_ = std::make_unique<Process>(ProcessOptions{.argv = argv,
                                                        .stdout_path = dir_.file(name_ + ".out"),
                                                        .stderr_path = dir_.file(name_ + ".out")});
    ASSERT_TRUE(test::wait_for_tcp_port("127.0.0.1", port_, 10s, process_.get()))
        << test::read_file(dir_.file(name_ + ".out"));
  }
  void kill() { process_->kill(); }
  void set_status(int status) { test::write_file(status_file(), std::to_string(status) + "\n"); }

  std::uint16_t port() const { return port_; }
  std::string url(bool tls = false) const {
    return (tls ? "https://127.0.0.1:" : "http://127.0.0.1:") + std::to_string(port_);
  }

  std::vector<Request> requests() const {
    std::vector<Request> requests;
    std::istringstream lines(test::read_file(record_file()));
    std::string line;
    while (std::getline(lines, line)) {
      std::vector<std::string> fields;
      std::size_t start = 0;
      for (int i = 0; i < 3; ++i) {
        std::size_t tab = line.find('\t', start);
        if (tab == std::string::npos) break;
        fields.push_back(line.substr(start, tab - start));
        start = tab + 1;
      }
      if (fields.size() != 3) continue;  // a line still being written
      Request request{std::stod(fields[0]), fields[1], fields[2], line.substr(start), {}, {}};
      SnapshotParse parsed = parse_snapshot(request.body);
      request.snapshot = parsed.snapshot;
      request.parse_error = parsed.error;
      requests.push_back(std::move(request));
    }
    return requests;
  }

  // Waits for a request after the first `after` ones whose snapshot satisfies pred.
  std::optional<Request> wait_for(const std::function<bool(const Snapshot&)>& pred,
                                  std::chrono::milliseconds timeout, std::size_t after = 0) const {
    std::optional<Request> found;
    test::wait_until(
        [&] {
          auto all = requests();
          for (std::size_t i = after; i < all.size(); ++i) {
            if (all[i].snapshot && pred(*all[i].snapshot)) {
              found = all[i];
              return true;
            }
          }
          return false;
        },
        timeout, 5ms);
    return found;
  }

 private:
  std::string record_file() const { return dir_.file(name_ + ".requests"); }
  std::string status_file() const { return dir_.file(name_ + ".status"); }

  const TempDir& dir_;
  std::string name_;
  std::vector<std::string> extra_;
  std::uint16_t port_;
  std::unique_ptr<Process> process_;
};

bool has_session(const Snapshot& snapshot, const std::string& id, char status = 0) {
  for (const SnapshotSession& session : snapshot.sessions) {
    if (session.session_id == id && (status == 0 || session.status == status)) return true;
  }
  return false;
}

class AgentTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_path_ = dir_.file("x2go_sessions");
    ASSERT_EQ(sqlite3_open(db_path_.c_str(), &db_), SQLITE_OK);
    // `sqlite3 /var/lib/x2go/x2go_sessions .schema` of Debian 12's x2goserver, sessions table.
    exec(
        "CREATE TABLE sessions(session_id varchar(500) primary key, display integer not null,"
        " uname varchar(100) not null, server varchar(100) not null, client inet,"
        " status char(1) not null default 'R',"
        " init_time timestamp not null default CURRENT_TIMESTAMP,"
        " last_time timestamp not null default CURRENT_TIMESTAMP, cookie char(33), agent_pid int,"
        " gr_port int, sound_port int, fs_port int, tekictrl_port int, tekidata_port int,"
        " unique(display))");
    test::write_file(dir_.file("token"), std::string(kToken) + "\n", 0600);
    test::write_file(dir_.file("host_ed25519_key.pub"), std::string(kHostKey) + " root@host\n");
  }
  void TearDown() override {
    if (agent_) {
      EXPECT_EQ(agent_->stop(5s), 0) << "SIGTERM must stop the agent cleanly\n" << log();
    }
    if (HasFailure()) std::fprintf(stderr, "agent log:\n%s\n", log().c_str());
    sqlite3_close(db_);
  }

  void exec(const std::string& sql) {
    char* message = nullptr;
    ASSERT_EQ(sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &message), SQLITE_OK)
        << (message ? message : "") << " in " << sql;
  }

  // As x2goinsertsession + x2gocreatesession would leave it.
  void insert_session(const std::string& id, int display, const std::string& status = "R",
                      const std::string& server = kServer) {
    exec(
        "INSERT INTO sessions (session_id, display, uname, server, status, init_time, last_time,"
        " cookie, agent_pid, client, gr_port) VALUES ('" +
        id + "', " + std::to_string(display) + ", 'x2gotest', '" + server + "', '" + status +
        "', datetime('now','localtime'), datetime('now','localtime'),"
        " 'b50f3193df8606ef4cd6e4c83f16c4ee', 4242, '10.200.1.1', 39424)");
  }

  // broker_tables: the [[broker]] tables, complete.
  void start_agent(const std::string& broker_tables) {
    test::write_file(dir_.file("agent.toml"),
                     "[agent]\nserver_name = \"" + std::string(kServer) + "\"\n" +
                         "session_db = \"" + db_path_ + "\"\n" +
                         "listsessions_command = \"/bin/false\"\n"
                         // Long, so only the DB watcher can explain a prompt update.
                         "heartbeat_interval_s = 60\n"
                         "host_key_files = [\"host_ed25519_key.pub\"]\n"
                         "log_level = \"debug\"\n\n" +
                         broker_tables);
    agent_ = std::make_unique<Process>(
        ProcessOptions{.argv = {X2GOJUMP_AGENT_BIN, "--config", dir_.file("agent.toml")},
                       .stdout_path = dir_.file("agent.log"),
                       .stderr_path = dir_.file("agent.log")});
  }

  static std::string broker_table(const StubBroker& stub) {
    return "[[broker]]\nurl = \"" + stub.url() +
           "\"\nallow_plain_http = true\n"
           "token_file = \"token\"\n\n";
  }

  std::string log() const { return test::read_file(dir_.file("agent.log")); }

  TempDir dir_{"xj-agent"};
  std::string db_path_;
  sqlite3* db_ = nullptr;
  std::unique_ptr<Process> agent_;
};

TEST_F(AgentTest, FirstSnapshotAtStartCarriesTokenSessionsLoadAndHostKeys) {
  insert_session("x2gotest-50-1795640822_stRxterm_dp24", 50, "R");
  insert_session("x2gotest-51-1795640822_stDxfce_dp24", 51, "S");
  insert_session("x2gotest-52-1795640822_stRxterm_dp24", 52, "F");
  insert_session("x2gotest-53-1795640822_stRxterm_dp24", 53, "R", "x2go-host-2");
  StubBroker stub(dir_, "stub");
  stub.start();
  auto started_us = static_cast<std::uint64_t>(unix_now() * 1e6);
  start_agent(broker_table(stub));

  auto first = stub.wait_for([](const Snapshot&) { return true; }, 5s);
  ASSERT_TRUE(first) << "no snapshot within 5 s";
  EXPECT_EQ(first->path, "/v1/snapshot");
  EXPECT_EQ(first->authorization, std::string("Bearer ") + kToken);
  ASSERT_TRUE(first->snapshot) << first->parse_error << "\n" << first->body;
  const Snapshot& snapshot = *first->snapshot;
  EXPECT_EQ(snapshot.server, kServer);
  EXPECT_GE(snapshot.sequence, started_us - 1'000'000);
  EXPECT_NEAR(static_cast<double>(snapshot.generated_at), unix_now(), 10);
  ASSERT_EQ(snapshot.sessions.size(), 2u) << first->body;
  EXPECT_TRUE(has_session(snapshot, "x2gotest-50-1795640822_stRxterm_dp24", 'R'));
  EXPECT_TRUE(has_session(snapshot, "x2gotest-51-1795640822_stDxfce_dp24", 'S'));
  for (const SnapshotSession& session : snapshot.sessions) {
    EXPECT_EQ(session.user, "x2gotest");
    // X2Go's local-time stamps converted with the agent's time zone: about now.
    EXPECT_NEAR(static_cast<double>(session.created), unix_now(), 30);
  }
  EXPECT_GE(snapshot.load.cpus, 1);
  EXPECT_GT(snapshot.load.mem_total_kb, 0u);
  ASSERT_EQ(snapshot.host_keys.size(), 1u);
  EXPECT_EQ(snapshot.host_keys[0], kHostKey);
  // The token never reaches the log, even at debug level.
  EXPECT_EQ(log().find(kToken), std::string::npos);
}

TEST_F(AgentTest, DbChangesArriveWithinOneSecond) {
  StubBroker stub(dir_, "stub");
  stub.start();
  start_agent(broker_table(stub));
  ASSERT_TRUE(stub.wait_for([](const Snapshot& s) { return s.sessions.empty(); }, 5s));

  struct Step {
    std::string what;
    std::string sql;
    std::function<bool(const Snapshot&)> expect;
  };
  const std::string id = "x2gotest-50-1795640822_stRxterm_dp24";
  std::vector<Step> steps = {
      {"new session", "", [&](const Snapshot& s) { return has_session(s, id, 'R'); }},
      {"suspend", "UPDATE sessions SET status = 'S', last_time = datetime('now','localtime')",
       [&](const Snapshot& s) { return has_session(s, id, 'S'); }},
      {"resume", "UPDATE sessions SET status = 'R'",
       [&](const Snapshot& s) { return has_session(s, id, 'R'); }},
      {"terminate", "UPDATE sessions SET status = 'F'",
       [&](const Snapshot& s) { return s.sessions.empty(); }},
  };
  std::uint64_t last_sequence = 0;
  for (const Step& step : steps) {
    std::size_t seen = stub.requests().size();
    double changed_at = unix_now();
    if (step.sql.empty()) {
      insert_session(id, 50);
    } else {
      exec(step.sql);
    }
    auto arrived = stub.wait_for(step.expect, 3s, seen);
    ASSERT_TRUE(arrived) << step.what << ": not reported within 3 s";
    double latency_ms = (arrived->received - changed_at) * 1000;
    std::printf("[ latency  ] %-12s %.1f ms from commit to the broker\n", step.what.c_str(),
                latency_ms);
    EXPECT_LT(latency_ms, 1000) << step.what;
    EXPECT_GT(arrived->snapshot->sequence, last_sequence);
    last_sequence = arrived->snapshot->sequence;
  }
}

TEST_F(AgentTest, KilledBrokerIsRetriedWithBackoffAndCaughtUpWithoutDelayingOthers) {
  StubBroker down(dir_, "down");
  StubBroker up(dir_, "up");
  down.start();
  up.start();
  start_agent(broker_table(down) + broker_table(up));
  ASSERT_TRUE(down.wait_for([](const Snapshot&) { return true; }, 5s));
  ASSERT_TRUE(up.wait_for([](const Snapshot&) { return true; }, 5s));

  down.kill();
  std::size_t up_seen = up.requests().size();
  // Three changes while one broker is away: the other gets each promptly.
  for (int display : {50, 51, 52}) {
    std::string id = "x2gotest-" + std::to_string(display) + "-1";
    double changed_at = unix_now();
    insert_session(id, display);
    auto arrived = up.wait_for([&](const Snapshot& s) { return has_session(s, id); }, 3s, up_seen);
    ASSERT_TRUE(arrived) << id;
    EXPECT_LT((arrived->received - changed_at) * 1000, 1000) << "the down broker delayed the other";
  }
  // Failed attempts are retried with growing delays (0.5 s doubling, with jitter).
  ASSERT_TRUE(test::wait_until(
      [&] {
        std::string text = log();
        std::size_t count = 0;
        for (std::size_t at = 0; (at = text.find("next attempt in", at)) != std::string::npos;
             ++at) {
          ++count;
        }
        return count >= 3;
      },
      10s))
      << "no retries";
  std::size_t down_seen = down.requests().size();
  down.start();
  auto caught_up =
      down.wait_for([](const Snapshot& s) { return s.sessions.size() == 3; }, 20s, down_seen);
  ASSERT_TRUE(caught_up) << "the returning broker did not catch up";
  // Only the newest snapshot was kept for it: one delivery, not a backlog of three.
  std::this_thread::sleep_for(500ms);  // lets a wrongly queued backlog show up; no event to wait on
  auto after = down.requests();
  EXPECT_EQ(after.size(), down_seen + 1);
  EXPECT_NE(log().find("snapshot delivered after"), std::string::npos);
}

TEST_F(AgentTest, ErrorRepliesBackOffExponentiallyAndTheNewestSnapshotFollowsRecovery) {
  StubBroker stub(dir_, "stub");
  stub.set_status(503);
  stub.start();
  start_agent(broker_table(stub));
  ASSERT_TRUE(test::wait_until([&] { return stub.requests().size() >= 5; }, 15s)) << "no retries";
  auto attempts = stub.requests();
  std::printf("[ backoff  ]");
  for (std::size_t i = 1; i < attempts.size(); ++i) {
    double gap = attempts[i].received - attempts[i - 1].received;
    std::printf(" %.0f ms", gap * 1000);
    // Ceilings double from 0.5 s and jitter keeps each delay in the upper half of its ceiling, so
    // a gap is never shorter than the one before (10 ms of scheduling slack).
    if (i >= 2) {
      EXPECT_GE(gap, attempts[i - 1].received - attempts[i - 2].received - 0.01);
    }
  }
  std::printf("\n");
  EXPECT_GE(attempts[1].received - attempts[0].received, 0.24);
  EXPECT_LE(attempts[1].received - attempts[0].received, 0.6);

  insert_session("x2gotest-50-1", 50);
  stub.set_status(200);
  std::size_t seen = stub.requests().size();
  ASSERT_TRUE(stub.wait_for([](const Snapshot& s) { return s.sessions.size() == 1; }, 20s, seen));
}

TEST_F(AgentTest, RejectedTokenIsLoggedAndNotRetriedInALoop) {
  StubBroker stub(dir_, "stub");
  stub.set_status(401);
  stub.start();
  start_agent(broker_table(stub));
  ASSERT_TRUE(test::wait_until(
      [&] { return log().find("snapshot rejected: HTTP 401") != std::string::npos; }, 5s));
  std::this_thread::sleep_for(1s);  // counting requests over a period; nothing to wait on
  // A rejected snapshot is dropped: at most the one request until the next change or heartbeat.
  EXPECT_EQ(stub.requests().size(), 1u);
}

TEST_F(AgentTest, SlowBrokerDoesNotDelayOthers) {
  StubBroker slow(dir_, "slow", {"--delay", "30"});
  StubBroker fast(dir_, "fast");
  slow.start();
  fast.start();
  start_agent(broker_table(slow) + broker_table(fast));
  ASSERT_TRUE(fast.wait_for([](const Snapshot&) { return true; }, 5s));
  std::size_t seen = fast.requests().size();
  double changed_at = unix_now();
  insert_session("x2gotest-50-1", 50);
  auto arrived = fast.wait_for([](const Snapshot& s) { return s.sessions.size() == 1; }, 3s, seen);
  ASSERT_TRUE(arrived);
  EXPECT_LT((arrived->received - changed_at) * 1000, 1000);
  // The slow one times out after 5 s and is retried.
  EXPECT_TRUE(test::wait_until(
      [&] {
        return log().find("send: timed out") != std::string::npos ||
               log().find("read reply: timed out") != std::string::npos;
      },
      10s));
}

// TLS: the broker certificate must chain to ca_file and name the host in the URL.
class AgentTlsTest : public AgentTest {
 protected:
  // A self-signed certificate for subject_alt_name ("IP:127.0.0.1", "DNS:other.example").
  void make_cert(const std::string& name, const std::string& subject_alt_name) {
    auto result = test::run_process(
        {.argv = {"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                  "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1", "-subj", "/CN=xj-test",
                  "-addext", "subjectAltName=" + subject_alt_name, "-keyout",
                  dir_.file(name + ".key"), "-out", dir_.file(name + ".pem")}},
        20s);
    ASSERT_EQ(result.exit_code, 0) << test::describe(result);
  }

  std::string tls_broker(const StubBroker& stub, const std::string& ca) {
    return "[[broker]]\nurl = \"" + stub.url(true) + "\"\ntoken_file = \"token\"\nca_file = \"" +
           dir_.file(ca + ".pem") + "\"\n\n";
  }
};

TEST_F(AgentTlsTest, DeliversOverVerifiedTls) {
  make_cert("good", "IP:127.0.0.1");
  StubBroker stub(dir_, "stub", {"--cert", dir_.file("good.pem"), "--key", dir_.file("good.key")});
  stub.start();
  start_agent(tls_broker(stub, "good"));
  auto first = stub.wait_for([](const Snapshot&) { return true; }, 5s);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->authorization, std::string("Bearer ") + kToken);
}

TEST_F(AgentTlsTest, RefusesUntrustedOrMisnamedCertificates) {
  make_cert("good", "IP:127.0.0.1");
  make_cert("other", "IP:127.0.0.1");
  make_cert("misnamed", "DNS:other.example");
  StubBroker untrusted(dir_, "untrusted",
                       {"--cert", dir_.file("good.pem"), "--key", dir_.file("good.key")});
  StubBroker misnamed(dir_, "misnamed",
                      {"--cert", dir_.file("misnamed.pem"), "--key", dir_.file("misnamed.key")});
  untrusted.start();
  misnamed.start();
  start_agent(tls_broker(untrusted, "other") + tls_broker(misnamed, "misnamed"));
  ASSERT_TRUE(test::wait_until(
      [&] {
        std::string text = log();
        std::size_t count = 0;
        for (std::size_t at = 0;
             (at = text.find("certificate verify failed", at)) != std::string::npos; ++at) {
          ++count;
        }
        return count >= 2;
      },
      10s));
  EXPECT_TRUE(untrusted.requests().empty());
  EXPECT_TRUE(misnamed.requests().empty());
}

// End to end with the broker's own agent API (in-process AgentApiServer over TLS, real store).
TEST_F(AgentTlsTest, EndToEndWithTheBrokersAgentApi) {
  make_cert("broker", "IP:127.0.0.1");
  SessionStore store(dir_.file("state.db"));
  store.sync_servers({{kServer, "127.0.0.1", 22, 1.0}});
  BrokerConfig config;
  config.agent_api.listen = {{"127.0.0.1", 0}};
  config.agent_api.tls_cert_file = dir_.file("broker.pem");
  config.agent_api.tls_key_file = dir_.file("broker.key");
  ServerConfig server;
  server.name = kServer;
  server.address = "127.0.0.1";
  server.agent_token = kToken;
  config.servers = {server};

  boost::asio::io_context io;
  boost::asio::thread_pool pool(2);
  std::mutex mutex;
  std::vector<std::uint64_t> sequences;
  AgentApiServer api(io, config, store, pool, [&](const std::string&, const Snapshot& snapshot) {
    std::lock_guard lock(mutex);
    sequences.push_back(snapshot.sequence);
  });
  api.start();
  auto guard = boost::asio::make_work_guard(io);
  std::thread io_thread([&] { io.run(); });

  insert_session("x2gotest-50-1795640822_stRxterm_dp24", 50, "R");
  start_agent("[[broker]]\nurl = \"https://127.0.0.1:" +
              std::to_string(api.local_endpoints().at(0).port()) +
              "\"\ntoken_file = \"token\"\nca_file = \"" + dir_.file("broker.pem") + "\"\n");
  auto status_in_store = [&]() -> char {
    auto sessions = store.sessions_of("x2gotest");
    return sessions.size() == 1 ? sessions[0].status : '-';
  };
  bool stored = test::wait_until([&] { return status_in_store() == 'R'; }, 5s);
  EXPECT_TRUE(stored) << "the broker's store never got the session";
  if (stored) {
    EXPECT_TRUE(store.last_report(kServer).has_value());
    double changed_at = unix_now();
    exec("UPDATE sessions SET status = 'S'");
    EXPECT_TRUE(test::wait_until([&] { return status_in_store() == 'S'; }, 3s, 1ms));
    std::printf("[ latency  ] suspend: %.1f ms from commit to the broker's store (TLS)\n",
                (unix_now() - changed_at) * 1000);
  }
  {
    std::lock_guard lock(mutex);
    for (std::size_t i = 1; i < sequences.size(); ++i) EXPECT_GT(sequences[i], sequences[i - 1]);
  }
  guard.reset();
  io.stop();
  io_thread.join();
  api.stop();
  pool.join();
}

}  // namespace
}  // namespace x2gojump
