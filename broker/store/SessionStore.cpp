#include "broker/store/SessionStore.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <set>

#include "broker/store/Migrations.h"
#include "broker/store/Statement.h"

namespace x2gojump {

namespace {

// Health as stored in servers.health (the schema's CHECK constraint lists the same words).
std::string_view health_text(ServerHealth health) {
  switch (health) {
    case ServerHealth::Up:
      return "up";
    case ServerHealth::Stale:
      return "stale";
    case ServerHealth::Down:
      return "down";
    case ServerHealth::Draining:
      return "draining";
  }
  throw StoreError("invalid ServerHealth value");
}

ServerHealth parse_health(const std::string& text) {
  if (text == "up") return ServerHealth::Up;
  if (text == "stale") return ServerHealth::Stale;
  if (text == "down") return ServerHealth::Down;
  if (text == "draining") return ServerHealth::Draining;
  throw StoreError("unknown server health '" + text + "' in state database");
}

bool is_memory_path(const std::string& path) { return path.empty() || path == ":memory:"; }

// SQLite would create the file with 0644 (less umask). Creating it ourselves first fixes the mode
// without touching the process-wide umask; the -wal and -shm files inherit the database's mode.
void create_private_file(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) {
    throw StoreError("cannot open state database " + path + ": " + std::strerror(errno));
  }
  ::close(fd);
}

void require_changed(int changes, std::string_view server) {
  if (changes == 0) throw StoreError("unknown server '" + std::string(server) + "'");
}

bool server_exists(sqlite3* db, std::string_view server) {
  Statement stmt(db, "SELECT 1 FROM servers WHERE name = ?1");
  stmt.bind_text(1, server);
  return stmt.step();
}

// SQLite integers are signed 64-bit; a sequence is stored as the integer with the same bits, and
// converted back before any comparison, so the whole unsigned range orders correctly.
std::int64_t sequence_bits(std::uint64_t sequence) { return static_cast<std::int64_t>(sequence); }
std::uint64_t sequence_of(std::int64_t bits) { return static_cast<std::uint64_t>(bits); }

// Within the caller's transaction: the server's sessions become exactly these (R and S only).
void write_sessions(sqlite3* db, std::string_view server,
                    const std::vector<SessionRecord>& sessions) {
  Statement clear(db, "DELETE FROM sessions WHERE server = ?1");
  clear.bind_text(1, server).run();
  Statement insert(db,
                   "INSERT INTO sessions "
                   "(server, session_id, username, status, display, created, last_change) "
                   "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
  std::set<std::string_view> users;
  for (const SessionRecord& session : sessions) {
    if (session.status != 'R' && session.status != 'S') continue;
    users.insert(session.user);
    insert.bind_text(1, server)
        .bind_text(2, session.session_id)
        .bind_text(3, session.user)
        .bind_text(4, std::string_view(&session.status, 1))
        .bind_int(5, session.display)
        .bind_int(6, session.created)
        .bind_int(7, session.last_change)
        .run();
  }
  Statement count(db, "UPDATE servers SET users = ?2 WHERE name = ?1");
  count.bind_text(1, server).bind_int(2, static_cast<std::int64_t>(users.size())).run();
}

}  // namespace

SessionStore::SessionStore(const std::string& path) {
  const bool in_memory = is_memory_path(path);
  if (!in_memory) create_private_file(path);
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX;
#ifdef SQLITE_OPEN_NOFOLLOW
  flags |= SQLITE_OPEN_NOFOLLOW;
#endif
  const int rc = sqlite3_open_v2(path.c_str(), &db_, flags, nullptr);
  if (rc != SQLITE_OK) {
    const std::string reason = db_ != nullptr ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
    sqlite3_close_v2(db_);
    throw StoreError("cannot open state database " + path + ": " + reason);
  }
  try {
    sqlite3_extended_result_codes(db_, 1);
    sqlite3_busy_timeout(db_, 5000);
    // Refuses schema tricks (writable_schema, shadow-table writes) from any SQL that reaches us.
    sqlite3_db_config(db_, SQLITE_DBCONFIG_DEFENSIVE, 1, nullptr);
    exec_sql(db_, "PRAGMA foreign_keys = ON");
    exec_sql(db_, "PRAGMA synchronous = NORMAL");
    if (!in_memory) {
      Statement wal(db_, "PRAGMA journal_mode = WAL");
      if (!wal.step() || wal.text(0) != "wal") {
        throw StoreError("state database " + path + " cannot use WAL journaling");
      }
    }
    apply_migrations(db_, latest_schema_version());
  } catch (...) {
    sqlite3_close_v2(db_);
    throw;
  }
}

SessionStore::~SessionStore() { sqlite3_close_v2(db_); }

int SessionStore::schema_version() {
  std::lock_guard lock(mutex_);
  return schema_version_of(db_);
}

void SessionStore::sync_servers(const std::vector<ServerRecord>& servers) {
  std::lock_guard lock(mutex_);
  Transaction tx(db_);
  Statement upsert(db_,
                   "INSERT INTO servers (name, address, port, weight) VALUES (?1, ?2, ?3, ?4) "
                   "ON CONFLICT (name) DO UPDATE SET "
                   "  learned_host_key = CASE WHEN address = excluded.address "
                   "                           AND port = excluded.port "
                   "                          THEN learned_host_key END, "
                   "  address = excluded.address, port = excluded.port, weight = excluded.weight");
  std::set<std::string, std::less<>> wanted;
  for (const ServerRecord& server : servers) {
    upsert.bind_text(1, server.name)
        .bind_text(2, server.address)
        .bind_int(3, server.port)
        .bind_double(4, server.weight)
        .run();
    wanted.insert(server.name);
  }
  std::vector<std::string> stale;
  Statement names(db_, "SELECT name FROM servers");
  while (names.step()) {
    if (!wanted.contains(names.text(0))) stale.push_back(names.text(0));
  }
  Statement remove(db_, "DELETE FROM servers WHERE name = ?1");
  for (const std::string& name : stale) remove.bind_text(1, name).run();
  tx.commit();
}

std::vector<ServerState> SessionStore::servers() {
  std::lock_guard lock(mutex_);
  Statement stmt(db_, "SELECT name, weight, health, load FROM servers ORDER BY name");
  std::vector<ServerState> result;
  while (stmt.step()) {
    result.push_back(ServerState{.name = stmt.text(0),
                                 .weight = stmt.real(1),
                                 .health = parse_health(stmt.text(2)),
                                 .load = stmt.real(3)});
  }
  return result;
}

void SessionStore::set_health(std::string_view server, ServerHealth health) {
  std::lock_guard lock(mutex_);
  Statement stmt(db_, "UPDATE servers SET health = ?1 WHERE name = ?2");
  require_changed(stmt.bind_text(1, health_text(health)).bind_text(2, server).run(), server);
}

bool SessionStore::set_health_unless_draining(std::string_view server, ServerHealth health) {
  std::lock_guard lock(mutex_);
  Statement stmt(db_, "UPDATE servers SET health = ?1 WHERE name = ?2 AND health <> 'draining'");
  if (stmt.bind_text(1, health_text(health)).bind_text(2, server).run() > 0) return true;
  if (!server_exists(db_, server)) throw StoreError("unknown server '" + std::string(server) + "'");
  return false;
}

bool SessionStore::drain(std::string_view server) {
  std::lock_guard lock(mutex_);
  Statement stmt(db_,
                 "UPDATE servers SET health = 'draining' WHERE name = ?1 AND health <> 'draining'");
  if (stmt.bind_text(1, server).run() > 0) return true;
  if (!server_exists(db_, server)) throw StoreError("unknown server '" + std::string(server) + "'");
  return false;
}

bool SessionStore::undrain(std::string_view server) {
  std::lock_guard lock(mutex_);
  Statement stmt(db_, "UPDATE servers SET health = 'stale' WHERE name = ?1 AND health = 'draining'");
  if (stmt.bind_text(1, server).run() > 0) return true;
  if (!server_exists(db_, server)) throw StoreError("unknown server '" + std::string(server) + "'");
  return false;
}

bool SessionStore::forget_host_key(std::string_view server) {
  std::lock_guard lock(mutex_);
  Statement stmt(db_,
                 "UPDATE servers SET learned_host_key = NULL "
                 "WHERE name = ?1 AND learned_host_key IS NOT NULL");
  if (stmt.bind_text(1, server).run() > 0) return true;
  if (!server_exists(db_, server)) throw StoreError("unknown server '" + std::string(server) + "'");
  return false;
}

std::vector<ServerSummary> SessionStore::server_summaries() {
  std::lock_guard lock(mutex_);
  Statement stmt(db_,
                 "SELECT s.name, s.address, s.port, s.weight, s.health, s.load, s.last_report, "
                 "       s.learned_host_key, "
                 "       (SELECT COUNT(*) FROM sessions WHERE server = s.name AND status = 'R'), "
                 "       (SELECT COUNT(*) FROM sessions WHERE server = s.name AND status = 'S'), "
                 "       (SELECT COUNT(DISTINCT username) FROM sessions WHERE server = s.name) "
                 "FROM servers AS s ORDER BY s.name");
  std::vector<ServerSummary> result;
  while (stmt.step()) {
    ServerSummary row;
    row.name = stmt.text(0);
    row.address = stmt.text(1);
    row.port = static_cast<std::uint16_t>(stmt.integer(2));
    row.weight = stmt.real(3);
    row.health = parse_health(stmt.text(4));
    row.load = stmt.real(5);
    if (!stmt.is_null(6)) row.last_report = stmt.integer(6);
    if (!stmt.is_null(7)) row.learned_host_key = stmt.text(7);
    row.running_sessions = static_cast<int>(stmt.integer(8));
    row.suspended_sessions = static_cast<int>(stmt.integer(9));
    row.users = static_cast<int>(stmt.integer(10));
    result.push_back(std::move(row));
  }
  return result;
}

std::vector<StoredSession> SessionStore::list_sessions(std::string_view user,
                                                       std::string_view server) {
  std::lock_guard lock(mutex_);
  Statement stmt(db_,
                 "SELECT server, session_id, username, status, display, created, last_change "
                 "FROM sessions WHERE (?1 = '' OR username = ?1) AND (?2 = '' OR server = ?2) "
                 "ORDER BY server, username, session_id");
  stmt.bind_text(1, user).bind_text(2, server);
  std::vector<StoredSession> result;
  while (stmt.step()) {
    result.push_back(StoredSession{stmt.text(0),
                                   SessionRecord{.session_id = stmt.text(1),
                                                 .user = stmt.text(2),
                                                 .status = stmt.text(3).front(),
                                                 .display = static_cast<int>(stmt.integer(4)),
                                                 .created = stmt.integer(5),
                                                 .last_change = stmt.integer(6)}});
  }
  return result;
}

void SessionStore::record_report(std::string_view server, double load, std::int64_t reported_at) {
  std::lock_guard lock(mutex_);
  Statement stmt(db_, "UPDATE servers SET load = ?1, last_report = ?2 WHERE name = ?3");
  require_changed(
      stmt.bind_double(1, load).bind_int(2, reported_at).bind_text(3, server).run(), server);
}

void SessionStore::replace_sessions(std::string_view server,
                                    const std::vector<SessionRecord>& sessions) {
  std::lock_guard lock(mutex_);
  Transaction tx(db_);
  // An empty report would otherwise "succeed" for a server that does not exist.
  if (!server_exists(db_, server)) {
    throw StoreError("unknown server '" + std::string(server) + "'");
  }
  write_sessions(db_, server, sessions);
  tx.commit();
}

bool SessionStore::apply_snapshot(std::string_view server, std::uint64_t sequence,
                                  const std::vector<SessionRecord>& sessions, double load,
                                  std::int64_t reported_at) {
  std::lock_guard lock(mutex_);
  // The write lock is taken before the sequence is read, so two brokers sharing the file (or a
  // second connection) cannot both pass the check with different snapshots.
  Transaction tx(db_);
  Statement last(db_, "SELECT last_sequence FROM servers WHERE name = ?1");
  last.bind_text(1, server);
  if (!last.step()) throw StoreError("unknown server '" + std::string(server) + "'");
  if (!last.is_null(0) && sequence <= sequence_of(last.integer(0))) return false;
  write_sessions(db_, server, sessions);
  Statement update(db_,
                   "UPDATE servers SET load = ?1, last_report = ?2, last_sequence = ?3 "
                   "WHERE name = ?4");
  update.bind_double(1, load)
      .bind_int(2, reported_at)
      .bind_int(3, sequence_bits(sequence))
      .bind_text(4, server)
      .run();
  tx.commit();
  return true;
}

std::optional<std::int64_t> SessionStore::last_report(std::string_view server) {
  std::lock_guard lock(mutex_);
  Statement stmt(db_, "SELECT last_report FROM servers WHERE name = ?1");
  stmt.bind_text(1, server);
  if (!stmt.step() || stmt.is_null(0)) return std::nullopt;
  return stmt.integer(0);
}

std::vector<std::pair<std::string, int>> SessionStore::users_per_server() {
  std::lock_guard lock(mutex_);
  Statement stmt(db_, "SELECT name, users FROM servers WHERE users > 0 ORDER BY name");
  std::vector<std::pair<std::string, int>> result;
  while (stmt.step()) result.emplace_back(stmt.text(0), static_cast<int>(stmt.integer(1)));
  return result;
}

std::vector<UserSession> SessionStore::sessions_of(std::string_view user) {
  std::lock_guard lock(mutex_);
  Statement stmt(db_,
                 "SELECT server, session_id, status, last_change FROM sessions "
                 "WHERE username = ?1 AND status IN ('R', 'S') "
                 "ORDER BY last_change DESC, server, session_id");
  stmt.bind_text(1, user);
  std::vector<UserSession> result;
  while (stmt.step()) {
    const std::string status = stmt.text(2);
    result.push_back(UserSession{.server = stmt.text(0),
                                 .session_id = stmt.text(1),
                                 .status = status.front(),
                                 .last_change = stmt.integer(3)});
  }
  return result;
}

std::optional<std::string> SessionStore::placement_of(std::string_view user, std::int64_t now) {
  std::lock_guard lock(mutex_);
  Statement stmt(db_, "SELECT server FROM placements WHERE username = ?1 AND expires_at > ?2");
  stmt.bind_text(1, user).bind_int(2, now);
  if (!stmt.step()) return std::nullopt;
  return stmt.text(0);
}

void SessionStore::record_placement(std::string_view user, std::string_view server,
                                    std::int64_t expires_at) {
  std::lock_guard lock(mutex_);
  Statement stmt(db_,
                 "INSERT INTO placements (username, server, expires_at) VALUES (?1, ?2, ?3) "
                 "ON CONFLICT (username) DO UPDATE SET "
                 "  server = excluded.server, expires_at = excluded.expires_at");
  stmt.bind_text(1, user).bind_text(2, server).bind_int(3, expires_at).run();
}

std::optional<std::string> SessionStore::learned_host_key(std::string_view server) {
  std::lock_guard lock(mutex_);
  Statement stmt(db_, "SELECT learned_host_key FROM servers WHERE name = ?1");
  stmt.bind_text(1, server);
  if (!stmt.step() || stmt.is_null(0)) return std::nullopt;
  return stmt.text(0);
}

void SessionStore::learn_host_key(std::string_view server, std::string_view key) {
  std::lock_guard lock(mutex_);
  // Read and write under one write lock, so two first connections cannot both "learn".
  Transaction tx(db_);
  Statement store(db_,
                  "UPDATE servers SET learned_host_key = ?1 "
                  "WHERE name = ?2 AND learned_host_key IS NULL");
  if (store.bind_text(1, key).bind_text(2, server).run() == 0) {
    Statement current(db_, "SELECT learned_host_key FROM servers WHERE name = ?1");
    current.bind_text(1, server);
    if (!current.step()) throw StoreError("unknown server '" + std::string(server) + "'");
    if (current.text(0) != key) {
      throw StoreError("a different host key is already learned for server '" +
                       std::string(server) + "'");
    }
  }
  tx.commit();
}

}  // namespace x2gojump
