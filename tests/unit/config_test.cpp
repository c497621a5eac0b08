#include "broker/config/Config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "tests/unit/ConfigText.h"

namespace x2gojump {
namespace {

using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

constexpr const char* kEd25519 =
    "AAAAC3NzaC1lZDI1NTE5AAAAIKOzcTu/G9dPqXNYEpOGQv7NtsUiUIHqkorz/qcHfDBi";
constexpr const char* kRsa =
    "AAAAB3NzaC1yc2EAAAADAQABAAABgQDcFffI2kCLFKNlK2GM1zhw3V4+xYfcslrNJOXYgYH7c3JziPvbtCssZ58bUqZCVJX9QizZkpR6QX+6U6OhrEUNJPykDddM74QJH1piAJnJCS6tJ1pw4bWYa9OR1v9hzr1s3/Xs+aDHjd49+T5o5W+ADfu7rGXfZZQKsPVo80Ntykvg6qu9fp/fDmlca2ZYUyIzGiND4sb6GI3x14dqw9XVWeHOjgmmpjDbhXaD7M8WAyAS0o3wiEaAlYIE7wnMlZT/pgYwFbbo6kKq9wADeLjBvItfp9Oos7Z/L89GNMc6mkZfDxjGtbr49M3YK6B8aOujrJLXsAW9f73dKUkw47cICA38urdkBh+YlH69ED0QcGevAuirP9/dIV14P8K/nDbgIvEvUz6OJcMwffHZUd18UHlcl5x9cmKHzHyvnUbm+PSI1tW4TorHx8j6sBeP8gmDshBCjin2BAIo/7W8wIrehmyg6pTO/LlwWttmmy6p5hgKk8sQdW+ivCzthNkkkfM=";
constexpr const char* kEcdsa256 =
    "AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBCJnArg99SOfxa3D+QDLub04zVwYSDjGArRvHEqy2XQ"
    "9KbJiZEtO7+2Pi8bdnX+VcQXIOLWRrPcgtphd9RsPDsA=";
constexpr const char* kEcdsa384 =
    "AAAAE2VjZHNhLXNoYTItbmlzdHAzODQAAAAIbmlzdHAzODQAAABhBJ+ZrKCrbufhuiCyo2EcHgsVMEWgluIiaLr23exX8Zg"
    "NweLUCteax19XhfkoYuz2UWh9xNBzAeB4EHKjuVVrfoQuky7DyiPa6XG6/a3VzvX2hmKS+U4pLUADDAwuKzLsmQ==";

// Tests add lines to its tables with with().
constexpr const char* kMinimal = test::kMinimalBrokerToml;

// kMinimal with line inserted just after the header of section ("[broker]", "[[server]]", ...),
// or with the section appended if kMinimal lacks it.
std::string with(const std::string& section, const std::string& line,
                 std::string base = kMinimal) {
  auto at = base.find(section + "\n");
  if (at == std::string::npos) return base + "\n" + section + "\n" + line + "\n";
  at += section.size() + 1;
  return base.insert(at, line + "\n");
}

std::vector<std::string> errors_of(const ConfigResult& result) {
  std::vector<std::string> texts;
  for (const auto& error : result.errors) texts.push_back(error.to_string());
  return texts;
}

std::vector<std::string> errors_of(const std::string& text) {
  return errors_of(parse_broker_config(text, "t.toml"));
}

BrokerConfig valid(const std::string& text) {
  auto result = parse_broker_config(text, "t.toml");
  EXPECT_THAT(errors_of(result), IsEmpty()) << text;
  EXPECT_TRUE(result.config.has_value());
  return result.config.value_or(BrokerConfig{});
}

// The single error for text; fails the test if there is not exactly one.
std::string only_error(const std::string& text) {
  auto errors = errors_of(text);
  EXPECT_THAT(errors, SizeIs(1)) << text;
  return errors.empty() ? std::string() : errors.front();
}

TEST(ConfigTest, MinimalConfigGetsDefaults) {
  BrokerConfig config = valid(kMinimal);
  ASSERT_THAT(config.listen, SizeIs(1));
  EXPECT_EQ(config.listen[0].host, "0.0.0.0");
  EXPECT_EQ(config.listen[0].port, 22);
  EXPECT_THAT(config.host_keys, ElementsAre("/etc/x2gojump/key"));
  EXPECT_EQ(config.state_db, "/var/lib/x2gojump/state.db");
  EXPECT_EQ(config.threads, 0);
  EXPECT_EQ(config.log_level, "info");
  EXPECT_EQ(config.fallback, FallbackStrategy::SourceIp);
  EXPECT_FALSE(config.accept_new_backend_host_keys);
  EXPECT_THAT(config.ldap.uris, ElementsAre("ldap://ldap.example.org"));
  EXPECT_EQ(config.ldap.base_dn, "dc=example,dc=org");
  EXPECT_EQ(config.ldap.user_base, "dc=example,dc=org");
  EXPECT_EQ(config.ldap.group_base, "dc=example,dc=org");
  EXPECT_EQ(config.ldap.user_filter, "(&(objectClass=posixAccount)(uid={user}))");
  EXPECT_THAT(config.ldap.group_styles,
              ElementsAre(GroupStyle::PosixMemberUid, GroupStyle::GroupOfNamesMember,
                          GroupStyle::MemberOf));
  EXPECT_FALSE(config.ldap.starttls);
  EXPECT_TRUE(config.ldap.bind_dn.empty());
  EXPECT_TRUE(config.ldap.bind_password.empty());
  EXPECT_EQ(config.ldap.connect_timeout, std::chrono::milliseconds(3000));
  EXPECT_EQ(config.ldap.operation_timeout, std::chrono::milliseconds(5000));
  ASSERT_THAT(config.servers, SizeIs(1));
  EXPECT_EQ(config.servers[0].name, "s1");
  EXPECT_EQ(config.servers[0].address, "10.0.0.1");
  EXPECT_EQ(config.servers[0].port, 22);
  EXPECT_EQ(config.servers[0].weight, 1.0);
  EXPECT_TRUE(config.servers[0].host_key.empty());
  EXPECT_EQ(config.limits.login_grace_time, std::chrono::seconds(30));
  EXPECT_EQ(config.limits.max_startups_begin, 10);
  EXPECT_EQ(config.limits.max_startups_rate, 30);
  EXPECT_EQ(config.limits.max_startups_full, 100);
  EXPECT_EQ(config.limits.max_auth_attempts, 6);
  EXPECT_EQ(config.limits.max_connections, 10000);
  EXPECT_EQ(config.limits.channel_buffer_bytes, 262144u);
  EXPECT_EQ(config.limits.backend_connect_timeout, std::chrono::milliseconds(5000));
  EXPECT_EQ(config.limits.backend_auth_timeout, std::chrono::milliseconds(15000));
  EXPECT_EQ(config.limits.keepalive_interval, std::chrono::seconds(30));
  EXPECT_EQ(config.limits.placement_ttl, std::chrono::seconds(300));
  EXPECT_TRUE(config.servers[0].agent_token.empty());
  EXPECT_EQ(config.servers[0].max_users, 0);
  EXPECT_THAT(config.agent_api.listen, IsEmpty());
  EXPECT_TRUE(config.agent_api.tls_cert_file.empty());
  EXPECT_TRUE(config.agent_api.tls_key_file.empty());
  EXPECT_FALSE(config.agent_api.allow_plain_http);
  EXPECT_EQ(config.agent_api.max_body_bytes, 1048576u);
  EXPECT_EQ(config.agent_api.read_timeout, std::chrono::milliseconds(5000));
  EXPECT_EQ(config.health.heartbeat_interval, std::chrono::seconds(5));
  EXPECT_EQ(config.health.stale_after_intervals, 3);
  EXPECT_EQ(config.health.probe_interval, std::chrono::seconds(5));
  EXPECT_EQ(config.health.probe_timeout, std::chrono::milliseconds(2000));
  EXPECT_EQ(config.health.down_after_failures, 2);
  EXPECT_EQ(config.health.failure_penalty, std::chrono::seconds(180));
}

TEST(ConfigTest, FullConfigSetsEveryField) {
  std::string text = std::string(R"toml([broker]
listen = ["127.0.0.1:2222", "[::1]:2223"]
host_keys = ["/k1", "/k2"]
state_db = "/tmp/state.db"
threads = 8
log_level = "debug"
fallback = "least-load"
accept_new_backend_host_keys = true

[ldap]
uris = ["ldaps://a.example.org:636", "ldap://b.example.org"]
starttls = true
ca_file = "/etc/ssl/ca.pem"
base_dn = "dc=example,dc=org"
user_base = "ou=people,dc=example,dc=org"
user_filter = "(&(objectClass=inetOrgPerson)(uid={user}))"
group_base = "ou=groups,dc=example,dc=org"
group_styles = ["memberof", "posix"]
connect_timeout_ms = 1000
operation_timeout_ms = 2000

[limits]
login_grace_time_s = 60
max_startups = "5:50:20"
max_auth_attempts = 3
max_connections = 500
channel_buffer_bytes = 65536
backend_connect_timeout_ms = 700
backend_auth_timeout_ms = 9000
keepalive_interval_s = 0
placement_ttl_s = 60

[agent_api]
listen = ["127.0.0.1:8443", "[::1]:8443"]
tls_cert = "/etc/x2gojump/agent-api.crt"
tls_key = "/etc/x2gojump/agent-api.key"
allow_plain_http = false
max_body_bytes = 2048
read_timeout_ms = 700

[health]
heartbeat_interval_s = 10
stale_after_intervals = 4
probe_interval_s = 7
probe_timeout_ms = 900
down_after_failures = 5
failure_penalty_s = 0

[[server]]
name = "a"
address = "a.example.org"
port = 2022
weight = 2.5
host_key = "ssh-ed25519 )toml") + kEd25519 + R"( comment"
max_users = 40

[[server]]
name = "b"
address = "2001:db8::1"
weight = 3
)";
  BrokerConfig config = valid(text);
  ASSERT_THAT(config.listen, SizeIs(2));
  EXPECT_EQ(config.listen[0].host, "127.0.0.1");
  EXPECT_EQ(config.listen[0].port, 2222);
  EXPECT_EQ(config.listen[1].host, "::1");
  EXPECT_EQ(config.listen[1].port, 2223);
  EXPECT_THAT(config.host_keys, ElementsAre("/k1", "/k2"));
  EXPECT_EQ(config.state_db, "/tmp/state.db");
  EXPECT_EQ(config.threads, 8);
  EXPECT_EQ(config.log_level, "debug");
  EXPECT_EQ(config.fallback, FallbackStrategy::LeastLoad);
  EXPECT_TRUE(config.accept_new_backend_host_keys);
  EXPECT_THAT(config.ldap.uris, ElementsAre("ldaps://a.example.org:636", "ldap://b.example.org"));
  EXPECT_TRUE(config.ldap.starttls);
  EXPECT_EQ(config.ldap.ca_file, "/etc/ssl/ca.pem");
  EXPECT_EQ(config.ldap.user_base, "ou=people,dc=example,dc=org");
  EXPECT_EQ(config.ldap.user_filter, "(&(objectClass=inetOrgPerson)(uid={user}))");
  EXPECT_EQ(config.ldap.group_base, "ou=groups,dc=example,dc=org");
  EXPECT_THAT(config.ldap.group_styles, ElementsAre(GroupStyle::MemberOf, GroupStyle::PosixMemberUid));
  EXPECT_EQ(config.ldap.connect_timeout, std::chrono::milliseconds(1000));
  EXPECT_EQ(config.ldap.operation_timeout, std::chrono::milliseconds(2000));
  EXPECT_EQ(config.limits.login_grace_time, std::chrono::seconds(60));
  EXPECT_EQ(config.limits.max_startups_begin, 5);
  EXPECT_EQ(config.limits.max_startups_rate, 50);
  EXPECT_EQ(config.limits.max_startups_full, 20);
  EXPECT_EQ(config.limits.max_auth_attempts, 3);
  EXPECT_EQ(config.limits.max_connections, 500);
  EXPECT_EQ(config.limits.channel_buffer_bytes, 65536u);
  EXPECT_EQ(config.limits.backend_connect_timeout, std::chrono::milliseconds(700));
  EXPECT_EQ(config.limits.backend_auth_timeout, std::chrono::milliseconds(9000));
  EXPECT_EQ(config.limits.keepalive_interval, std::chrono::seconds(0));
  EXPECT_EQ(config.limits.placement_ttl, std::chrono::seconds(60));
  ASSERT_THAT(config.agent_api.listen, SizeIs(2));
  EXPECT_EQ(config.agent_api.listen[0].host, "127.0.0.1");
  EXPECT_EQ(config.agent_api.listen[0].port, 8443);
  EXPECT_EQ(config.agent_api.listen[1].host, "::1");
  EXPECT_EQ(config.agent_api.tls_cert_file, "/etc/x2gojump/agent-api.crt");
  EXPECT_EQ(config.agent_api.tls_key_file, "/etc/x2gojump/agent-api.key");
  EXPECT_FALSE(config.agent_api.allow_plain_http);
  EXPECT_EQ(config.agent_api.max_body_bytes, 2048u);
  EXPECT_EQ(config.agent_api.read_timeout, std::chrono::milliseconds(700));
  EXPECT_EQ(config.health.heartbeat_interval, std::chrono::seconds(10));
  EXPECT_EQ(config.health.stale_after_intervals, 4);
  EXPECT_EQ(config.health.probe_interval, std::chrono::seconds(7));
  EXPECT_EQ(config.health.probe_timeout, std::chrono::milliseconds(900));
  EXPECT_EQ(config.health.down_after_failures, 5);
  EXPECT_EQ(config.health.failure_penalty, std::chrono::seconds(0));
  ASSERT_THAT(config.servers, SizeIs(2));
  EXPECT_EQ(config.servers[0].max_users, 40);
  EXPECT_EQ(config.servers[1].max_users, 0);
  EXPECT_EQ(config.servers[0].name, "a");
  EXPECT_EQ(config.servers[0].address, "a.example.org");
  EXPECT_EQ(config.servers[0].port, 2022);
  EXPECT_EQ(config.servers[0].weight, 2.5);
  EXPECT_EQ(config.servers[0].host_key, std::string("ssh-ed25519 ") + kEd25519 + " comment");
  EXPECT_EQ(config.servers[1].address, "2001:db8::1");
  EXPECT_EQ(config.servers[1].port, 22);
  EXPECT_EQ(config.servers[1].weight, 3.0);
}

TEST(ConfigTest, ShippedExampleParses) {
  auto result = load_broker_config(X2GOJUMP_SCHEMA_DIR "/../packaging/broker.toml");
  EXPECT_THAT(errors_of(result), IsEmpty());
  ASSERT_TRUE(result.config.has_value());
  EXPECT_THAT(result.config->listen, SizeIs(2));
  EXPECT_THAT(result.config->servers, SizeIs(2));
}

TEST(ConfigTest, EnumValues) {
  EXPECT_EQ(valid(with("[broker]", "fallback = \"user\"")).fallback, FallbackStrategy::User);
  EXPECT_EQ(valid(with("[broker]", "fallback = \"source-ip\"")).fallback,
            FallbackStrategy::SourceIp);
  EXPECT_THAT(only_error(with("[broker]", "fallback = \"random\"")),
              HasSubstr("t.toml:2: broker.fallback: must be one of"));
  for (const char* level : {"trace", "debug", "info", "warn", "error"}) {
    EXPECT_EQ(valid(with("[broker]", std::string("log_level = \"") + level + "\"")).log_level,
              level);
  }
  EXPECT_THAT(only_error(with("[broker]", "log_level = \"verbose\"")),
              HasSubstr("broker.log_level: must be one of"));
  EXPECT_THAT(only_error(with("[broker]", "log_level = \"INFO\"")),
              HasSubstr("broker.log_level: must be one of"));
}

struct RangeCase {
  std::string section;
  std::string key;
  std::int64_t min;
  std::int64_t max;
  std::function<std::int64_t(const BrokerConfig&)> get;
};

TEST(ConfigTest, IntegerRangesAreEnforcedOnBothSides) {
  auto ms = [](std::chrono::milliseconds d) { return static_cast<std::int64_t>(d.count()); };
  auto s = [](std::chrono::seconds d) { return static_cast<std::int64_t>(d.count()); };
  std::vector<RangeCase> cases = {
      {"[broker]", "threads", 0, 64, [](auto& c) { return c.threads; }},
      {"[ldap]", "connect_timeout_ms", 1, 60000, [&](auto& c) { return ms(c.ldap.connect_timeout); }},
      {"[ldap]", "operation_timeout_ms", 1, 120000,
       [&](auto& c) { return ms(c.ldap.operation_timeout); }},
      {"[limits]", "login_grace_time_s", 1, 600, [&](auto& c) { return s(c.limits.login_grace_time); }},
      {"[limits]", "max_auth_attempts", 1, 100, [](auto& c) { return c.limits.max_auth_attempts; }},
      {"[limits]", "max_connections", 1, 1000000, [](auto& c) { return c.limits.max_connections; }},
      {"[limits]", "channel_buffer_bytes", 16384, 67108864,
       [](auto& c) { return static_cast<std::int64_t>(c.limits.channel_buffer_bytes); }},
      {"[limits]", "backend_connect_timeout_ms", 1, 120000,
       [&](auto& c) { return ms(c.limits.backend_connect_timeout); }},
      {"[limits]", "backend_auth_timeout_ms", 1, 300000,
       [&](auto& c) { return ms(c.limits.backend_auth_timeout); }},
      {"[limits]", "keepalive_interval_s", 0, 3600,
       [&](auto& c) { return s(c.limits.keepalive_interval); }},
      {"[limits]", "placement_ttl_s", 0, 86400, [&](auto& c) { return s(c.limits.placement_ttl); }},
      {"[[server]]", "port", 1, 65535, [](auto& c) { return std::int64_t{c.servers[0].port}; }},
      {"[[server]]", "max_users", 0, 100000, [](auto& c) { return std::int64_t{c.servers[0].max_users}; }},
      {"[agent_api]", "max_body_bytes", 1024, 67108864,
       [](auto& c) { return static_cast<std::int64_t>(c.agent_api.max_body_bytes); }},
      {"[agent_api]", "read_timeout_ms", 100, 60000,
       [&](auto& c) { return ms(c.agent_api.read_timeout); }},
      {"[health]", "heartbeat_interval_s", 1, 3600,
       [&](auto& c) { return s(c.health.heartbeat_interval); }},
      {"[health]", "stale_after_intervals", 1, 100,
       [](auto& c) { return std::int64_t{c.health.stale_after_intervals}; }},
      {"[health]", "probe_interval_s", 1, 3600, [&](auto& c) { return s(c.health.probe_interval); }},
      {"[health]", "probe_timeout_ms", 100, 60000, [&](auto& c) { return ms(c.health.probe_timeout); }},
      {"[health]", "down_after_failures", 1, 100,
       [](auto& c) { return std::int64_t{c.health.down_after_failures}; }},
      {"[health]", "failure_penalty_s", 0, 86400, [&](auto& c) { return s(c.health.failure_penalty); }},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.key);
    std::string table = c.section == "[[server]]" ? "server[0]"
                                                  : c.section.substr(1, c.section.size() - 2);
    std::string path = table + "." + c.key;
    auto set = [&](std::int64_t v) { return with(c.section, c.key + " = " + std::to_string(v)); };
    EXPECT_EQ(c.get(valid(set(c.min))), c.min);
    EXPECT_EQ(c.get(valid(set(c.max))), c.max);
    EXPECT_THAT(only_error(set(c.min - 1)),
                AllOf(HasSubstr(path + ": must be between " + std::to_string(c.min) + " and " +
                                std::to_string(c.max)),
                      HasSubstr("got " + std::to_string(c.min - 1))));
    EXPECT_THAT(only_error(set(c.max + 1)), HasSubstr(path + ": must be between"));
  }
}

