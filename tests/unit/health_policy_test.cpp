#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "broker/health/HealthPolicy.h"

namespace x2gojump {
namespace {

using namespace std::chrono_literals;
using TimePoint = HealthFacts::TimePoint;
using Health = ServerHealth;

const TimePoint kNow = TimePoint(std::chrono::seconds(1'700'000'000));

HealthConfig config_with(std::chrono::seconds interval, int intervals, int down_after) {
  HealthConfig config;
  config.heartbeat_interval = interval;
  config.stale_after_intervals = intervals;
  config.down_after_failures = down_after;
  return config;
}

// The header's rules, written as a plain decision list.
Health oracle(const HealthFacts& f, TimePoint now, const HealthConfig& c) {
  if (f.draining) return Health::Draining;
  const int down_after = c.down_after_failures < 1 ? 1 : c.down_after_failures;
  if (f.consecutive_probe_failures >= down_after) return Health::Down;
  const int intervals = c.stale_after_intervals < 1 ? 1 : c.stale_after_intervals;
  if (f.last_heartbeat && now - *f.last_heartbeat <= intervals * c.heartbeat_interval) return Health::Up;
  const bool seen = f.agent_seen || f.last_heartbeat;
  if (!seen && f.last_probe_ok && f.consecutive_probe_failures == 0) return Health::Up;
  return Health::Stale;
}

TEST(HealthPolicy, ExhaustiveAgainstTheDocumentedRules) {
  int checked = 0;
  for (const HealthConfig& config :
       {config_with(5s, 3, 2), config_with(1s, 1, 1), config_with(10s, 6, 3), config_with(5s, 0, 0),
        config_with(5s, -2, -1)}) {
    const auto window = config.heartbeat_interval * std::max(1, config.stale_after_intervals);
    const std::vector<std::optional<TimePoint>> heartbeats = {
        std::nullopt,          kNow,          kNow - 1ns,           kNow - window + 1ns,
        kNow - window,         kNow - window - 1ns, kNow - window - 1s, kNow - 24h,
        kNow + 1s,             kNow + 1h,     TimePoint{}};
    const int down = std::max(1, config.down_after_failures);
    for (bool draining : {false, true}) {
      for (int failures : {0, 1, down - 1, down, down + 1, 1000}) {
        if (failures < 0) continue;
        for (const std::optional<TimePoint>& heartbeat : heartbeats) {
          for (std::optional<TimePoint> probe_ok : {std::optional<TimePoint>{}, std::optional(kNow - 5s)}) {
            for (bool seen : {false, true}) {
              HealthFacts facts{heartbeat, failures, probe_ok, draining, seen};
              const HealthVerdict verdict = assess_health(facts, kNow, config);
              EXPECT_EQ(verdict.health, oracle(facts, kNow, config))
                  << "draining=" << draining << " failures=" << failures
                  << " heartbeat_age_ns=" << (heartbeat ? (kNow - *heartbeat).count() : -1)
                  << " probe_ok=" << probe_ok.has_value() << " seen=" << seen
                  << " interval=" << config.heartbeat_interval.count()
                  << " intervals=" << config.stale_after_intervals
                  << " down_after=" << config.down_after_failures;
              EXPECT_FALSE(verdict.reason.empty());
              ++checked;
            }
          }
        }
      }
    }
  }
  EXPECT_GT(checked, 2000);
}

// ---- each rule on its own, with the reason the transition log shows -------------------------

const HealthConfig kDefault = config_with(5s, 3, 2);  // stale after 15 s, down after 2 failures

TEST(HealthPolicy, DrainingWinsOverEverything) {
  HealthFacts facts{kNow - 1h, 99, std::nullopt, true, true};
  EXPECT_EQ(assess_health(facts, kNow, kDefault).health, Health::Draining);
  facts = HealthFacts{kNow, 0, kNow, true, true};
  const HealthVerdict verdict = assess_health(facts, kNow, kDefault);
  EXPECT_EQ(verdict.health, Health::Draining);
  EXPECT_EQ(verdict.reason, "draining");
}

TEST(HealthPolicy, DownAfterEnoughFailuresEvenWithAFreshHeartbeat) {
  HealthFacts facts{kNow, 2, kNow - 10s, false, true};
  HealthVerdict verdict = assess_health(facts, kNow, kDefault);
  EXPECT_EQ(verdict.health, Health::Down);
  EXPECT_EQ(verdict.reason, "2 probe failures");
  facts.consecutive_probe_failures = 1;
  EXPECT_EQ(assess_health(facts, kNow, kDefault).health, Health::Up);
  verdict = assess_health(HealthFacts{std::nullopt, 1, std::nullopt, false, false}, kNow,
                          config_with(5s, 3, 1));
  EXPECT_EQ(verdict.health, Health::Down);
  EXPECT_EQ(verdict.reason, "1 probe failure");
}

TEST(HealthPolicy, HeartbeatFreshUpToAndIncludingTheWindow) {
  HealthFacts facts{kNow - 15s, 0, std::nullopt, false, true};
  HealthVerdict verdict = assess_health(facts, kNow, kDefault);
  EXPECT_EQ(verdict.health, Health::Up);
  EXPECT_EQ(verdict.reason, "heartbeat 15s ago");
  facts.last_heartbeat = kNow - 15s - 1ns;
  verdict = assess_health(facts, kNow, kDefault);
  EXPECT_EQ(verdict.health, Health::Stale);
  EXPECT_EQ(verdict.reason, "no heartbeat for 15s");
  facts.last_heartbeat = kNow - 40s;
  facts.last_probe_ok = kNow;  // a probe answer does not replace the agent
  verdict = assess_health(facts, kNow, kDefault);
  EXPECT_EQ(verdict.health, Health::Stale);
  EXPECT_EQ(verdict.reason, "no heartbeat for 40s");
}

TEST(HealthPolicy, HeartbeatFromTheFutureCountsAsFresh) {
  const HealthVerdict verdict =
      assess_health(HealthFacts{kNow + 30s, 0, std::nullopt, false, true}, kNow, kDefault);
  EXPECT_EQ(verdict.health, Health::Up);
  EXPECT_EQ(verdict.reason, "heartbeat -30s ago");
}

TEST(HealthPolicy, StaleAgentWithAFailingProbeSaysBoth) {
  const HealthVerdict verdict =
      assess_health(HealthFacts{kNow - 60s, 1, kNow - 65s, false, true}, kNow, kDefault);
  EXPECT_EQ(verdict.health, Health::Stale);
  EXPECT_EQ(verdict.reason, "no heartbeat for 60s, 1 probe failure");
}

TEST(HealthPolicy, AgentSeenWithoutAKnownHeartbeatIsStale) {
  const HealthVerdict verdict =
      assess_health(HealthFacts{std::nullopt, 0, kNow, false, true}, kNow, kDefault);
  EXPECT_EQ(verdict.health, Health::Stale);
  EXPECT_EQ(verdict.reason, "no heartbeat");
}

TEST(HealthPolicy, ProbeOnlyServerFollowsItsLastProbe) {
  HealthFacts facts{std::nullopt, 0, kNow - 1h, false, false};
  HealthVerdict verdict = assess_health(facts, kNow, kDefault);
  EXPECT_EQ(verdict.health, Health::Up);  // how old the success is does not matter, only the last result
  EXPECT_EQ(verdict.reason, "probe answers, no agent");
  facts.consecutive_probe_failures = 1;
  verdict = assess_health(facts, kNow, kDefault);
  EXPECT_EQ(verdict.health, Health::Stale);
  EXPECT_EQ(verdict.reason, "1 probe failure, no agent");
  facts = HealthFacts{};
  verdict = assess_health(facts, kNow, kDefault);
  EXPECT_EQ(verdict.health, Health::Stale);
  EXPECT_EQ(verdict.reason, "not probed yet, no agent");
}

TEST(HealthPolicy, AHeartbeatMeansTheAgentWasSeen) {
  // agent_seen false but a heartbeat known: an old heartbeat still makes it stale, not probe-only.
  const HealthVerdict verdict =
      assess_health(HealthFacts{kNow - 1h, 0, kNow, false, false}, kNow, kDefault);
  EXPECT_EQ(verdict.health, Health::Stale);
}

TEST(HealthPolicy, OutOfRangeSettingsCountAsOne) {
  const HealthConfig zero = config_with(5s, 0, 0);
  EXPECT_EQ(assess_health(HealthFacts{kNow - 5s, 0, kNow, false, true}, kNow, zero).health, Health::Up);
  EXPECT_EQ(assess_health(HealthFacts{kNow - 6s, 0, kNow, false, true}, kNow, zero).health, Health::Stale);
  EXPECT_EQ(assess_health(HealthFacts{kNow, 0, kNow, false, true}, kNow, zero).health, Health::Up);
  EXPECT_EQ(assess_health(HealthFacts{kNow, 1, kNow, false, true}, kNow, zero).health, Health::Down);
}

}  // namespace
}  // namespace x2gojump
