// LoginService against a real slapd: capacity (max_users) and recent backend failures shape the
// candidate list the login path gets.
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "broker/health/FailurePenalty.h"
#include "broker/login/LoginService.h"
#include "broker/store/SessionStore.h"
#include "tests/fixtures/LocalUsers.h"
#include "tests/fixtures/SlapdFixture.h"

namespace x2gojump {
namespace {

using namespace std::chrono_literals;

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

using Route = std::vector<std::pair<std::string, RouteReason>>;

class LoginServiceTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { ldap_ = new test::SlapdFixture(); }
  static void TearDownTestSuite() { delete ldap_; }

  void SetUp() override {
    config_.ldap = ldap_->config();
    config_.fallback = FallbackStrategy::LeastLoad;
    for (const char* name : {"a", "b", "c"}) {
      ServerConfig server;
      server.name = name;
      server.address = "127.0.0.1";
      config_.servers.push_back(server);
    }
    config_.servers[0].max_users = 2;
    store_.sync_servers({{"a", "127.0.0.1", 22, 1.0}, {"b", "127.0.0.1", 22, 1.0},
                         {"c", "127.0.0.1", 22, 1.0}});
    store_.record_report("a", 0.1, unix_now());
    store_.record_report("b", 0.2, unix_now());
    store_.record_report("c", 0.3, unix_now());
  }

  void TearDown() override { pool_.join(); }

  void sessions_on_a(const std::vector<std::string>& users) {
    std::vector<SessionRecord> sessions;
    for (const std::string& user : users) {
      sessions.push_back({"sid-" + user, user, 'S', 50, unix_now() - 100, unix_now() - 10});
    }
    store_.replace_sessions("a", sessions);
  }

  Route route_of_alice(LoginService& service) {
    boost::asio::io_context io;
    auto guard = boost::asio::make_work_guard(io);
    std::optional<LoginDecision> decision;
    service.login("xjalice", test::test_user("xjalice").password, "192.0.2.1", io.get_executor(),
                  [&](LoginDecision d) {
                    decision = std::move(d);
                    guard.reset();
                  });
    io.run_for(30s);
    EXPECT_TRUE(decision.has_value());
    if (!decision) return {};
    EXPECT_EQ(decision->status, LoginStatus::Ok) << decision->detail;
    Route route;
    for (const BackendTarget& target : decision->candidates) route.emplace_back(target.server, target.reason);
    return route;
  }

  LoginService service() {
    return LoginService(std::make_shared<const BrokerConfig>(config_), store_, pool_, penalties_);
  }

  static test::SlapdFixture* ldap_;
  BrokerConfig config_;
  SessionStore store_{":memory:"};
  boost::asio::thread_pool pool_{2};
  FailurePenalty penalties_{180s};
};
test::SlapdFixture* LoginServiceTest::ldap_ = nullptr;

constexpr RouteReason kLeast = RouteReason::FallbackLeastLoad;

TEST_F(LoginServiceTest, BelowMaxUsersTheLeastLoadedServerWins) {
  sessions_on_a({"u1"});
  LoginService login = service();
  EXPECT_EQ(route_of_alice(login), (Route{{"a", kLeast}, {"b", kLeast}, {"c", kLeast}}));
}

TEST_F(LoginServiceTest, FullServerTakesNoNewUsers) {
  sessions_on_a({"u1", "u2"});
  LoginService login = service();
  EXPECT_EQ(route_of_alice(login), (Route{{"b", kLeast}, {"c", kLeast}}));
}

TEST_F(LoginServiceTest, FullServerStillResumesTheUsersSession) {
  sessions_on_a({"u1", "u2", "xjalice"});
  LoginService login = service();
  EXPECT_EQ(route_of_alice(login),
            (Route{{"a", RouteReason::SessionSuspended}, {"b", kLeast}, {"c", kLeast}}));
}

TEST_F(LoginServiceTest, NoLimitWithoutMaxUsers) {
  config_.servers[0].max_users = 0;
  sessions_on_a({"u1", "u2", "u3", "u4"});
  LoginService login = service();
  EXPECT_EQ(route_of_alice(login), (Route{{"a", kLeast}, {"b", kLeast}, {"c", kLeast}}));
}

TEST_F(LoginServiceTest, BackendFailureRanksTheServerLast) {
  LoginService login = service();
  login.record_backend_failure("a");
  EXPECT_EQ(route_of_alice(login), (Route{{"b", kLeast}, {"c", kLeast}, {"a", kLeast}}));
  login.record_backend_failure("b");
  EXPECT_EQ(route_of_alice(login), (Route{{"c", kLeast}, {"a", kLeast}, {"b", kLeast}}));
}

TEST_F(LoginServiceTest, ZeroPenaltyDisablesDeprioritising) {
  FailurePenalty none(0s);
  LoginService login(std::make_shared<const BrokerConfig>(config_), store_, pool_, none);
  login.record_backend_failure("a");
  EXPECT_EQ(route_of_alice(login), (Route{{"a", kLeast}, {"b", kLeast}, {"c", kLeast}}));
}

}  // namespace
}  // namespace x2gojump
