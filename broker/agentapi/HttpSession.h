#pragma once
// One HTTP/1.1 connection with keep-alive, over plain TCP or TLS: the agent API's and the admin
// listener's. HttpListener accepts, this serves; an HttpHandler decides the responses.
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/thread_pool.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "broker/agentapi/ConnectionSlots.h"
#include "broker/agentapi/HttpHandler.h"

namespace x2gojump {

// What all connections of one listener share; each connection holds a reference.
struct ApiContext {
  static constexpr std::size_t kMaxConnections = 64;
  static constexpr std::size_t kHeaderLimit = 8 * 1024;

  // name prefixes log lines ("agent API", "admin").
  ApiContext(std::string name_in, std::shared_ptr<const HttpHandler> handler_in,
             boost::asio::thread_pool& pool_in, std::size_t max_body_bytes_in,
             std::chrono::milliseconds read_timeout_in)
      : name(std::move(name_in)),
        handler(std::move(handler_in)),
        pool(pool_in),
        max_body_bytes(max_body_bytes_in),
        read_timeout(read_timeout_in) {}

  const std::string name;
  // Replaceable while serving (a configuration reload); each request uses the one it loaded.
  std::atomic<std::shared_ptr<const HttpHandler>> handler;
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
