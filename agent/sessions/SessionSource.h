#pragma once
// Where the agent gets this host's sessions: X2Go's SQLite DB, read directly and read-only, or,
// when that is impossible (another SQL backend, no permission), the listsessions command.
#include <sys/types.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "agent/sessions/CommandRunner.h"
#include "agent/sessions/SessionDbReader.h"

namespace x2gojump {

// The value of "backend=" in X2Go's /etc/x2go/x2gosql/sql, lower-cased; "sqlite" (X2Go's own
// default) when the text has no backend line. '#' starts a comment; blanks around the key, the
// '=' and the value are ignored.
std::string parse_x2gosql_backend(std::string_view text);

struct SessionSourceOptions {
  std::string server_name;
  std::string session_db;
  std::vector<std::string> listsessions_command;
  std::string x2gosql_file = "/etc/x2go/x2gosql/sql";  // missing file = sqlite
  TimeBase time_base = TimeBase::Local;
  CommandLimits command_limits;
};

class SessionSource {
 public:
  explicit SessionSource(SessionSourceOptions options);
  ~SessionSource();

  // Lists this host's R and S sessions. Tries the DB when the backend is sqlite (reopening it
  // after a failure), else or if that fails runs the command. Returns false and sets *error when
  // neither works; the caller must then not report an empty list. Logs a change of source once.
  // Blocking; call from one thread at a time.
  bool list(SessionListing* out, std::string* error);

 private:
  bool list_from_db(SessionListing* out, std::string* error);
  bool list_from_command(SessionListing* out, std::string* error);
  void note_source(std::string_view source, std::string_view reason);

  SessionSourceOptions options_;
  bool sqlite_backend_;
  std::unique_ptr<SessionDbReader> reader_;
  ino_t reader_inode_ = 0;  // of the file reader_ opened; a replaced file is reopened
  std::string current_source_;
};

}  // namespace x2gojump
