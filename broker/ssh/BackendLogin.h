#pragma once
// Logs in to one backend as the user: asynchronous TCP connect with a deadline, libssh client on
// that socket, host key verification against the pin, then the user's password.
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "broker/login/LoginService.h"
#include "broker/ssh/Libssh.h"

namespace x2gojump {

class BackendLogin {
 public:
  enum class Outcome {
    Pending,
    Success,
    Refused,        // the backend denied the password: the login fails, no other backend is tried
    Unreachable,    // connect, handshake or protocol failure, or timeout: try the next candidate
    HostKeyMismatch,
  };

  struct Settings {
    std::chrono::milliseconds connect_timeout;
    std::chrono::milliseconds auth_timeout;
    bool accept_new_host_key;
  };

  // wake is called (on io's thread) whenever step() should be called again.
  BackendLogin(boost::asio::io_context& io, BackendTarget target, std::string user,
               Settings settings, std::function<void()> wake);
  ~BackendLogin();

  // Starts the TCP connect. password must stay valid until step() stops returning Pending.
  void start(const std::string* password);

  // Advances the login; event is the connection pair's ssh_event, to which the backend session is
  // added once it has a poll handle.
  Outcome step(ssh_event event);

  const BackendTarget& target() const { return target_; }
  const std::string& detail() const { return detail_; }
  // Set when the host key was accepted on first use; the caller persists it.
  const std::string& learned_key() const { return learned_key_; }
  ssh_session session() const { return session_.get(); }
  int socket_fd() const { return fd_; }
  // Hands the authenticated session over; call only after Success.
  SessionPtr release_session() { return std::move(session_); }

 private:
  void on_connected(const boost::system::error_code& ec);
  Outcome fail(Outcome outcome, std::string detail);
  Outcome verify_host_key();

  boost::asio::io_context& io_;
  BackendTarget target_;
  std::string user_;
  Settings settings_;
  std::function<void()> wake_;
  const std::string* password_ = nullptr;

  boost::asio::ip::tcp::resolver resolver_;
  boost::asio::ip::tcp::socket socket_;
  boost::asio::steady_timer deadline_;
  bool timed_out_ = false;
  bool connect_failed_ = false;
  int fd_ = -1;
  SessionPtr session_;
  bool in_event_ = false;
  ssh_event event_ = nullptr;
  bool handshake_done_ = false;
  std::string detail_;
  std::string learned_key_;
};

}  // namespace x2gojump
