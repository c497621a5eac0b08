// [[pool]] ACLs end to end: LoginService (access decision, routing filter, explain) against a real
// slapd with the fixture groups (xjalice: physics + staff, xjbob: physics, xjcarol: students,
// xjeve: none), and the real broker in front of two sshd backends driven by the OpenSSH client.
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>

#include <chrono>
#include <ctime>
#include <iostream>
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
#include "tests/fixtures/Testbed.h"

namespace x2gojump {
namespace {

using namespace std::chrono_literals;
using Names = std::vector<std::string>;
using Rules = std::vector<RuleMatch>;

using Route = std::vector<std::pair<std::string, RouteReason>>;
constexpr RouteReason kLeast = RouteReason::FallbackLeastLoad;

PoolConfig pool(std::string name, std::vector<std::string> servers, std::vector<std::string> groups) {
  PoolConfig p;
  p.name = std::move(name);
  p.servers = std::move(servers);
  p.allow_groups = std::move(groups);
  return p;
}

Route route_of(const std::vector<BackendTarget>& candidates) {
  Route route;
  for (const BackendTarget& target : candidates) route.emplace_back(target.server, target.reason);
  return route;
}

// LoginService with three servers a, b, c (least load: a < b < c) and three pools:
//   physics  -> a   allow_groups physics
//   staff    -> b   allow_groups staff, resume_outside_pool
//   students -> c   allow_groups students, deny_networks 192.0.2.0/24
class AclService : public ::testing::Test {
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
    config_.pools = {pool("physics", {"a"}, {"physics"}), pool("staff", {"b"}, {"staff"}),
                     pool("students", {"c"}, {"students"})};
    config_.pools[1].resume_outside_pool = true;
    config_.pools[2].deny_networks = {*Cidr::parse("192.0.2.0/24")};
    store_.sync_servers({{"a", "127.0.0.1", 22, 1.0}, {"b", "127.0.0.1", 22, 1.0},
                         {"c", "127.0.0.1", 22, 1.0}});
    store_.record_report("a", 0.1, now());
    store_.record_report("b", 0.2, now());
    store_.record_report("c", 0.3, now());
  }

  void TearDown() override { pool_.join(); }

  static std::int64_t now() { return std::time(nullptr); }

  void suspended_on(const std::string& server, const std::string& user) {
    store_.replace_sessions(server, {{"sid-" + user, user, 'S', 50, now() - 100, now() - 10}});
  }

  LoginService service() {
    return LoginService(std::make_shared<const BrokerConfig>(config_), store_, pool_, penalties_);
  }

  LoginDecision login(const std::string& user, const std::string& source) {
    LoginService login_service = service();
    boost::asio::io_context io;
    auto guard = boost::asio::make_work_guard(io);
    std::optional<LoginDecision> decision;
    login_service.login(user, test::test_user(user).password, source, io.get_executor(), [&](LoginDecision d) {
      decision = std::move(d);
      guard.reset();
    });
    io.run_for(30s);
    EXPECT_TRUE(decision.has_value());
    return decision.value_or(LoginDecision{});
  }

  Explanation explain(const std::string& user, const std::string& source = "198.51.100.1") {
    return service().explain(user, source);
  }

