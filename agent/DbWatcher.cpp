#include "agent/DbWatcher.h"

#include <sys/inotify.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace x2gojump {
namespace {

constexpr std::size_t kBufferBytes = 64 * 1024;

}  // namespace

DbWatcher::DbWatcher(boost::asio::io_context& io, std::string db_path,
                     std::chrono::milliseconds debounce, std::function<void()> on_change)
    : db_path_(std::move(db_path)),
      db_name_(std::filesystem::path(db_path_).filename().string()),
      debounce_(debounce),
      on_change_(std::move(on_change)),
      inotify_(io),
      timer_(io),
      buffer_(new char[kBufferBytes]) {}

DbWatcher::~DbWatcher() { stop(); }

std::string DbWatcher::start() {
  int fd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd < 0) return std::string("inotify_init1: ") + std::strerror(errno);
  std::string dir = std::filesystem::path(db_path_).parent_path().string();
  if (dir.empty()) dir = ".";
  // The directory, not the file: SQLite creates and deletes its -journal and -wal files there.
  if (::inotify_add_watch(fd, dir.c_str(), IN_MODIFY | IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE) <
      0) {
    std::string error = "cannot watch " + dir + ": " + std::strerror(errno);
    ::close(fd);
    return error;
  }
  inotify_.assign(fd);
  read_events();
  return {};
}

void DbWatcher::stop() {
  boost::system::error_code ignored;
  timer_.cancel();
  if (inotify_.is_open()) inotify_.close(ignored);
}

void DbWatcher::read_events() {
  inotify_.async_read_some(
      boost::asio::buffer(buffer_.get(), kBufferBytes),
      [this](const boost::system::error_code& ec, std::size_t size) {
        if (ec) return;  // closed by stop(), or the descriptor failed: heartbeats remain
        handle(buffer_.get(), size);
        read_events();
      });
}

void DbWatcher::handle(const char* data, std::size_t size) {
  bool relevant = false;
  std::size_t at = 0;
  while (at + sizeof(inotify_event) <= size) {
    inotify_event event;
    std::memcpy(&event, data + at, sizeof event);  // the buffer is not aligned for inotify_event
    const char* name_start = data + at + sizeof event;
    // The name is NUL-padded to event.len bytes; a NUL-free tail is bounded by len anyway.
    std::string_view name(name_start, event.len > 0 ? ::strnlen(name_start, event.len) : 0);
    // A lost event queue may have hidden a change, so it counts as one.
    if ((event.mask & IN_Q_OVERFLOW) || name == db_name_ || name == db_name_ + "-wal" ||
        name == db_name_ + "-journal") {
      relevant = true;
    }
    at += sizeof event + event.len;
  }
  if (!relevant || armed_) return;
  armed_ = true;
  timer_.expires_after(debounce_);
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;  // cancelled by stop(); this may be gone already
    armed_ = false;
    on_change_();
  });
}

}  // namespace x2gojump
