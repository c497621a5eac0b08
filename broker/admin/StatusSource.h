#pragma once
// Gathers a StatusReport from the running broker. Blocks on SQLite: run it on the thread pool,
// never on an event loop.
#include <chrono>
#include <functional>
#include <memory>
#include <utility>

#include "broker/admin/StatusReport.h"
#include "broker/audit/AuditLog.h"
#include "broker/config/ConfigHolder.h"
#include "broker/store/SessionStore.h"

namespace x2gojump {

class StatusSource {
 public:
  // (open connections, of which not logged in yet)
  using ConnectionCounts = std::function<std::pair<int, int>()>;

  // Everything must outlive the source; audit may be null.
  StatusSource(SessionStore& store, std::shared_ptr<ConfigHolder> config, const AuditLog* audit,
               ConnectionCounts connections);

  // Thread-safe. Throws StoreError when the store fails.
  StatusReport collect() const;

 private:
  SessionStore& store_;
  std::shared_ptr<ConfigHolder> config_;
  const AuditLog* audit_;
  ConnectionCounts connections_;
  const std::int64_t started_at_;
};

}  // namespace x2gojump
