#include "broker/agentapi/HttpSession.h"

#include <boost/asio/post.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <spdlog/spdlog.h>

#include <array>
#include <optional>
#include <string>
#include <type_traits>

namespace x2gojump {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

using PlainStream = beast::tcp_stream;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;

// Bytes read and dropped after refusing a request whose body was not read; beyond this (or the
// read timeout) the connection is simply closed.
constexpr std::size_t kMaxDrainBytes = 64 * 1024 * 1024;

std::string_view view(beast::string_view text) { return {text.data(), text.size()}; }

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// A request that is broken in itself, as opposed to the transport failing, a timeout or the
// peer leaving; it gets a 400 response.
bool is_malformed(const beast::error_code& ec) {
  return ec.category() == http::make_error_code(http::error::bad_target).category() &&
         ec != http::error::end_of_stream && ec != http::error::partial_message;
}

template <class Stream>
class HttpSession final : public Closable, public std::enable_shared_from_this<HttpSession<Stream>> {
  static constexpr bool kTls = std::is_same_v<Stream, TlsStream>;

 public:
  HttpSession(Stream stream, std::shared_ptr<ApiContext> context, std::string peer)
      : stream_(std::move(stream)), context_(std::move(context)), peer_(std::move(peer)) {}

  ~HttpSession() override {
    if (slot_) context_->slots.remove(*slot_);
  }

  void start() {
    slot_ = context_->slots.try_add(this->weak_from_this());
    if (!slot_) {
      spdlog::warn("{}: [{}] refused: {} connections open", context_->name, peer_,
                   ApiContext::kMaxConnections);
      return;  // destroying the session closes the socket
    }
    if constexpr (kTls) {
      lowest().expires_after(context_->read_timeout);
      stream_.async_handshake(asio::ssl::stream_base::server,
                              [self = this->shared_from_this()](const beast::error_code& ec) {
                                if (ec) {
                                  spdlog::debug("{}: [{}] TLS handshake failed: {}",
                                                self->context_->name, self->peer_, ec.message());
                                  return self->lowest().close();
                                }
                                self->read_header();
                              });
    } else {
      read_header();
    }
  }

  void close() override {
    asio::post(lowest().get_executor(), [self = this->shared_from_this()] {
      self->closing_ = true;
      self->lowest().close();
    });
  }

 private:
  beast::tcp_stream& lowest() { return beast::get_lowest_layer(stream_); }

  void read_header() {
    if (closing_) return;
    parser_.emplace();
    parser_->header_limit(ApiContext::kHeaderLimit);
    // Checked against Content-Length before any body byte is read, and while reading a chunked
    // body, so an oversized body is never buffered.
    parser_->body_limit(context_->max_body_bytes);
    lowest().expires_after(context_->read_timeout);
    http::async_read_header(stream_, buffer_, *parser_,
                            [self = this->shared_from_this()](const beast::error_code& ec,
                                                              std::size_t) {
                              self->on_header(ec);
                            });
  }

  void on_header(const beast::error_code& ec) {
    if (ec) return on_read_error(ec);
    const auto& request = parser_->get();
    // curl and others wait for this before sending a body; the parser limits are already known.
    if (request.version() >= 11 && beast::iequals(request[http::field::expect], "100-continue")) {
      continue_.version(11);
      continue_.result(http::status::continue_);
      http::async_write(stream_, continue_,
                        [self = this->shared_from_this()](const beast::error_code& wec,
                                                          std::size_t) {
                          if (wec) return self->lowest().close();
                          self->read_body();
                        });
      return;
    }
    read_body();
  }

  // Continues under the deadline set for the header: the whole request must arrive in time.
  void read_body() {
    http::async_read(stream_, buffer_, *parser_,
                     [self = this->shared_from_this()](const beast::error_code& ec, std::size_t) {
                       self->on_request(ec);
                     });
  }

  void on_request(const beast::error_code& ec) {
    if (ec) return on_read_error(ec);
    lowest().expires_never();
    auto request = std::make_shared<http::request<http::string_body>>(parser_->release());
    parser_.reset();
    asio::post(context_->pool, [self = this->shared_from_this(), request,
                                executor = lowest().get_executor()] {
      ApiRequest api{view(request->method_string()), view(request->target()),
                     view((*request)[http::field::authorization]), request->body(), self->peer_};
      ApiResponse response = self->context_->handler.load()->handle(api, unix_now());
      asio::post(executor, [self, response = std::move(response),
                            version = request->version(),
                            keep_alive = request->keep_alive()]() mutable {
        self->respond(std::move(response), version, keep_alive);
      });
    });
  }

