#include "agent/sessions/SessionRow.h"

#include <charconv>
#include <limits>

namespace x2gojump {
namespace {

// Valid UTF-8 without control characters: anything else would break the JSON encoder or the
// broker's logs. Overlong forms and surrogates are rejected.
bool is_clean_text(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      if (c < 0x20 || c == 0x7f) return false;
      ++i;
      continue;
    }
    std::size_t length = (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 0;
    if (length == 0) return false;  // a continuation byte or 0xf8..0xff where a lead byte belongs
    char32_t code = c & (0xffu >> (length + 1));
    if (i + length > text.size()) return false;
    for (std::size_t k = 1; k < length; ++k) {
      auto next = static_cast<unsigned char>(text[i + k]);
      if ((next & 0xc0) != 0x80) return false;
      code = (code << 6) | (next & 0x3f);
    }
    static constexpr char32_t kMinForLength[] = {0, 0, 0x80, 0x800, 0x10000};
    if (code < kMinForLength[length] || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) {
      return false;
    }
    if (code >= 0x80 && code < 0xa0) return false;  // C1 controls
    i += length;
  }
  return true;
}

std::string check_text(std::string_view name, std::string_view value) {
  if (value.empty()) return std::string(name) + " is empty";
  if (value.size() > SnapshotLimits{}.max_string_bytes) {
    return std::string(name) + " is longer than " +
           std::to_string(SnapshotLimits{}.max_string_bytes) + " bytes";
  }
  if (!is_clean_text(value)) return std::string(name) + " is not clean UTF-8 text";
  return {};
}

}  // namespace

std::string to_snapshot_session(const SessionRow& row, TimeBase base, SnapshotSession* out) {
  if (auto error = check_text("session id", row.session_id); !error.empty()) return error;
  if (auto error = check_text("user", row.user); !error.empty()) return error;
  int display = 0;
  auto [end, ec] = std::from_chars(row.display.data(), row.display.data() + row.display.size(),
                                   display);
  // from_chars accepts a leading '-'; X displays are never negative.
  if (row.display.empty() || ec != std::errc() || end != row.display.data() + row.display.size() ||
      display < 0) {
    return "display is not a number from 0 to " + std::to_string(std::numeric_limits<int>::max());
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
