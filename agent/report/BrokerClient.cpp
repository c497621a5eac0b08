#include "agent/report/BrokerClient.h"

#include <openssl/ssl.h>
#include <spdlog/spdlog.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <optional>
#include <random>

#include "agent/report/Backoff.h"

namespace x2gojump {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using asio::awaitable;
using asio::use_awaitable;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using ErrorCode = boost::system::error_code;

namespace {

constexpr std::size_t kMaxReplyBytes = 64 * 1024;
constexpr std::size_t kMaxLoggedReply = 200;

enum class Outcome { Delivered, Stale, Rejected, Failed };

struct AttemptResult {
  Outcome outcome;
  std::string detail;  // why it was not Delivered; never contains the token
};

AttemptResult failed(std::string_view step, const ErrorCode& ec) {
  bool timeout = ec == beast::error::timeout || ec == asio::error::operation_aborted;
  return {Outcome::Failed, std::string(step) + ": " + (timeout ? "timed out" : ec.message())};
}

// The broker's reason from a reply body, fit for one log line.
std::string printable(std::string_view text) {
  std::string out;
  for (char c : text.substr(0, kMaxLoggedReply)) out += (c < ' ' || c > '~') ? ' ' : c;
  if (text.size() > kMaxLoggedReply) out += "...";
  return out;
}

AttemptResult classify(const http::response<http::string_body>& reply) {
  unsigned status = reply.result_int();
  if (status == 200) return {Outcome::Delivered, {}};
  std::string detail = "HTTP " + std::to_string(status) + " " + printable(reply.body());
  if (status == 409) return {Outcome::Stale, detail};
  // 400, 401, 403, 413: this snapshot or the token is wrong; resending it cannot help.
  if (status >= 400 && status < 500) return {Outcome::Rejected, detail};
  return {Outcome::Failed, detail};
}

bool is_ip_address(const std::string& host) {
  ErrorCode ec;
  asio::ip::make_address(host, ec);
  return !ec;
}

}  // namespace

struct BrokerClient::State {
  State(asio::io_context& io_in, BrokerTarget target_in, BrokerClientOptions options_in);

  awaitable<void> run();
  awaitable<AttemptResult> attempt(const std::string& body);
  template <class Stream>
  awaitable<AttemptResult> exchange(Stream& stream, const std::string& body);
  void log(const AttemptResult& result);
  void stop();

