#include "broker/agentapi/HttpListener.h"

#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/strand.hpp>
#include <spdlog/spdlog.h>

#include <chrono>
#include <stdexcept>

namespace x2gojump {

namespace asio = boost::asio;

HttpListener::HttpListener(asio::io_context& io, std::shared_ptr<ApiContext> context)
    : io_(io), context_(std::move(context)) {}

HttpListener::~HttpListener() { stop(); }

void HttpListener::start(const std::vector<ListenAddress>& addresses) {
  for (const ListenAddress& address : addresses) {
    std::string name = address.host + ":" + std::to_string(address.port);
    try {
      asio::ip::tcp::endpoint where(asio::ip::make_address(address.host), address.port);
      auto acceptor = std::make_unique<Acceptor>(io_);
      acceptor->acceptor.open(where.protocol());
      acceptor->acceptor.set_option(asio::ip::tcp::acceptor::reuse_address(true));
      if (where.address().is_v6()) acceptor->acceptor.set_option(asio::ip::v6_only(true));
      acceptor->acceptor.bind(where);
      acceptor->acceptor.listen(asio::socket_base::max_listen_connections);
      auto bound = acceptor->acceptor.local_endpoint();
      spdlog::info("{} listening on {}:{} ({})", context_->name, address.host, bound.port(),
                   context_->tls ? "HTTPS" : "plain HTTP, unencrypted");
      acceptors_.push_back(std::move(acceptor));
    } catch (const boost::system::system_error& e) {
      acceptors_.clear();
      throw std::runtime_error(context_->name + ": cannot listen on " + name + ": " +
                               e.code().message());
    }
  }
  for (auto& acceptor : acceptors_) accept_next(*acceptor);
}

void HttpListener::accept_next(Acceptor& acceptor) {
  // Each connection gets its own strand, so the io_context may be run by several threads.
  acceptor.acceptor.async_accept(
      asio::make_strand(io_),
      [this, &acceptor](const boost::system::error_code& ec, asio::ip::tcp::socket socket) {
        // On operation_aborted the listener may already be gone: touch nothing.
        if (ec == asio::error::operation_aborted) return;
        if (ec) {
          // Typically EMFILE/ENFILE: back off instead of spinning on the listening socket.
          spdlog::warn("{}: accept failed: {}", context_->name, ec.message());
          acceptor.retry.expires_after(std::chrono::milliseconds(100));
          acceptor.retry.async_wait([this, &acceptor](const boost::system::error_code& tec) {
            if (!tec) accept_next(acceptor);
          });
          return;
        }
        serve_connection(std::move(socket), context_);
        accept_next(acceptor);
      });
}

void HttpListener::stop() {
  for (auto& acceptor : acceptors_) {
    boost::system::error_code ignored;
    acceptor->acceptor.close(ignored);
    acceptor->retry.cancel();
  }
  context_->slots.close_all();
}

std::vector<asio::ip::tcp::endpoint> HttpListener::local_endpoints() const {
  std::vector<asio::ip::tcp::endpoint> endpoints;
  for (const auto& acceptor : acceptors_) {
    boost::system::error_code ec;
    auto endpoint = acceptor->acceptor.local_endpoint(ec);
    if (!ec) endpoints.push_back(endpoint);
  }
  return endpoints;
}

}  // namespace x2gojump
