#include "broker/net/Listener.h"

#include <boost/asio/ip/v6_only.hpp>
#include <spdlog/spdlog.h>

#include <chrono>
#include <stdexcept>

namespace x2gojump {

Listener::Listener(boost::asio::io_context& io, const std::vector<ListenAddress>& addresses,
                   Accept on_accept)
    : io_(io), on_accept_(std::move(on_accept)) {
  for (const ListenAddress& address : addresses) {
    std::string name = address.host + ":" + std::to_string(address.port);
    try {
      boost::asio::ip::tcp::endpoint where(boost::asio::ip::make_address(address.host), address.port);
      auto endpoint = std::make_unique<Endpoint>(io_);
      endpoint->acceptor.open(where.protocol());
      endpoint->acceptor.set_option(boost::asio::ip::tcp::acceptor::reuse_address(true));
      if (where.address().is_v6()) endpoint->acceptor.set_option(boost::asio::ip::v6_only(true));
      endpoint->acceptor.bind(where);
      endpoint->acceptor.listen(boost::asio::socket_base::max_listen_connections);
      spdlog::info("listening on {}", name);
      endpoints_.push_back(std::move(endpoint));
    } catch (const boost::system::system_error& e) {
      throw std::runtime_error("cannot listen on " + name + ": " + e.code().message());
    }
  }
  for (auto& endpoint : endpoints_) accept_next(*endpoint);
}

void Listener::accept_next(Endpoint& endpoint) {
  endpoint.acceptor.async_accept([this, &endpoint](const boost::system::error_code& ec,
                                                   boost::asio::ip::tcp::socket socket) {
    if (ec == boost::asio::error::operation_aborted) return;
    if (ec) {
      // Typically EMFILE/ENFILE: back off briefly instead of spinning on the listening socket.
      spdlog::warn("accept failed: {}", ec.message());
      endpoint.retry.expires_after(std::chrono::milliseconds(100));
      endpoint.retry.async_wait([this, &endpoint](const boost::system::error_code& tec) {
        if (!tec) accept_next(endpoint);
      });
      return;
    }
    on_accept_(std::move(socket));
    accept_next(endpoint);
  });
}

void Listener::stop() {
  for (auto& endpoint : endpoints_) {
    boost::system::error_code ignored;
    endpoint->acceptor.close(ignored);
    endpoint->retry.cancel();
  }
}

}  // namespace x2gojump