  static test::SlapdFixture* ldap_;
  BrokerConfig config_;
  SessionStore store_{":memory:"};
  boost::asio::thread_pool pool_{2};
  FailurePenalty penalties_{180s};
};
test::SlapdFixture* AclService::ldap_ = nullptr;

TEST_F(AclService, LoginRoutesOnlyInsideTheUsersPools) {
  LoginDecision alice = login("xjalice", "198.51.100.1");
  ASSERT_EQ(alice.status, LoginStatus::Ok) << alice.detail;
  EXPECT_EQ(route_of(alice.candidates), (Route{{"a", kLeast}, {"b", kLeast}}));
  EXPECT_EQ(alice.pools, (Names{"physics", "staff"}));
  LoginDecision bob = login("xjbob", "198.51.100.1");
  ASSERT_EQ(bob.status, LoginStatus::Ok) << bob.detail;
  EXPECT_EQ(route_of(bob.candidates), (Route{{"a", kLeast}}));
}

TEST_F(AclService, UserInNoPoolIsNotAuthorized) {
  LoginDecision eve = login("xjeve", "198.51.100.1");
  EXPECT_EQ(eve.status, LoginStatus::NotAuthorized);
  EXPECT_TRUE(eve.candidates.empty());
  EXPECT_TRUE(eve.pools.empty());
  EXPECT_NE(eve.detail.find("no pool allows xjeve from 198.51.100.1: physics: no allow rule matches"),
            std::string::npos)
      << eve.detail;
  // A wrong password stays a wrong password: the ACL is only evaluated after authentication.
  LoginService login_service = service();
  boost::asio::io_context io;
  auto guard = boost::asio::make_work_guard(io);
  std::optional<LoginDecision> wrong;
  login_service.login("xjeve", "not-eves-password", "198.51.100.1", io.get_executor(), [&](LoginDecision d) {
    wrong = std::move(d);
    guard.reset();
  });
  io.run_for(30s);
  ASSERT_TRUE(wrong.has_value());
  EXPECT_EQ(wrong->status, LoginStatus::BadCredentials);
}

TEST_F(AclService, DeniedNetworkRefusesOnlyFromThere) {
  EXPECT_EQ(login("xjcarol", "192.0.2.5").status, LoginStatus::NotAuthorized);
  EXPECT_EQ(login("xjcarol", "::ffff:192.0.2.5").status, LoginStatus::NotAuthorized);
  LoginDecision elsewhere = login("xjcarol", "198.51.100.1");
  ASSERT_EQ(elsewhere.status, LoginStatus::Ok) << elsewhere.detail;
  EXPECT_EQ(route_of(elsewhere.candidates), (Route{{"c", kLeast}}));
}

TEST_F(AclService, NoPoolsMeansEveryServer) {
  config_.pools.clear();
  LoginDecision eve = login("xjeve", "198.51.100.1");
  ASSERT_EQ(eve.status, LoginStatus::Ok) << eve.detail;
  EXPECT_EQ(route_of(eve.candidates), (Route{{"a", kLeast}, {"b", kLeast}, {"c", kLeast}}));
}

TEST_F(AclService, SessionsOutsideThePoolsAreIgnoredByDefault) {
  suspended_on("c", "xjbob");
  Explanation bob = explain("xjbob");
  ASSERT_EQ(bob.status, LoginStatus::Ok) << bob.detail;
  ASSERT_EQ(bob.sessions.size(), 1u);
  EXPECT_EQ(bob.sessions[0].session.server, "c");
  EXPECT_FALSE(bob.sessions[0].counted);
  EXPECT_TRUE(bob.resume_only.empty());
  EXPECT_EQ(route_of(bob.candidates), (Route{{"a", kLeast}}));
}

TEST_F(AclService, ResumeOutsidePoolMakesTheSessionServerResumeOnly) {
  suspended_on("c", "xjalice");
  Explanation alice = explain("xjalice");
  ASSERT_EQ(alice.status, LoginStatus::Ok) << alice.detail;
  ASSERT_EQ(alice.sessions.size(), 1u);
  EXPECT_TRUE(alice.sessions[0].counted);
  EXPECT_EQ(alice.resume_only, (Names{"c"}));
  EXPECT_EQ(route_of(alice.candidates),
            (Route{{"c", RouteReason::SessionSuspended}, {"a", kLeast}, {"b", kLeast}}));
  // Without a session there, c is no candidate at all.
  store_.replace_sessions("c", {});
  EXPECT_EQ(route_of(explain("xjalice").candidates), (Route{{"a", kLeast}, {"b", kLeast}}));
}

TEST_F(AclService, PlacementOutsideThePoolsIsIgnored) {
  store_.record_placement("xjbob", "c", now() + 300);
  Explanation outside = explain("xjbob");
  EXPECT_FALSE(outside.placement.has_value());
  EXPECT_EQ(route_of(outside.candidates), (Route{{"a", kLeast}}));
  store_.record_placement("xjbob", "a", now() + 300);
  Explanation inside = explain("xjbob");
  EXPECT_EQ(inside.placement, "a");
  EXPECT_EQ(route_of(inside.candidates), (Route{{"a", RouteReason::Placement}}));
}

TEST_F(AclService, ExplainShowsGroupsVerdictsAndMatchedRules) {
  Explanation alice = explain("xjalice");
  ASSERT_EQ(alice.status, LoginStatus::Ok) << alice.detail;
  EXPECT_EQ(alice.user_dn, "uid=xjalice,ou=people," + ldap_->base_dn());
  EXPECT_EQ(alice.groups, (Names{"physics", "staff"}));  // read with the service account
  EXPECT_EQ(alice.source_address, "198.51.100.1");
  ASSERT_EQ(alice.access.pools.size(), 3u);
  EXPECT_EQ(alice.access.pools[0].verdict, PoolVerdict::Allowed);
  EXPECT_EQ(alice.access.pools[0].allows, (Rules{RuleMatch{RuleKind::AllowGroup, "physics"}}));
  EXPECT_EQ(alice.access.pools[2].verdict, PoolVerdict::NoAllowMatch);
  EXPECT_EQ(alice.access.servers, (Names{"a", "b"}));
  ASSERT_EQ(alice.servers.size(), 2u);
  EXPECT_EQ(alice.servers[0].name, "a");
  EXPECT_EQ(alice.servers[0].health, ServerHealth::Up);

  Explanation carol = explain("xjcarol", "192.0.2.5");
  EXPECT_EQ(carol.status, LoginStatus::NotAuthorized);
  EXPECT_EQ(carol.access.pools[2].verdict, PoolVerdict::Denied);
  EXPECT_EQ(carol.access.pools[2].denies, (Rules{RuleMatch{RuleKind::DenyNetwork, "192.0.2.0/24"}}));
  EXPECT_EQ(carol.access.pools[2].reason(), "denied by deny_networks 192.0.2.0/24");
  EXPECT_TRUE(carol.candidates.empty());
  EXPECT_TRUE(carol.servers.empty());

  // No address given: network rules fail closed.
  EXPECT_EQ(explain("xjcarol", "").status, LoginStatus::NotAuthorized);
  EXPECT_EQ(explain("xjeve").status, LoginStatus::NotAuthorized);
}

TEST_F(AclService, ExplainNeedsNoPasswordButAnExistingUser) {
  // xjdave is locked: explain does not bind as him, so it still shows his pools.
  EXPECT_EQ(explain("xjdave").status, LoginStatus::Ok);
  Explanation nobody = explain("xjnobody");
  EXPECT_EQ(nobody.status, LoginStatus::BadCredentials);
  EXPECT_EQ(nobody.detail, "no such user");
  Explanation bad = explain("bad*name");
  EXPECT_EQ(bad.status, LoginStatus::BadCredentials);
  EXPECT_EQ(bad.detail, "invalid user name");
  config_.ldap.uris = {"ldap://127.0.0.1:1"};
  EXPECT_EQ(explain("xjalice").status, LoginStatus::DirectoryUnavailable);
}

}  // namespace

