#include "agent/sessions/SessionRow.h"

#include <charconv>

namespace x2gojump {
namespace {

// The rules parse_snapshot (common/Snapshot.cpp) applies on the broker, restated: a single row it
// would refuse must be left out here, or the broker would refuse the whole snapshot.
constexpr std::size_t kMaxUserBytes = 32;
constexpr int kMaxDisplay = 65535;

// X2Go passes session ids as single shell words and stores them in '|'-separated lists.
std::string check_session_id(std::string_view id) {
  const std::size_t max_bytes = SnapshotLimits{}.max_string_bytes;
  if (id.empty()) return "session id is empty";
  if (id.size() > max_bytes)
    return "session id is longer than " + std::to_string(max_bytes) + " bytes";
  for (char c : id) {
    if (c <= ' ' || c > '~' || c == '|') return "session id is not printable ASCII without spaces";
  }
  return {};
}

// POSIX portable login names, as the broker accepts them (broker/auth/LoginName.h).
std::string check_user(std::string_view user) {
  if (user.empty()) return "user is empty";
  if (user.size() > kMaxUserBytes) return "user is longer than 32 bytes";
  if (user.front() == '-' || user.front() == '.') return "user starts with '-' or '.'";
  for (char c : user) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-';
    if (!ok) return "user is not a portable login name ([A-Za-z0-9._-])";
  }
  return {};
}

}  // namespace

std::string to_snapshot_session(const SessionRow& row, TimeBase base, SnapshotSession* out) {
  if (auto error = check_session_id(row.session_id); !error.empty()) return error;
  if (auto error = check_user(row.user); !error.empty()) return error;
  int display = 0;
  auto [end, ec] =
      std::from_chars(row.display.data(), row.display.data() + row.display.size(), display);
  // from_chars accepts a leading '-'; X displays are never negative.
  if (row.display.empty() || ec != std::errc() || end != row.display.data() + row.display.size() ||
      display < 0 || display > kMaxDisplay) {
    return "display is not a number from 0 to " + std::to_string(kMaxDisplay);
  }
  if (row.status != "R" && row.status != "S") return "status is not R or S";
  auto created = parse_x2go_time(row.created, base);
  if (!created) return "created time is not YYYY-MM-DDTHH:MM:SS";
  auto last_change = parse_x2go_time(row.last_change, base);
  if (!last_change) return "last change time is not YYYY-MM-DDTHH:MM:SS";
  out->session_id = std::string(row.session_id);
  out->user = std::string(row.user);
  out->status = row.status[0];
  out->display = display;
  out->created = *created;
  out->last_change = *last_change;
  return {};
}

void ListingBuilder::reject(std::string_view where, std::string_view reason) {
  listing_.problems.push_back(std::string(where) + ": " + std::string(reason));
}

void ListingBuilder::add(const SessionRow& row, std::string_view where) {
  SnapshotSession session;
  if (auto error = to_snapshot_session(row, base_, &session); !error.empty()) {
    reject(where, error);
    return;
  }
  // The broker rejects a whole snapshot with a duplicate id; losing one row is the lesser harm.
  if (ids_.contains(session.session_id)) {
    reject(where, "duplicate session id");
    return;
  }
  if (listing_.sessions.size() >= SnapshotLimits{}.max_sessions) {
    if (!over_limit_reported_) {
      reject(where, "more than " + std::to_string(SnapshotLimits{}.max_sessions) +
                        " sessions; this and later rows left out");
      over_limit_reported_ = true;
    }
    return;
  }
  ids_.insert(session.session_id);
  listing_.sessions.push_back(std::move(session));
}

}  // namespace x2gojump
