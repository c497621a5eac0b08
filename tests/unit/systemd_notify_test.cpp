// sd_notify messages as systemd receives them: a datagram socket stands in for NOTIFY_SOCKET.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <string>
#include <vector>

#include "common/SystemdNotify.h"

namespace x2gojump {
namespace {

using namespace std::chrono_literals;

// A bound datagram socket exported as NOTIFY_SOCKET for the test's lifetime.
class NotifySocket {
 public:
  NotifySocket() {
    char dir[] = "/tmp/xj-notify-XXXXXX";
    if (::mkdtemp(dir) == nullptr) throw std::runtime_error("mkdtemp");
    dir_ = dir;
    path_ = dir_ + "/notify";
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    path_.copy(address.sun_path, sizeof address.sun_path - 1);
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
      throw std::runtime_error("bind");
    }
    ::setenv("NOTIFY_SOCKET", path_.c_str(), 1);
  }
  ~NotifySocket() {
    ::unsetenv("NOTIFY_SOCKET");
    ::unsetenv("WATCHDOG_USEC");
    ::unsetenv("WATCHDOG_PID");
    ::close(fd_);
    ::unlink(path_.c_str());
    ::rmdir(dir_.c_str());
  }

  // Every message received so far.
  std::vector<std::string> drain() {
    std::vector<std::string> messages;
    char buffer[4096];
    for (;;) {
      ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
      if (n < 0) break;
      messages.emplace_back(buffer, static_cast<std::size_t>(n));
    }
    return messages;
  }

 private:
  std::string dir_;
  std::string path_;
  int fd_ = -1;
};

TEST(SystemdNotify, SendsReadyWithAOneLineStatus) {
  NotifySocket socket;
  notify_ready("ready: 2 threads\nsecond line");
  EXPECT_EQ(socket.drain(),
            std::vector<std::string>{"READY=1\nSTATUS=ready: 2 threads second line"});
}

TEST(SystemdNotify, SendsReloadingAndStopping) {
  NotifySocket socket;
  notify_reloading();
  notify_stopping();
  auto messages = socket.drain();
  ASSERT_EQ(messages.size(), 2u);
  EXPECT_EQ(messages[0].rfind("RELOADING=1\n", 0), 0u) << messages[0];
  EXPECT_EQ(messages[1].rfind("STOPPING=1\n", 0), 0u) << messages[1];
}

TEST(SystemdNotify, IsANoOpWithoutNotifySocket) {
  ::unsetenv("NOTIFY_SOCKET");
  notify_ready("nobody listens");
  notify_stopping();
  EXPECT_FALSE(watchdog_interval().has_value());
}

TEST(SystemdNotify, WatchdogIntervalFollowsTheEnvironment) {
  NotifySocket socket;
  EXPECT_FALSE(watchdog_interval().has_value());
  ::setenv("WATCHDOG_USEC", "3000000", 1);
  EXPECT_EQ(watchdog_interval(), std::chrono::microseconds(3000000));
  ::setenv("WATCHDOG_PID", std::to_string(::getpid()).c_str(), 1);
  EXPECT_EQ(watchdog_interval(), std::chrono::microseconds(3000000));
  // A watchdog meant for another process (e.g. the parent) is not ours to feed.
  ::setenv("WATCHDOG_PID", std::to_string(::getpid() + 1).c_str(), 1);
  EXPECT_FALSE(watchdog_interval().has_value());
}

TEST(SystemdWatchdog, PingsRepeatedlyFromTheEventLoopUntilStopped) {
  NotifySocket socket;
  ::setenv("WATCHDOG_USEC", "20000", 1);  // 20 ms: pings every 10 ms
  boost::asio::io_context io;
  SystemdWatchdog watchdog(io);
  watchdog.start();
  int pings = 0;
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (pings < 3 && std::chrono::steady_clock::now() < deadline) {
    io.run_one_for(100ms);
    for (const auto& message : socket.drain()) {
      EXPECT_EQ(message, "WATCHDOG=1");
      ++pings;
    }
  }
  EXPECT_GE(pings, 3);
  watchdog.stop();
  io.run_for(50ms);
  io.restart();
  socket.drain();
  io.run_for(50ms);
  EXPECT_TRUE(socket.drain().empty());
}

TEST(SystemdWatchdog, DoesNothingWithoutAWatchdog) {
  NotifySocket socket;
  boost::asio::io_context io;
  SystemdWatchdog watchdog(io);
  watchdog.start();
  io.run_for(30ms);
  EXPECT_TRUE(socket.drain().empty());
  EXPECT_TRUE(io.stopped());  // no timer was armed: the loop ran out of work
}

}  // namespace
}  // namespace x2gojump