namespace test {
namespace {

// The real broker: b1 for physics, b2 for students (except from 127.0.0.3); xjeve is in no pool.
class AclBroker : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    tb_ = std::make_unique<Testbed>(TestbedOptions{
        .limits_extra = "placement_ttl_s = 0\n",
        .customize = [](BrokerSettings& s) {
          s.extra_tables = R"([[pool]]
name = "physics"
servers = ["b1"]
allow_groups = ["physics"]

[[pool]]
name = "students"
servers = ["b2"]
allow_groups = ["students"]
deny_networks = ["127.0.0.3"]
)";
        }});
  }
  static void TearDownTestSuite() { tb_.reset(); }
  void TearDown() override {
    if (HasFailure()) std::cerr << tb_->diagnostics();
  }

  static RunResult login(const std::string& user, const std::string& source) {
    return tb_->broker_client().run(user, test_user(user).password, "echo $X2GOJUMP_BACKEND",
                                    {.source_address = source});
  }

  static void expect_not_allowed(const RunResult& r) {
    EXPECT_EQ(r.exit_code, 255) << describe(r);
    EXPECT_NE(r.err.find("x2gojump: you are not allowed to use any X2Go server"), std::string::npos)
        << describe(r);
    EXPECT_EQ(r.out, "");
  }

  // Whether any backend's sshd saw an authentication attempt for user (LogLevel DEBUG1 logs
  // every userauth request with the user name; the broker's banner probes send none).
  static bool backend_saw(const std::string& user) {
    for (std::size_t i = 0; i < tb_->backend_count(); ++i) {
      if (read_file(tb_->backend(i).log_path()).find(user) != std::string::npos) return true;
    }
    return false;
  }

  static std::unique_ptr<Testbed> tb_;
};
std::unique_ptr<Testbed> AclBroker::tb_;

TEST_F(AclBroker, AllowedGroupGetsInOnlyOnItsServer) {
  // Without the pool the address hash would spread these 10 sources over both backends.
  for (int i = 2; i <= 11; ++i) {
    const std::string source = "127.0.0." + std::to_string(i);
    RunResult r = login("xjbob", source);
    EXPECT_EQ(r.exit_code, 0) << source << ": " << describe(r);
    EXPECT_EQ(r.out, "b1\n") << source;
  }
}

TEST_F(AclBroker, UserInNoPoolIsRefusedBeforeAnyBackend) {
  // The probe must see logins that do reach a backend, or the last check could never fail.
  ASSERT_EQ(login("xjbob", "127.0.0.2").exit_code, 0);
  ASSERT_TRUE(backend_saw("xjbob"));
  ASSERT_FALSE(backend_saw("xjeve"));
  expect_not_allowed(login("xjeve", "127.0.0.2"));
  EXPECT_FALSE(backend_saw("xjeve")) << "a backend was contacted for a user in no pool";
  EXPECT_NE(tb_->broker().log().find("no pool allows xjeve"), std::string::npos) << tb_->broker_log_tail();
}

TEST_F(AclBroker, DeniedNetworkIsRefused) {
  RunResult allowed = login("xjcarol", "127.0.0.2");
  EXPECT_EQ(allowed.exit_code, 0) << describe(allowed);
  EXPECT_EQ(allowed.out, "b2\n");
  expect_not_allowed(login("xjcarol", "127.0.0.3"));
}

TEST_F(AclBroker, CheckConfigRejectsAnUnknownPoolServer) {
  TempDir dir("xj-acl-check");
  std::string config = tb_->broker().config_text();
  config += "[[pool]]\nname = \"bad\"\nservers = [\"b9\"]\nallow_users = [\"*\"]\n";
  write_file(dir.file("broker.toml"), config, 0600);
  RunResult r = run_process({.argv = {X2GOJUMP_BROKER_BIN, "--config", dir.file("broker.toml"), "--check-config"}},
                            std::chrono::seconds(30));
  EXPECT_NE(r.exit_code, 0) << describe(r);
  EXPECT_NE(r.err.find("servers[0]: unknown server \"b9\""), std::string::npos) << describe(r);
}

}  // namespace
}  // namespace test
}  // namespace x2gojump
