// The JSON Lines audit log and the connection events that feed it.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "broker/audit/AuditLog.h"
#include "broker/audit/ConnectionAudit.h"
#include "broker/metrics/BrokerMetrics.h"
#include "tests/unit/ScratchDir.h"

namespace x2gojump {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::testing::Not;
namespace fs = std::filesystem;

class AuditDir : public ::testing::Test {
 protected:
  std::string file(const std::string& name) const { return dir_.file(name); }
  static std::vector<std::string> lines(const std::string& path) {
    std::ifstream in(path);
    std::vector<std::string> out;
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
  }

  ScratchDir dir_;
};

TEST(AuditText, TimeIsRfc3339UtcWithMilliseconds) {
  using namespace std::chrono;
  system_clock::time_point at{milliseconds(1700000000123)};
  EXPECT_EQ(rfc3339_utc(at), "2023-11-14T22:13:20.123Z");
  EXPECT_EQ(rfc3339_utc(system_clock::time_point{}), "1970-01-01T00:00:00.000Z");
}

TEST(AuditText, LongValuesAreCutAtACharacterBoundary) {
  EXPECT_EQ(audit_text("short"), "short");
  EXPECT_EQ(audit_text(std::string(300, 'a')).size(), 256u);
  // "ä" is two bytes; cutting after 3 bytes would split the second one.
  EXPECT_EQ(audit_text("\xc3\xa4\xc3\xa4", 3), "\xc3\xa4");
}

TEST_F(AuditDir, WritesOneJsonObjectPerLineTimeFirst) {
  AuditLog log(file("audit.log"));
  log.record({{"event", "drain"}, {"server", "b1"}});
  log.record({{"event", "undrain"}, {"server", "b\"2\n"}});
  auto written = lines(file("audit.log"));
  ASSERT_EQ(written.size(), 2u);
  EXPECT_THAT(written[0], MatchesRegex(R"(\{"time":"[0-9T:.-]+Z","event":"drain","server":"b1"\})"));
  auto second = nlohmann::json::parse(written[1]);
  EXPECT_EQ(second["server"], "b\"2\n");
  EXPECT_EQ(log.recent(), written);
  struct stat st {};
  ASSERT_EQ(::stat(file("audit.log").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0137, 0u);  // at most 0640
}

TEST_F(AuditDir, AppendsToAnExistingFile) {
  { std::ofstream(file("audit.log")) << "{\"old\":1}\n"; }
  AuditLog log(file("audit.log"));
  log.record({{"event", "x"}});
  EXPECT_EQ(lines(file("audit.log")).size(), 2u);
}

TEST_F(AuditDir, ReopenFollowsLogrotate) {
  AuditLog log(file("audit.log"));
  log.record({{"event", "before"}});
  fs::rename(file("audit.log"), file("audit.log.1"));
  log.record({{"event", "still-old-file"}});
  EXPECT_EQ(log.reopen(), "");
  log.record({{"event", "after"}});
  EXPECT_EQ(lines(file("audit.log.1")).size(), 2u);
  auto fresh = lines(file("audit.log"));
  ASSERT_EQ(fresh.size(), 1u);
  EXPECT_THAT(fresh[0], HasSubstr("\"after\""));
}

TEST_F(AuditDir, FailedReopenKeepsTheOldTarget) {
  AuditLog log(file("audit.log"));
  EXPECT_THAT(log.reopen(file("missing-dir/audit.log")), HasSubstr("missing-dir"));
  EXPECT_EQ(log.target(), file("audit.log"));
  log.record({{"event", "x"}});
  EXPECT_EQ(lines(file("audit.log")).size(), 1u);
}

TEST_F(AuditDir, UnopenableFileThrows) {
  EXPECT_THROW(AuditLog(file("no/such/dir/audit.log")), std::runtime_error);
}

TEST_F(AuditDir, ConcurrentWritersNeverInterleave) {
  AuditLog log(file("audit.log"));
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) log.record({{"event", "x"}, {"t", t}, {"pad", std::string(500, 'p')}});
    });
  }
  for (auto& t : threads) t.join();
  auto written = lines(file("audit.log"));
  ASSERT_EQ(written.size(), 800u);
  for (const auto& line : written) EXPECT_TRUE(nlohmann::json::accept(line)) << line;
}

