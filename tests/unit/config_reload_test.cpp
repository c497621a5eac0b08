// What a configuration reload may change while the broker runs.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "broker/admin/ConfigReload.h"

namespace x2gojump {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

BrokerConfig running_config() {
  BrokerConfig config;
  config.listen = {{"0.0.0.0", 22}};
  config.host_keys = {"/etc/x2gojump/key"};
  config.ldap.uris = {"ldap://a"};
  config.servers = {ServerConfig{.name = "b1", .address = "10.0.0.1"}};
  config.admin.listen = {{"127.0.0.1", 9122}};
  config.admin.control_socket = "/run/x2gojump/control.sock";
  return config;
}

TEST(ConfigReload, SameFileChangesNothing) {
  ReloadPlan plan = plan_reload(running_config(), running_config());
  EXPECT_THAT(plan.needs_restart, IsEmpty());
  EXPECT_EQ(plan.config.servers.size(), 1u);
}

TEST(ConfigReload, LiveSettingsTakeTheNewValues) {
  BrokerConfig loaded = running_config();
  loaded.servers.push_back(ServerConfig{.name = "b2", .address = "10.0.0.2"});
  loaded.log_level = "debug";
  loaded.fallback = FallbackStrategy::LeastLoad;
  loaded.limits.max_auth_attempts = 2;
  loaded.limits.penalty_auth_failure = std::chrono::seconds(7);
  loaded.health.probe_interval = std::chrono::seconds(60);
  loaded.admin.audit_log = "/var/log/audit.log";
  loaded.pools.push_back(PoolConfig{.name = "p", .servers = {"b1"}});
  ReloadPlan plan = plan_reload(running_config(), loaded);
  EXPECT_THAT(plan.needs_restart, IsEmpty());
  EXPECT_EQ(plan.config.servers.size(), 2u);
  EXPECT_EQ(plan.config.log_level, "debug");
  EXPECT_EQ(plan.config.fallback, FallbackStrategy::LeastLoad);
  EXPECT_EQ(plan.config.limits.max_auth_attempts, 2);
  EXPECT_EQ(plan.config.limits.penalty_auth_failure, std::chrono::seconds(7));
  EXPECT_EQ(plan.config.health.probe_interval, std::chrono::seconds(60));
  EXPECT_EQ(plan.config.admin.audit_log, "/var/log/audit.log");
  EXPECT_EQ(plan.config.pools.size(), 1u);
}

TEST(ConfigReload, RestartOnlySettingsKeepTheRunningValues) {
  const BrokerConfig running = running_config();
  BrokerConfig loaded = running;
  loaded.listen = {{"0.0.0.0", 2222}};
  loaded.host_keys = {"/other"};
  loaded.state_db = "/tmp/other.db";
  loaded.threads = 3;
  loaded.user = "nobody";
  loaded.limits.source_ipv4_prefix = 24;
  loaded.limits.source_ipv6_prefix = 48;
  loaded.ldap.uris = {"ldap://b"};
  loaded.agent_api.listen = {{"0.0.0.0", 8443}};
  loaded.admin.listen = {};
  loaded.admin.control_socket = "/tmp/c.sock";
  loaded.admin.control_socket_group = "adm";
  loaded.log_level = "warn";  // live, taken
  ReloadPlan plan = plan_reload(running, loaded);
  EXPECT_THAT(plan.needs_restart,
              ElementsAre("broker.listen", "broker.host_keys", "broker.state_db", "broker.threads",
                          "broker.user", "limits.source_ipv4_prefix",
                          "limits.source_ipv6_prefix", "ldap", "agent_api", "admin.listen", "admin.control_socket",
                          "admin.control_socket_group"));
  EXPECT_EQ(plan.config.listen, running.listen);
  EXPECT_EQ(plan.config.host_keys, running.host_keys);
  EXPECT_EQ(plan.config.state_db, running.state_db);
  EXPECT_EQ(plan.config.threads, running.threads);
  EXPECT_EQ(plan.config.user, running.user);
  EXPECT_EQ(plan.config.limits.source_ipv4_prefix, running.limits.source_ipv4_prefix);
  EXPECT_EQ(plan.config.limits.source_ipv6_prefix, running.limits.source_ipv6_prefix);
  EXPECT_EQ(plan.config.ldap, running.ldap);
  EXPECT_EQ(plan.config.agent_api, running.agent_api);
  EXPECT_EQ(plan.config.admin.listen, running.admin.listen);
  EXPECT_EQ(plan.config.admin.control_socket, running.admin.control_socket);
  EXPECT_EQ(plan.config.log_level, "warn");
}

TEST(ConfigReload, AnyLdapFieldCounts) {
  BrokerConfig loaded = running_config();
  loaded.ldap.operation_timeout = std::chrono::milliseconds(1);
  EXPECT_THAT(plan_reload(running_config(), loaded).needs_restart, ElementsAre("ldap"));
}

}  // namespace
}  // namespace x2gojump