  asio::io_context& io;
  BrokerTarget target;
  BrokerClientOptions options;
  std::optional<ssl::context> tls;  // empty for http://
  Backoff backoff;
  std::mt19937 random{std::random_device{}()};
  std::shared_ptr<const std::string> pending;  // newest undelivered snapshot
  asio::steady_timer idle;                     // parks run() while nothing is pending
  asio::steady_timer retry;                    // the backoff delay
  asio::steady_timer resolve_deadline;
  tcp::resolver resolver;
  std::optional<beast::tcp_stream> plain_stream;
  std::optional<beast::ssl_stream<beast::tcp_stream>> tls_stream;
  bool waiting_idle = false;
  bool stopped = false;
  std::uint64_t delivered = 0;
};

BrokerClient::State::State(asio::io_context& io_in, BrokerTarget target_in,
                           BrokerClientOptions options_in)
    : io(io_in),
      target(std::move(target_in)),
      options(options_in),
      backoff(options.initial_backoff, options.max_backoff),
      idle(io),
      retry(io),
      resolve_deadline(io),
      resolver(io) {
  if (!target.endpoint.tls) return;
  tls.emplace(ssl::context::tls_client);
  tls->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                   ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
  if (target.ca_file.empty()) {
    tls->set_default_verify_paths();
  } else {
    tls->load_verify_file(target.ca_file);
  }
  tls->set_verify_mode(ssl::verify_peer);
}

void BrokerClient::State::stop() {
  stopped = true;
  pending.reset();
  idle.cancel();
  retry.cancel();
  resolve_deadline.cancel();
  resolver.cancel();
  ErrorCode ignored;
  if (plain_stream) plain_stream->socket().close(ignored);
  if (tls_stream) beast::get_lowest_layer(*tls_stream).socket().close(ignored);
}

awaitable<void> BrokerClient::State::run() {
  while (!stopped) {
    if (!pending) {
      ErrorCode ignored;
      waiting_idle = true;
      idle.expires_at(Clock::time_point::max());
      co_await idle.async_wait(asio::redirect_error(use_awaitable, ignored));
      waiting_idle = false;
      continue;
    }
    std::shared_ptr<const std::string> body = pending;
    AttemptResult result = co_await attempt(*body);
    if (stopped) break;
    log(result);
    // A failed delivery is retried with whatever is newest by then; a rejected one is dropped.
    if (result.outcome != Outcome::Failed && pending == body) pending.reset();
    if (result.outcome == Outcome::Delivered) {
      ++delivered;
      backoff.reset();
      continue;
    }
    if (result.outcome == Outcome::Stale) continue;
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    auto delay = backoff.next(unit(random));
    spdlog::debug("broker {}: next attempt in {} ms", target.url, delay.count());
    ErrorCode ignored;
    retry.expires_after(delay);
    co_await retry.async_wait(asio::redirect_error(use_awaitable, ignored));
  }
}

void BrokerClient::State::log(const AttemptResult& result) {
  switch (result.outcome) {
    case Outcome::Delivered:
      if (backoff.failures() > 0) {
        spdlog::info("broker {}: snapshot delivered after {} failed attempts", target.url,
                     backoff.failures());
      } else if (delivered == 0) {
        spdlog::info("broker {}: first snapshot delivered", target.url);
      } else {
        spdlog::debug("broker {}: snapshot delivered", target.url);
      }
      break;
    case Outcome::Stale:
      spdlog::warn("broker {}: snapshot refused as stale ({}); the next one is newer", target.url,
                   result.detail);
      break;
    case Outcome::Rejected:
      spdlog::error("broker {}: snapshot rejected: {}", target.url, result.detail);
      break;
    case Outcome::Failed:
      // Only the first failure of an outage is worth a warning; retries repeat it.
      if (backoff.failures() == 0) {
        spdlog::warn("broker {}: {}; retrying with backoff", target.url, result.detail);
      } else {
        spdlog::debug("broker {}: {}", target.url, result.detail);
      }
      break;
  }
}

awaitable<AttemptResult> BrokerClient::State::attempt(const std::string& body) {
  auto deadline = Clock::now() + options.timeout;
  ErrorCode ec;
  // Name resolution has no timeout of its own.
  resolve_deadline.expires_at(deadline);
  resolve_deadline.async_wait([this](const ErrorCode& wait_ec) {
    if (!wait_ec) resolver.cancel();
  });
  auto endpoints =
      co_await resolver.async_resolve(target.endpoint.host, std::to_string(target.endpoint.port),
                                      asio::redirect_error(use_awaitable, ec));
  resolve_deadline.cancel();
  if (ec) co_return failed("resolve " + target.endpoint.host, ec);
  if (stopped) co_return AttemptResult{Outcome::Failed, "stopped"};

  if (!tls) {
    plain_stream.emplace(io);
    plain_stream->expires_at(deadline);
    co_await plain_stream->async_connect(endpoints, asio::redirect_error(use_awaitable, ec));
    if (ec) co_return failed("connect", ec);
    AttemptResult result = co_await exchange(*plain_stream, body);
    plain_stream->socket().close(ec);
    co_return result;
  }

  tls_stream.emplace(io, *tls);
  auto& lowest = beast::get_lowest_layer(*tls_stream);
  lowest.expires_at(deadline);
  const std::string& host = target.endpoint.host;
  // SNI carries names only (RFC 6066); the certificate must match the host as configured.
  if (!is_ip_address(host)) SSL_set_tlsext_host_name(tls_stream->native_handle(), host.c_str());
  tls_stream->set_verify_callback(ssl::host_name_verification(host));
  co_await lowest.async_connect(endpoints, asio::redirect_error(use_awaitable, ec));
  if (ec) co_return failed("connect", ec);
  co_await tls_stream->async_handshake(ssl::stream_base::client,
                                       asio::redirect_error(use_awaitable, ec));
  if (ec) co_return failed("TLS handshake", ec);
  AttemptResult result = co_await exchange(*tls_stream, body);
  // Connection: close and a framed reply make close_notify unnecessary; waiting for the broker's
  // would only add a round trip.
  lowest.socket().close(ec);
  co_return result;
}

template <class Stream>
awaitable<AttemptResult> BrokerClient::State::exchange(Stream& stream, const std::string& body) {
  http::request<http::string_body> request{http::verb::post, "/v1/snapshot", 11};
  request.set(http::field::host, target.endpoint.authority());
  request.set(http::field::user_agent, "x2gojump-agent/" X2GOJUMP_VERSION);
  request.set(http::field::content_type, "application/json");
  request.set(http::field::authorization, "Bearer " + target.token);
  request.set(http::field::connection, "close");
  request.body() = body;
  request.prepare_payload();

  ErrorCode ec;
  co_await http::async_write(stream, request, asio::redirect_error(use_awaitable, ec));
  if (ec) co_return failed("send", ec);
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(kMaxReplyBytes);
  co_await http::async_read(stream, buffer, parser, asio::redirect_error(use_awaitable, ec));
  if (ec) co_return failed("read reply", ec);
  co_return classify(parser.get());
}

BrokerClient::BrokerClient(asio::io_context& io, BrokerTarget target, BrokerClientOptions options)
    : state_(std::make_shared<State>(io, std::move(target), options)) {
  // The coroutine owns a reference, so the state outlives an attempt the destructor abandons.
  asio::co_spawn(
      io, [state = state_]() -> awaitable<void> { co_await state->run(); },
      [url = state_->target.url](std::exception_ptr error) {
        if (!error) return;
        try {
          std::rethrow_exception(error);
        } catch (const std::exception& e) {
          spdlog::error("broker {}: client stopped: {}", url, e.what());
        }
      });
}

BrokerClient::~BrokerClient() { state_->stop(); }

void BrokerClient::submit(std::shared_ptr<const std::string> body) {
  if (state_->stopped) return;
  state_->pending = std::move(body);
  if (state_->waiting_idle) state_->idle.cancel();
}

void BrokerClient::stop() { state_->stop(); }

std::uint64_t BrokerClient::delivered() const { return state_->delivered; }

}  // namespace x2gojump
