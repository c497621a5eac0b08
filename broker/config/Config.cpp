#include "broker/config/Config.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include <toml++/toml.h>

#include "broker/config/ConfigSections.h"
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
  config_detail::read_server_list(root.node("server"), root.line(), config_dir, errors,
                                  &config->servers);
  root.report_unknown_keys();
}

}  // namespace

ConfigResult parse_broker_config(std::string_view text, std::string_view file_name) {
  ErrorSink errors{std::string(file_name)};
  BrokerConfig config;
  try {
    toml::table document = toml::parse(text, file_name);
    auto config_dir = std::filesystem::path(file_name).parent_path();
    read_document(document, config_dir, &errors, &config);
  } catch (const toml::parse_error& error) {
    errors.add(static_cast<int>(error.source().begin.line), "", std::string(error.description()));
  } catch (const std::exception& error) {
    // Only allocation or filesystem failures get here; the caller still gets an error, not a throw.
    errors.add(0, "", error.what());
  }
  ConfigResult result;
  result.errors = errors.take();
  if (result.errors.empty()) result.config = std::move(config);
  return result;
}

ConfigResult load_broker_config(const std::string& path) {
  std::string text;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
  int error = fd < 0 ? errno : 0;
  while (fd >= 0) {
    char buffer[8192];
    ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) error = errno;
    if (n <= 0) break;
    text.append(buffer, static_cast<std::size_t>(n));
  }
  if (fd >= 0) ::close(fd);
  if (error != 0) {
    ConfigResult result;
    result.errors.push_back(
        ConfigError{path, 0, "", std::string("cannot read file: ") + std::strerror(error)});
    return result;
  }
  return parse_broker_config(text, path);
}

}  // namespace x2gojump
