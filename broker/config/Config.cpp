#include "broker/config/Config.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include <toml++/toml.h>

#include "broker/config/ConfigSections.h"
#include "broker/config/ConfigText.h"
#include "broker/config/TableReader.h"

namespace x2gojump {

using config_detail::ErrorSink;
using config_detail::TableReader;

std::string ConfigError::to_string() const {
  std::string text = file;
  if (line > 0) text += ":" + std::to_string(line);
  text += ": ";
  if (!key.empty()) text += key + ": ";
  return text + message;
}

namespace {

// Sections are optional except [ldap]; each must be a table if present.
const toml::table* section(TableReader& root, std::string_view name, bool required) {
  const toml::node* node = root.node(name);
  if (!node) {
    if (required) root.error(root.line(), name, "missing required table");
    return nullptr;
  }
  if (!node->is_table()) {
    root.error(config_detail::line_of(*node, root.line()), name,
               "expected table, got " + std::string(config_detail::type_name(*node)));
    return nullptr;
  }
  return node->as_table();
}

void read_document(const toml::table& document, const std::filesystem::path& config_dir,
                   ErrorSink* errors, BrokerConfig* config) {
  TableReader root(&document, "", errors);
  const toml::table* broker_table = section(root, "broker", false);
  // A [broker] that exists but is not a table is reported already; skip its required keys.
  if (broker_table || !document.get("broker")) {
    TableReader broker(broker_table, "broker", errors, root.line());
    config_detail::read_broker_section(broker, config);
    broker.report_unknown_keys();
  }
  if (const toml::table* ldap_table = section(root, "ldap", true)) {
    TableReader ldap(ldap_table, "ldap", errors);
    config_detail::read_ldap_section(ldap, config_dir, &config->ldap);
    ldap.report_unknown_keys();
  }
  if (const toml::table* limits_table = section(root, "limits", false)) {
    TableReader limits(limits_table, "limits", errors);
    config_detail::read_limits_section(limits, &config->limits);
    limits.report_unknown_keys();
  }
  if (const toml::table* agent_api_table = section(root, "agent_api", false)) {
    TableReader agent_api(agent_api_table, "agent_api", errors);
    config_detail::read_agent_api_section(agent_api, config_dir, &config->agent_api);
    agent_api.report_unknown_keys();
  }
  if (const toml::table* health_table = section(root, "health", false)) {
    TableReader health(health_table, "health", errors);
    config_detail::read_health_section(health, &config->health);
    health.report_unknown_keys();
  }
  if (const toml::table* admin_table = section(root, "admin", false)) {
    TableReader admin(admin_table, "admin", errors);
    config_detail::read_admin_section(admin, config_dir, &config->admin);
    admin.report_unknown_keys();
  }
  config_detail::read_server_list(root.node("server"), root.line(), config_dir, errors,
                                  &config->servers);
  config_detail::read_pool_list(root.node("pool"), root.line(), config->servers, errors, &config->pools);
  root.report_unknown_keys();
}

}  // namespace

ConfigResult parse_broker_config(std::string_view text, std::string_view file_name) {
  ErrorSink errors{std::string(file_name)};
  BrokerConfig config;
  config_detail::parse_toml(text, file_name, &errors,
                            [&](const toml::table& document, const std::filesystem::path& config_dir) {
                              read_document(document, config_dir, &errors, &config);
                            });
  ConfigResult result;
  result.errors = errors.take();
  if (result.errors.empty()) result.config = std::move(config);
  return result;
}

ConfigResult load_broker_config(const std::string& path) {
  std::string text;
  if (auto error = config_detail::read_config_file(path, &text)) {
    ConfigResult result;
    result.errors.push_back(std::move(*error));
    return result;
  }
  return parse_broker_config(text, path);
}

}  // namespace x2gojump
