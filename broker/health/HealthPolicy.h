#pragma once
// A server's health from what the broker knows about it: agent heartbeats and its own SSH-banner
// probes. Pure: no I/O, no clock (the caller passes now).
#include <chrono>
#include <optional>
#include <string>

#include "broker/config/Config.h"
#include "broker/routing/Router.h"

namespace x2gojump {

struct HealthFacts {
  using TimePoint = std::chrono::system_clock::time_point;
  std::optional<TimePoint> last_heartbeat;  // when the agent last reported
  int consecutive_probe_failures = 0;       // since the last successful probe
  std::optional<TimePoint> last_probe_ok;   // when a probe last succeeded
  bool draining = false;                    // set by an admin
  bool agent_seen = false;                  // an agent ever reported (a heartbeat also counts)
};

struct HealthVerdict {
  ServerHealth health = ServerHealth::Up;
  std::string reason;  // for the transition log: "3 probe failures", "no heartbeat for 20s", ...
};

// Decides the health, first rule that matches wins:
//  1. draining                                                  -> Draining (admins own it)
//  2. consecutive_probe_failures >= down_after_failures         -> Down (sshd is what we route to,
//     so a dead sshd is down even while its agent still reports)
//  3. now - last_heartbeat <= stale_after_intervals * heartbeat_interval
//                                                               -> Up (fresh heartbeat; a heartbeat
//     from the future, i.e. a clock step, counts as fresh)
//  4. agent never seen and the last probe succeeded (last_probe_ok set and no failure since)
//                                                               -> Up (probe-only server: normal
//     before agents are deployed)
//  5. otherwise                                                 -> Stale: the agent went quiet (its
//     sessions are not trusted), or the server was not probed successfully yet, or its probe
//     failed fewer than down_after_failures times.
// down_after_failures and stale_after_intervals below 1 count as 1.
HealthVerdict assess_health(const HealthFacts& facts, HealthFacts::TimePoint now,
                            const HealthConfig& config);

}  // namespace x2gojump
