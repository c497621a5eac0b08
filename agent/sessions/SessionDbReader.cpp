#include "agent/sessions/SessionDbReader.h"

#include <sqlite3.h>

namespace x2gojump {
namespace {

// X2Go stores times as datetime('now','localtime'), "YYYY-MM-DD HH:MM:SS"; strftime normalises
// them (and any other form SQLite understands) to the format the listing commands print, and
// yields NULL for garbage, which validation then reports.
constexpr const char* kQuery =
    "SELECT session_id, display, uname, status,"
    " strftime('%Y-%m-%dT%H:%M:%S', init_time), strftime('%Y-%m-%dT%H:%M:%S', last_time)"
    " FROM sessions WHERE server = ?1 AND status IN ('R', 'S')";

std::string_view column_text(sqlite3_stmt* statement, int column) {
  const unsigned char* text = sqlite3_column_text(statement, column);
  if (!text) return {};
  return {reinterpret_cast<const char*>(text),
          static_cast<std::size_t>(sqlite3_column_bytes(statement, column))};
}

}  // namespace

std::string read_only_uri(std::string_view path) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string uri = "file:";
  for (char c : path) {
    auto byte = static_cast<unsigned char>(c);
    // '?' and '#' end the path in a URI and '%' starts an escape; control bytes are escaped too.
    if (c == '?' || c == '#' || c == '%' || byte < 0x20 || byte >= 0x7f) {
      uri += '%';
      uri += kHex[byte >> 4];
      uri += kHex[byte & 0xf];
    } else {
      uri += c;
    }
  }
  return uri + "?mode=ro";
}

std::unique_ptr<SessionDbReader> SessionDbReader::open(const std::string& path, std::string* error,
                                                       std::chrono::milliseconds busy_timeout) {
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(read_only_uri(path).c_str(), &db,
                           SQLITE_OPEN_READONLY | SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX, nullptr);
  sqlite3_stmt* query = nullptr;
  if (rc == SQLITE_OK) {
    sqlite3_busy_timeout(db, static_cast<int>(busy_timeout.count()));
    rc = sqlite3_prepare_v3(db, kQuery, -1, SQLITE_PREPARE_PERSISTENT, &query, nullptr);
  }
  if (rc != SQLITE_OK) {
    *error = "cannot open session DB " + path +
             " read-only: " + (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
    sqlite3_finalize(query);
    sqlite3_close_v2(db);
    return nullptr;
  }
  return std::unique_ptr<SessionDbReader>(new SessionDbReader(db, query));
}

SessionDbReader::~SessionDbReader() {
  sqlite3_finalize(query_);
  sqlite3_close_v2(db_);
}

bool SessionDbReader::read(std::string_view server, TimeBase base, SessionListing* out,
                           std::string* error) {
  sqlite3_reset(query_);
  sqlite3_bind_text(query_, 1, server.data(), static_cast<int>(server.size()), SQLITE_TRANSIENT);
  ListingBuilder builder(base);
  int rc;
  int row = 0;
  while ((rc = sqlite3_step(query_)) == SQLITE_ROW) {
    ++row;
    builder.add(SessionRow{column_text(query_, 0), column_text(query_, 1), column_text(query_, 2),
                           column_text(query_, 3), column_text(query_, 4), column_text(query_, 5)},
                "row " + std::to_string(row));
  }
  if (rc != SQLITE_DONE) *error = std::string("session DB query failed: ") + sqlite3_errmsg(db_);
  // Ends the read transaction now so X2Go's writers are not held back until the next read.
  sqlite3_reset(query_);
  if (rc != SQLITE_DONE) return false;
  *out = builder.take();
  return true;
}

}  // namespace x2gojump
