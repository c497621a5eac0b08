#include "broker/ctl/SocketPath.h"

#include <toml++/toml.h>

#include <filesystem>
#include <stdexcept>
#include <system_error>

#include "broker/config/Config.h"

namespace x2gojump {

std::string control_socket_path(const std::string& config_path) {
  std::error_code ec;
  if (!std::filesystem::exists(config_path, ec)) return AdminConfig::kDefaultControlSocket;
  toml::table document;
  try {
    document = toml::parse_file(config_path);
  } catch (const toml::parse_error& e) {
    throw std::runtime_error("x2gojumpctl: cannot read " + config_path + ": " +
                             std::string(e.description()) + " (use --socket)");
  }
  const toml::table* admin = document["admin"].as_table();
  if (admin == nullptr) {
    throw std::runtime_error("x2gojumpctl: " + config_path +
                             " has no [admin] table, so the broker has no control socket");
  }
  const toml::node* socket = admin->get("control_socket");
  if (socket == nullptr) return AdminConfig::kDefaultControlSocket;
  std::string path = socket->value_or(std::string());
  if (path.empty()) {
    throw std::runtime_error("x2gojumpctl: the control socket is disabled in " + config_path +
                             " ([admin] control_socket = \"\")");
  }
  std::filesystem::path resolved(path);
  if (resolved.is_relative()) {
    resolved = (std::filesystem::path(config_path).parent_path() / resolved).lexically_normal();
  }
  return resolved.string();
}

}  // namespace x2gojump
