#pragma once
// Readers for the sections of broker.toml. Internal to xj_config; each fills its part of *config
// with what is valid and records every problem through the reader.
#include <filesystem>

#include <toml++/toml.h>

#include "broker/config/Config.h"
#include "broker/config/TableReader.h"

namespace x2gojump::config_detail {

void read_broker_section(TableReader& broker, BrokerConfig* config);

// config_dir resolves a relative bind_password_file.
void read_ldap_section(TableReader& ldap, const std::filesystem::path& config_dir,
                       LdapConfig* config);

void read_limits_section(TableReader& limits, LimitsConfig* config);

// servers is the value of the root "server" key, or null when absent.
void read_server_list(const toml::node* servers, int root_line, ErrorSink* errors,
                      std::vector<ServerConfig>* config);

}  // namespace x2gojump::config_detail
