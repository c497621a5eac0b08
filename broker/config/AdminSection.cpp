#include <sys/un.h>

#include "broker/config/ConfigSections.h"

namespace x2gojump::config_detail {
namespace {

// Like the other file keys: relative paths are taken from the configuration's directory.
std::string resolve_against(const std::filesystem::path& config_dir, const std::string& path) {
  if (path.empty() || std::filesystem::path(path).is_absolute()) return path;
  return (config_dir / path).lexically_normal().string();
}

// A group name as useradd/groupadd accept it; resolved (getgrnam) when the socket is created.
bool valid_group_name(const std::string& name) {
  if (name.empty() || name.size() > 32 || name.front() == '-') return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

void read_admin_section(TableReader& admin, const std::filesystem::path& config_dir,
                        AdminConfig* config) {
  config->listen = {{"127.0.0.1", 9122}};
  config->control_socket = AdminConfig::kDefaultControlSocket;
  if (admin.node("listen")) {
    if (auto listen = read_listen_addresses(admin, "listen")) config->listen = std::move(*listen);
  }
  if (auto socket = admin.string("control_socket")) {
    config->control_socket = resolve_against(config_dir, socket->value);
    // sun_path holds the path and its terminating NUL.
    if (config->control_socket.size() >= sizeof(sockaddr_un{}.sun_path)) {
      admin.error(socket->line, "control_socket",
                  "path longer than " + std::to_string(sizeof(sockaddr_un{}.sun_path) - 1) +
                      " bytes, the limit for Unix sockets");
    }
  }
  if (auto group = admin.string("control_socket_group")) {
    if (!group->value.empty() && !valid_group_name(group->value)) {
      admin.error(group->line, "control_socket_group", "not a valid group name");
    }
    config->control_socket_group = group->value;
  }
  if (auto audit = admin.string("audit_log")) {
    config->audit_log = audit->value == "stdout" ? audit->value : resolve_against(config_dir, audit->value);
  }
}

}  // namespace x2gojump::config_detail
