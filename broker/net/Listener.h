#pragma once
// Accepts TCP connections on every configured address and hands each socket on.
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <functional>
#include <memory>
#include <vector>

#include "broker/config/Config.h"

namespace x2gojump {

class Listener {
 public:
  using Accept = std::function<void(boost::asio::ip::tcp::socket)>;

  // Binds and listens on every address; throws std::runtime_error naming the address on failure.
  Listener(boost::asio::io_context& io, const std::vector<ListenAddress>& addresses, Accept on_accept);

  // Stops accepting; established connections are not affected.
  void stop();

 private:
  struct Endpoint {
    Endpoint(boost::asio::io_context& io) : acceptor(io), retry(io) {}
    boost::asio::ip::tcp::acceptor acceptor;
    boost::asio::steady_timer retry;
  };
  void accept_next(Endpoint& endpoint);

  boost::asio::io_context& io_;
  Accept on_accept_;
  std::vector<std::unique_ptr<Endpoint>> endpoints_;
};

}  // namespace x2gojump
