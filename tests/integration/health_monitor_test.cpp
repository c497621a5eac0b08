// HealthMonitor end to end: real probes against a real sshd, a closed port and a silent listener,
// agent heartbeats, draining kept by admins, transitions written to the store and logged.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <spdlog/sinks/ringbuffer_sink.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "broker/health/HealthMonitor.h"
#include "broker/store/SessionStore.h"
#include "tests/fixtures/SshdBackend.h"
#include "tests/fixtures/TestEnv.h"

namespace x2gojump {
namespace {

using namespace std::chrono_literals;

using test::LoopbackSocket;

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

class HealthMonitorTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new test::TempDir("xj-health");
    sshd_ = new test::SshdBackend("hm1", dir_->file("hm1"));
  }
  static void TearDownTestSuite() {
    delete sshd_;
    delete dir_;
  }

  void SetUp() override {
    log_ = std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(200);
    log_->set_pattern("%v");
    previous_logger_ = spdlog::default_logger();
    spdlog::set_default_logger(std::make_shared<spdlog::logger>("health-test", log_));

    config_.health.heartbeat_interval = 1s;
    config_.health.stale_after_intervals = 2;
    config_.health.probe_interval = 1s;
    config_.health.probe_timeout = 300ms;
    config_.health.down_after_failures = 2;
    add_server("b-up", sshd_->port());
    add_server("b-dead", dead_.port());
    add_server("b-silent", silent_.port());
    add_server("b-agent", sshd_->port());
    std::vector<ServerRecord> records;
    for (const ServerConfig& s : config_.servers) records.push_back({s.name, s.address, s.port, 1.0});
    store_.sync_servers(records);
  }

  void TearDown() override {
    if (monitor_) monitor_->stop();
    if (io_thread_.joinable()) io_thread_.join();  // run() returns once stop() left no work
    pool_.join();
    monitor_.reset();
    spdlog::set_default_logger(previous_logger_);
  }

  void add_server(const std::string& name, std::uint16_t port) {
    ServerConfig server;
    server.name = name;
    server.address = "127.0.0.1";
    server.port = port;
    config_.servers.push_back(server);
  }

  void start() {
    monitor_ = std::make_unique<HealthMonitor>(io_, config_, store_, pool_);
    monitor_->start();
    io_thread_ = std::thread([this] { io_.run(); });
  }

  std::optional<ServerHealth> health(const std::string& name) {
    for (const ServerState& s : store_.servers()) {
      if (s.name == name) return s.health;
    }
    return std::nullopt;
  }

  bool becomes(const std::string& name, ServerHealth wanted) {
    return test::wait_until([&] { return health(name) == wanted; }, 10s, 20ms);
  }

  bool logged(const std::string& prefix) {
    std::vector<std::string> lines = log_->last_formatted();
    return std::any_of(lines.begin(), lines.end(), [&](const std::string& line) {
      return line.rfind(prefix, 0) == 0;
    });
  }

  std::string log_text() {
    std::string text;
    for (const std::string& line : log_->last_formatted()) text += line;
    return text;
  }

  static test::TempDir* dir_;
  static test::SshdBackend* sshd_;
  LoopbackSocket dead_{false};
  LoopbackSocket silent_{true};
  BrokerConfig config_;
  SessionStore store_{":memory:"};
  boost::asio::io_context io_;
  boost::asio::thread_pool pool_{2};
  std::unique_ptr<HealthMonitor> monitor_;
  std::thread io_thread_;
  std::shared_ptr<spdlog::sinks::ringbuffer_sink_mt> log_;
  std::shared_ptr<spdlog::logger> previous_logger_;
};
test::TempDir* HealthMonitorTest::dir_ = nullptr;
test::SshdBackend* HealthMonitorTest::sshd_ = nullptr;

