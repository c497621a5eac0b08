#pragma once
// Carries out x2gojumpctl's requests (ControlProtocol.h) in the broker: reads the store, drains
// servers, forgets learned host keys, explains routing. Changes are logged and audited with the
// caller's uid. Blocks on SQLite and LDAP: run it on the thread pool.
#include <sys/types.h>

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "broker/admin/ControlProtocol.h"
#include "broker/admin/StatusSource.h"
#include "broker/audit/AuditLog.h"
#include "broker/config/ConfigHolder.h"
#include "broker/store/SessionStore.h"

namespace x2gojump {

struct ControlPeer {
  uid_t uid = 0;
  pid_t pid = 0;
};

class ControlService {
 public:
  // explain(user, from) answers `explain`; it may throw std::exception with a message for the
  // client. on_undrain(server) runs after a server stopped draining (health re-assessment).
  using Explain = std::function<nlohmann::json(const std::string& user, const std::string& from)>;
  using Undrained = std::function<void(const std::string& server)>;

  // Everything must outlive the service; audit may be null.
  ControlService(SessionStore& store, std::shared_ptr<ConfigHolder> config,
                 const StatusSource& status, AuditLog* audit, Explain explain, Undrained on_undrain);

  // The response line (without newline) to one request line. Thread-safe; never throws.
  std::string handle(std::string_view line, const ControlPeer& peer) const;

 private:
  nlohmann::json run(const ControlRequest& request, const ControlPeer& peer) const;
  nlohmann::json sessions(const ControlRequest& request) const;
  nlohmann::json change_server(const ControlRequest& request, const ControlPeer& peer) const;
  bool server_known(const std::string& server) const;

  SessionStore& store_;
  std::shared_ptr<ConfigHolder> config_;
  const StatusSource& status_;
  AuditLog* audit_;
  Explain explain_;
  Undrained on_undrain_;
};

}  // namespace x2gojump
