#include "broker/audit/AuditLog.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace x2gojump {
namespace {

// The descriptor for target, or -1 for memory only; the error text on failure.
int open_target(const std::string& target, bool* owned, std::string* error) {
  *owned = false;
  if (target.empty()) return -1;
  if (target == "stdout") return STDOUT_FILENO;
  int fd = ::open(target.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0640);
  if (fd < 0) {
    *error = "cannot open audit log " + target + ": " + std::strerror(errno);
    return -1;
  }
  *owned = true;
  return fd;
}

bool write_all(int fd, const std::string& line) {
  std::size_t done = 0;
  while (done < line.size()) {
    ssize_t n = ::write(fd, line.data() + done, line.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<std::size_t>(n);
  }
  return true;
}

}  // namespace

std::string audit_text(std::string_view text, std::size_t max) {
  if (text.size() <= max) return std::string(text);
  std::size_t end = max;
  // Back up over UTF-8 continuation bytes so no character is cut in half.
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  return std::string(text.substr(0, end));
}

AuditLog::AuditLog(std::string target, std::size_t keep) : keep_(keep) {
  std::string error;
  fd_ = open_target(target, &owns_fd_, &error);
  if (!error.empty()) throw std::runtime_error(error);
  target_ = std::move(target);
}

AuditLog::~AuditLog() {
  if (owns_fd_) ::close(fd_);
}

void AuditLog::record(AuditEvent event) { record(std::move(event), std::chrono::system_clock::now()); }

void AuditLog::record(AuditEvent event, std::chrono::system_clock::time_point at) {
  AuditEvent line{{"time", rfc3339_utc(at)}};
  line.update(event);
  // Values may come from clients (user names); "replace" keeps invalid UTF-8 from throwing.
  std::string text = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  std::lock_guard lock(mutex_);
  if (fd_ >= 0) {
    if (!write_all(fd_, text + "\n")) {
      if (!write_failed_) spdlog::error("cannot write the audit log {}: {}", target_, std::strerror(errno));
      write_failed_ = true;
    } else {
      write_failed_ = false;
    }
  }
  recent_.push_back(std::move(text));
  while (recent_.size() > keep_) recent_.pop_front();
}

std::string AuditLog::reopen(const std::string& target) {
  bool owned = false;
  std::string error;
  int fd = open_target(target, &owned, &error);
  if (!error.empty()) return error;
  std::lock_guard lock(mutex_);
  if (owns_fd_) ::close(fd_);
  fd_ = fd;
  owns_fd_ = owned;
  target_ = target;
  write_failed_ = false;
  return {};
}

std::string AuditLog::target() const {
  std::lock_guard lock(mutex_);
  return target_;
}

std::vector<std::string> AuditLog::recent() const {
  std::lock_guard lock(mutex_);
  return {recent_.begin(), recent_.end()};
}

}  // namespace x2gojump