  void on_read_error(const beast::error_code& ec) {
    if (ec == http::error::body_limit) {
      return refuse(error_response(413, "body larger than " +
                                            std::to_string(context_->max_body_bytes) + " bytes"));
    }
    if (ec == http::error::header_limit) {
      return refuse(error_response(431, "request header larger than " +
                                            std::to_string(ApiContext::kHeaderLimit) + " bytes"));
    }
    if (is_malformed(ec)) return refuse(error_response(400, "malformed HTTP request"));
    if (ec != http::error::end_of_stream && ec != asio::error::operation_aborted) {
      spdlog::debug("{}: [{}] connection closed: {}", context_->name, peer_, ec.message());
    }
    lowest().close();
  }

  // Answers a request that was not (completely) read, then closes without resetting the
  // connection under the client's feet (see drain()).
  void refuse(ApiResponse response) {
    spdlog::info("{}: [{}] refused request: {}", context_->name, peer_, response.status);
    context_->handler.load()->refused(response.status);
    draining_ = true;
    respond(std::move(response), 11, false);
  }

  void respond(ApiResponse response, unsigned version, bool keep_alive) {
    if (closing_) return;
    response_ = {};
    response_.version(version);
    response_.result(response.status);
    response_.set(http::field::server, "x2gojump");
    response_.set(http::field::content_type, "application/json");
    response_.set(http::field::cache_control, "no-store");
    for (const auto& [name, value] : response.headers) response_.set(name, value);
    response_.body() = std::move(response.body);
    response_.keep_alive(keep_alive);
    response_.prepare_payload();
    lowest().expires_after(context_->read_timeout);
    http::async_write(stream_, response_,
                      [self = this->shared_from_this()](const beast::error_code& ec, std::size_t) {
                        self->on_written(ec);
                      });
  }

  void on_written(const beast::error_code& ec) {
    if (ec) return lowest().close();
    if (response_.keep_alive()) return read_header();
    if (draining_) return drain(0);
    shut_down();
  }

  // Closing a socket with unread input makes the kernel send a reset, which can destroy the
  // response before the client reads it. So the rest of the request is read and dropped until
  // the client closes, the read timeout passes or kMaxDrainBytes were dropped.
  void drain(std::size_t dropped) {
    if (dropped == 0) {
      if constexpr (!kTls) {
        beast::error_code ignored;
        lowest().socket().shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
      }
      lowest().expires_after(context_->read_timeout);
    }
    stream_.async_read_some(asio::buffer(scratch_),
                            [self = this->shared_from_this(), dropped](
                                const beast::error_code& ec, std::size_t n) {
                              if (ec || dropped + n > kMaxDrainBytes) return self->lowest().close();
                              self->drain(dropped + n);
                            });
  }

  void shut_down() {
    if constexpr (kTls) {
      lowest().expires_after(context_->read_timeout);
      stream_.async_shutdown([self = this->shared_from_this()](const beast::error_code&) {
        self->lowest().close();
      });
    } else {
      beast::error_code ignored;
      lowest().socket().shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
      lowest().close();
    }
  }

  Stream stream_;
  std::shared_ptr<ApiContext> context_;
  const std::string peer_;
  std::optional<std::uint64_t> slot_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  http::response<http::empty_body> continue_;
  http::response<http::string_body> response_;
  std::array<char, 16384> scratch_;
  bool draining_ = false;
  bool closing_ = false;
};

}  // namespace

void serve_connection(asio::ip::tcp::socket socket, std::shared_ptr<ApiContext> context) {
  beast::error_code ec;
  auto remote = socket.remote_endpoint(ec);
  if (ec) return;
  auto address = remote.address();
  if (address.is_v6() && address.to_v6().is_v4_mapped()) address = address.to_v6().to_v4();
  std::string peer = address.to_string();
  socket.set_option(asio::ip::tcp::no_delay(true), ec);
  if (context->tls) {
    asio::ssl::context& tls = *context->tls;
    std::make_shared<HttpSession<TlsStream>>(TlsStream(beast::tcp_stream(std::move(socket)), tls),
                                             std::move(context), std::move(peer))
        ->start();
  } else {
    std::make_shared<HttpSession<PlainStream>>(PlainStream(std::move(socket)), std::move(context),
                                               std::move(peer))
        ->start();
  }
}

}  // namespace x2gojump
