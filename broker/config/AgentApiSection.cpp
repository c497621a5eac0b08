#include "broker/config/ConfigSections.h"

namespace x2gojump::config_detail {
namespace {

// Relative paths are taken from the configuration's directory, like the secret files, so a
// config tree can be moved as a whole.
std::string resolve(const std::filesystem::path& config_dir, const std::string& path) {
  if (path.empty() || std::filesystem::path(path).is_absolute()) return path;
  return (config_dir / path).string();
}

}  // namespace

void read_agent_api_section(TableReader& agent_api, const std::filesystem::path& config_dir,
                            AgentApiConfig* config) {
  if (auto listen = read_listen_addresses(agent_api, "listen")) config->listen = std::move(*listen);
  auto cert = agent_api.string("tls_cert");
  auto key = agent_api.string("tls_key");
  if (cert) config->tls_cert_file = resolve(config_dir, cert->value);
  if (key) config->tls_key_file = resolve(config_dir, key->value);
  auto plain = agent_api.boolean("allow_plain_http");
  if (plain) config->allow_plain_http = plain->value;
  if (auto limit = agent_api.integer("max_body_bytes", 1024, 67108864)) {
    config->max_body_bytes = static_cast<std::size_t>(limit->value);
  }
  if (auto timeout = agent_api.integer("read_timeout_ms", 100, 60000)) {
    config->read_timeout = std::chrono::milliseconds(timeout->value);
  }

  const bool has_cert = !config->tls_cert_file.empty();
  const bool has_key = !config->tls_key_file.empty();
  if (has_cert != has_key) {
    const char* missing = has_cert ? "tls_key" : "tls_cert";
    agent_api.error(has_cert ? cert->line : key->line, missing,
                    "tls_cert and tls_key must be set together");
  } else if (has_cert && config->allow_plain_http) {
    // One of the two is a mistake; guessing which would either drop TLS or ignore the flag.
    agent_api.error(plain->line, "allow_plain_http",
                    "must not be true when tls_cert and tls_key are set");
  } else if (!has_cert && !config->allow_plain_http && !config->listen.empty()) {
    agent_api.error(agent_api.line(), "tls_cert",
                    "tls_cert and tls_key are required unless allow_plain_http = true");
  }
}

}  // namespace x2gojump::config_detail
