#pragma once
// The agent API's request logic, without any network I/O: which response a request gets and what
// it changes in the store. The HTTP server (AgentApiServer) runs handle() on a thread pool.
//
//   POST /v1/snapshot  Authorization: Bearer <token>, body: a Snapshot (common/Snapshot.h)
//     200 {"applied":true}   applied (sessions, load and last_report replaced)
//     400 {"error":reason}   body is not a valid snapshot
//     401                    no, malformed or unknown token (WWW-Authenticate: Bearer)
//     403                    the token belongs to another server than the snapshot's "server"
//     409                    sequence not greater than the last applied one
//     413                    body larger than agent_api.max_body_bytes
//     500                    the state store failed
//   GET /v1/health       200 {"ok":true}, no authentication (for load balancers)
//   other paths 404, other methods 405 (with Allow).
// Every response other than 200 to POST /v1/snapshot leaves the store as it was.
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "broker/agentapi/HttpHandler.h"
#include "broker/agentapi/TokenMatcher.h"
#include "broker/config/Config.h"
#include "broker/store/SessionStore.h"
#include "common/Snapshot.h"

namespace x2gojump {

class SnapshotRequestHandler : public HttpHandler {
 public:
  // Called after a snapshot was committed, on the thread that ran handle().
  using ReportCallback = std::function<void(const std::string& server, const Snapshot& snapshot)>;

  // Keeps what it needs of config (tokens, pins, body limit); store must outlive the handler.
  SnapshotRequestHandler(const BrokerConfig& config, SessionStore& store, ReportCallback on_report);

  // Decides the response to request, received at now (unix seconds; becomes last_report).
  // Thread-safe. Never throws for any request content. Counts snapshots in the metrics.
  ApiResponse handle(const ApiRequest& request, std::int64_t now) const override;
  // Counts a snapshot refused by the HTTP layer (too large, malformed) in the metrics.
  void refused(unsigned status) const override;

 private:
  ApiResponse post_snapshot(const ApiRequest& request, std::int64_t now) const;
  void check_host_keys(const std::string& server, const Snapshot& snapshot) const;

  TokenMatcher tokens_;
  std::vector<std::string> pinned_;  // names of servers with a configured host_key
  std::size_t max_body_bytes_;
  SessionStore& store_;
  ReportCallback on_report_;
};

}  // namespace x2gojump
