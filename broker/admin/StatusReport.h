#pragma once
// What the admin interfaces show about the farm: one snapshot of every server's state from the
// store and the configuration in force, plus the broker's own numbers. Shared by the status
// page, /api/status, /metrics and `x2gojumpctl servers`.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "broker/config/Config.h"
#include "broker/store/SessionStore.h"

namespace x2gojump {

struct ServerStatus {
  ServerSummary summary;                        // as the store has it
  int max_users = 0;                            // 0 = no limit
  std::optional<std::int64_t> last_report_age;  // seconds since the agent's last report
  std::string host_key_source;                  // "config" (pinned), "learned", or "none"
  std::string host_key_type;                    // "ssh-ed25519", ...; empty when none
  std::string host_key_fingerprint;             // "SHA256:..."; empty when none
};

struct StatusReport {
  std::string version;
  std::int64_t now = 0;         // unix seconds
  std::int64_t started_at = 0;  // unix seconds
  int connections_active = 0;
  int connections_unauthenticated = 0;
  std::vector<ServerStatus> servers;
  std::vector<std::string> recent_events;  // audit log lines (JSON), oldest first
};

// The servers of the store, joined with their configuration (pin, max_users). Pure but for the
// fingerprint computation.
std::vector<ServerStatus> server_statuses(const std::vector<ServerSummary>& summaries,
                                          const BrokerConfig& config, std::int64_t now);

nlohmann::json to_json(const ServerStatus& server);
// {"version", "now", "started_at", "connections": {...}, "servers": [...], "events": [...]}.
nlohmann::json to_json(const StatusReport& report);

}  // namespace x2gojump
