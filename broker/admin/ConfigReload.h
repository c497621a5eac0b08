#pragma once
// What a configuration reload (SIGHUP) may change while the broker runs. Pure.
//
// Live: servers (synced to the store), pools, limits (but the source prefixes), log level,
// fallback strategy, accept_new_backend_host_keys, [health], agent tokens and pins,
// [admin] audit_log.
// Only after a restart: [broker] listen, host_keys, state_db, threads, user;
// [limits] source_ipv4_prefix, source_ipv6_prefix; [ldap];
// [agent_api]; [admin] listen, control_socket, control_socket_group. A reload keeps the running
// values of these and says which differ.
#include <string>
#include <vector>

#include "broker/config/Config.h"

namespace x2gojump {

struct ReloadPlan {
  BrokerConfig config;                     // loaded, with the restart-only settings of running
  std::vector<std::string> needs_restart;  // changed restart-only keys: "broker.listen", "ldap", ...
};

ReloadPlan plan_reload(const BrokerConfig& running, BrokerConfig loaded);

}  // namespace x2gojump
