// Admission by source: the per-source cap on unauthenticated connections and the random early
// drop that spares sources holding none (admit_from_source), and the per-source counter.
#include <gtest/gtest.h>

#include <string>

#include "broker/net/SourceKey.h"
#include "broker/net/SourceStartups.h"
#include "broker/net/StartupGate.h"

namespace x2gojump {
namespace {

constexpr StartupLimits kLimits{10, 30, 100, 1000, 5};

IpAddress ip(const std::string& text) {
  auto address = parse_ip_address(text);
  EXPECT_TRUE(address.has_value()) << text;
  return address.value_or(IpAddress{});
}

TEST(SourceAdmission, SourceAtItsLimitIsRefusedEvenWhenIdle) {
  EXPECT_TRUE(admit_from_source(kLimits, 4, 4, 4, 0.99));
  EXPECT_FALSE(admit_from_source(kLimits, 5, 5, 5, 0.99));
  EXPECT_FALSE(admit_from_source(kLimits, 50, 50, 50, 0.99));
}

TEST(SourceAdmission, ZeroMeansNoPerSourceLimit) {
  StartupLimits limits = kLimits;
  limits.per_source = 0;
  EXPECT_TRUE(admit_from_source(limits, 9, 9, 9, 0.0));
  EXPECT_FALSE(admit_from_source(limits, 100, 100, 100, 0.99));
}

TEST(SourceAdmission, SourceHoldingNothingSkipsTheRandomDrop) {
  // 60 pending elsewhere: any source with a pending login would see a 30 + 70 * 50/90 % drop.
  for (double draw : {0.0, 0.3, 0.6, 0.99}) {
    EXPECT_TRUE(admit_from_source(kLimits, 0, 60, 60, draw)) << draw;
  }
  EXPECT_FALSE(admit_from_source(kLimits, 1, 60, 60, 0.0));
}

TEST(SourceAdmission, FullAndMaxConnectionsRefuseEveryone) {
  EXPECT_FALSE(admit_from_source(kLimits, 0, 100, 100, 0.99));
  EXPECT_FALSE(admit_from_source(kLimits, 0, 0, 1000, 0.99));
  EXPECT_TRUE(admit_from_source(kLimits, 0, 99, 999, 0.0));
}

TEST(SourceAdmission, SourceWithPendingLoginsGetsTheUsualEarlyDrop) {
  EXPECT_TRUE(admit_from_source(kLimits, 1, 9, 9, 0.0));
  EXPECT_FALSE(admit_from_source(kLimits, 1, 10, 10, 0.29));
  EXPECT_TRUE(admit_from_source(kLimits, 1, 10, 10, 0.31));
}

TEST(SourceKey, MasksToThePrefix) {
  EXPECT_EQ(source_key(ip("192.0.2.77"), 24, 64), source_key(ip("192.0.2.1"), 24, 64));
  EXPECT_NE(source_key(ip("192.0.2.77"), 32, 64), source_key(ip("192.0.2.1"), 32, 64));
  EXPECT_EQ(source_key(ip("2001:db8::1"), 32, 64), source_key(ip("2001:db8::ffff:1"), 32, 64));
  EXPECT_NE(source_key(ip("2001:db8:0:1::1"), 32, 64), source_key(ip("2001:db8::1"), 32, 64));
  EXPECT_EQ(source_key(ip("2001:db8:0:1::1"), 32, 48), source_key(ip("2001:db8::1"), 32, 48));
  // Families never share a key, even where the bytes agree.
  EXPECT_NE(source_key(ip("0.0.0.0"), 32, 1), source_key(ip("::"), 32, 1));
}

TEST(SourceStartups, CountsPerSourceAndForgetsEmptySources) {
  SourceStartups startups(32, 64);
  EXPECT_EQ(startups.pending(ip("192.0.2.1")), 0);
  startups.add(ip("192.0.2.1"));
  startups.add(ip("192.0.2.1"));
  startups.add(ip("2001:db8::1"));
  startups.add(ip("2001:db8::2"));  // same /64
  EXPECT_EQ(startups.pending(ip("192.0.2.1")), 2);
  EXPECT_EQ(startups.pending(ip("192.0.2.2")), 0);
  EXPECT_EQ(startups.pending(ip("2001:db8::99")), 2);
  EXPECT_EQ(startups.sources(), 2u);
  startups.remove(ip("192.0.2.1"));
  startups.remove(ip("192.0.2.1"));
  startups.remove(ip("2001:db8::1"));
  startups.remove(ip("2001:db8::2"));
  EXPECT_EQ(startups.sources(), 0u);
  startups.remove(ip("192.0.2.1"));  // an extra remove does not go negative
  EXPECT_EQ(startups.pending(ip("192.0.2.1")), 0);
}

}  // namespace
}  // namespace x2gojump
