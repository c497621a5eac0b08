#pragma once
// X2Go's timestamps ("2026-11-25T21:07:02"). X2Go writes them with SQLite's
// datetime('now','localtime'), i.e. as wall-clock time of the X2Go host without a zone.
#include <cstdint>
#include <optional>
#include <string_view>

namespace x2gojump {

// How a zone-less timestamp is read. The agent runs on the X2Go host, so Local (the process's TZ,
// which glibc takes as UTC when neither TZ nor /etc/localtime is set) gives the right instant.
// Utc is for hosts whose X2Go DB is known to hold UTC, and for tests.
enum class TimeBase { Utc, Local };

// Parses exactly "YYYY-MM-DDTHH:MM:SS" (year 1970..9999, real calendar dates, seconds 0..59) into
// unix seconds. Returns nullopt when malformed or out of range; never throws. A local time that
// falls into a DST gap or overlap is resolved by mktime().
std::optional<std::int64_t> parse_x2go_time(std::string_view text, TimeBase base);

}  // namespace x2gojump
