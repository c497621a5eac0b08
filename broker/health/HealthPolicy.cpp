#include "broker/health/HealthPolicy.h"

#include <algorithm>

namespace x2gojump {
namespace {

std::string probe_failures(int count) {
  return std::to_string(count) + (count == 1 ? " probe failure" : " probe failures");
}

std::string seconds_text(HealthFacts::TimePoint::duration age) {
  return std::to_string(std::chrono::duration_cast<std::chrono::seconds>(age).count()) + "s";
}

}  // namespace

HealthVerdict assess_health(const HealthFacts& facts, HealthFacts::TimePoint now,
                            const HealthConfig& config) {
  if (facts.draining) return {ServerHealth::Draining, "draining"};

  const int failures = facts.consecutive_probe_failures;
  if (failures >= std::max(1, config.down_after_failures)) {
    return {ServerHealth::Down, probe_failures(failures)};
  }

  const auto stale_after = config.heartbeat_interval * std::max(1, config.stale_after_intervals);
  if (facts.last_heartbeat && now - *facts.last_heartbeat <= stale_after) {
    return {ServerHealth::Up, "heartbeat " + seconds_text(now - *facts.last_heartbeat) + " ago"};
  }

  const bool agent_seen = facts.agent_seen || facts.last_heartbeat.has_value();
  if (agent_seen) {
    std::string reason = facts.last_heartbeat
                             ? "no heartbeat for " + seconds_text(now - *facts.last_heartbeat)
                             : "no heartbeat";
    if (failures > 0) reason += ", " + probe_failures(failures);
    return {ServerHealth::Stale, std::move(reason)};
  }
  if (failures > 0) return {ServerHealth::Stale, probe_failures(failures) + ", no agent"};
  if (!facts.last_probe_ok) return {ServerHealth::Stale, "not probed yet, no agent"};
  return {ServerHealth::Up, "probe answers, no agent"};
}

}  // namespace x2gojump
