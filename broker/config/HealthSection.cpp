#include "broker/config/ConfigSections.h"

namespace x2gojump::config_detail {

void read_health_section(TableReader& health, HealthConfig* config) {
  using std::chrono::milliseconds;
  using std::chrono::seconds;
  if (auto value = health.integer("heartbeat_interval_s", 1, 3600)) {
    config->heartbeat_interval = seconds(value->value);
  }
  if (auto value = health.integer("stale_after_intervals", 1, 100)) {
    config->stale_after_intervals = static_cast<int>(value->value);
  }
  if (auto value = health.integer("probe_interval_s", 1, 3600)) {
    config->probe_interval = seconds(value->value);
  }
  if (auto value = health.integer("probe_timeout_ms", 100, 60000)) {
    config->probe_timeout = milliseconds(value->value);
  }
  if (auto value = health.integer("down_after_failures", 1, 100)) {
    config->down_after_failures = static_cast<int>(value->value);
  }
  if (auto value = health.integer("failure_penalty_s", 0, 86400)) {
    config->failure_penalty = seconds(value->value);
  }
}

}  // namespace x2gojump::config_detail
