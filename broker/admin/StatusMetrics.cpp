#include "broker/admin/StatusMetrics.h"

#include <string>

namespace x2gojump {
namespace {

MetricFamily gauge(std::string name, std::string help) {
  return MetricFamily{std::move(name), std::move(help), MetricType::Gauge, {}};
}

MetricSample sample(std::vector<std::pair<std::string, std::string>> labels, double value) {
  return MetricSample{std::move(labels), value};
}

}  // namespace

std::vector<MetricFamily> status_metrics(const StatusReport& report) {
  MetricFamily info = gauge("x2gojump_build_info", "Always 1; the version is a label.");
  info.samples.push_back(sample({{"version", report.version}}, 1));
  MetricFamily started = gauge("x2gojump_start_time_seconds", "Unix time the broker started.");
  started.samples.push_back(sample({}, static_cast<double>(report.started_at)));
  MetricFamily active = gauge("x2gojump_connections_active", "Client connections open now.");
  active.samples.push_back(sample({}, report.connections_active));
  MetricFamily unauthenticated = gauge("x2gojump_connections_unauthenticated",
                                       "Client connections open now that have not logged in yet.");
  unauthenticated.samples.push_back(sample({}, report.connections_unauthenticated));

  MetricFamily state = gauge("x2gojump_server_state", "1 for the state each server is in, else 0.");
  MetricFamily load = gauge("x2gojump_server_load", "Load each server's agent last reported.");
  MetricFamily sessions = gauge("x2gojump_server_sessions", "X2Go sessions per server and status.");
  MetricFamily users = gauge("x2gojump_server_users", "Distinct users with a session per server.");
  MetricFamily age = gauge("x2gojump_server_last_report_age_seconds",
                           "Seconds since each server's agent last reported (absent: never).");
  for (const ServerStatus& status : report.servers) {
    const ServerSummary& server = status.summary;
    for (ServerHealth health :
         {ServerHealth::Up, ServerHealth::Stale, ServerHealth::Down, ServerHealth::Draining}) {
      state.samples.push_back(sample({{"server", server.name}, {"state", std::string(to_string(health))}},
                                     server.health == health ? 1 : 0));
    }
    load.samples.push_back(sample({{"server", server.name}}, server.load));
    sessions.samples.push_back(sample({{"server", server.name}, {"status", "running"}}, server.running_sessions));
    sessions.samples.push_back(sample({{"server", server.name}, {"status", "suspended"}}, server.suspended_sessions));
    users.samples.push_back(sample({{"server", server.name}}, server.users));
    if (status.last_report_age) {
      age.samples.push_back(sample({{"server", server.name}}, static_cast<double>(*status.last_report_age)));
    }
  }
  return {info, started, active, unauthenticated, state, load, sessions, users, age};
}

}  // namespace x2gojump