struct TypeCase {
  std::string section;
  std::string line;
  std::string expected;  // the error after "file:line: "
};

TEST(ConfigTest, WrongTypesAreReported) {
  std::vector<TypeCase> cases = {
      {"[broker]", "listen = \"0.0.0.0:22\"", "broker.listen: expected array of strings, got string"},
      {"[broker]", "listen = [\"0.0.0.0:22\", 22]", "broker.listen[1]: expected string, got integer"},
      {"[broker]", "state_db = 1979-05-27", "broker.state_db: expected string, got date"},
      {"[broker]", "threads = \"4\"", "broker.threads: expected integer, got string"},
      {"[broker]", "threads = 4.0", "broker.threads: expected integer, got float"},
      {"[broker]", "log_level = 1", "broker.log_level: expected string, got integer"},
      {"[broker]", "fallback = []", "broker.fallback: expected string, got array"},
      {"[broker]", "accept_new_backend_host_keys = 1",
       "broker.accept_new_backend_host_keys: expected boolean, got integer"},
      {"[ldap]", "starttls = \"yes\"", "ldap.starttls: expected boolean, got string"},
      {"[ldap]", "ca_file = false", "ldap.ca_file: expected string, got boolean"},
      {"[ldap]", "user_base = {}", "ldap.user_base: expected string, got table"},
      {"[ldap]", "user_filter = 1", "ldap.user_filter: expected string, got integer"},
      {"[ldap]", "group_base = 1", "ldap.group_base: expected string, got integer"},
      {"[ldap]", "group_styles = \"posix\"", "ldap.group_styles: expected array of strings, got string"},
      {"[ldap]", "bind_dn = 1", "ldap.bind_dn: expected string, got integer"},
      {"[ldap]", "bind_password_file = 1", "ldap.bind_password_file: expected string, got integer"},
      {"[ldap]", "connect_timeout_ms = 1.5", "ldap.connect_timeout_ms: expected integer, got float"},
      {"[ldap]", "operation_timeout_ms = \"1\"", "ldap.operation_timeout_ms: expected integer, got string"},
      {"[limits]", "login_grace_time_s = true", "limits.login_grace_time_s: expected integer, got boolean"},
      {"[limits]", "max_startups = true", "limits.max_startups: expected string, got boolean"},
      {"[limits]", "max_auth_attempts = \"6\"", "limits.max_auth_attempts: expected integer, got string"},
      {"[limits]", "max_connections = 1.0", "limits.max_connections: expected integer, got float"},
      {"[limits]", "channel_buffer_bytes = []", "limits.channel_buffer_bytes: expected integer, got array"},
      {"[limits]", "backend_connect_timeout_ms = \"5\"",
       "limits.backend_connect_timeout_ms: expected integer, got string"},
      {"[limits]", "backend_auth_timeout_ms = 1.0",
       "limits.backend_auth_timeout_ms: expected integer, got float"},
      {"[limits]", "keepalive_interval_s = 07:32:00",
       "limits.keepalive_interval_s: expected integer, got time"},
      {"[limits]", "placement_ttl_s = 1979-05-27T07:32:00Z",
       "limits.placement_ttl_s: expected integer, got date-time"},
      {"[[server]]", "port = \"22\"", "server[0].port: expected integer, got string"},
      {"[[server]]", "weight = \"1\"", "server[0].weight: expected number, got string"},
      {"[[server]]", "host_key = 1", "server[0].host_key: expected string, got integer"},
      {"[[server]]", "agent_token_file = []", "server[0].agent_token_file: expected string, got array"},
      {"[[server]]", "max_users = \"10\"", "server[0].max_users: expected integer, got string"},
      {"[agent_api]", "listen = \"127.0.0.1:1\"", "agent_api.listen: expected array of strings, got string"},
      {"[agent_api]", "tls_cert = 1", "agent_api.tls_cert: expected string, got integer"},
      {"[agent_api]", "tls_key = true", "agent_api.tls_key: expected string, got boolean"},
      {"[agent_api]", "allow_plain_http = \"yes\"", "agent_api.allow_plain_http: expected boolean, got string"},
      {"[agent_api]", "max_body_bytes = 1.5", "agent_api.max_body_bytes: expected integer, got float"},
      {"[agent_api]", "read_timeout_ms = \"1\"", "agent_api.read_timeout_ms: expected integer, got string"},
      {"[health]", "heartbeat_interval_s = 1.0", "health.heartbeat_interval_s: expected integer, got float"},
      {"[health]", "stale_after_intervals = \"3\"", "health.stale_after_intervals: expected integer, got string"},
      {"[health]", "probe_interval_s = []", "health.probe_interval_s: expected integer, got array"},
      {"[health]", "probe_timeout_ms = true", "health.probe_timeout_ms: expected integer, got boolean"},
      {"[health]", "down_after_failures = 2.0", "health.down_after_failures: expected integer, got float"},
      {"[health]", "failure_penalty_s = \"180\"", "health.failure_penalty_s: expected integer, got string"},
  };
  for (const auto& c : cases) {
    EXPECT_THAT(only_error(with(c.section, c.line)), HasSubstr(": " + c.expected)) << c.line;
  }
  // Keys whose type error is on a required key still yield exactly one error.
  EXPECT_THAT(only_error(R"([broker]
host_keys = ["/k"]
[ldap]
uris = ["ldap://l"]
base_dn = "dc=x"
[[server]]
name = 1
address = "h"
)"), "t.toml:7: server[0].name: expected string, got integer");
}

TEST(ConfigTest, WrongSectionTypes) {
  EXPECT_EQ(only_error(std::string("limits = 1\n") + kMinimal),
            "t.toml:1: limits: expected table, got integer");
  EXPECT_EQ(only_error(std::string("agent_api = []\n") + kMinimal),
            "t.toml:1: agent_api: expected table, got array");
  EXPECT_EQ(only_error(std::string("health = \"ok\"\n") + kMinimal),
            "t.toml:1: health: expected table, got string");
  EXPECT_EQ(only_error(R"(broker = "x"
[ldap]
uris = ["ldap://l"]
base_dn = "dc=x"
[[server]]
name = "a"
address = "h"
)"),
            "t.toml:1: broker: expected table, got string");
  EXPECT_EQ(only_error(R"([broker]
host_keys = ["/k"]
[ldap]
uris = ["ldap://l"]
base_dn = "dc=x"
[server]
name = "a"
address = "h"
)"),
            "t.toml:6: server: expected array of tables ([[server]]), got table");
  EXPECT_EQ(only_error(R"(server = []
[broker]
host_keys = ["/k"]
[ldap]
uris = ["ldap://l"]
base_dn = "dc=x"
)"),
            "t.toml:1: server: at least one [[server]] is required");
}

TEST(ConfigTest, UnknownKeysInEveryTable) {
  EXPECT_EQ(only_error(with("[broker]", "listen_port = 22")), "t.toml:2: broker.listen_port: unknown key");
  EXPECT_EQ(only_error(with("[ldap]", "uri = \"ldap://x\"")), "t.toml:5: ldap.uri: unknown key");
  EXPECT_THAT(only_error(with("[limits]", "max_sessions = 1")), HasSubstr("limits.max_sessions: unknown key"));
  EXPECT_EQ(only_error(with("[[server]]", "hostname = \"x\"")), "t.toml:9: server[0].hostname: unknown key");
  EXPECT_THAT(only_error(with("[agent_api]", "port = 8443")), HasSubstr("agent_api.port: unknown key"));
  EXPECT_THAT(only_error(with("[health]", "interval = 5")), HasSubstr("health.interval: unknown key"));
  EXPECT_EQ(only_error(std::string("verbose = true\n") + kMinimal), "t.toml:1: verbose: unknown key");
  EXPECT_THAT(only_error(with("[metrics]", "port = 9100")), HasSubstr("metrics: unknown key"));
  EXPECT_THAT(only_error(with("[broker.extra]", "a = 1")), HasSubstr("broker.extra: unknown key"));
}

TEST(ConfigTest, MissingRequiredKeys) {
  EXPECT_EQ(only_error(R"([broker]
threads = 1

[ldap]
uris = ["ldap://l"]
base_dn = "dc=x"

[[server]]
name = "a"
address = "h"
)"),
            "t.toml:1: broker.host_keys: missing required key");
  // Without a [broker] table the missing key is reported at the top of the file.
  EXPECT_EQ(only_error(R"([ldap]
uris = ["ldap://l"]
base_dn = "dc=x"
[[server]]
name = "a"
address = "h"
)"),
            "t.toml:1: broker.host_keys: missing required key");
  EXPECT_EQ(only_error(R"([broker]
host_keys = ["/k"]
[[server]]
name = "a"
address = "h"
)"),
            "t.toml:1: ldap: missing required table");
  EXPECT_EQ(only_error(R"([broker]
host_keys = ["/k"]
[ldap]
base_dn = "dc=x"
[[server]]
name = "a"
address = "h"
)"),
            "t.toml:3: ldap.uris: missing required key");
  EXPECT_EQ(only_error(R"([broker]
host_keys = ["/k"]
[ldap]
uris = ["ldap://l"]
[[server]]
name = "a"
address = "h"
)"),
            "t.toml:3: ldap.base_dn: missing required key");
  EXPECT_EQ(only_error(R"([broker]
host_keys = ["/k"]
[ldap]
uris = ["ldap://l"]
base_dn = "dc=x"
)"),
            "t.toml:1: server: at least one [[server]] is required");
  EXPECT_EQ(only_error(R"([broker]
host_keys = ["/k"]
[ldap]
uris = ["ldap://l"]
base_dn = "dc=x"
[[server]]
name = "a"
address = "h"
[[server]]
address = "h"
)"),
            "t.toml:9: server[1].name: missing required key");
  EXPECT_EQ(only_error(R"([broker]
host_keys = ["/k"]
[ldap]
uris = ["ldap://l"]
base_dn = "dc=x"
[[server]]
name = "a"
)"),
            "t.toml:6: server[0].address: missing required key");
}

TEST(ConfigTest, EmptyRequiredValues) {
  EXPECT_THAT(only_error(with("[broker]", "host_keys = []", "[broker]\n" + std::string(kMinimal).substr(
                                                                  std::string(kMinimal).find("\n[ldap]")))),
              HasSubstr("broker.host_keys: must not be empty"));
  EXPECT_THAT(only_error(with("[broker]", "state_db = \"\"")), HasSubstr("broker.state_db: must not be empty"));
  std::string no_base = std::string(kMinimal);
  no_base.replace(no_base.find("base_dn = \"dc=example,dc=org\""), 29, "base_dn = \"\"");
  EXPECT_THAT(only_error(no_base), HasSubstr("t.toml:6: ldap.base_dn: must not be empty"));
  std::string no_uris = std::string(kMinimal);
  no_uris.replace(no_uris.find("uris = [\"ldap://ldap.example.org\"]"), 34, "uris = []");
  EXPECT_THAT(only_error(no_uris), HasSubstr("ldap.uris: must not be empty"));
}

// A [broker] with the given listen value and everything else valid.
std::string listen_config(const std::string& listen) {
  return with("[broker]", "listen = " + listen);
}

TEST(ConfigTest, ListenAddresses) {
  auto config = valid(listen_config(R"(["127.0.0.1:2222", "[::1]:22", "[0:0::0]:65535", "0.0.0.0:1"])"));
  ASSERT_THAT(config.listen, SizeIs(4));
  EXPECT_EQ(config.listen[0].host, "127.0.0.1");
  EXPECT_EQ(config.listen[0].port, 2222);
  EXPECT_EQ(config.listen[1].host, "::1");
  EXPECT_EQ(config.listen[2].host, "::");  // canonical form
  EXPECT_EQ(config.listen[2].port, 65535);
  EXPECT_EQ(config.listen[3].port, 1);

  struct Bad {
    const char* entry;
    const char* message;
  };
  std::vector<Bad> bad = {
      {"1.2.3.4:0", "port out of range"},
      {"1.2.3.4:65536", "port out of range"},
      {"1.2.3.4:", "invalid port"},
      {"1.2.3.4:ssh", "invalid port"},
      {"1.2.3.4:+22", "invalid port"},
      {"1.2.3.4:-1", "invalid port"},
      {"1.2.3.4", "missing \":port\""},
      {"::1:22", "must be written in brackets"},
      {"::", "must be written in brackets"},
      {"[::1", "missing \"]\""},
      {"[::1]", "missing \":port\""},
      {"[::1]22", "missing \":port\""},
      {"[::1]:0", "port out of range"},
      {"[1.2.3.4]:22", "not a numeric IPv6 address"},
      {"[::g]:22", "not a numeric IPv6 address"},
      {"localhost:22", "host names are not allowed"},
      {"[localhost]:22", "not a numeric IPv6 address"},
      {"1.2.3:22", "not a numeric IPv4 address"},
      {"256.1.1.1:22", "not a numeric IPv4 address"},
      {" 1.2.3.4:22", "not a numeric IPv4 address"},
      {"", "missing"},
  };
  for (const auto& b : bad) {
    EXPECT_THAT(only_error(listen_config(std::string("[\"") + b.entry + "\"]")),
                AllOf(HasSubstr("t.toml:2: broker.listen[0]: "), HasSubstr(b.message)))
        << b.entry;
  }
  EXPECT_THAT(only_error(listen_config("[]")), HasSubstr("broker.listen: must not be empty"));
  EXPECT_THAT(only_error(listen_config(R"(["0.0.0.0:22", "[::]:22", "0.0.0.0:22"])")),
              HasSubstr("broker.listen[2]: duplicate listen address"));
  EXPECT_THAT(only_error(listen_config(R"(["[::]:22", "[0::0]:22"])")),
              HasSubstr("broker.listen[1]: duplicate listen address"));
  EXPECT_THAT(errors_of(listen_config(R"(["a:1", "b:2"])")), SizeIs(2));
}

TEST(ConfigTest, AgentApiListenAndTls) {
  auto api = [](const std::string& lines) { return with("[agent_api]", lines); };
  // Without listen the API is disabled and needs no TLS material.
  EXPECT_THAT(valid(api("max_body_bytes = 4096")).agent_api.listen, IsEmpty());
  EXPECT_THAT(valid(api("listen = []")).agent_api.listen, IsEmpty());

  auto plain = valid(api("listen = [\"127.0.0.1:8080\", \"[::1]:8080\"]\nallow_plain_http = true"));
  ASSERT_THAT(plain.agent_api.listen, SizeIs(2));
  EXPECT_EQ(plain.agent_api.listen[1].host, "::1");
  EXPECT_TRUE(plain.agent_api.allow_plain_http);

  EXPECT_EQ(only_error(api("listen = [\"0.0.0.0:8443\"]")),
            "t.toml:12: agent_api.tls_cert: tls_cert and tls_key are required unless "
            "allow_plain_http = true");
  EXPECT_EQ(only_error(api("listen = [\"0.0.0.0:8443\"]\nallow_plain_http = false")),
            "t.toml:12: agent_api.tls_cert: tls_cert and tls_key are required unless "
            "allow_plain_http = true");
  EXPECT_EQ(only_error(api("listen = [\"0.0.0.0:8443\"]\ntls_cert = \"/c.pem\"")),
            "t.toml:14: agent_api.tls_key: tls_cert and tls_key must be set together");
  EXPECT_EQ(only_error(api("listen = [\"0.0.0.0:8443\"]\ntls_key = \"/k.pem\"")),
            "t.toml:14: agent_api.tls_cert: tls_cert and tls_key must be set together");
  EXPECT_EQ(only_error(api("tls_cert = \"/c.pem\"\ntls_key = \"\"")),
            "t.toml:13: agent_api.tls_key: tls_cert and tls_key must be set together");
  EXPECT_EQ(only_error(api("listen = [\"0.0.0.0:8443\"]\ntls_cert = \"/c\"\ntls_key = \"/k\"\n"
                           "allow_plain_http = true")),
            "t.toml:16: agent_api.allow_plain_http: must not be true when tls_cert and tls_key "
            "are set");

  auto tls = valid(api("listen = [\"0.0.0.0:8443\"]\ntls_cert = \"/etc/c.pem\"\ntls_key = \"k.pem\""));
  EXPECT_EQ(tls.agent_api.tls_cert_file, "/etc/c.pem");
  // Relative to the directory of the configuration file, like the secret files.
  EXPECT_EQ(tls.agent_api.tls_key_file, "k.pem");  // "t.toml" has no directory
  auto in_etc = parse_broker_config(
      api("listen = [\"0.0.0.0:8443\"]\ntls_cert = \"c.pem\"\ntls_key = \"/k.pem\""),
      "/etc/x2gojump/broker.toml");
  ASSERT_TRUE(in_etc.config);
  EXPECT_EQ(in_etc.config->agent_api.tls_cert_file, "/etc/x2gojump/c.pem");
  EXPECT_EQ(in_etc.config->agent_api.tls_key_file, "/k.pem");

  EXPECT_THAT(only_error(api("listen = [\"localhost:8443\"]\nallow_plain_http = true")),
              HasSubstr("t.toml:13: agent_api.listen[0]: not a numeric IPv4 address"));
  EXPECT_THAT(only_error(api("listen = [\"127.0.0.1:1\", \"127.0.0.1:1\"]\nallow_plain_http = true")),
              HasSubstr("agent_api.listen[1]: duplicate listen address"));
}

TEST(ConfigTest, MaxStartupsForms) {
  auto startups = [](const std::string& value) {
    auto c = valid(with("[limits]", "max_startups = " + value));
    return std::vector<int>{c.limits.max_startups_begin, c.limits.max_startups_rate,
                            c.limits.max_startups_full};
  };
  EXPECT_THAT(startups("\"10:30:100\""), ElementsAre(10, 30, 100));
  EXPECT_THAT(startups("\"1:0:1\""), ElementsAre(1, 0, 1));
  EXPECT_THAT(startups("\"5:100:5\""), ElementsAre(5, 100, 5));
  EXPECT_THAT(startups("\"7\""), ElementsAre(7, 100, 7));
  EXPECT_THAT(startups("7"), ElementsAre(7, 100, 7));
  for (const char* bad : {"\"0:30:100\"", "\"10:101:100\"", "\"20:30:10\"", "\"10:30\"",
                          "\"10:30:100:1\"", "\"a:b:c\"", "\"\"", "\"0\"", "\"-1:30:100\"",
                          "\"10::100\"", "\" 10:30:100\"", "\"99999999999999999999\"", "0",
                          "-5"}) {
    EXPECT_THAT(only_error(with("[limits]", std::string("max_startups = ") + bad)),
                HasSubstr("t.toml:13: limits.max_startups: "))
        << bad;
  }
}

TEST(ConfigTest, HostKeys) {
  auto key_config = [](const std::string& key) {
    return with("[[server]]", "host_key = \"" + key + "\"");
  };
  for (const std::string& good :
       {std::string("ssh-ed25519 ") + kEd25519, std::string("ssh-ed25519 ") + kEd25519 + " c",
        std::string("ssh-ed25519 ") + kEd25519 + " a comment with spaces",
        std::string("ssh-rsa ") + kRsa + " root@host",
        std::string("ecdsa-sha2-nistp256 ") + kEcdsa256,
        std::string("ecdsa-sha2-nistp384 ") + kEcdsa384 + " x"}) {
    EXPECT_EQ(valid(key_config(good)).servers[0].host_key, good);
  }
  struct Bad {
    std::string key;
    const char* message;
  };
  std::vector<Bad> bad = {
      {"ssh-dss " + std::string(kEd25519), "unsupported key type"},
      {"ssh-ed25519", "expected \"type base64 [comment]\""},
      {"ssh-ed25519 ", "missing base64 key data"},
      {std::string(kEd25519), "expected \"type base64 [comment]\""},
      {"ssh-ed25519 AAAA!AAA", "not valid base64"},
      {"ssh-ed25519 AAAAC3NzaC1", "not valid base64"},
      {"ssh-ed25519 AA==", "too short"},
      {"ssh-rsa " + std::string(kEd25519), "does not match key type"},
      {"ecdsa-sha2-nistp521 " + std::string(kEcdsa256), "does not match key type"},
      {"", "expected"},
  };
  for (const auto& b : bad) {
    EXPECT_THAT(only_error(key_config(b.key)),
                AllOf(HasSubstr("t.toml:9: server[0].host_key: "), HasSubstr(b.message)))
        << b.key;
  }
}

TEST(ConfigTest, ServerValidation) {
  const std::string two_servers = std::string(kMinimal) + R"(
[[server]]
name = "s2"
address = "10.0.0.2"
)";
  EXPECT_THAT(valid(two_servers).servers, SizeIs(2));
  std::string duplicate = two_servers;
  duplicate.replace(duplicate.find("\"s2\""), 4, "\"s1\"");
  EXPECT_EQ(only_error(duplicate), "t.toml:13: server[1].name: duplicate server name \"s1\"");

  auto server = [](const std::string& name, const std::string& address) {
    return R"([broker]
host_keys = ["/k"]
[ldap]
uris = ["ldap://l"]
base_dn = "dc=x"
[[server]]
name = ")" + name + R"("
address = ")" + address + "\"\n";
  };
  for (const std::string& name : {std::string("a"), std::string("x2go-host_1.example"),
                                  std::string(64, 'n')}) {
    EXPECT_EQ(valid(server(name, "h")).servers[0].name, name);
  }
  for (const std::string& name : {std::string(""), std::string(65, 'n'), std::string("a b"),
                                  std::string("a/b"), std::string("h\u00e9")}) {
    EXPECT_THAT(only_error(server(name, "h")), HasSubstr("t.toml:7: server[0].name: ")) << name;
  }
  for (const char* address : {"10.0.0.1", "2001:db8::1", "host", "host.example.org",
                              "host.example.org.", "x-1.a2"}) {
    EXPECT_EQ(valid(server("a", address)).servers[0].address, address);
  }
  for (const char* address : {"", "bad_host", "-host", "host-", "a..b", "10.0.0.256", "1.2.3",
                              "[::1]", "host:22", "h\u00e9", "."}) {
    EXPECT_THAT(only_error(server("a", address)),
                HasSubstr("t.toml:8: server[0].address: not an IP address or valid host name"))
        << address;
  }
  EXPECT_EQ(valid(with("[[server]]", "weight = 1000")).servers[0].weight, 1000.0);
  EXPECT_EQ(valid(with("[[server]]", "weight = 0.001")).servers[0].weight, 0.001);
  EXPECT_EQ(valid(with("[[server]]", "weight = 7")).servers[0].weight, 7.0);
  for (const char* weight : {"0", "0.0", "-1", "1000.5", "1001"}) {
    EXPECT_THAT(only_error(with("[[server]]", std::string("weight = ") + weight)),
                HasSubstr("server[0].weight: must be greater than 0 and at most 1000"))
        << weight;
  }
  for (const char* weight : {"nan", "inf", "-inf"}) {
    EXPECT_THAT(only_error(with("[[server]]", std::string("weight = ") + weight)),
                HasSubstr("server[0].weight: must be a finite number"))
        << weight;
  }
}

