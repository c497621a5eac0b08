#pragma once
// Notices writes to X2Go's session DB (inotify on its directory), so a new, suspended or resumed
// session reaches the brokers within tens of milliseconds instead of at the next heartbeat.
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <string>

namespace x2gojump {

class DbWatcher {
 public:
  // on_change runs on io's thread, at most once per debounce window: the first event of a burst
  // arms the window and the call comes when it ends, so a stream of writes cannot postpone it.
  DbWatcher(boost::asio::io_context& io, std::string db_path, std::chrono::milliseconds debounce,
            std::function<void()> on_change);
  ~DbWatcher();
  DbWatcher(const DbWatcher&) = delete;
  DbWatcher& operator=(const DbWatcher&) = delete;

  // Watches the DB's directory for IN_MODIFY, IN_CLOSE_WRITE, IN_MOVED_TO and IN_CREATE of the DB
  // and its -wal and -journal files. Returns an empty string, or why watching is impossible (the
  // agent then relies on its heartbeat alone).
  std::string start();
  void stop();

 private:
  void read_events();
  void handle(const char* data, std::size_t size);

  std::string db_path_;
  std::string db_name_;
  std::chrono::milliseconds debounce_;
  std::function<void()> on_change_;
  boost::asio::posix::stream_descriptor inotify_;
  boost::asio::steady_timer timer_;
  bool armed_ = false;
  std::unique_ptr<char[]> buffer_;
};

}  // namespace x2gojump
