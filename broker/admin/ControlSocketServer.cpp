#include "broker/admin/ControlSocketServer.h"

#include <grp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/post.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <spdlog/spdlog.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <stdexcept>

#include "broker/agentapi/ConnectionSlots.h"

namespace x2gojump {

namespace asio = boost::asio;
using Local = asio::local::stream_protocol;

struct ControlContext {
  static constexpr std::size_t kMaxConnections = 16;
  static constexpr std::chrono::seconds kReadTimeout{10};

  ControlContext(asio::thread_pool& pool_in, const ControlService& service_in)
      : pool(pool_in), service(service_in) {}

  asio::thread_pool& pool;
  const ControlService& service;
  ConnectionSlots slots{kMaxConnections};
};

namespace {

std::runtime_error failure(const std::string& path, const std::string& what) {
  return std::runtime_error("control socket " + path + ": " + what);
}

// A socket file nobody accepts on is left over from a broker that died; anything else at path
// is not ours to remove.
void remove_stale_socket(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return;
    throw failure(path, std::strerror(errno));
  }
  if (!S_ISSOCK(st.st_mode)) throw failure(path, "exists and is not a socket; not replacing it");
  asio::io_context io;
  Local::socket probe(io);
  boost::system::error_code ec;
  probe.connect(Local::endpoint(path), ec);
  if (!ec) throw failure(path, "another broker is listening on it");
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) throw failure(path, std::strerror(errno));
}

class ControlSession final : public Closable, public std::enable_shared_from_this<ControlSession> {
 public:
  ControlSession(Local::socket socket, std::shared_ptr<ControlContext> context)
      : socket_(std::move(socket)),
        context_(std::move(context)),
        buffer_(kMaxControlRequestBytes),
        timer_(socket_.get_executor()) {}

  ~ControlSession() override {
    if (slot_) context_->slots.remove(*slot_);
  }

  void start() {
    slot_ = context_->slots.try_add(weak_from_this());
    if (!slot_) {
      spdlog::warn("control: refused a connection: {} open", ControlContext::kMaxConnections);
      return;
    }
    ucred credentials{};
    socklen_t size = sizeof credentials;
    if (::getsockopt(socket_.native_handle(), SOL_SOCKET, SO_PEERCRED, &credentials, &size) == 0) {
      peer_ = ControlPeer{credentials.uid, credentials.pid};
    }
    read_request();
  }

  void close() override {
    asio::post(socket_.get_executor(), [self = shared_from_this()] {
      boost::system::error_code ignored;
      self->timer_.cancel();
      self->socket_.close(ignored);
    });
  }

 private:
  void read_request() {
    timer_.expires_after(ControlContext::kReadTimeout);
    timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
      if (ec) return;
      boost::system::error_code ignored;
      self->socket_.close(ignored);
    });
    asio::async_read_until(socket_, buffer_, '\n',
                           [self = shared_from_this()](const boost::system::error_code& ec,
                                                       std::size_t length) { self->on_request(ec, length); });
  }

  void on_request(const boost::system::error_code& ec, std::size_t length) {
    timer_.cancel();
    if (ec) {
      // Too long a line fills the buffer without a newline.
      if (ec == asio::error::not_found) respond(control_error_line("request too long"), false);
      return;
    }
    std::string line(asio::buffers_begin(buffer_.data()), asio::buffers_begin(buffer_.data()) + length - 1);
    buffer_.consume(length);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    asio::post(context_->pool, [self = shared_from_this(), line = std::move(line)] {
      std::string response = self->context_->service.handle(line, self->peer_);
      asio::post(self->socket_.get_executor(), [self, response = std::move(response)]() mutable {
        self->respond(std::move(response), true);
      });
    });
  }

  void respond(std::string response, bool keep_open) {
    response_ = std::move(response) + "\n";
    asio::async_write(socket_, asio::buffer(response_),
                      [self = shared_from_this(), keep_open](const boost::system::error_code& ec, std::size_t) {
                        if (!ec && keep_open) self->read_request();
                      });
  }

  Local::socket socket_;
  std::shared_ptr<ControlContext> context_;
  asio::streambuf buffer_;
  asio::steady_timer timer_;
  std::optional<std::uint64_t> slot_;
  ControlPeer peer_;
  std::string response_;
};

}  // namespace

ControlSocketServer::ControlSocketServer(asio::io_context& io, asio::thread_pool& pool,
                                         const ControlService& service)
    : context_(std::make_shared<ControlContext>(pool, service)), acceptor_(io), retry_(io) {}

ControlSocketServer::~ControlSocketServer() { stop(); }

void ControlSocketServer::start(const std::string& path, const std::string& group) {
  std::error_code fs_error;
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (!parent.empty() && !std::filesystem::exists(parent, fs_error)) {
    if (::mkdir(parent.c_str(), 0755) != 0 && errno != EEXIST) {
      throw failure(path, "cannot create " + parent.string() + ": " + std::strerror(errno));
    }
  }
  gid_t gid = static_cast<gid_t>(-1);
  if (!group.empty()) {
    struct group* entry = ::getgrnam(group.c_str());
    if (entry == nullptr) throw failure(path, "unknown group \"" + group + "\"");
    gid = entry->gr_gid;
  }
  remove_stale_socket(path);
  // bind() creates the file with 0777 & ~umask: no moment where others could connect.
  const mode_t old_umask = ::umask(0177);
  boost::system::error_code ec;
  acceptor_.open(Local(), ec);
  if (!ec) acceptor_.bind(Local::endpoint(path), ec);
  ::umask(old_umask);
  if (ec) {
    acceptor_.close();
    throw failure(path, ec.message());
  }
  path_ = path;
  // chown only when asked: the shipped systemd unit filters it out (@privileged).
  const bool chown_failed = !group.empty() && ::chown(path.c_str(), static_cast<uid_t>(-1), gid) != 0;
  if (chown_failed || ::chmod(path.c_str(), 0660) != 0) {
    const std::string reason = std::strerror(errno);
    stop();
    throw failure(path, "cannot set owner or mode: " + reason);
  }
  acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    stop();
    throw failure(path, ec.message());
  }
  spdlog::info("control socket listening on {} (mode 0660{})", path,
               group.empty() ? std::string() : ", group " + group);
  accept_next();
}

void ControlSocketServer::accept_next() {
  acceptor_.async_accept([this](const boost::system::error_code& ec, Local::socket socket) {
    if (ec == asio::error::operation_aborted) return;
    if (ec) {
      // Typically EMFILE: back off instead of spinning on the listening socket.
      spdlog::warn("control: accept failed: {}", ec.message());
      retry_.expires_after(std::chrono::milliseconds(100));
      retry_.async_wait([this](const boost::system::error_code& tec) {
        if (!tec && acceptor_.is_open()) accept_next();
      });
      return;
    }
    std::make_shared<ControlSession>(std::move(socket), context_)->start();
    accept_next();
  });
}

void ControlSocketServer::stop() {
  boost::system::error_code ignored;
  if (acceptor_.is_open()) acceptor_.close(ignored);
  retry_.cancel();
  context_->slots.close_all();
  if (!path_.empty()) {
    ::unlink(path_.c_str());
    path_.clear();
  }
}

}  // namespace x2gojump
