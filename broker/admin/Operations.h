#pragma once
// The broker's admin side wired together: the audit log, the admin HTTP listener (/metrics,
// status page), the control socket for x2gojumpctl, and configuration reload on SIGHUP.
// main() owns one; see docs/operations.md.
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "broker/admin/ControlService.h"
#include "broker/admin/ControlSocketServer.h"
#include "broker/admin/StatusSource.h"
#include "broker/agentapi/AgentApiServer.h"
#include "broker/agentapi/HttpListener.h"
#include "broker/audit/AuditLog.h"
#include "broker/config/ConfigHolder.h"
#include "broker/health/FailurePenalty.h"
#include "broker/health/HealthMonitor.h"
#include "broker/login/LoginService.h"
#include "broker/net/SourcePenalty.h"
#include "broker/store/SessionStore.h"

namespace x2gojump {

class Operations {
 public:
  // What the admin side works on; everything must outlive the Operations object, and pool must
  // be joined after stop().
  struct Parts {
    boost::asio::io_context& io;     // runs the listeners and the SIGHUP watch (never blocks)
    boost::asio::thread_pool& pool;  // runs requests and reloads (SQLite, LDAP, files)
    std::shared_ptr<ConfigHolder> config;
    std::string config_path;         // read again on each reload
    std::string log_level_override;  // --log-level: a reload keeps it
    SessionStore& store;
    HealthMonitor& health;
    AgentApiServer& agent_api;
    LoginService& login;
    FailurePenalty& penalties;
    SourcePenalty& source_penalties;
    StatusSource::ConnectionCounts connections;
  };

  // Opens the audit log ([admin] audit_log). Throws std::runtime_error if it cannot.
  explicit Operations(Parts parts);
  ~Operations();  // stop()s
  Operations(const Operations&) = delete;
  Operations& operator=(const Operations&) = delete;

  // For ConnectionContext::audit.
  AuditLog& audit() { return *audit_; }

  // Creates the control socket and binds the admin listener as configured, and handles SIGHUP
  // from now on. Throws std::runtime_error naming what failed. Call before the privileges are
  // dropped (the socket's directory and port may need root) and before other threads create
  // files (the control socket changes the umask briefly).
  void start();
  // Closes both and stops handling SIGHUP. Idempotent; call on io's thread or while it is idle.
  void stop();

  // Reads the configuration file again and puts what may change live in force (ConfigReload.h):
  // a file with errors is rejected with every error logged, and the old configuration stays.
  // Also reopens the audit log, and tells systemd (RELOADING=1, then READY=1). Blocking;
  // returns whether the new configuration was applied.
  bool reload();

 private:
  void watch_hangup();
  bool apply_reload();
  void reject_reload(const std::string& why, std::size_t errors);

  Parts parts_;
  std::unique_ptr<AuditLog> audit_;
  StatusSource status_;
  ControlService control_;
  ControlSocketServer control_socket_;
  HttpListener http_;
  boost::asio::signal_set hangup_;
  // Reloads run one at a time, in order, on the pool.
  boost::asio::strand<boost::asio::thread_pool::executor_type> reloads_;
};

// The store's view of the configured servers (for sync_servers).
std::vector<ServerRecord> server_records(const BrokerConfig& config);

}  // namespace x2gojump
