#pragma once
// One agent API connection: HTTP/1.1 with keep-alive, over plain TCP or TLS. Internal to
// xj_agentapi; AgentApiServer accepts, this serves.
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/thread_pool.hpp>

#include <chrono>
#include <cstddef>
#include <memory>

#include "broker/agentapi/ConnectionSlots.h"
#include "broker/agentapi/SnapshotRequestHandler.h"

namespace x2gojump {

// What all connections of one server share; each connection holds a reference.
struct ApiContext {
  static constexpr std::size_t kMaxConnections = 64;
  static constexpr std::size_t kHeaderLimit = 8 * 1024;

  ApiContext(std::unique_ptr<const SnapshotRequestHandler> handler_in,
             boost::asio::thread_pool& pool_in, const AgentApiConfig& config)
      : handler(std::move(handler_in)),
        pool(pool_in),
        max_body_bytes(config.max_body_bytes),
        read_timeout(config.read_timeout) {}

  std::unique_ptr<const SnapshotRequestHandler> handler;
  boost::asio::thread_pool& pool;  // runs the handler (SQLite) off the event loop
  std::size_t max_body_bytes;
  std::chrono::milliseconds read_timeout;  // per request, and for an idle keep-alive connection
  std::unique_ptr<boost::asio::ssl::context> tls;  // null: plain HTTP
  ConnectionSlots slots{kMaxConnections};
};

// Serves requests on socket until the client closes, a timeout or error, or slots.close_all().
// Closes the socket at once if all slots are taken. socket's executor should be a strand.
void serve_connection(boost::asio::ip::tcp::socket socket, std::shared_ptr<ApiContext> context);

}  // namespace x2gojump