TEST_F(HealthMonitorTest, ProbesDecideWithoutAgents) {
  start();
  ASSERT_TRUE(becomes("b-dead", ServerHealth::Down)) << log_text();
  ASSERT_TRUE(becomes("b-silent", ServerHealth::Down)) << log_text();
  EXPECT_EQ(health("b-up"), ServerHealth::Up);  // probe-only: up while sshd answers
  EXPECT_EQ(health("b-agent"), ServerHealth::Up);
  EXPECT_TRUE(logged("server b-dead: up -> stale (1 probe failure, no agent)")) << log_text();
  EXPECT_TRUE(logged("server b-dead: stale -> down (2 probe failures; last: connect failed: "))
      << log_text();
  EXPECT_TRUE(logged("server b-silent: stale -> down (2 probe failures; last: no banner within 300 ms)"))
      << log_text();
  EXPECT_FALSE(logged("server b-up:")) << log_text();  // no transition, nothing logged
}

TEST_F(HealthMonitorTest, DownServerComesBackUp) {
  store_.set_health("b-up", ServerHealth::Down);  // e.g. from before a restart
  start();
  ASSERT_TRUE(becomes("b-up", ServerHealth::Up)) << log_text();
  EXPECT_TRUE(logged("server b-up: down -> up (probe answers, no agent)")) << log_text();
}

TEST_F(HealthMonitorTest, DrainingIsNeverOverwritten) {
  store_.set_health("b-dead", ServerHealth::Draining);
  store_.set_health("b-up", ServerHealth::Draining);
  start();
  ASSERT_TRUE(becomes("b-silent", ServerHealth::Down)) << log_text();  // two rounds evaluated
  EXPECT_EQ(health("b-dead"), ServerHealth::Draining);
  EXPECT_EQ(health("b-up"), ServerHealth::Draining);
  // An admin ends the drain: the monitor takes over again.
  store_.set_health("b-dead", ServerHealth::Up);
  ASSERT_TRUE(becomes("b-dead", ServerHealth::Down)) << log_text();
}

TEST_F(HealthMonitorTest, HeartbeatsAndTheLastReportBeforeARestart) {
  // The agent reported an hour ago, before the broker restarted: stale, not probe-only up.
  store_.record_report("b-agent", 0.5, unix_now() - 3600);
  start();
  ASSERT_TRUE(becomes("b-agent", ServerHealth::Stale)) << log_text();
  EXPECT_TRUE(logged("server b-agent: up -> stale (no heartbeat for 360")) << log_text();

  monitor_->on_heartbeat("b-agent", std::chrono::system_clock::now());
  monitor_->on_heartbeat("not-configured", std::chrono::system_clock::now());  // ignored
  ASSERT_TRUE(becomes("b-agent", ServerHealth::Up)) << log_text();
  EXPECT_TRUE(logged("server b-agent: stale -> up (heartbeat ")) << log_text();

  // A fresh heartbeat does not keep a server with a dead sshd up.
  monitor_->on_heartbeat("b-dead", std::chrono::system_clock::now() + 1h);
  ASSERT_TRUE(becomes("b-dead", ServerHealth::Down)) << log_text();
  EXPECT_EQ(health("b-agent"), ServerHealth::Up);
}

TEST_F(HealthMonitorTest, HeartbeatsGoStaleWithoutNewOnes) {
  start();
  // Stale after 2 x 1 s without a heartbeat; the probe keeps answering.
  monitor_->on_heartbeat("b-agent", std::chrono::system_clock::now());
  ASSERT_TRUE(becomes("b-agent", ServerHealth::Stale)) << log_text();
  EXPECT_TRUE(logged("server b-agent: up -> stale (no heartbeat for ")) << log_text();
}

TEST_F(HealthMonitorTest, StopEndsTheRounds) {
  start();
  ASSERT_TRUE(test::wait_until([&] { return health("b-dead") != ServerHealth::Up; }, 10s, 20ms));
  monitor_->stop();
  // With no timer armed and no probe pending, run() returns: nothing else keeps the loop busy.
  io_thread_.join();
  EXPECT_TRUE(io_.stopped());
}

}  // namespace
}  // namespace x2gojump
