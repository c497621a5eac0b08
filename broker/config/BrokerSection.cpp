#include <algorithm>
#include <regex>

#include "broker/config/ConfigSections.h"
#include "broker/config/ConfigSyntax.h"

namespace x2gojump::config_detail {
namespace {

void read_listen(TableReader& broker, BrokerConfig* config) {
  auto listen = read_listen_addresses(broker, "listen");
  if (!listen) return;
  if (listen->empty()) {
    broker.error(broker.line(), "listen", "must not be empty");
    return;
  }
  config->listen = std::move(*listen);
}

void read_host_keys(TableReader& broker, BrokerConfig* config) {
  auto keys = broker.strings("host_keys", /*required=*/true);
  if (!keys) return;
  if (keys->empty()) broker.error(broker.line(), "host_keys", "must not be empty");
  for (std::size_t i = 0; i < keys->size(); ++i) {
    const auto& key = (*keys)[i];
    if (key.value.empty()) {
      broker.error(key.line, "host_keys[" + std::to_string(i) + "]", "must not be empty");
    }
    config->host_keys.push_back(key.value);
  }
}

}  // namespace

std::optional<std::vector<ListenAddress>> read_listen_addresses(TableReader& table,
                                                                std::string_view key) {
  auto entries = table.strings(key);
  if (!entries) return std::nullopt;
  std::vector<ListenAddress> listen;
  bool ok = true;
  for (std::size_t i = 0; i < entries->size(); ++i) {
    const auto& entry = (*entries)[i];
    std::string element = std::string(key) + "[" + std::to_string(i) + "]";
    ListenAddress address;
    if (auto error = parse_listen_address(entry.value, &address); !error.empty()) {
      table.error(entry.line, element, error);
      ok = false;
      continue;
    }
    bool duplicate = std::any_of(listen.begin(), listen.end(), [&](const ListenAddress& other) {
      return other.host == address.host && other.port == address.port;
    });
    if (duplicate) {
      table.error(entry.line, element, "duplicate listen address \"" + entry.value + "\"");
      ok = false;
      continue;
    }
    listen.push_back(std::move(address));
  }
  if (!ok) return std::nullopt;
  return listen;
}

void read_broker_section(TableReader& broker, BrokerConfig* config) {
  read_listen(broker, config);
  read_host_keys(broker, config);
  if (auto state_db = broker.string("state_db")) {
    if (state_db->value.empty()) broker.error(state_db->line, "state_db", "must not be empty");
    config->state_db = state_db->value;
  }
  if (auto threads = broker.integer("threads", 0, 64)) {
    config->threads = static_cast<int>(threads->value);
  }
  if (auto level = broker.string("log_level")) {
    static constexpr std::string_view kLevels[] = {"trace", "debug", "info", "warn", "error"};
    if (std::find(std::begin(kLevels), std::end(kLevels), level->value) == std::end(kLevels)) {
      broker.error(level->line, "log_level",
                   "must be one of \"trace\", \"debug\", \"info\", \"warn\", \"error\"");
    } else {
      config->log_level = level->value;
    }
  }
  if (auto fallback = broker.string("fallback")) {
    if (auto strategy = parse_fallback_strategy(fallback->value)) {
      config->fallback = *strategy;
    } else {
      broker.error(fallback->line, "fallback",
                   "must be one of \"source-ip\", \"user\", \"least-load\"");
    }
  }
  if (auto accept = broker.boolean("accept_new_backend_host_keys")) {
    config->accept_new_backend_host_keys = accept->value;
  }
  if (auto user = broker.string("user")) {
    // A login name as useradd accepts it; the account itself is looked up at start-up.
    static const std::regex kUserName("[a-z_][a-z0-9_-]{0,31}");
    if (!std::regex_match(user->value, kUserName)) {
      broker.error(user->line, "user",
                   "must be a user name ([a-z_][a-z0-9_-]*, at most 32 characters)");
    } else {
      config->user = user->value;
    }
  }
}

}  // namespace x2gojump::config_detail
