// [[pool]] parsing and the --check-config rules for pools (docs/acl.md).
#include "broker/config/Config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "tests/unit/ConfigText.h"

namespace x2gojump {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

// Lines 1-13 (the minimal configuration plus server s2); a pool appended by with_pool() starts at
// line 14 (name 15, servers 16, ...).
const std::string kBase =
    std::string(test::kMinimalBrokerToml) + "[[server]]\nname = \"s2\"\naddress = \"10.0.0.2\"";

std::string with_pool(const std::string& body) { return kBase + "\n[[pool]]\n" + body; }

std::vector<std::string> errors_of(const std::string& text) {
  std::vector<std::string> texts;
  for (const auto& error : parse_broker_config(text, "t.toml").errors) texts.push_back(error.to_string());
  return texts;
}

BrokerConfig valid(const std::string& text) {
  auto result = parse_broker_config(text, "t.toml");
  std::vector<std::string> errors;
  for (const auto& error : result.errors) errors.push_back(error.to_string());
  EXPECT_THAT(errors, IsEmpty()) << text;
  return result.config.value_or(BrokerConfig{});
}

std::string only_error(const std::string& text) {
  auto errors = errors_of(text);
  EXPECT_THAT(errors, SizeIs(1)) << text;
  return errors.empty() ? std::string() : errors.front();
}

// name, servers and one allow rule: the smallest valid pool.
constexpr const char* kPool = "name = \"p\"\nservers = [\"s1\"]\nallow_groups = [\"physics\"]\n";

TEST(PoolConfigTest, NoPoolsByDefault) { EXPECT_THAT(valid(kBase).pools, IsEmpty()); }

TEST(PoolConfigTest, MinimalPoolGetsDefaults) {
  BrokerConfig config = valid(with_pool(kPool));
  ASSERT_THAT(config.pools, SizeIs(1));
  const PoolConfig& p = config.pools[0];
  EXPECT_EQ(p.name, "p");
  EXPECT_THAT(p.servers, ElementsAre("s1"));
  EXPECT_THAT(p.allow_groups, ElementsAre("physics"));
  EXPECT_THAT(p.allow_users, IsEmpty());
  EXPECT_THAT(p.allow_networks, IsEmpty());
  EXPECT_THAT(p.deny_users, IsEmpty());
  EXPECT_THAT(p.deny_groups, IsEmpty());
  EXPECT_THAT(p.deny_networks, IsEmpty());
  EXPECT_TRUE(p.deny_wins);
  EXPECT_FALSE(p.resume_outside_pool);
}

TEST(PoolConfigTest, FullPoolSetsEveryField) {
  BrokerConfig config = valid(with_pool(R"(name = "physics.lab-1"
servers = ["s1", "s2"]
allow_groups = ["physics", "Lab Staff"]
allow_users = ["alice", "*"]
allow_networks = ["10.0.0.0/8", "2001:db8::/32", "::ffff:192.0.2.0/120", "198.51.100.7"]
deny_groups = ["students"]
deny_users = ["mallory"]
deny_networks = ["10.66.0.0/16", "::1"]
deny_wins = false
resume_outside_pool = true

[[pool]]
name = "second"
servers = ["s2"]
allow_users = ["bob"]
)"));
  ASSERT_THAT(config.pools, SizeIs(2));
  const PoolConfig& p = config.pools[0];
  EXPECT_EQ(p.name, "physics.lab-1");
  EXPECT_THAT(p.servers, ElementsAre("s1", "s2"));
  EXPECT_THAT(p.allow_groups, ElementsAre("physics", "Lab Staff"));
  EXPECT_THAT(p.allow_users, ElementsAre("alice", "*"));
  ASSERT_THAT(p.allow_networks, SizeIs(4));
  EXPECT_EQ(p.allow_networks[0].to_string(), "10.0.0.0/8");
  EXPECT_EQ(p.allow_networks[1].to_string(), "2001:db8::/32");
  EXPECT_EQ(p.allow_networks[2].to_string(), "192.0.2.0/24");
  EXPECT_EQ(p.allow_networks[3].to_string(), "198.51.100.7/32");
  EXPECT_THAT(p.deny_groups, ElementsAre("students"));
  EXPECT_THAT(p.deny_users, ElementsAre("mallory"));
  ASSERT_THAT(p.deny_networks, SizeIs(2));
  EXPECT_EQ(p.deny_networks[1].to_string(), "::1/128");
  EXPECT_FALSE(p.deny_wins);
  EXPECT_TRUE(p.resume_outside_pool);
  EXPECT_EQ(config.pools[1].name, "second");
  EXPECT_THAT(config.pools[1].allow_users, ElementsAre("bob"));
}

TEST(PoolConfigTest, ErrorsNameFileLineAndKey) {
  EXPECT_EQ(only_error(with_pool("name = \"p\"\nservers = [\"s1\", \"s3\"]\nallow_groups = [\"g\"]\n")),
            "t.toml:16: pool[0].servers[1]: unknown server \"s3\" (not the name of any [[server]])");
  EXPECT_EQ(only_error(with_pool(std::string(kPool) + "allow_networks = [\"10.1.0.0/8\"]\n")),
            "t.toml:18: pool[0].allow_networks[0]: bits beyond the prefix length are set (did you mean "
            "\"10.0.0.0/8\"?)");
  EXPECT_EQ(only_error(with_pool(std::string(kPool) + "colour = \"red\"\n")),
            "t.toml:18: pool[0].colour: unknown key");
}

TEST(PoolConfigTest, RequiredKeys) {
  EXPECT_THAT(only_error(with_pool("servers = [\"s1\"]\nallow_groups = [\"g\"]\n")),
              HasSubstr("pool[0].name: missing required key"));
  EXPECT_THAT(only_error(with_pool("name = \"p\"\nallow_groups = [\"g\"]\n")),
              HasSubstr("pool[0].servers: missing required key"));
  EXPECT_THAT(only_error(with_pool("name = \"p\"\nservers = []\nallow_groups = [\"g\"]\n")),
              HasSubstr("pool[0].servers: must name at least one [[server]]"));
}

TEST(PoolConfigTest, NamesAreChecked) {
  EXPECT_THAT(only_error(with_pool("name = \"a b\"\nservers = [\"s1\"]\nallow_groups = [\"g\"]\n")),
              HasSubstr("pool[0].name: may only contain"));
  EXPECT_THAT(only_error(with_pool("name = \"\"\nservers = [\"s1\"]\nallow_groups = [\"g\"]\n")),
              HasSubstr("pool[0].name: must be 1 to 64 characters"));
  EXPECT_THAT(only_error(with_pool(std::string(kPool) + "\n[[pool]]\n" + kPool)),
              HasSubstr("t.toml:20: pool[1].name: duplicate pool name \"p\""));
}

TEST(PoolConfigTest, WrongTypes) {
  struct Case {
    std::string line;
    std::string error;
  } cases[] = {
      {"deny_wins = \"yes\"", "pool[0].deny_wins: expected boolean, got string"},
      {"resume_outside_pool = 1", "pool[0].resume_outside_pool: expected boolean, got integer"},
      {"allow_users = \"alice\"", "pool[0].allow_users: expected array of strings, got string"},
      {"deny_groups = [1]", "pool[0].deny_groups[0]: expected string, got integer"},
      {"deny_networks = [\"10.0.0.0/8\", 8]", "pool[0].deny_networks[1]: expected string, got integer"},
  };
  for (const Case& c : cases) {
    EXPECT_THAT(only_error(with_pool(std::string(kPool) + c.line + "\n")), HasSubstr(c.error)) << c.line;
  }
  EXPECT_EQ(only_error("pool = \"p\"\n" + std::string(kBase)),
            "t.toml:1: pool: expected array of tables ([[pool]]), got string");
  EXPECT_THAT(only_error(std::string(kBase) + "\n[pool]\nname = \"p\"\n"),
              HasSubstr("pool: expected array of tables ([[pool]]), got table"));
}

TEST(PoolConfigTest, MalformedNetworks) {
  for (const char* bad : {"10.0.0.0/33", "10.0.0.0/", "example.org", "10.0.0.0/8/8", "fe80::/64%eth0",
                          "2001:db8::1/32", "::/129", "", "*"}) {
    EXPECT_THAT(only_error(with_pool(std::string(kPool) + "deny_networks = [\"" + bad + "\"]\n")),
                HasSubstr("pool[0].deny_networks[0]: "))
        << bad;
  }
  EXPECT_THAT(only_error(with_pool(std::string(kPool) + "allow_networks = [\"10.0.0.0/8\", \"::ffff:10.0.0.0/104\"]\n")),
              HasSubstr("pool[0].allow_networks[1]: 10.0.0.0/8 is listed twice"));
}

TEST(PoolConfigTest, UserAndGroupEntries) {
  EXPECT_THAT(only_error(with_pool(std::string(kPool) + "allow_users = [\"al ice\"]\n")),
              HasSubstr("pool[0].allow_users[0]: not a valid login name"));
  EXPECT_THAT(only_error(with_pool(std::string(kPool) + "deny_users = [\"\"]\n")),
              HasSubstr("pool[0].deny_users[0]: must be 1 to 32 characters"));
  EXPECT_THAT(only_error(with_pool(std::string(kPool) + "deny_users = [\"*\"]\n")),
              HasSubstr("pool[0].deny_users[0]: \"*\" is only allowed in allow_users"));
  EXPECT_THAT(only_error(with_pool(std::string(kPool) + "deny_groups = [\"*\"]\n")),
              HasSubstr("pool[0].deny_groups[0]: \"*\" is not a group"));
  EXPECT_THAT(only_error(with_pool(std::string(kPool) + "deny_groups = [\"a\\tb\"]\n")),
              HasSubstr("must not contain control characters"));
  EXPECT_THAT(only_error(with_pool(std::string(kPool) + "allow_users = [\"alice\", \"ALICE\"]\n")),
              HasSubstr("pool[0].allow_users[1]: \"ALICE\" is listed twice"));
  EXPECT_THAT(only_error(with_pool("name = \"p\"\nservers = [\"s1\", \"s1\"]\nallow_groups = [\"g\"]\n")),
              HasSubstr("pool[0].servers[1]: \"s1\" is listed twice"));
}

TEST(PoolConfigTest, PoolWithoutAllowRuleIsRejected) {
  const std::string bodies[] = {
      "name = \"p\"\nservers = [\"s1\"]\n",
      "name = \"p\"\nservers = [\"s1\"]\nallow_users = []\nallow_groups = []\n",
      "name = \"p\"\nservers = [\"s1\"]\nallow_networks = [\"10.0.0.0/8\"]\n",
      "name = \"p\"\nservers = [\"s1\"]\ndeny_users = [\"bob\"]\n",
  };
  for (const std::string& body : bodies) {
    EXPECT_THAT(only_error(with_pool(body)), HasSubstr("t.toml:14: pool[0].allow_users: the pool allows nobody"))
        << body;
  }
  // One allow entry of either kind is enough.
  valid(with_pool("name = \"p\"\nservers = [\"s1\"]\nallow_users = [\"*\"]\n"));
  valid(with_pool("name = \"p\"\nservers = [\"s1\"]\nallow_users = [\"alice\"]\n"));
}

TEST(PoolConfigTest, ContradictionsWithDenyWins) {
  EXPECT_THAT(only_error(with_pool(std::string(kPool) + "allow_users = [\"alice\"]\ndeny_users = [\"Alice\"]\n")),
              HasSubstr("t.toml:18: pool[0].allow_users[0]: \"alice\" is also in deny_users, which always wins"));
  EXPECT_THAT(only_error(with_pool(std::string(kPool) + "deny_groups = [\"PHYSICS\"]\n")),
              HasSubstr("t.toml:17: pool[0].allow_groups[0]: \"physics\" is also in deny_groups"));
  EXPECT_THAT(only_error(with_pool(std::string(kPool) + "allow_networks = [\"10.1.0.0/16\"]\n"
                                                        "deny_networks = [\"10.0.0.0/8\"]\n")),
              HasSubstr("pool[0].allow_networks[0]: 10.1.0.0/16 lies inside deny_networks entry "
                        "10.0.0.0/8, which always wins"));
  EXPECT_THAT(only_error(with_pool(std::string(kPool) + "allow_networks = [\"::ffff:127.0.0.1\"]\n"
                                                        "deny_networks = [\"127.0.0.0/8\"]\n")),
              HasSubstr("127.0.0.1/32 lies inside deny_networks entry 127.0.0.0/8"));
  // Overlap without containment leaves part of the allowed network usable: not a contradiction.
  valid(with_pool(std::string(kPool) + "allow_networks = [\"10.0.0.0/8\"]\ndeny_networks = [\"10.1.0.0/16\"]\n"));
  // Different families never contain each other.
  valid(with_pool(std::string(kPool) + "allow_networks = [\"10.0.0.0/8\"]\ndeny_networks = [\"::/0\"]\n"));
}

TEST(PoolConfigTest, ContradictionsWithoutDenyWins) {
  // An explicit user overrides network denies: the allowed network stays useful for alice.
  BrokerConfig config = valid(with_pool(std::string(kPool) +
                                        "allow_users = [\"alice\"]\nallow_networks = [\"10.1.0.0/16\"]\n"
                                        "deny_networks = [\"10.0.0.0/8\"]\ndeny_wins = false\n"));
  EXPECT_FALSE(config.pools[0].deny_wins);
  // deny_users and deny_groups still beat the same allow entries.
  EXPECT_THAT(errors_of(with_pool(std::string(kPool) + "allow_users = [\"alice\"]\ndeny_users = [\"alice\"]\n"
                                                       "deny_groups = [\"physics\"]\ndeny_wins = false\n")),
              ElementsAre(HasSubstr("pool[0].allow_users[0]: \"alice\" is also in deny_users"),
                          HasSubstr("pool[0].allow_groups[0]: \"physics\" is also in deny_groups")));
  // Without an explicit allow_users entry, deny_wins = false does nothing.
  EXPECT_THAT(only_error(with_pool(std::string(kPool) + "deny_wins = false\n")),
              HasSubstr("t.toml:18: pool[0].deny_wins: false has no effect"));
  EXPECT_THAT(errors_of(with_pool(std::string(kPool) + "allow_users = [\"*\"]\nallow_networks = [\"10.1.0.0/16\"]\n"
                                                       "deny_networks = [\"10.0.0.0/8\"]\ndeny_wins = false\n")),
              ElementsAre(HasSubstr("pool[0].deny_wins: false has no effect"),
                          HasSubstr("pool[0].allow_networks[0]: 10.1.0.0/16 lies inside")));
}

TEST(PoolConfigTest, OverlappingPoolsAreFine) {
  BrokerConfig config = valid(with_pool(std::string(kPool) +
                                        "\n[[pool]]\nname = \"q\"\nservers = [\"s1\", \"s2\"]\n"
                                        "allow_groups = [\"physics\"]\ndeny_groups = [\"students\"]\n"));
  EXPECT_THAT(config.pools, SizeIs(2));
}

TEST(PoolConfigTest, UnknownServersAreNotRepeatedWhenNoServerIsValid) {
  std::string text = R"([broker]
host_keys = ["/k"]
[ldap]
uris = ["ldap://l"]
base_dn = "dc=x"
[[pool]]
name = "p"
servers = ["s1"]
allow_users = ["*"]
)";
  EXPECT_THAT(only_error(text), HasSubstr("server: at least one [[server]] is required"));
}

// The commented [[pool]] example in packaging/broker.toml must stay valid once uncommented.
TEST(PoolConfigTest, ShippedPoolExampleParsesWhenUncommented) {
  std::ifstream file(X2GOJUMP_SCHEMA_DIR "/../packaging/broker.toml");
  ASSERT_TRUE(file.good());
  std::ostringstream text;
  std::string line;
  bool in_example = false;
  int example_lines = 0;
  while (std::getline(file, line)) {
    if (line == "#[[pool]]") in_example = true;
    if (in_example && (line.empty() || line[0] != '#')) in_example = false;
    if (in_example && line.rfind("# ", 0) != 0) {
      line = line.substr(1);  // "#key = ..." -> "key = ..."; "# comment" lines stay comments
      ++example_lines;
    }
    text << line << "\n";
  }
  EXPECT_GT(example_lines, 5);
  auto result = parse_broker_config(text.str(), "broker.toml");
  std::vector<std::string> errors;
  for (const auto& error : result.errors) errors.push_back(error.to_string());
  EXPECT_THAT(errors, IsEmpty());
  ASSERT_TRUE(result.config.has_value());
  EXPECT_THAT(result.config->pools, SizeIs(2));
}

}  // namespace
}  // namespace x2gojump
