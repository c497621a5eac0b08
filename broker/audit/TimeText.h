#pragma once
// Times as the audit log, the status page and x2gojumpctl write them. Pure.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace x2gojump {

// Seconds since the epoch, now.
std::int64_t unix_now();

// "2024-05-01T12:00:00.123Z" (RFC 3339, UTC, milliseconds).
std::string rfc3339_utc(std::chrono::system_clock::time_point at);

// "42s", "3m 07s", "5h 02m", "12d 3h"; "never" for no value.
std::string age_text(std::optional<std::int64_t> seconds);

}  // namespace x2gojump
