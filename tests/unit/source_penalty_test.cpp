// Per-source penalties: accrual, the enforcement threshold, the cap, expiry, prefixes, exemptions
// and the bounded table.
#include "broker/net/SourcePenalty.h"

#include <gtest/gtest.h>

#include <string>

namespace x2gojump {
namespace {

using std::chrono::seconds;
using Clock = SourcePenalty::Clock;

IpAddress ip(const std::string& text) {
  auto address = parse_ip_address(text);
  EXPECT_TRUE(address.has_value()) << text;
  return address.value_or(IpAddress{});
}

Cidr cidr(const std::string& text) {
  auto parsed = Cidr::parse(text);
  EXPECT_TRUE(parsed.has_value()) << text;
  return parsed.value_or(Cidr{});
}

// 5 s per failure, enforced from 15 s, at most 60 s.
SourcePenaltySettings settings() {
  SourcePenaltySettings s;
  s.auth_failure = seconds(5);
  s.grace_exceeded = seconds(10);
  s.min = seconds(15);
  s.max = seconds(60);
  return s;
}

class SourcePenaltyTest : public ::testing::Test {
 protected:
  const Clock::time_point t0_ = Clock::time_point() + std::chrono::hours(1);
};

TEST_F(SourcePenaltyTest, UnknownSourceIsAdmitted) {
  SourcePenalty penalty(settings());
  EXPECT_TRUE(penalty.admit(ip("192.0.2.1"), t0_));
  EXPECT_EQ(penalty.size(), 0u);
}

TEST_F(SourcePenaltyTest, FailuresBelowTheThresholdAreNotEnforced) {
  SourcePenalty penalty(settings());
  EXPECT_EQ(penalty.record(ip("192.0.2.1"), PenaltyEvent::AuthFailure, t0_), seconds(0));
  EXPECT_EQ(penalty.record(ip("192.0.2.1"), PenaltyEvent::AuthFailure, t0_), seconds(0));
  EXPECT_TRUE(penalty.admit(ip("192.0.2.1"), t0_));  // 10 s pending < 15 s
  EXPECT_EQ(penalty.size(), 1u);
}

TEST_F(SourcePenaltyTest, ReachingTheThresholdDropsTheSourceUntilThePenaltyRunsOut) {
  SourcePenalty penalty(settings());
  penalty.record(ip("192.0.2.1"), PenaltyEvent::AuthFailure, t0_);
  penalty.record(ip("192.0.2.1"), PenaltyEvent::AuthFailure, t0_);
  EXPECT_EQ(penalty.record(ip("192.0.2.1"), PenaltyEvent::AuthFailure, t0_), seconds(15));
  EXPECT_FALSE(penalty.admit(ip("192.0.2.1"), t0_));
  EXPECT_FALSE(penalty.admit(ip("192.0.2.1"), t0_ + seconds(14)));
  EXPECT_TRUE(penalty.admit(ip("192.0.2.1"), t0_ + seconds(15)));
  EXPECT_EQ(penalty.size(), 0u);  // expired entries are forgotten
}

TEST_F(SourcePenaltyTest, EnforcementIsReportedOnce) {
  SourcePenalty penalty(settings());
  EXPECT_EQ(penalty.record(ip("192.0.2.1"), PenaltyEvent::GraceExceeded, t0_), seconds(0));
  EXPECT_EQ(penalty.record(ip("192.0.2.1"), PenaltyEvent::GraceExceeded, t0_), seconds(20));
  EXPECT_EQ(penalty.record(ip("192.0.2.1"), PenaltyEvent::GraceExceeded, t0_), seconds(0));
  EXPECT_FALSE(penalty.admit(ip("192.0.2.1"), t0_ + seconds(29)));
  EXPECT_TRUE(penalty.admit(ip("192.0.2.1"), t0_ + seconds(30)));
}

TEST_F(SourcePenaltyTest, PendingPenaltyDecaysWithTime) {
  SourcePenalty penalty(settings());
  penalty.record(ip("192.0.2.1"), PenaltyEvent::AuthFailure, t0_);
  penalty.record(ip("192.0.2.1"), PenaltyEvent::AuthFailure, t0_);  // 10 s pending
  // 6 s later 4 s are left; one more failure makes 9 s, still below 15 s.
  EXPECT_EQ(penalty.record(ip("192.0.2.1"), PenaltyEvent::AuthFailure, t0_ + seconds(6)), seconds(0));
  EXPECT_TRUE(penalty.admit(ip("192.0.2.1"), t0_ + seconds(6)));
  // After the whole penalty ran out, the next failure starts from zero.
  EXPECT_EQ(penalty.record(ip("192.0.2.1"), PenaltyEvent::GraceExceeded, t0_ + seconds(20)), seconds(0));
  EXPECT_TRUE(penalty.admit(ip("192.0.2.1"), t0_ + seconds(20)));
}

TEST_F(SourcePenaltyTest, PenaltyIsCappedAtMax) {
  SourcePenalty penalty(settings());
  for (int i = 0; i < 100; ++i) penalty.record(ip("192.0.2.1"), PenaltyEvent::GraceExceeded, t0_);
  EXPECT_FALSE(penalty.admit(ip("192.0.2.1"), t0_ + seconds(59)));
  EXPECT_TRUE(penalty.admit(ip("192.0.2.1"), t0_ + seconds(60)));
}

TEST_F(SourcePenaltyTest, SourcesAreIndependent) {
  SourcePenalty penalty(settings());
  for (int i = 0; i < 3; ++i) penalty.record(ip("192.0.2.1"), PenaltyEvent::AuthFailure, t0_);
  EXPECT_FALSE(penalty.admit(ip("192.0.2.1"), t0_));
  EXPECT_TRUE(penalty.admit(ip("192.0.2.2"), t0_));
  EXPECT_TRUE(penalty.admit(ip("2001:db8::1"), t0_));
}

TEST_F(SourcePenaltyTest, Ipv6SourcesAreSlash64ByDefault) {
  SourcePenalty penalty(settings());
  penalty.record(ip("2001:db8:1:2::1"), PenaltyEvent::AuthFailure, t0_);
  penalty.record(ip("2001:db8:1:2:aaaa::7"), PenaltyEvent::AuthFailure, t0_);
  penalty.record(ip("2001:db8:1:2:ffff:ffff:ffff:ffff"), PenaltyEvent::AuthFailure, t0_);
  EXPECT_FALSE(penalty.admit(ip("2001:db8:1:2::99"), t0_));
  EXPECT_TRUE(penalty.admit(ip("2001:db8:1:3::1"), t0_));
  EXPECT_EQ(penalty.size(), 1u);
}

TEST_F(SourcePenaltyTest, Ipv4MappedAddressesAreTheIpv4Source) {
  SourcePenalty penalty(settings());
  for (int i = 0; i < 3; ++i) penalty.record(ip("::ffff:192.0.2.1"), PenaltyEvent::AuthFailure, t0_);
  EXPECT_FALSE(penalty.admit(ip("192.0.2.1"), t0_));
}

TEST_F(SourcePenaltyTest, ConfigurablePrefixLengths) {
  SourcePenaltySettings s = settings();
  s.ipv4_prefix = 24;
  s.ipv6_prefix = 48;
  SourcePenalty penalty(s);
  penalty.record(ip("192.0.2.1"), PenaltyEvent::AuthFailure, t0_);
  penalty.record(ip("192.0.2.200"), PenaltyEvent::AuthFailure, t0_);
  penalty.record(ip("192.0.2.77"), PenaltyEvent::AuthFailure, t0_);
  EXPECT_FALSE(penalty.admit(ip("192.0.2.9"), t0_));
  EXPECT_TRUE(penalty.admit(ip("192.0.3.9"), t0_));
  for (int i = 0; i < 3; ++i) penalty.record(ip("2001:db8:1:2::1"), PenaltyEvent::AuthFailure, t0_);
  EXPECT_FALSE(penalty.admit(ip("2001:db8:1:ffff::1"), t0_));
  EXPECT_TRUE(penalty.admit(ip("2001:db8:2::1"), t0_));
}

TEST_F(SourcePenaltyTest, OddPrefixLengthsMaskPartialBytes) {
  SourcePenaltySettings s = settings();
  s.ipv4_prefix = 27;  // 192.0.2.0 - 192.0.2.31
  SourcePenalty penalty(s);
  for (int i = 0; i < 3; ++i) penalty.record(ip("192.0.2.5"), PenaltyEvent::AuthFailure, t0_);
  EXPECT_FALSE(penalty.admit(ip("192.0.2.31"), t0_));
  EXPECT_TRUE(penalty.admit(ip("192.0.2.32"), t0_));
}

TEST_F(SourcePenaltyTest, ExemptSourcesAreNeverPenalised) {
  SourcePenaltySettings s = settings();
  s.exempt = {cidr("127.0.0.0/8"), cidr("2001:db8::/32")};
  SourcePenalty penalty(s);
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(penalty.record(ip("127.0.0.1"), PenaltyEvent::AuthFailure, t0_), seconds(0));
    penalty.record(ip("2001:db8::5"), PenaltyEvent::GraceExceeded, t0_);
  }
  EXPECT_TRUE(penalty.admit(ip("127.0.0.1"), t0_));
  EXPECT_TRUE(penalty.admit(ip("2001:db8::5"), t0_));
  EXPECT_EQ(penalty.size(), 0u);
  for (int i = 0; i < 3; ++i) penalty.record(ip("127.1.0.1"), PenaltyEvent::AuthFailure, t0_);
  EXPECT_TRUE(penalty.admit(ip("127.1.0.1"), t0_));
  for (int i = 0; i < 3; ++i) penalty.record(ip("128.0.0.1"), PenaltyEvent::AuthFailure, t0_);
  EXPECT_FALSE(penalty.admit(ip("128.0.0.1"), t0_));
}

TEST_F(SourcePenaltyTest, ZeroPenaltyDisablesAnEvent) {
  SourcePenaltySettings s = settings();
  s.auth_failure = seconds(0);
  SourcePenalty penalty(s);
  for (int i = 0; i < 10; ++i) penalty.record(ip("192.0.2.1"), PenaltyEvent::AuthFailure, t0_);
  EXPECT_TRUE(penalty.admit(ip("192.0.2.1"), t0_));
  EXPECT_EQ(penalty.size(), 0u);
  penalty.record(ip("192.0.2.1"), PenaltyEvent::GraceExceeded, t0_);
  penalty.record(ip("192.0.2.1"), PenaltyEvent::GraceExceeded, t0_);
  EXPECT_FALSE(penalty.admit(ip("192.0.2.1"), t0_));
}

TEST_F(SourcePenaltyTest, FullTableEvictsTheEntryThatExpiresFirst) {
  SourcePenaltySettings s = settings();
  s.max_sources = 3;
  SourcePenalty penalty(s);
  // .1 is enforced until t0 + 30 s, .2 expires at t0 + 5 s, .3 at t0 + 6 s.
  for (int i = 0; i < 3; ++i) penalty.record(ip("192.0.2.1"), PenaltyEvent::GraceExceeded, t0_);
  penalty.record(ip("192.0.2.2"), PenaltyEvent::AuthFailure, t0_);
  penalty.record(ip("192.0.2.3"), PenaltyEvent::AuthFailure, t0_ + seconds(1));
  penalty.record(ip("192.0.2.4"), PenaltyEvent::AuthFailure, t0_ + seconds(2));  // evicts .2
  EXPECT_EQ(penalty.size(), 3u);
  // .2 starts again from zero (5 s pending, not 10 s) and evicts .3.
  penalty.record(ip("192.0.2.2"), PenaltyEvent::AuthFailure, t0_ + seconds(2));
  penalty.record(ip("192.0.2.2"), PenaltyEvent::AuthFailure, t0_ + seconds(2));
  EXPECT_TRUE(penalty.admit(ip("192.0.2.2"), t0_ + seconds(2)));
  EXPECT_EQ(penalty.size(), 3u);
  // .3 too starts again: 10 s pending after two failures. The enforced .1 was never evicted.
  penalty.record(ip("192.0.2.3"), PenaltyEvent::AuthFailure, t0_ + seconds(2));
  penalty.record(ip("192.0.2.3"), PenaltyEvent::AuthFailure, t0_ + seconds(2));
  EXPECT_TRUE(penalty.admit(ip("192.0.2.3"), t0_ + seconds(2)));
  EXPECT_FALSE(penalty.admit(ip("192.0.2.1"), t0_ + seconds(2)));
}

TEST_F(SourcePenaltyTest, TableStaysBoundedUnderAFloodOfSources) {
  SourcePenaltySettings s = settings();
  s.max_sources = 100;
  SourcePenalty penalty(s);
  for (int i = 0; i < 10000; ++i) {
    IpAddress address = ip("10.0.0.0");
    address.bytes[2] = static_cast<std::uint8_t>(i >> 8);
    address.bytes[3] = static_cast<std::uint8_t>(i);
    penalty.record(address, PenaltyEvent::AuthFailure, t0_ + std::chrono::milliseconds(i));
    ASSERT_LE(penalty.size(), 100u);
  }
}

TEST_F(SourcePenaltyTest, ReconfigureKeepsPendingPenaltiesAndAppliesTheNewRules) {
  SourcePenalty penalty(settings());
  for (int i = 0; i < 3; ++i) penalty.record(ip("192.0.2.1"), PenaltyEvent::AuthFailure, t0_);
  penalty.record(ip("192.0.2.2"), PenaltyEvent::AuthFailure, t0_);
  penalty.record(ip("192.0.2.3"), PenaltyEvent::AuthFailure, t0_ + seconds(1));
  ASSERT_FALSE(penalty.admit(ip("192.0.2.1"), t0_));

  SourcePenaltySettings reloaded = settings();
  reloaded.auth_failure = seconds(20);  // one failure now reaches min
  reloaded.exempt = {cidr("198.51.100.0/24")};
  reloaded.max_sources = 2;  // .2 expires first and goes
  reloaded.ipv4_prefix = 24;  // ignored: keys of pending entries must not change
  penalty.reconfigure(reloaded);
  EXPECT_EQ(penalty.size(), 2u);
  EXPECT_FALSE(penalty.admit(ip("192.0.2.1"), t0_ + seconds(1)));  // still enforced
  EXPECT_TRUE(penalty.admit(ip("192.0.2.99"), t0_ + seconds(1)));  // not /24
  penalty.record(ip("192.0.2.4"), PenaltyEvent::AuthFailure, t0_ + seconds(1));
  EXPECT_FALSE(penalty.admit(ip("192.0.2.4"), t0_ + seconds(1)));
  penalty.record(ip("198.51.100.7"), PenaltyEvent::AuthFailure, t0_ + seconds(1));
  EXPECT_TRUE(penalty.admit(ip("198.51.100.7"), t0_ + seconds(1)));
}

}  // namespace
}  // namespace x2gojump
