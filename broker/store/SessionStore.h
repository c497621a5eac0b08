#pragma once
// The broker's state in SQLite (WAL): servers, the X2Go sessions agents report, sticky placements.
// Thread-safe: one connection guarded by a mutex; callers run it off the event loop.
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "broker/routing/Router.h"

struct sqlite3;

namespace x2gojump {

struct StoreError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct ServerRecord {
  std::string name;
  std::string address;
  std::uint16_t port = 22;
  double weight = 1.0;
};

struct SessionRecord {  // one X2Go session as an agent reports it
  std::string session_id;
  std::string user;
  char status = 'R';          // R, S (F rows are not stored)
  int display = 0;
  std::int64_t created = 0;      // unix seconds
  std::int64_t last_change = 0;  // unix seconds
};

// One server as the admin tools show it.
struct ServerSummary {
  std::string name;
  std::string address;
  std::uint16_t port = 22;
  double weight = 1.0;
  ServerHealth health = ServerHealth::Up;
  double load = 0.0;
  std::optional<std::int64_t> last_report;      // unix seconds of the last applied agent report
  std::optional<std::string> learned_host_key;  // from an agent report or trust on first use
  int running_sessions = 0;
  int suspended_sessions = 0;
  int users = 0;  // distinct users with a session there
};

struct StoredSession {
  std::string server;
  SessionRecord session;
};

class SessionStore {
 public:
  // Opens or creates the database at path (":memory:" for tests) and applies pending migrations.
  // A new database file is created with mode 0600; a symlink as the final component is refused.
  // Throws StoreError when the file cannot be opened or its schema is newer than this binary.
  explicit SessionStore(const std::string& path);
  ~SessionStore();
  SessionStore(const SessionStore&) = delete;
  SessionStore& operator=(const SessionStore&) = delete;

  int schema_version();  // PRAGMA user_version

  // Makes the servers table match the configuration: upserts these, deletes servers not listed
  // (and, by cascade, their sessions and placements). Health and load of kept servers are
  // preserved; a learned host key is kept only while the server's address and port stay the same.
  void sync_servers(const std::vector<ServerRecord>& servers);

  // Every known server with its health, weight and load.
  std::vector<ServerState> servers();
  void set_health(std::string_view server, ServerHealth health);  // StoreError if unknown
  // An agent report's load for server, received at reported_at (unix seconds). StoreError if unknown.
  void record_report(std::string_view server, double load, std::int64_t reported_at);

  // Replaces all sessions of server in one transaction; rows with a status other than R or S are
  // skipped. StoreError (and nothing changed) if server is unknown or a session_id repeats.
  void replace_sessions(std::string_view server, const std::vector<SessionRecord>& sessions);
  // The user's sessions on every server (status R or S).
  std::vector<UserSession> sessions_of(std::string_view user);

  // The user's placement if it expires after now (unix seconds).
  std::optional<std::string> placement_of(std::string_view user, std::int64_t now);
  // Sets or replaces the user's placement. StoreError if server is unknown.
  void record_placement(std::string_view user, std::string_view server, std::int64_t expires_at);

  // Applies an agent snapshot of server in one transaction if sequence is greater than the last
  // applied one (any sequence for the first): replaces its sessions, sets load and last_report.
  // Returns false (and changes nothing) for a stale or replayed sequence. Throws StoreError (and
  // changes nothing) for an unknown server or a repeated session_id. The whole uint64 range of
  // sequences orders correctly.
  bool apply_snapshot(std::string_view server, std::uint64_t sequence,
                      const std::vector<SessionRecord>& sessions, double load, std::int64_t reported_at);

  // Unix seconds of the server's last applied report, if any.
  std::optional<std::int64_t> last_report(std::string_view server);

  // Distinct users with a session (R or S) per server; servers without sessions are absent.
  std::vector<std::pair<std::string, int>> users_per_server();

  // Every server with its session counts, ordered by name.
  std::vector<ServerSummary> server_summaries();
  // Sessions of user on server; an empty filter matches all. Ordered by server, user, session_id.
  std::vector<StoredSession> list_sessions(std::string_view user, std::string_view server);

  // Like set_health, but leaves a draining server alone and returns false for it, in one atomic
  // step: a health check that read the state before an admin drained it cannot undo the drain.
  bool set_health_unless_draining(std::string_view server, ServerHealth health);
  // Marks server draining (no new placements, sessions stay resumable; kept across restarts).
  // Returns false if it already was. StoreError if unknown.
  bool drain(std::string_view server);
  // Ends draining: the server becomes stale until the health monitor next assesses it. Returns
  // false if it was not draining. StoreError if unknown.
  bool undrain(std::string_view server);
  // Forgets the learned host key, so the next agent report or first connection learns one again.
  // Returns false if none was learned. StoreError if unknown.
  bool forget_host_key(std::string_view server);

  // Host key learned for a server without a configured pin ("ssh-ed25519 AAAA..."), if any.
  std::optional<std::string> learned_host_key(std::string_view server);
  // First key wins (trust on first use): storing the same key again is a no-op; StoreError if a
  // different key is already learned or the server is unknown.
  void learn_host_key(std::string_view server, std::string_view key);

 private:
  std::mutex mutex_;
  sqlite3* db_ = nullptr;
};

}  // namespace x2gojump
