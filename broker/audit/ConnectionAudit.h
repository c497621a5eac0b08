#pragma once
// What one client connection reports about itself: each event goes to the metrics and, if there
// is one, to the audit log. Cheap enough for the event loop (a relaxed add, one short write).
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "broker/audit/AuditLog.h"

namespace x2gojump {

class ConnectionAudit {
 public:
  // Counts the connection and gives it the next connection number. log may be null.
  ConnectionAudit(AuditLog* log, std::string source);

  std::uint64_t id() const { return id_; }

  // reason is a stable word ("bad-credentials", "no-server", ...); detail is for humans.
  void login_refused(std::string_view user, std::string_view reason, std::string_view detail);
  // The backend accepted the login: a login success and the route it took. tried_before is the
  // number of candidates that were not usable first. user and server are kept for closed().
  void login_accepted(std::string_view user, std::string_view server, std::string_view route,
                      std::size_t tried_before);
  // reason: "unreachable" | "host-key-mismatch".
  void backend_failed(std::string_view user, std::string_view server, std::string_view reason,
                      std::string_view detail);
  // The end of a connection that was relayed (after login_accepted).
  void closed(std::string_view reason, std::chrono::steady_clock::duration duration,
              std::uint64_t bytes_up, std::uint64_t bytes_down);

 private:
  void record(AuditEvent event);

  AuditLog* log_;
  std::string source_;
  std::uint64_t id_;
  std::string user_;
  std::string server_;
};

}  // namespace x2gojump
