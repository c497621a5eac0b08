#pragma once
// The agent's configuration (/etc/x2gojump/agent.toml), parsed and validated in one place.
#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/config/BrokerUrl.h"
#include "broker/config/Config.h"  // ConfigError: the same "file:line: key: message" errors

namespace x2gojump {

// One broker the agent reports to ([[broker]]).
struct BrokerTarget {
  std::string url;  // as written, for logs
  BrokerUrl endpoint;
  std::string token;    // read from token_file; never logged
  std::string ca_file;  // PEM bundle that signs the broker's certificate; empty = system store
};

struct AgentConfig {
  std::string server_name;  // the host's name on the brokers and in the X2Go DB's server column
  std::string session_db = "/var/lib/x2go/x2go_sessions";
  // Fallback when the DB cannot be read directly; argv, executable as an absolute path.
  std::vector<std::string> listsessions_command{"/usr/sbin/x2golistsessions_root"};
  std::chrono::seconds heartbeat_interval{5};
  std::vector<std::string> host_key_files;  // OpenSSH public key files reported to the brokers
  std::string log_level = "info";
  std::vector<BrokerTarget> brokers;  // at least one
};

// Values whose defaults come from the machine; injectable so parsing stays testable.
struct AgentDefaults {
  std::string server_name;                  // gethostname()
  std::vector<std::string> host_key_files;  // the /etc/ssh/ssh_host_*_key.pub that exist
};

// Reads the defaults above from this machine.
AgentDefaults system_agent_defaults();

struct AgentConfigResult {
  std::optional<AgentConfig> config;  // set iff errors is empty
  std::vector<ConfigError> errors;
};

// Parses TOML text; file_name is used in errors and resolves relative paths (token and CA files,
// session_db). Reads the token files and checks that CA files are readable. Never throws.
AgentConfigResult parse_agent_config(std::string_view text, std::string_view file_name,
                                     const AgentDefaults& defaults);

// Reads and parses the file at path with system_agent_defaults().
AgentConfigResult load_agent_config(const std::string& path);

}  // namespace x2gojump
