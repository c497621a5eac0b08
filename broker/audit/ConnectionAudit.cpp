#include "broker/audit/ConnectionAudit.h"

#include <cmath>

#include "broker/metrics/BrokerMetrics.h"

namespace x2gojump {

ConnectionAudit::ConnectionAudit(AuditLog* log, std::string source)
    : log_(log), source_(std::move(source)), id_(metrics().connections_total.add_fetch()) {}

void ConnectionAudit::record(AuditEvent event) {
  if (log_ != nullptr) log_->record(std::move(event));
}

void ConnectionAudit::login_refused(std::string_view user, std::string_view reason,
                                    std::string_view detail) {
  metrics().logins.with({"failure", std::string(reason)}).add();
  record({{"event", "login"}, {"result", "failure"}, {"conn", id_}, {"user", audit_text(user)},
          {"source", source_}, {"reason", reason}, {"detail", audit_text(detail, 512)}});
}

void ConnectionAudit::login_accepted(std::string_view user, std::string_view server,
                                     std::string_view route, std::size_t tried_before) {
  user_ = audit_text(user);
  server_ = server;
  metrics().logins.with({"success", "ok"}).add();
  metrics().routes.with({std::string(route)}).add();
  record({{"event", "login"}, {"result", "success"}, {"conn", id_}, {"user", user_},
          {"source", source_}, {"server", server}});
  record({{"event", "route"}, {"conn", id_}, {"user", user_}, {"server", server},
          {"reason", route}, {"skipped", tried_before}});
}

void ConnectionAudit::backend_failed(std::string_view user, std::string_view server,
                                     std::string_view reason, std::string_view detail) {
  metrics().backend_failures.with({std::string(server), std::string(reason)}).add();
  record({{"event", "backend_failure"}, {"conn", id_}, {"user", audit_text(user)},
          {"server", server}, {"reason", reason}, {"detail", audit_text(detail, 512)}});
}

void ConnectionAudit::closed(std::string_view reason, std::chrono::steady_clock::duration duration,
                             std::uint64_t bytes_up, std::uint64_t bytes_down) {
  const double seconds = std::chrono::duration<double>(duration).count();
  record({{"event", "connection_end"}, {"conn", id_}, {"user", user_}, {"source", source_},
          {"server", server_}, {"reason", audit_text(reason, 512)},
          {"duration_s", std::round(seconds * 1000) / 1000}, {"bytes_up", bytes_up},
          {"bytes_down", bytes_down}});
}

}  // namespace x2gojump
