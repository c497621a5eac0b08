#pragma once
// The control socket x2gojumpctl talks to: a Unix stream socket, one request line and one
// response line at a time (ControlProtocol.h), requests carried out by ControlService on the
// thread pool. Access is controlled by the socket file's mode (0660, owner and group).
// Limits: kMaxControlRequestBytes per request, 10 s to send it, 16 connections at once.
#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>

#include <memory>
#include <string>

#include "broker/admin/ControlService.h"

namespace x2gojump {

struct ControlContext;

class ControlSocketServer {
 public:
  // Nothing is created before start(). service and pool must outlive the server's connections
  // (join the pool after stop()).
  ControlSocketServer(boost::asio::io_context& io, boost::asio::thread_pool& pool,
                      const ControlService& service);
  ~ControlSocketServer();  // stop()s
  ControlSocketServer(const ControlSocketServer&) = delete;
  ControlSocketServer& operator=(const ControlSocketServer&) = delete;

  // Creates the socket at path, mode 0660, group changed to group unless empty, and accepts.
  // A missing parent directory is created (0755). A stale socket file (no broker behind it) is
  // replaced; a live socket or any other file at path is an error. Throws std::runtime_error
  // naming the path. Call before other threads create files: it changes the umask briefly.
  void start(const std::string& path, const std::string& group);

  // Stops accepting, closes open connections and removes the socket file. Idempotent. Call it
  // on a thread running io, or while io is not running.
  void stop();

 private:
  void accept_next();

  std::shared_ptr<ControlContext> context_;
  boost::asio::local::stream_protocol::acceptor acceptor_;
  boost::asio::steady_timer retry_;
  std::string path_;
};

}  // namespace x2gojump
