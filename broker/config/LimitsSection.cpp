#include "broker/config/ConfigSections.h"
#include "broker/config/ConfigSyntax.h"

namespace x2gojump::config_detail {

void read_limits_section(TableReader& limits, LimitsConfig* config) {
  using std::chrono::milliseconds;
  using std::chrono::seconds;
  if (auto value = limits.integer("login_grace_time_s", 1, 600)) {
    config->login_grace_time = seconds(value->value);
  }
  // A bare integer is the natural way to write the single-number form, so accept it too.
  if (const toml::node* node = limits.node("max_startups")) {
    std::string text;
    if (node->is_string()) {
      text = node->as_string()->get();
    } else if (node->is_integer()) {
      text = std::to_string(node->as_integer()->get());
    } else {
      limits.error(line_of(*node, limits.line()), "max_startups",
                   "expected string, got " + std::string(type_name(*node)));
    }
    if (node->is_string() || node->is_integer()) {
      if (auto error = parse_max_startups(text, config); !error.empty()) {
        limits.error(line_of(*node, limits.line()), "max_startups", error);
      }
    }
  }
  if (auto value = limits.integer("max_auth_attempts", 1, 100)) {
    config->max_auth_attempts = static_cast<int>(value->value);
  }
  if (auto value = limits.integer("max_connections", 1, 1000000)) {
    config->max_connections = static_cast<int>(value->value);
  }
  if (auto value = limits.integer("channel_buffer_bytes", 16384, 67108864)) {
    config->channel_buffer_bytes = static_cast<std::size_t>(value->value);
  }
  if (auto value = limits.integer("backend_connect_timeout_ms", 1, 120000)) {
    config->backend_connect_timeout = milliseconds(value->value);
  }
  if (auto value = limits.integer("backend_auth_timeout_ms", 1, 300000)) {
    config->backend_auth_timeout = milliseconds(value->value);
  }
  if (auto value = limits.integer("keepalive_interval_s", 0, 3600)) {
    config->keepalive_interval = seconds(value->value);
  }
  if (auto value = limits.integer("placement_ttl_s", 0, 86400)) {
    config->placement_ttl = seconds(value->value);
  }
}

}  // namespace x2gojump::config_detail
