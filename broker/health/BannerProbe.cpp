#include "broker/health/BannerProbe.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include <memory>

namespace x2gojump {
namespace {

constexpr std::size_t kMaxBannerBytes = 256;
constexpr std::size_t kMaxDetailChars = 100;

// The peer's bytes end up in logs: keep them printable and short.
std::string printable(std::string_view text) {
  std::string out;
  for (char c : text.substr(0, kMaxDetailChars)) {
    out += (c >= 0x20 && c < 0x7f) ? c : '?';
  }
  return out;
}

bool is_ssh_banner(std::string_view line) {
  return line.starts_with("SSH-2.0-") || line.starts_with("SSH-1.99-");
}

class Probe : public std::enable_shared_from_this<Probe> {
 public:
  Probe(boost::asio::io_context& io, std::function<void(ProbeResult)> done)
      : strand_(boost::asio::make_strand(io)),
        resolver_(strand_),
        socket_(strand_),
        deadline_(strand_),
        done_(std::move(done)) {}

  const boost::asio::strand<boost::asio::io_context::executor_type>& strand() const { return strand_; }

  void start(const std::string& host, std::uint16_t port, std::chrono::milliseconds timeout) {
    auto self = shared_from_this();
    deadline_.expires_after(timeout);
    deadline_.async_wait([self, timeout](const boost::system::error_code& ec) {
      if (!ec) self->finish(false, "no banner within " + std::to_string(timeout.count()) + " ms");
    });
    resolver_.async_resolve(
        host, std::to_string(port), boost::asio::ip::tcp::resolver::numeric_service,
        [self](const boost::system::error_code& ec, boost::asio::ip::tcp::resolver::results_type results) {
          if (self->finished_) return;
          if (ec) return self->finish(false, "cannot resolve: " + ec.message());
          self->connect(results);
        });
  }

 private:
  void connect(const boost::asio::ip::tcp::resolver::results_type& results) {
    auto self = shared_from_this();
    boost::asio::async_connect(socket_, results,
                               [self](const boost::system::error_code& ec, const auto&) {
                                 if (self->finished_) return;
                                 if (ec) return self->finish(false, "connect failed: " + ec.message());
                                 self->read_line();
                               });
  }

  void read_line() {
    auto self = shared_from_this();
    boost::asio::async_read_until(
        socket_, boost::asio::dynamic_buffer(buffer_, kMaxBannerBytes), '\n',
        [self](const boost::system::error_code& ec, std::size_t length) {
          if (self->finished_) return;
          if (ec == boost::asio::error::not_found) {
            return self->finish(false, "no line end in the first " + std::to_string(kMaxBannerBytes) +
                                           " bytes");
          }
          if (ec == boost::asio::error::eof) return self->finish(false, "closed before a banner");
          if (ec) return self->finish(false, "read failed: " + ec.message());
          std::string_view line(self->buffer_.data(), length - 1);
          if (line.ends_with('\r')) line.remove_suffix(1);
          if (is_ssh_banner(line)) return self->finish(true, printable(line));
          self->finish(false, "not an SSH banner: \"" + printable(line) + "\"");
        });
  }

  void finish(bool ok, std::string detail) {
    if (finished_) return;
    finished_ = true;
    boost::system::error_code ignored;
    deadline_.cancel();
    resolver_.cancel();
    socket_.close(ignored);
    done_(ProbeResult{ok, std::move(detail)});
  }

  boost::asio::strand<boost::asio::io_context::executor_type> strand_;
  boost::asio::ip::tcp::resolver resolver_;
  boost::asio::ip::tcp::socket socket_;
  boost::asio::steady_timer deadline_;
  std::function<void(ProbeResult)> done_;
  std::string buffer_;
  bool finished_ = false;  // touched only on strand_
};

}  // namespace

void probe_ssh_banner(boost::asio::io_context& io, const std::string& host, std::uint16_t port,
                      std::chrono::milliseconds timeout, std::function<void(ProbeResult)> done) {
  auto probe = std::make_shared<Probe>(io, std::move(done));
  // On the strand, so the deadline cannot fire while start() is still arming the other operations.
  boost::asio::post(probe->strand(), [probe, host, port, timeout] { probe->start(host, port, timeout); });
}

}  // namespace x2gojump
