// LoginService::explain's answer as the control protocol carries it.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "broker/admin/ExplainJson.h"

namespace x2gojump {
namespace {

TEST(ExplainJson, CarriesEveryPart) {
  Explanation e;
  e.status = LoginStatus::Ok;
  e.source_address = "10.0.0.7";
  e.user_dn = "uid=alice,dc=x";
  e.groups = {"physics"};
  PoolConfig pool{.name = "physics", .servers = {"b1"}, .allow_groups = {"physics"}};
  e.access = evaluate_pools({pool}, "alice", e.groups, e.source_address);
  e.sessions = {{UserSession{"b1", "s1", 'S', 100}, true}, {UserSession{"b9", "s2", 'R', 50}, false}};
  e.servers = {ServerState{.name = "b1", .health = ServerHealth::Draining, .full = true}};
  e.placement = "b1";
  e.candidates = {BackendTarget{"b1", "10.0.0.1", 2222, "", RouteReason::SessionSuspended}};
  auto json = explanation_json("alice", e);
  EXPECT_EQ(json["user"], "alice");
  EXPECT_EQ(json["status"], "ok");
  EXPECT_EQ(json["source"], "10.0.0.7");
  EXPECT_EQ(json["groups"][0], "physics");
  EXPECT_EQ(json["access"]["restricted"], true);
  EXPECT_EQ(json["access"]["allowed"], true);
  EXPECT_EQ(json["access"]["pools"][0]["verdict"], "allowed");
  EXPECT_EQ(json["access"]["pools"][0]["allows"][0]["kind"], "allow_groups");
  EXPECT_EQ(json["access"]["pools"][0]["allows"][0]["value"], "physics");
  EXPECT_EQ(json["sessions"][1]["counted"], false);
  EXPECT_EQ(json["sessions"][0]["status"], "S");
  EXPECT_EQ(json["servers"][0]["state"], "draining");
  EXPECT_EQ(json["servers"][0]["full"], true);
  EXPECT_EQ(json["placement"], "b1");
  EXPECT_EQ(json["candidates"][0]["reason"], "session-suspended");
  EXPECT_EQ(json["candidates"][0]["port"], 2222);
}

TEST(ExplainJson, StatusNames) {
  Explanation e;
  e.status = LoginStatus::NotAuthorized;
  EXPECT_EQ(explanation_json("u", e)["status"], "not-authorized");
  e.status = LoginStatus::BadCredentials;
  EXPECT_EQ(explanation_json("u", e)["status"], "unknown-user");
  e.status = LoginStatus::DirectoryUnavailable;
  EXPECT_EQ(explanation_json("u", e)["status"], "directory-unavailable");
  EXPECT_TRUE(explanation_json("u", e)["placement"].is_null());
}

}  // namespace
}  // namespace x2gojump