TEST(ConfigTest, LdapValues) {
  auto uris = [](const std::string& list) {
    std::string text = kMinimal;
    text.replace(text.find("uris = [\"ldap://ldap.example.org\"]"), 34, "uris = " + list);
    return text;
  };
  EXPECT_THAT(valid(uris(R"(["LDAPS://a", "ldap://b:389", "ldap://[::1]"])")).ldap.uris, SizeIs(3));
  for (const char* bad : {"http://a", "ldapi:///var/run/slapd", "ldap://", "ldaps:///dc=x",
                          "ldap://a ldap://b", "ldap://a,ldap://b", "a.example.org"}) {
    EXPECT_THAT(only_error(uris(std::string("[\"") + bad + "\"]")),
                HasSubstr("t.toml:5: ldap.uris[0]: "))
        << bad;
  }
  EXPECT_THAT(errors_of(uris(R"(["x://a", "ldap://b", "y://c"])")),
              ElementsAre(HasSubstr("ldap.uris[0]"), HasSubstr("ldap.uris[2]")));

  EXPECT_EQ(valid(with("[ldap]", "user_filter = \"(uid={user})\"")).ldap.user_filter, "(uid={user})");
  for (const char* bad : {"uid={user}", "(uid=x)", "(uid={user}", "((uid={user})", "(a)(uid={user})",
                          "(uid={user}))(", ""}) {
    EXPECT_THAT(only_error(with("[ldap]", std::string("user_filter = \"") + bad + "\"")),
                HasSubstr("t.toml:5: ldap.user_filter: "))
        << bad;
  }

  EXPECT_THAT(valid(with("[ldap]", "group_styles = [\"groupofnames\"]")).ldap.group_styles,
              ElementsAre(GroupStyle::GroupOfNamesMember));
  EXPECT_THAT(only_error(with("[ldap]", "group_styles = []")),
              HasSubstr("ldap.group_styles: must not be empty"));
  EXPECT_THAT(only_error(with("[ldap]", "group_styles = [\"posix\", \"nis\"]")),
              HasSubstr("ldap.group_styles[1]: must be one of"));
  EXPECT_THAT(only_error(with("[ldap]", "group_styles = [\"memberof\", \"posix\", \"memberof\"]")),
              HasSubstr("ldap.group_styles[2]: duplicate group style \"memberof\""));
}

// A temporary directory removed with everything in it at the end of the test.
class ConfigFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (std::filesystem::temp_directory_path() / "xj_config_XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string write(const std::string& name, const std::string& content, mode_t mode = 0600) {
    auto path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary) << content;
    chmod(path.c_str(), mode);
    return path;
  }

  std::filesystem::path dir_;
};

std::string bind_config(const std::string& password_file) {
  return with("[ldap]", "bind_dn = \"cn=svc,dc=x\"\nbind_password_file = \"" + password_file + "\"");
}

TEST_F(ConfigFileTest, PasswordFileIsRead) {
  auto path = write("pw", "s3cret\n");
  auto config = valid(bind_config(path));
  EXPECT_EQ(config.ldap.bind_dn, "cn=svc,dc=x");
  EXPECT_EQ(config.ldap.bind_password, "s3cret");
  write("crlf", "s3cret\r\n");
  EXPECT_EQ(valid(bind_config((dir_ / "crlf").string())).ldap.bind_password, "s3cret");
  write("nonl", "pass word  ");
  EXPECT_EQ(valid(bind_config((dir_ / "nonl").string())).ldap.bind_password, "pass word  ");
  write("two", "s3cret\n\n");
  EXPECT_EQ(valid(bind_config((dir_ / "two").string())).ldap.bind_password, "s3cret\n");
  write("group", "g\n", 0640);
  EXPECT_EQ(valid(bind_config((dir_ / "group").string())).ldap.bind_password, "g");
}

TEST_F(ConfigFileTest, RelativePasswordFileIsRelativeToConfigFile) {
  write("pw", "rel\n");
  auto config_path = write("broker.toml", bind_config("pw"));
  auto result = load_broker_config(config_path);
  EXPECT_THAT(errors_of(result), IsEmpty());
  ASSERT_TRUE(result.config);
  EXPECT_EQ(result.config->ldap.bind_password, "rel");

  auto parsed = parse_broker_config(bind_config("pw"), (dir_ / "other.toml").string());
  EXPECT_THAT(errors_of(parsed), IsEmpty());
  // Relative to the config file, not to the working directory.
  auto elsewhere = parse_broker_config(bind_config("pw"), "/nonexistent-dir/broker.toml");
  EXPECT_THAT(errors_of(elsewhere),
              ElementsAre(HasSubstr("/nonexistent-dir/pw: No such file or directory")));
}

TEST_F(ConfigFileTest, PasswordFileErrors) {
  auto world = write("world", "hunter2\n", 0644);
  std::string error = only_error(bind_config(world));
  EXPECT_THAT(error, AllOf(HasSubstr("t.toml:6: ldap.bind_password_file: "),
                           HasSubstr("must not be world-readable (mode 0644)")));
  EXPECT_THAT(error, ::testing::Not(HasSubstr("hunter2")));
  EXPECT_THAT(only_error(bind_config(write("world_only", "x", 0604))), HasSubstr("world-readable"));
  EXPECT_THAT(only_error(bind_config((dir_ / "missing").string())),
              AllOf(HasSubstr("t.toml:6: ldap.bind_password_file: cannot read"),
                    HasSubstr("No such file or directory")));
  EXPECT_THAT(only_error(bind_config(write("empty", ""))), HasSubstr("is empty"));
  EXPECT_THAT(only_error(bind_config(write("newline", "\n"))), HasSubstr("is empty"));
  EXPECT_THAT(only_error(bind_config(dir_.string())), HasSubstr("not a regular file"));
  EXPECT_THAT(only_error(bind_config(write("big", std::string(5000, 'x')))), HasSubstr("too large"));

  EXPECT_EQ(only_error(with("[ldap]", "bind_dn = \"cn=svc,dc=x\"")),
            "t.toml:4: ldap.bind_password_file: required when bind_dn is set");
  EXPECT_EQ(only_error(with("[ldap]", "bind_dn = \"cn=svc,dc=x\"\nbind_password_file = \"\"")),
            "t.toml:6: ldap.bind_password_file: required when bind_dn is set");
  EXPECT_EQ(only_error(with("[ldap]", "bind_password_file = \"" + write("pw", "x") + "\"")),
            "t.toml:5: ldap.bind_password_file: set, but bind_dn is empty");
  EXPECT_THAT(valid(with("[ldap]", "bind_dn = \"\"\nbind_password_file = \"\"")).ldap.bind_dn,
              IsEmpty());
}

// kMinimal plus a second server; each line is added to the server of the same index.
std::string two_servers_with(const std::string& first, const std::string& second) {
  return with("[[server]]", first) + "\n[[server]]\nname = \"s2\"\naddress = \"10.0.0.2\"\n" +
         second + "\n";
}

TEST_F(ConfigFileTest, AgentTokenFileIsRead) {
  auto path = write("token", "0123456789abcdef0123\n");
  auto config = valid(with("[[server]]", "agent_token_file = \"" + path + "\""));
  EXPECT_EQ(config.servers[0].agent_token, "0123456789abcdef0123");
  EXPECT_TRUE(valid(with("[[server]]", "agent_token_file = \"\"")).servers[0].agent_token.empty());

  write("rel-token", "relative-token-0123456789\n", 0640);
  auto parsed = parse_broker_config(with("[[server]]", "agent_token_file = \"rel-token\""),
                                    (dir_ / "broker.toml").string());
  EXPECT_THAT(errors_of(parsed), IsEmpty());
  ASSERT_TRUE(parsed.config);
  EXPECT_EQ(parsed.config->servers[0].agent_token, "relative-token-0123456789");

  auto other = write("other", "another-token-0123456789");
  auto both = valid(two_servers_with("agent_token_file = \"" + path + "\"",
                                     "agent_token_file = \"" + other + "\""));
  EXPECT_EQ(both.servers[1].agent_token, "another-token-0123456789");
}

TEST_F(ConfigFileTest, AgentTokenFileErrors) {
  auto token = [](const std::string& file) {
    return with("[[server]]", "agent_token_file = \"" + file + "\"");
  };
  std::string secret = "world-readable-token-0123";
  std::string error = only_error(token(write("world", secret, 0644)));
  EXPECT_THAT(error, AllOf(HasSubstr("t.toml:9: server[0].agent_token_file: "),
                           HasSubstr("must not be world-readable (mode 0644)")));
  EXPECT_THAT(error, ::testing::Not(HasSubstr(secret)));
  EXPECT_THAT(only_error(token((dir_ / "missing").string())),
              AllOf(HasSubstr("server[0].agent_token_file: cannot read"),
                    HasSubstr("No such file or directory")));
  EXPECT_THAT(only_error(token(write("empty", "\n"))), HasSubstr("is empty"));
  EXPECT_THAT(only_error(token(write("big", std::string(4097, 'x')))), HasSubstr("too large"));
  EXPECT_EQ(only_error(token(write("short", "0123456789abcde\n"))),
            "t.toml:9: server[0].agent_token_file: token must be at least 16 bytes");
  EXPECT_EQ(valid(token(write("sixteen", "0123456789abcdef"))).servers[0].agent_token,
            "0123456789abcdef");
  for (const std::string& bad : {std::string("0123456789 abcdef"), std::string("0123456789abcdef\t"),
                                 std::string("0123456789abcdef\n\n"),
                                 std::string("0123456789abcd\u00e9f")}) {
    std::string message = only_error(token(write("bad", bad)));
    EXPECT_EQ(message, "t.toml:9: server[0].agent_token_file: token may only contain printable "
                       "ASCII without spaces")
        << bad;
  }
  EXPECT_THAT(only_error(token(dir_.string())), HasSubstr("not a regular file"));

  auto shared = write("shared", "shared-token-0123456789\n");
  auto copy = write("copy", "shared-token-0123456789");
  std::string duplicate = only_error(two_servers_with("agent_token_file = \"" + shared + "\"",
                                                      "agent_token_file = \"" + copy + "\""));
  EXPECT_EQ(duplicate, "t.toml:16: server[1].agent_token_file: same token as server[0]");
}

TEST_F(ConfigFileTest, LoadErrors) {
  auto missing = (dir_ / "nope.toml").string();
  auto result = load_broker_config(missing);
  EXPECT_FALSE(result.config);
  ASSERT_THAT(result.errors, SizeIs(1));
  EXPECT_EQ(result.errors[0].file, missing);
  EXPECT_EQ(result.errors[0].message, "cannot read file: No such file or directory");
  EXPECT_EQ(result.errors[0].to_string(), missing + ": cannot read file: No such file or directory");
  EXPECT_THAT(errors_of(load_broker_config(dir_.string())),
              ElementsAre(HasSubstr("cannot read file: Is a directory")));

  auto bad = write("bad.toml", std::string(kMinimal) + "port = 0\n");
  EXPECT_THAT(errors_of(load_broker_config(bad)),
              ElementsAre(bad + ":11: server[0].port: must be between 1 and 65535, got 0"));
}

TEST(ConfigTest, SyntaxErrorIsOneErrorWithLine) {
  auto result = parse_broker_config("[broker]\nthreads = 1\nlisten = [\"a\"\n", "t.toml");
  EXPECT_FALSE(result.config);
  ASSERT_THAT(result.errors, SizeIs(1));
  EXPECT_EQ(result.errors[0].file, "t.toml");
  EXPECT_EQ(result.errors[0].line, 3);
  EXPECT_FALSE(result.errors[0].message.empty());
  EXPECT_THAT(result.errors[0].to_string(), HasSubstr("t.toml:3: "));

  EXPECT_THAT(errors_of(std::string(kMinimal) + "name = \"again\"\n"), ElementsAre(HasSubstr("t.toml:11: ")));
  EXPECT_THAT(errors_of("\xff\xfe"), SizeIs(1));
  EXPECT_THAT(errors_of(std::string("a = \"\0\"", 7)), SizeIs(1));
}

TEST(ConfigTest, AllErrorsAreCollectedInOrder) {
  const char* text = R"toml([broker]
listen = ["localhost:22", "0.0.0.0:99999"]
threads = 100
colour = "blue"

[ldap]
uris = ["http://ldap"]
user_filter = "(uid=x)"

[limits]
max_startups = "5:30:1"

[[server]]
name = "bad name"
address = "h"
weight = 0

[[server]]
name = "ok"
port = 0
)toml";
  EXPECT_THAT(errors_of(text), ElementsAre(
      HasSubstr("t.toml:2: broker.listen[0]: "),
      HasSubstr("t.toml:2: broker.listen[1]: port out of range"),
      HasSubstr("t.toml:1: broker.host_keys: missing required key"),
      HasSubstr("t.toml:3: broker.threads: must be between 0 and 64, got 100"),
      "t.toml:4: broker.colour: unknown key",
      HasSubstr("t.toml:7: ldap.uris[0]: scheme must be ldap:// or ldaps://"),
      "t.toml:6: ldap.base_dn: missing required key",
      HasSubstr("t.toml:8: ldap.user_filter: must contain the {user} placeholder"),
      HasSubstr("t.toml:11: limits.max_startups: start must not exceed full"),
      HasSubstr("t.toml:14: server[0].name: "),
      HasSubstr("t.toml:16: server[0].weight: "),
      "t.toml:18: server[1].address: missing required key",
      HasSubstr("t.toml:20: server[1].port: ")));
}

TEST(ConfigTest, ErrorToString) {
  EXPECT_EQ((ConfigError{"f.toml", 3, "ldap.uris", "bad"}).to_string(), "f.toml:3: ldap.uris: bad");
  EXPECT_EQ((ConfigError{"f.toml", 0, "ldap", "bad"}).to_string(), "f.toml: ldap: bad");
  EXPECT_EQ((ConfigError{"f.toml", 2, "", "bad"}).to_string(), "f.toml:2: bad");
}

}  // namespace
}  // namespace x2gojump
