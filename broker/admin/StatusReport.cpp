#include "broker/admin/StatusReport.h"

#include <algorithm>

#include "broker/ssh/HostKeyCheck.h"

namespace x2gojump {

std::vector<ServerStatus> server_statuses(const std::vector<ServerSummary>& summaries,
                                          const BrokerConfig& config, std::int64_t now) {
  std::vector<ServerStatus> result;
  for (const ServerSummary& summary : summaries) {
    ServerStatus status{.summary = summary};
    if (summary.last_report) status.last_report_age = std::max<std::int64_t>(0, now - *summary.last_report);
    auto configured = std::find_if(config.servers.begin(), config.servers.end(),
                                   [&](const ServerConfig& s) { return s.name == summary.name; });
    std::string key;
    if (configured != config.servers.end()) {
      status.max_users = configured->max_users;
      key = configured->host_key;
    }
    if (!key.empty()) {
      status.host_key_source = "config";
    } else if (summary.learned_host_key) {
      status.host_key_source = "learned";
      key = *summary.learned_host_key;
    } else {
      status.host_key_source = "none";
    }
    if (!key.empty()) {
      status.host_key_type = key.substr(0, key.find(' '));
      status.host_key_fingerprint = fingerprint_of_line(key);
    }
    result.push_back(std::move(status));
  }
  return result;
}

nlohmann::json to_json(const ServerStatus& server) {
  const ServerSummary& s = server.summary;
  nlohmann::json out{
      {"name", s.name},
      {"address", s.address},
      {"port", s.port},
      {"weight", s.weight},
      {"state", to_string(s.health)},
      {"load", s.load},
      {"sessions", {{"running", s.running_sessions}, {"suspended", s.suspended_sessions}}},
      {"users", s.users},
      {"max_users", server.max_users},
      {"last_report_age_s", nullptr},
      {"host_key", {{"source", server.host_key_source}}},
  };
  if (server.last_report_age) out["last_report_age_s"] = *server.last_report_age;
  if (!server.host_key_type.empty()) {
    out["host_key"]["type"] = server.host_key_type;
    out["host_key"]["fingerprint"] = server.host_key_fingerprint;
  }
  return out;
}

nlohmann::json to_json(const StatusReport& report) {
  nlohmann::json servers = nlohmann::json::array();
  for (const ServerStatus& server : report.servers) servers.push_back(to_json(server));
  nlohmann::json events = nlohmann::json::array();
  for (const std::string& line : report.recent_events) {
    events.push_back(nlohmann::json::parse(line, nullptr, false));  // ours, so always valid
  }
  return {{"version", report.version},
          {"now", report.now},
          {"started_at", report.started_at},
          {"connections",
           {{"active", report.connections_active},
            {"unauthenticated", report.connections_unauthenticated}}},
          {"servers", std::move(servers)},
          {"events", std::move(events)}};
}

}  // namespace x2gojump
