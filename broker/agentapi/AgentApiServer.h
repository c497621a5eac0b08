#pragma once
// The HTTP(S) endpoint agents push snapshots to ([agent_api]). Requests are decided by
// SnapshotRequestHandler on a thread pool; the event loop only does network I/O.
// Limits: agent_api.read_timeout per request (and per idle keep-alive wait), 8 KiB of headers,
// agent_api.max_body_bytes of body (413 without buffering it), 64 concurrent connections (more
// are closed on accept).
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/thread_pool.hpp>

#include <memory>
#include <vector>

#include "broker/agentapi/HttpListener.h"
#include "broker/agentapi/SnapshotRequestHandler.h"
#include "broker/config/Config.h"
#include "broker/store/SessionStore.h"

namespace x2gojump {

class AgentApiServer {
 public:
  using ReportCallback = SnapshotRequestHandler::ReportCallback;

  // Nothing is bound before start(). store and pool must outlive the server and its connections
  // (join the pool after stop()). on_report runs on a pool thread after each applied snapshot.
  AgentApiServer(boost::asio::io_context& io, const BrokerConfig& config, SessionStore& store,
                 boost::asio::thread_pool& pool, ReportCallback on_report);
  ~AgentApiServer();
  AgentApiServer(const AgentApiServer&) = delete;
  AgentApiServer& operator=(const AgentApiServer&) = delete;

  // Loads the TLS certificate and key (unless allow_plain_http) and listens on every
  // agent_api.listen address. Throws std::runtime_error naming the file or address on failure.
  // Does nothing when listen is empty (the API is disabled).
  void start();

  // Takes the servers' tokens and pins from config for every request from now on (a reload).
  // The [agent_api] settings themselves only change with a restart. Thread-safe.
  void reconfigure(const BrokerConfig& config);

  // Stops accepting and closes every open connection; a request already on the pool completes
  // but gets no response. Idempotent. Call it on a thread running io, or while io is not running.
  void stop();

  // The bound addresses (with the actual port when the configured one was 0).
  std::vector<boost::asio::ip::tcp::endpoint> local_endpoints() const;

 private:
  AgentApiConfig config_;
  SessionStore& store_;
  ReportCallback on_report_;
  HttpListener listener_;
};

}  // namespace x2gojump
