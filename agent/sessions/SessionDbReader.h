#pragma once
// Reads the running and suspended sessions straight from X2Go's SQLite session DB, read-only.
// The agent's user needs read access to the DB and its directory: group x2gouser (the DB is
// root:x2gouser 0660 in a 0770 directory). Root is never needed.
#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "agent/sessions/SessionRow.h"

struct sqlite3;
struct sqlite3_stmt;

namespace x2gojump {

class SessionDbReader {
 public:
  // Opens path read-only (never creates or writes it) and prepares the query, which also checks
  // that the file is a DB with X2Go's sessions table. Returns null and sets *error on failure.
  // busy_timeout bounds the wait while X2Go holds a write lock.
  static std::unique_ptr<SessionDbReader> open(
      const std::string& path, std::string* error,
      std::chrono::milliseconds busy_timeout = std::chrono::milliseconds(2000));
  ~SessionDbReader();
  SessionDbReader(const SessionDbReader&) = delete;
  SessionDbReader& operator=(const SessionDbReader&) = delete;

  // Lists server's sessions with status R or S into *out (rows that fail validation become
  // problems "row N"). Returns false and sets *error if the query itself fails; the reader should
  // then be reopened.
  bool read(std::string_view server, TimeBase base, SessionListing* out, std::string* error);

 private:
  SessionDbReader(sqlite3* db, sqlite3_stmt* query) : db_(db), query_(query) {}

  sqlite3* db_;
  sqlite3_stmt* query_;
};

// The SQLite URI that opens path read-only: "file:<percent-encoded path>?mode=ro".
std::string read_only_uri(std::string_view path);

}  // namespace x2gojump
