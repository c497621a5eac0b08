#pragma once
// Accepts TCP connections on a set of addresses and serves each with HttpSession, sharing one
// ApiContext (handler, limits, optional TLS). Used by the agent API and the admin listener.
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <memory>
#include <vector>

#include "broker/agentapi/HttpSession.h"
#include "broker/config/Config.h"

namespace x2gojump {

class HttpListener {
 public:
  // Nothing is bound before start().
  HttpListener(boost::asio::io_context& io, std::shared_ptr<ApiContext> context);
  ~HttpListener();  // stop()s
  HttpListener(const HttpListener&) = delete;
  HttpListener& operator=(const HttpListener&) = delete;

  // Binds and listens on every address (IPv6 ones v6-only), then accepts. Throws
  // std::runtime_error "<context name>: cannot listen on <address>: <reason>" and binds nothing
  // if any address fails.
  void start(const std::vector<ListenAddress>& addresses);

  // Stops accepting and closes every open connection. Idempotent. Call it on a thread running
  // io, or while io is not running.
  void stop();

  // The bound addresses (with the actual port when the configured one was 0).
  std::vector<boost::asio::ip::tcp::endpoint> local_endpoints() const;

  ApiContext& context() { return *context_; }

 private:
  struct Acceptor {
    explicit Acceptor(boost::asio::io_context& io) : acceptor(io), retry(io) {}
    boost::asio::ip::tcp::acceptor acceptor;
    boost::asio::steady_timer retry;
  };
  void accept_next(Acceptor& acceptor);

  boost::asio::io_context& io_;
  std::shared_ptr<ApiContext> context_;
  std::vector<std::unique_ptr<Acceptor>> acceptors_;
};

}  // namespace x2gojump
