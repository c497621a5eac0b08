#include "broker/metrics/BrokerMetrics.h"

#include <string>

namespace x2gojump {

BrokerMetrics::BrokerMetrics()
    : logins("x2gojump_logins_total", "Login attempts by result and reason.", {"result", "reason"}),
      routes("x2gojump_routes_total", "Logins placed on a backend, by routing reason.", {"reason"}),
      backend_failures("x2gojump_backend_connect_failures_total",
                       "Backend connections that failed for a reason other than the password.",
                       {"server", "reason"}),
      relay_bytes("x2gojump_relay_bytes_total",
                  "Channel data relayed; up is client to backend, down is backend to client.",
                  {"direction"}),
      channels("x2gojump_channels_total", "Channels relayed, by channel type.", {"type"}),
      agent_reports_rejected("x2gojump_agent_reports_rejected_total",
                             "Agent snapshots refused by the agent API, by reason.", {"reason"}),
      config_reloads("x2gojump_config_reloads_total", "Configuration reloads (SIGHUP) by result.",
                     {"result"}),
      bytes_up(relay_bytes.with({"up"})),
      bytes_down(relay_bytes.with({"down"})) {
  // Label sets known up front start at 0, so rate() works from the first scrape.
  for (const char* type : {"session", "direct-tcpip", "forwarded-tcpip", "auth-agent"}) channels.with({type});
  logins.with({"success", "ok"});
  config_reloads.with({"success"});
  config_reloads.with({"failure"});
}

std::vector<MetricFamily> BrokerMetrics::collect() const {
  auto single = [](std::string name, std::string help, const Counter& counter) {
    return MetricFamily{std::move(name), std::move(help), MetricType::Counter,
                        {MetricSample{{}, static_cast<double>(counter.value())}}};
  };
  return {
      single("x2gojump_connections_total", "Client connections accepted.", connections_total),
      logins.collect(),
      routes.collect(),
      backend_failures.collect(),
      relay_bytes.collect(),
      channels.collect(),
      single("x2gojump_agent_reports_accepted_total", "Agent snapshots applied.",
             agent_reports_accepted),
      agent_reports_rejected.collect(),
      config_reloads.collect(),
  };
}

BrokerMetrics& metrics() {
  static BrokerMetrics instance;
  return instance;
}

void count_agent_report(unsigned status) {
  const char* reason = nullptr;
  switch (status) {
    case 200:
      metrics().agent_reports_accepted.add();
      return;
    case 400: reason = "invalid"; break;
    case 401: reason = "unauthorized"; break;
    case 403: reason = "wrong-server"; break;
    case 409: reason = "stale-sequence"; break;
    case 413: reason = "too-large"; break;
    case 431: reason = "header-too-large"; break;
    case 500: reason = "store-error"; break;
    default: reason = "other"; break;
  }
  metrics().agent_reports_rejected.with({reason}).add();
}

}  // namespace x2gojump