TEST(AuditLogMemory, KeepsOnlyTheLastEvents) {
  AuditLog log("", 3);
  for (int i = 0; i < 5; ++i) log.record({{"n", i}});
  auto recent = log.recent();
  ASSERT_EQ(recent.size(), 3u);
  EXPECT_THAT(recent[0], HasSubstr("\"n\":2"));
  EXPECT_THAT(recent[2], HasSubstr("\"n\":4"));
}

TEST(AuditLogMemory, InvalidUtf8IsReplacedNotThrown) {
  AuditLog log("");
  EXPECT_NO_THROW(log.record({{"user", std::string("a\xff" "b")}}));
  EXPECT_TRUE(nlohmann::json::accept(log.recent().at(0)));
}

TEST(ConnectionAudit, EventsCarryWhatTheyShouldAndNoSecrets) {
  AuditLog log("");
  const std::string password = "hunter2-secret";
  ConnectionAudit audit(&log, "192.0.2.7");
  audit.login_refused("alice", "bad-credentials", "invalid credentials");
  audit.backend_failed("alice", "b1", "unreachable", "connection refused");
  audit.login_accepted("alice", "b2", "session-suspended", 1);
  audit.closed("client disconnected", std::chrono::milliseconds(1500), 100, 2000);
  auto recent = log.recent();
  ASSERT_EQ(recent.size(), 5u);
  std::vector<nlohmann::json> events;
  for (const auto& line : recent) {
    EXPECT_THAT(line, Not(HasSubstr(password)));
    events.push_back(nlohmann::json::parse(line));
  }
  EXPECT_EQ(events[0]["event"], "login");
  EXPECT_EQ(events[0]["result"], "failure");
  EXPECT_EQ(events[0]["user"], "alice");
  EXPECT_EQ(events[0]["source"], "192.0.2.7");
  EXPECT_EQ(events[0]["reason"], "bad-credentials");
  EXPECT_EQ(events[1]["event"], "backend_failure");
  EXPECT_EQ(events[1]["server"], "b1");
  EXPECT_EQ(events[2]["result"], "success");
  EXPECT_EQ(events[2]["server"], "b2");
  EXPECT_EQ(events[3]["event"], "route");
  EXPECT_EQ(events[3]["reason"], "session-suspended");
  EXPECT_EQ(events[3]["skipped"], 1);
  EXPECT_EQ(events[4]["event"], "connection_end");
  EXPECT_EQ(events[4]["server"], "b2");
  EXPECT_EQ(events[4]["user"], "alice");
  EXPECT_EQ(events[4]["bytes_up"], 100);
  EXPECT_EQ(events[4]["bytes_down"], 2000);
  EXPECT_DOUBLE_EQ(events[4]["duration_s"].get<double>(), 1.5);
  for (const auto& event : events) EXPECT_EQ(event["conn"], audit.id());
}

TEST(ConnectionAudit, IdsAreUniqueAndEventsAreCounted) {
  ConnectionAudit a(nullptr, "::1");
  ConnectionAudit b(nullptr, "::1");
  EXPECT_NE(a.id(), b.id());
  const auto locked = metrics().logins.with({"failure", "account-locked"}).value();
  const auto routes = metrics().routes.with({"fallback-user"}).value();
  const auto failures = metrics().backend_failures.with({"bx", "host-key-mismatch"}).value();
  a.login_refused("u", "account-locked", "");
  b.login_accepted("u", "bx", "fallback-user", 0);
  b.backend_failed("u", "bx", "host-key-mismatch", "");
  EXPECT_EQ(metrics().logins.with({"failure", "account-locked"}).value(), locked + 1);
  EXPECT_EQ(metrics().routes.with({"fallback-user"}).value(), routes + 1);
  EXPECT_EQ(metrics().backend_failures.with({"bx", "host-key-mismatch"}).value(), failures + 1);
}

}  // namespace
}  // namespace x2gojump
