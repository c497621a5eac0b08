#include "common/SystemdNotify.h"

#include <systemd/sd-daemon.h>

#include <string>

namespace x2gojump {
namespace {

// sd_notify() returns 0 when NOTIFY_SOCKET is unset and a negative errno when the message could
// not be sent; neither is a reason to stop serving, so the result is deliberately ignored.
void notify(const std::string& message) { (void)sd_notify(0, message.c_str()); }

// STATUS= ends at the first newline; keep the status on one line.
std::string one_line(std::string_view text) {
  std::string line(text);
  for (char& c : line) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return line;
}

}  // namespace

void notify_ready(std::string_view status) { notify("READY=1\nSTATUS=" + one_line(status)); }

void notify_reloading() { notify("RELOADING=1\nSTATUS=reloading the configuration"); }

void notify_stopping() { notify("STOPPING=1\nSTATUS=shutting down"); }

std::optional<std::chrono::microseconds> watchdog_interval() {
  uint64_t usec = 0;
  if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0) return std::nullopt;
  return std::chrono::microseconds(usec);
}

SystemdWatchdog::SystemdWatchdog(boost::asio::io_context& io) : timer_(io) {}

void SystemdWatchdog::start() {
  auto interval = watchdog_interval();
  if (!interval) return;
  // Half the interval, as sd_watchdog_enabled(3) recommends: one late ping is not yet fatal.
  period_ = *interval / 2;
  stopped_ = false;
  notify("WATCHDOG=1");
  timer_.expires_after(period_);
  schedule();
}

void SystemdWatchdog::stop() {
  stopped_ = true;
  timer_.cancel();
}

void SystemdWatchdog::schedule() {
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec || stopped_) return;
    notify("WATCHDOG=1");
    timer_.expires_after(period_);
    schedule();
  });
}

}  // namespace x2gojump
