#pragma once
// The broker's process-wide metrics (x2gojump_*), counted where things happen and rendered by the
// admin listener's /metrics together with values read at scrape time (server states).
#include <string_view>
#include <vector>

#include "broker/metrics/Metric.h"

namespace x2gojump {

struct BrokerMetrics {
  BrokerMetrics();

  Counter connections_total;  // accepted client connections that reached the SSH layer
  CounterFamily logins;            // result = success | failure, reason
  CounterFamily routes;            // reason = session-suspended, fallback-source-ip, ...
  CounterFamily backend_failures;  // server, reason = unreachable | host-key-mismatch
  CounterFamily relay_bytes;       // direction = up (client to backend) | down
  CounterFamily channels;          // type = session | direct-tcpip | forwarded-tcpip | auth-agent
  Counter agent_reports_accepted;
  CounterFamily agent_reports_rejected;  // reason = unauthorized, invalid, stale, ...
  CounterFamily config_reloads;          // result = success | failure

  Counter& bytes_up;    // relay_bytes{direction="up"}
  Counter& bytes_down;  // relay_bytes{direction="down"}

  // Every family above, counters with no label set yet included with no samples.
  std::vector<MetricFamily> collect() const;
};

// The one instance of the process.
BrokerMetrics& metrics();

// Counts an agent report by the HTTP status the agent API answered it with (200 accepted, the
// rest rejected with a reason named after the status).
void count_agent_report(unsigned status);

}  // namespace x2gojump
