#pragma once
// Readiness and liveness messages to systemd (sd_notify(3)) for Type=notify units. Every call is
// a no-op when the process was not started by systemd (NOTIFY_SOCKET unset), so the daemons run
// the same way by hand, in tests and under systemd.
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <optional>
#include <string_view>

namespace x2gojump {

// Tells systemd the service is up (READY=1), with a one-line status for `systemctl status`.
// Call once every listener is bound, so clients started "After=" the unit can connect.
void notify_ready(std::string_view status);

// Tells systemd a configuration reload began (RELOADING=1); call notify_ready() when it ended.
void notify_reloading();

// Tells systemd the service is shutting down (STOPPING=1).
void notify_stopping();

// The interval within which systemd expects WATCHDOG=1 (WatchdogSec=), or nullopt when the
// unit has no watchdog or the watchdog is meant for another process (WATCHDOG_PID).
std::optional<std::chrono::microseconds> watchdog_interval();

// Sends WATCHDOG=1 from an event loop at half the watchdog interval: a loop that hangs stops
// the pings, and systemd kills and restarts the service. Does nothing without a watchdog.
class SystemdWatchdog {
 public:
  explicit SystemdWatchdog(boost::asio::io_context& io);
  SystemdWatchdog(const SystemdWatchdog&) = delete;
  SystemdWatchdog& operator=(const SystemdWatchdog&) = delete;

  // Sends the first ping now and schedules the next ones. Call on io's thread.
  void start();
  void stop();

 private:
  void schedule();

  boost::asio::steady_timer timer_;
  std::chrono::microseconds period_{0};
  bool stopped_ = false;
};

}  // namespace x2gojump
