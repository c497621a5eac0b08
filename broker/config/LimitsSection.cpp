#include <algorithm>

#include "broker/config/ConfigSections.h"
#include "broker/config/ConfigSyntax.h"

namespace x2gojump::config_detail {
namespace {

void read_per_source(TableReader& limits, LimitsConfig* config) {
  using std::chrono::seconds;
  if (auto value = limits.integer("max_startups_per_source", 0, 1000000)) {
    config->max_startups_per_source = static_cast<int>(value->value);
  }
  if (auto value = limits.integer("source_ipv4_prefix", 1, 32)) {
    config->source_ipv4_prefix = static_cast<int>(value->value);
  }
  if (auto value = limits.integer("source_ipv6_prefix", 1, 128)) {
    config->source_ipv6_prefix = static_cast<int>(value->value);
  }
  if (auto value = limits.integer("penalty_auth_failure_s", 0, 3600)) {
    config->penalty_auth_failure = seconds(value->value);
  }
  if (auto value = limits.integer("penalty_grace_exceeded_s", 0, 3600)) {
    config->penalty_grace_exceeded = seconds(value->value);
  }
  int bounds_line = limits.line();
  if (auto value = limits.integer("penalty_min_s", 0, 86400)) {
    config->penalty_min = seconds(value->value);
    bounds_line = value->line;
  }
  if (auto value = limits.integer("penalty_max_s", 1, 86400)) {
    config->penalty_max = seconds(value->value);
    bounds_line = std::max(bounds_line, value->line);
  }
  if (config->penalty_min > config->penalty_max) {
    // Such a penalty could never reach its threshold: the protection would be off unnoticed.
    limits.error(bounds_line, "penalty_min_s", "must not exceed penalty_max_s");
  }
  if (auto value = limits.integer("penalty_max_sources", 1, 10000000)) {
    config->penalty_max_sources = static_cast<int>(value->value);
  }
  if (auto entries = limits.strings("penalty_exempt")) {
    config->penalty_exempt.clear();
    for (std::size_t i = 0; i < entries->size(); ++i) {
      std::string error;
      if (auto cidr = Cidr::parse((*entries)[i].value, &error)) {
        config->penalty_exempt.push_back(*cidr);
      } else {
        limits.error((*entries)[i].line, "penalty_exempt[" + std::to_string(i) + "]", error);
      }
    }
  }
}

}  // namespace

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
  read_per_source(limits, config);
}

}  // namespace x2gojump::config_detail
