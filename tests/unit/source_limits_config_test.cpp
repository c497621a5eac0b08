// The per-source [limits] keys (startups and penalties): defaults, values, ranges, CIDR errors.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "broker/config/Config.h"
#include "tests/unit/ConfigText.h"

namespace x2gojump {
namespace {

using ::testing::HasSubstr;
using ::testing::SizeIs;
using std::chrono::seconds;

// The [limits] table starts at line 12.
std::string config_with_limits(const std::string& limits_lines) {
  return std::string(test::kMinimalBrokerToml) + "\n[limits]\n" + limits_lines;
}

ConfigResult parse(const std::string& limits_lines) {
  return parse_broker_config(config_with_limits(limits_lines), "/etc/x2gojump/broker.toml");
}

std::string only_error(const std::string& limits_lines) {
  ConfigResult result = parse(limits_lines);
  EXPECT_THAT(result.errors, SizeIs(1));
  return result.errors.empty() ? "" : result.errors[0].to_string();
}

TEST(PenaltyConfig, DefaultsPenaliseEveryoneButLoopback) {
  ConfigResult result = parse("");
  ASSERT_TRUE(result.config) << result.errors[0].to_string();
  const LimitsConfig& limits = result.config->limits;
  EXPECT_EQ(limits.penalty_auth_failure, seconds(5));
  EXPECT_EQ(limits.penalty_grace_exceeded, seconds(10));
  EXPECT_EQ(limits.penalty_min, seconds(15));
  EXPECT_EQ(limits.penalty_max, seconds(600));
  EXPECT_EQ(limits.max_startups_per_source, 10);
  EXPECT_EQ(limits.source_ipv4_prefix, 32);
  EXPECT_EQ(limits.source_ipv6_prefix, 64);
  EXPECT_EQ(limits.penalty_max_sources, 65536);
  ASSERT_THAT(limits.penalty_exempt, SizeIs(2));
  EXPECT_EQ(limits.penalty_exempt[0].to_string(), "127.0.0.0/8");
  EXPECT_EQ(limits.penalty_exempt[1].to_string(), "::1/128");
}

TEST(PenaltyConfig, EveryKeyIsRead) {
  ConfigResult result = parse(R"(max_startups_per_source = 0
penalty_auth_failure_s = 7
penalty_grace_exceeded_s = 0
penalty_min_s = 30
penalty_max_s = 3600
source_ipv4_prefix = 24
source_ipv6_prefix = 48
penalty_max_sources = 1000
penalty_exempt = ["192.0.2.0/24", "2001:db8::/32"]
)");
  ASSERT_TRUE(result.config) << result.errors[0].to_string();
  const LimitsConfig& limits = result.config->limits;
  EXPECT_EQ(limits.max_startups_per_source, 0);
  EXPECT_EQ(limits.penalty_auth_failure, seconds(7));
  EXPECT_EQ(limits.penalty_grace_exceeded, seconds(0));
  EXPECT_EQ(limits.penalty_min, seconds(30));
  EXPECT_EQ(limits.penalty_max, seconds(3600));
  EXPECT_EQ(limits.source_ipv4_prefix, 24);
  EXPECT_EQ(limits.source_ipv6_prefix, 48);
  EXPECT_EQ(limits.penalty_max_sources, 1000);
  ASSERT_THAT(limits.penalty_exempt, SizeIs(2));
  EXPECT_EQ(limits.penalty_exempt[0].to_string(), "192.0.2.0/24");
  EXPECT_EQ(limits.penalty_exempt[1].to_string(), "2001:db8::/32");
}

TEST(PenaltyConfig, EmptyExemptListPenalisesLoopbackToo) {
  ConfigResult result = parse("penalty_exempt = []\n");
  ASSERT_TRUE(result.config);
  EXPECT_TRUE(result.config->limits.penalty_exempt.empty());
}

TEST(PenaltyConfig, RangesAreEnforced) {
  EXPECT_THAT(only_error("penalty_auth_failure_s = -1\n"), HasSubstr("limits.penalty_auth_failure_s"));
  EXPECT_THAT(only_error("penalty_grace_exceeded_s = 3601\n"),
              HasSubstr("limits.penalty_grace_exceeded_s"));
  EXPECT_THAT(only_error("penalty_max_s = 0\n"), HasSubstr("limits.penalty_max_s"));
  EXPECT_THAT(only_error("source_ipv4_prefix = 33\n"), HasSubstr("limits.source_ipv4_prefix"));
  EXPECT_THAT(only_error("source_ipv6_prefix = 0\n"), HasSubstr("limits.source_ipv6_prefix"));
  EXPECT_THAT(only_error("penalty_max_sources = 0\n"), HasSubstr("limits.penalty_max_sources"));
  EXPECT_THAT(only_error("max_startups_per_source = -1\n"),
              HasSubstr("limits.max_startups_per_source"));
}

TEST(PenaltyConfig, MinAboveMaxIsAnError) {
  EXPECT_THAT(only_error("penalty_min_s = 700\n"),
              HasSubstr("limits.penalty_min_s: must not exceed penalty_max_s"));
  EXPECT_THAT(only_error("penalty_min_s = 20\npenalty_max_s = 10\n"),
              HasSubstr(":14: limits.penalty_min_s"));
}

TEST(PenaltyConfig, BadCidrsNameTheEntry) {
  EXPECT_THAT(only_error("penalty_exempt = [\"127.0.0.1/8\"]\n"),
              HasSubstr("limits.penalty_exempt[0]"));
  EXPECT_THAT(only_error("penalty_exempt = [\"::1\", \"localhost\"]\n"),
              HasSubstr("limits.penalty_exempt[1]: not a numeric IPv4 or IPv6 address"));
  EXPECT_THAT(only_error("penalty_exempt = \"127.0.0.1\"\n"), HasSubstr("limits.penalty_exempt"));
}

}  // namespace
}  // namespace x2gojump
