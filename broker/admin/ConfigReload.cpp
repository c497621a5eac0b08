#include "broker/admin/ConfigReload.h"

namespace x2gojump {
namespace {

// Keeps the running value of one restart-only setting, noting when the file asked for another.
template <typename T>
void keep(const T& running, T& loaded, const char* key, std::vector<std::string>& changed) {
  if (!(running == loaded)) changed.emplace_back(key);
  loaded = running;
}

}  // namespace

ReloadPlan plan_reload(const BrokerConfig& running, BrokerConfig loaded) {
  ReloadPlan plan;
  auto& changed = plan.needs_restart;
  keep(running.listen, loaded.listen, "broker.listen", changed);
  keep(running.host_keys, loaded.host_keys, "broker.host_keys", changed);
  keep(running.state_db, loaded.state_db, "broker.state_db", changed);
  keep(running.threads, loaded.threads, "broker.threads", changed);
  keep(running.user, loaded.user, "broker.user", changed);
  // Connections in flight are counted per source under the running prefixes.
  keep(running.limits.source_ipv4_prefix, loaded.limits.source_ipv4_prefix, "limits.source_ipv4_prefix",
       changed);
  keep(running.limits.source_ipv6_prefix, loaded.limits.source_ipv6_prefix, "limits.source_ipv6_prefix",
       changed);
  keep(running.ldap, loaded.ldap, "ldap", changed);
  keep(running.agent_api, loaded.agent_api, "agent_api", changed);
  keep(running.admin.listen, loaded.admin.listen, "admin.listen", changed);
  keep(running.admin.control_socket, loaded.admin.control_socket, "admin.control_socket", changed);
  keep(running.admin.control_socket_group, loaded.admin.control_socket_group,
       "admin.control_socket_group", changed);
  plan.config = std::move(loaded);
  return plan;
}

}  // namespace x2gojump
