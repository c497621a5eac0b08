#pragma once
// Readers for the sections of broker.toml. Internal to xj_config; each fills its part of *config
// with what is valid and records every problem through the reader.
#include <filesystem>
#include <optional>
#include <string_view>
#include <vector>

#include <toml++/toml.h>

#include "broker/config/Config.h"
#include "broker/config/TableReader.h"

namespace x2gojump::config_detail {

void read_broker_section(TableReader& broker, BrokerConfig* config);

// An array of "addr:port" strings without duplicates; nullopt (errors reported) if any is bad or
// the key is absent. Emptiness is the caller's to judge.
std::optional<std::vector<ListenAddress>> read_listen_addresses(TableReader& table,
                                                                std::string_view key);

// config_dir resolves relative tls_cert/tls_key paths.
void read_agent_api_section(TableReader& agent_api, const std::filesystem::path& config_dir,
                            AgentApiConfig* config);

void read_health_section(TableReader& health, HealthConfig* config);

// Called only when [admin] exists: its absence keeps the admin interfaces off. config_dir
// resolves relative control_socket and audit_log paths.
void read_admin_section(TableReader& admin, const std::filesystem::path& config_dir,
                        AdminConfig* config);

// config_dir resolves a relative bind_password_file.
void read_ldap_section(TableReader& ldap, const std::filesystem::path& config_dir,
                       LdapConfig* config);

void read_limits_section(TableReader& limits, LimitsConfig* config);

// servers is the value of the root "server" key, or null when absent. config_dir resolves a
// relative agent_token_file.
void read_server_list(const toml::node* servers, int root_line,
                      const std::filesystem::path& config_dir, ErrorSink* errors,
                      std::vector<ServerConfig>* config);

// pools is the value of the root "pool" key, or null when absent (no pools). servers are the
// already read [[server]] entries, which pools may name.
void read_pool_list(const toml::node* pools, int root_line, const std::vector<ServerConfig>& servers,
                    ErrorSink* errors, std::vector<PoolConfig>* config);

}  // namespace x2gojump::config_detail
