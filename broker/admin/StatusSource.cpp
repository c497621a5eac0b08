#include "broker/admin/StatusSource.h"

namespace x2gojump {

StatusSource::StatusSource(SessionStore& store, std::shared_ptr<ConfigHolder> config,
                           const AuditLog* audit, ConnectionCounts connections)
    : store_(store),
      config_(std::move(config)),
      audit_(audit),
      connections_(std::move(connections)),
      started_at_(unix_now()) {}

StatusReport StatusSource::collect() const {
  StatusReport report;
  report.version = X2GOJUMP_VERSION;
  report.now = unix_now();
  report.started_at = started_at_;
  if (connections_) {
    std::tie(report.connections_active, report.connections_unauthenticated) = connections_();
  }
  report.servers = server_statuses(store_.server_summaries(), *config_->get(), report.now);
  if (audit_ != nullptr) report.recent_events = audit_->recent();
  return report;
}

}  // namespace x2gojump
