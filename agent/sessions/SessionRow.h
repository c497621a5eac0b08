#pragma once
// One X2Go session row as text, from either source (the DB or x2golistsessions), and the
// validation both share before a row may enter a snapshot.
#include <cstddef>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "agent/sessions/X2goTime.h"
#include "common/Snapshot.h"

namespace x2gojump {

struct SessionRow {
  std::string_view session_id;
  std::string_view display;
  std::string_view user;
  std::string_view status;       // "R" or "S"
  std::string_view created;      // "YYYY-MM-DDTHH:MM:SS"
  std::string_view last_change;  // same format
};

// The sessions of one read, plus one message per row that was left out.
struct SessionListing {
  std::vector<SnapshotSession> sessions;
  std::vector<std::string> problems;  // "line 3: display is not a number"; never row contents
};

// Validates row against what a broker accepts (SnapshotLimits) and converts it. Returns an empty
// string on success, else the reason. Messages name the field but never quote values: a
// misaligned row may carry the session's NX cookie in any column.
std::string to_snapshot_session(const SessionRow& row, TimeBase base, SnapshotSession* out);

// Collects the rows of one read into a SessionListing: drops invalid rows, later duplicates of a
// session id and rows beyond SnapshotLimits::max_sessions, each with a problem tagged by where.
class ListingBuilder {
 public:
  explicit ListingBuilder(TimeBase base) : base_(base) {}
  void add(const SessionRow& row, std::string_view where);
  void reject(std::string_view where, std::string_view reason);
  SessionListing take() { return std::move(listing_); }

 private:
  TimeBase base_;
  SessionListing listing_;
  std::set<std::string, std::less<>> ids_;
  bool over_limit_reported_ = false;
};

}  // namespace x2gojump
