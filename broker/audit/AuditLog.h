#pragma once
// The audit log: one JSON object per line (JSON Lines) for every login, routing decision,
// connection end and admin action, written to a file or stdout, the last few also kept in memory
// for the status page. Callers never put passwords or tokens into an event.
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstddef>
#include <deque>
#include <mutex>
#include <string>
#include <vector>

#include "broker/audit/TimeText.h"

namespace x2gojump {

using AuditEvent = nlohmann::ordered_json;

class AuditLog {
 public:
  static constexpr std::size_t kKeep = 100;

  // target: "stdout", "" (memory only) or a file, appended to and created with mode 0640.
  // Throws std::runtime_error naming the file if it cannot be opened.
  explicit AuditLog(std::string target, std::size_t keep = kKeep);
  ~AuditLog();
  AuditLog(const AuditLog&) = delete;
  AuditLog& operator=(const AuditLog&) = delete;

  // Prepends "time" (RFC 3339, UTC, milliseconds) to event, writes it as one line with one
  // write() (so lines of concurrent writers never interleave) and keeps it for recent().
  // Thread-safe; a failed write is logged, never thrown.
  void record(AuditEvent event);
  void record(AuditEvent event, std::chrono::system_clock::time_point at);

  // Opens the target again: the file, if logrotate moved it away; or another target after a
  // reload. On failure the old target stays and the error is returned (empty on success).
  std::string reopen(const std::string& target);
  std::string reopen() { return reopen(target()); }
  std::string target() const;

  // The last `keep` events as JSON text, oldest first.
  std::vector<std::string> recent() const;

 private:
  mutable std::mutex mutex_;
  std::string target_;
  int fd_ = -1;           // -1: memory only
  bool owns_fd_ = false;  // false for stdout
  bool write_failed_ = false;
  std::size_t keep_;
  std::deque<std::string> recent_;
};

// text cut to at most max bytes (at a UTF-8 character boundary), for values a client chose.
std::string audit_text(std::string_view text, std::size_t max = 256);

}  // namespace x2gojump
