#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <string>
#include <thread>
#include <vector>

#include "broker/store/Migrations.h"
#include "broker/store/SessionStore.h"
#include "broker/store/Statement.h"

namespace x2gojump {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

namespace fs = std::filesystem;

// A fresh private directory, removed with everything in it at the end of the test.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "xj-store-test-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempDir() { fs::remove_all(path_); }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  fs::path path_;
};

// A raw connection, for building databases at old versions and inspecting files.
class RawDb {
 public:
  explicit RawDb(const std::string& path) {
    if (sqlite3_open(path.c_str(), &db_) != SQLITE_OK) throw std::runtime_error("open failed");
  }
  ~RawDb() { sqlite3_close(db_); }
  sqlite3* get() { return db_; }
  std::string text(const std::string& sql) {
    Statement stmt(db_, sql);
    return stmt.step() ? stmt.text(0) : std::string("<no row>");
  }

 private:
  sqlite3* db_ = nullptr;
};

ServerRecord server(std::string name, std::string address = "10.0.0.1", std::uint16_t port = 22,
                    double weight = 1.0) {
  return ServerRecord{std::move(name), std::move(address), port, weight};
}

SessionRecord session(std::string id, std::string user, char status = 'R',
                      std::int64_t last_change = 100) {
  return SessionRecord{std::move(id), std::move(user), status, 50, 10, last_change};
}

std::vector<std::string> session_ids(const std::vector<UserSession>& sessions) {
  std::vector<std::string> ids;
  for (const auto& s : sessions) ids.push_back(s.server + "/" + s.session_id);
  return ids;
}

std::string schema_sql(sqlite3* db) {
  Statement stmt(db, "SELECT type, name, sql FROM sqlite_schema ORDER BY type, name");
  std::string all;
  while (stmt.step()) all += stmt.text(0) + " " + stmt.text(1) + ": " + stmt.text(2) + "\n";
  return all;
}

// --- Migrations ------------------------------------------------------------------------------

TEST(SessionStoreMigrations, EmbeddedMigrationsAreNumberedWithoutGaps) {
  const auto migrations = embedded_migrations();
  ASSERT_GE(migrations.size(), 2u);
  for (std::size_t i = 0; i < migrations.size(); ++i) {
    EXPECT_EQ(migrations[i].version, static_cast<int>(i + 1));
    EXPECT_FALSE(migrations[i].sql.empty());
  }
  EXPECT_EQ(latest_schema_version(), static_cast<int>(migrations.size()));
}

TEST(SessionStoreMigrations, FreshDatabaseIsAtLatestVersion) {
  SessionStore store(":memory:");
  EXPECT_EQ(store.schema_version(), latest_schema_version());
  EXPECT_THAT(store.servers(), IsEmpty());
}

TEST(SessionStoreMigrations, MigratesFromEveryOlderVersionToTheSameSchema) {
  TempDir dir;
  std::string fresh_schema;
  {
    const std::string path = dir.file("fresh.db");
    SessionStore store(path);
    RawDb raw(path);
    fresh_schema = schema_sql(raw.get());
  }
  for (int from = 0; from < latest_schema_version(); ++from) {
    SCOPED_TRACE("from version " + std::to_string(from));
    const std::string path = dir.file("v" + std::to_string(from) + ".db");
    {
      RawDb raw(path);
      apply_migrations(raw.get(), from);
      EXPECT_EQ(schema_version_of(raw.get()), from);
      if (from >= 1) {
        exec_sql(raw.get(),
                 "INSERT INTO servers (name, address, port, weight) VALUES ('old', 'h', 22, 2);"
                 "INSERT INTO sessions VALUES ('old', 'sid', 'alice', 'S', 51, 1, 7);");
      }
    }
    SessionStore store(path);
    EXPECT_EQ(store.schema_version(), latest_schema_version());
    if (from >= 1) {
      ASSERT_EQ(store.servers().size(), 1u);
      EXPECT_EQ(store.servers()[0].weight, 2.0);
      EXPECT_THAT(session_ids(store.sessions_of("alice")), ElementsAre("old/sid"));
      // Version 4 counts the users of sessions that were already there.
      EXPECT_THAT(store.users_per_server(), ElementsAre(std::pair<std::string, int>{"old", 1}));
      store.learn_host_key("old", "ssh-ed25519 AAAAkey");
      EXPECT_EQ(store.learned_host_key("old"), "ssh-ed25519 AAAAkey");
    }
    RawDb raw(path);
    EXPECT_EQ(schema_sql(raw.get()), fresh_schema);
  }
}

TEST(SessionStoreMigrations, Version2To3KeepsDataAndStartsWithoutSequence) {
  TempDir dir;
  const std::string path = dir.file("state.db");
  {
    RawDb raw(path);
    apply_migrations(raw.get(), 2);
    exec_sql(raw.get(),
             "INSERT INTO servers (name, address, port, weight, health, load, last_report, "
             "learned_host_key) VALUES ('a', 'h', 2222, 2, 'draining', 0.75, 99, 'ssh-ed25519 K');"
             "INSERT INTO sessions VALUES ('a', 'sid', 'alice', 'S', 51, 1, 7);"
             "INSERT INTO placements VALUES ('bob', 'a', 5000);");
  }
  SessionStore store(path);
  EXPECT_EQ(store.schema_version(), latest_schema_version());
  ASSERT_EQ(store.servers().size(), 1u);
  EXPECT_EQ(store.servers()[0].health, ServerHealth::Draining);
  EXPECT_EQ(store.servers()[0].load, 0.75);
  EXPECT_EQ(store.last_report("a"), 99);
  EXPECT_EQ(store.learned_host_key("a"), "ssh-ed25519 K");
  EXPECT_THAT(session_ids(store.sessions_of("alice")), ElementsAre("a/sid"));
  EXPECT_EQ(store.placement_of("bob", 0), "a");
  {
    RawDb raw(path);
    EXPECT_EQ(raw.text("SELECT last_sequence IS NULL FROM servers"), "1");
  }
  // No sequence yet: the first snapshot after the upgrade is applied whatever its number.
  EXPECT_TRUE(store.apply_snapshot("a", 0, {}, 0.0, 100));
  EXPECT_THAT(store.sessions_of("alice"), IsEmpty());
}

TEST(SessionStoreMigrations, ApplyMigrationsRejectsUnknownTargetVersion) {
  RawDb raw(":memory:");
  EXPECT_THROW(apply_migrations(raw.get(), latest_schema_version() + 1), StoreError);
  EXPECT_THROW(apply_migrations(raw.get(), -1), StoreError);
  EXPECT_EQ(schema_version_of(raw.get()), 0);
}

TEST(SessionStoreMigrations, FailingMigrationIsRolledBackAndReported) {
  TempDir dir;
  const std::string path = dir.file("state.db");
  {
    RawDb raw(path);
    apply_migrations(raw.get(), 1);
    // Migration 2 adds this column; a clash makes it fail part-way.
    exec_sql(raw.get(), "ALTER TABLE servers ADD COLUMN learned_host_key TEXT");
  }
  try {
    SessionStore store(path);
    FAIL() << "opening should have failed";
  } catch (const StoreError& e) {
    EXPECT_THAT(e.what(), HasSubstr("002_"));
  }
  RawDb raw(path);
  EXPECT_EQ(schema_version_of(raw.get()), 1);
}

TEST(SessionStoreMigrations, NewerDatabaseIsRefusedAndLeftAlone) {
  TempDir dir;
  const std::string path = dir.file("state.db");
  const int newer = latest_schema_version() + 1;
  { SessionStore store(path); }
  {
    RawDb raw(path);
    exec_sql(raw.get(), "PRAGMA user_version = " + std::to_string(newer));
  }
  try {
    SessionStore store(path);
    FAIL() << "opening should have failed";
  } catch (const StoreError& e) {
    EXPECT_THAT(e.what(), HasSubstr("newer"));
    EXPECT_THAT(e.what(), HasSubstr(std::to_string(newer)));
  }
  RawDb raw(path);
  EXPECT_EQ(schema_version_of(raw.get()), newer);
}

TEST(SessionStoreMigrations, ReopenKeepsData) {
  TempDir dir;
  const std::string path = dir.file("state.db");
  {
    SessionStore store(path);
    store.sync_servers({server("a"), server("b")});
    store.set_health("b", ServerHealth::Draining);
    store.replace_sessions("a", {session("s1", "alice", 'S')});
    store.record_placement("bob", "b", 1000);
    store.learn_host_key("a", "ssh-ed25519 AAAAa");
  }
  SessionStore store(path);
  ASSERT_EQ(store.servers().size(), 2u);
  EXPECT_EQ(store.servers()[1].health, ServerHealth::Draining);
  EXPECT_THAT(session_ids(store.sessions_of("alice")), ElementsAre("a/s1"));
  EXPECT_EQ(store.placement_of("bob", 999), "b");
  EXPECT_EQ(store.learned_host_key("a"), "ssh-ed25519 AAAAa");
}

// --- Opening and files -----------------------------------------------------------------------

TEST(SessionStoreFile, NewFileIsPrivateWhateverTheUmask) {
  TempDir dir;
  const std::string path = dir.file("state.db");
  const mode_t old_umask = ::umask(0);
  {
    SessionStore store(path);
    store.sync_servers({server("a")});  // forces the -wal file into existence
    ::umask(old_umask);
    for (const std::string& file : {path, path + "-wal", path + "-shm"}) {
      SCOPED_TRACE(file);
      struct stat st {};
      ASSERT_EQ(::stat(file.c_str(), &st), 0);
      EXPECT_EQ(st.st_mode & 07777, 0600u);
    }
  }
  ::umask(old_umask);
}

TEST(SessionStoreFile, FileDatabaseUsesWal) {
  TempDir dir;
  const std::string path = dir.file("state.db");
  SessionStore store(path);
  RawDb raw(path);
  EXPECT_EQ(raw.text("PRAGMA journal_mode"), "wal");
}

TEST(SessionStoreFile, SymlinkIsRefused) {
  TempDir dir;
  const std::string target = dir.file("target.db");
  { SessionStore store(target); }
  fs::create_symlink(target, dir.file("link.db"));
  EXPECT_THROW(SessionStore store(dir.file("link.db")), StoreError);
}

TEST(SessionStoreFile, MissingDirectoryIsAStoreError) {
  TempDir dir;
  EXPECT_THROW(SessionStore store(dir.file("no/such/dir/state.db")), StoreError);
}

TEST(SessionStoreFile, ForeignKeysAreEnforced) {
  SessionStore store(":memory:");
  EXPECT_THROW(store.record_placement("alice", "nowhere", 10), StoreError);
  EXPECT_EQ(store.placement_of("alice", 0), std::nullopt);
}

// --- Servers ---------------------------------------------------------------------------------

TEST(SessionStoreServers, SyncUpsertsAndDeletesWithCascade) {
  SessionStore store(":memory:");
  store.sync_servers({server("a", "10.0.0.1", 22, 1.0), server("b"), server("c")});
  store.replace_sessions("b", {session("s1", "alice")});
  store.record_placement("alice", "b", 1000);
  store.replace_sessions("c", {session("s2", "alice")});

  store.sync_servers({server("a", "10.0.0.9", 2222, 3.5), server("c"), server("d")});

  const auto servers = store.servers();
  ASSERT_EQ(servers.size(), 3u);
  EXPECT_EQ(servers[0].name, "a");
  EXPECT_EQ(servers[0].weight, 3.5);
  EXPECT_EQ(servers[1].name, "c");
  EXPECT_EQ(servers[2].name, "d");
  EXPECT_EQ(servers[2].health, ServerHealth::Up);
  EXPECT_EQ(servers[2].load, 0.0);
  EXPECT_THAT(session_ids(store.sessions_of("alice")), ElementsAre("c/s2"));
  EXPECT_EQ(store.placement_of("alice", 0), std::nullopt);
}

TEST(SessionStoreServers, SyncToEmptyRemovesEverything) {
  SessionStore store(":memory:");
  store.sync_servers({server("a")});
  store.replace_sessions("a", {session("s1", "alice")});
  store.sync_servers({});
  EXPECT_THAT(store.servers(), IsEmpty());
  EXPECT_THAT(store.sessions_of("alice"), IsEmpty());
}

TEST(SessionStoreServers, HealthAndLoadSurviveSync) {
  SessionStore store(":memory:");
  store.sync_servers({server("a"), server("b"), server("c"), server("d")});
  store.set_health("a", ServerHealth::Down);
  store.set_health("b", ServerHealth::Stale);
  store.set_health("c", ServerHealth::Draining);
  store.record_report("d", 0.75, 1234);
  store.sync_servers({server("a", "10.1.1.1"), server("b"), server("c"), server("d")});
  const auto servers = store.servers();
  ASSERT_EQ(servers.size(), 4u);
  EXPECT_EQ(servers[0].health, ServerHealth::Down);
  EXPECT_EQ(servers[1].health, ServerHealth::Stale);
  EXPECT_EQ(servers[2].health, ServerHealth::Draining);
  EXPECT_EQ(servers[3].health, ServerHealth::Up);
  EXPECT_EQ(servers[3].load, 0.75);
}

TEST(SessionStoreServers, InvalidServerIsRejectedAtomically) {
  SessionStore store(":memory:");
  store.sync_servers({server("a")});
  // weight must be > 0 (schema CHECK); the whole sync rolls back, "a" survives.
  EXPECT_THROW(store.sync_servers({server("b", "h", 22, 0.0)}), StoreError);
  ASSERT_EQ(store.servers().size(), 1u);
  EXPECT_EQ(store.servers()[0].name, "a");
}

TEST(SessionStoreServers, UpdatesOfUnknownServersThrow) {
  SessionStore store(":memory:");
  store.sync_servers({server("a")});
  EXPECT_THROW(store.set_health("zz", ServerHealth::Down), StoreError);
  EXPECT_THROW(store.record_report("zz", 1.0, 1), StoreError);
  EXPECT_THROW(store.learn_host_key("zz", "ssh-ed25519 AAAA"), StoreError);
  EXPECT_EQ(store.learned_host_key("zz"), std::nullopt);
}

// --- Sessions --------------------------------------------------------------------------------

TEST(SessionStoreSessions, ReplaceSwapsOneServersSessionsOnly) {
  SessionStore store(":memory:");
  store.sync_servers({server("a"), server("b")});
  store.replace_sessions("a", {session("old1", "alice"), session("old2", "alice")});
  store.replace_sessions("b", {session("keep", "alice", 'S', 50)});

  store.replace_sessions("a", {session("new1", "alice", 'R', 200)});

  EXPECT_THAT(session_ids(store.sessions_of("alice")), ElementsAre("a/new1", "b/keep"));
}

TEST(SessionStoreSessions, ReplaceWithNothingClears) {
  SessionStore store(":memory:");
  store.sync_servers({server("a")});
  store.replace_sessions("a", {session("s1", "alice")});
  store.replace_sessions("a", {});
  EXPECT_THAT(store.sessions_of("alice"), IsEmpty());
}

TEST(SessionStoreSessions, ReplaceOnUnknownServerThrows) {
  SessionStore store(":memory:");
  EXPECT_THROW(store.replace_sessions("nowhere", {}), StoreError);
  EXPECT_THROW(store.replace_sessions("nowhere", {session("s1", "alice")}), StoreError);
}

TEST(SessionStoreSessions, FailedReplaceKeepsTheOldSessions) {
  SessionStore store(":memory:");
  store.sync_servers({server("a")});
  store.replace_sessions("a", {session("old", "alice")});
  EXPECT_THROW(store.replace_sessions("a", {session("dup", "alice"), session("dup", "bob")}),
               StoreError);
  EXPECT_THAT(session_ids(store.sessions_of("alice")), ElementsAre("a/old"));
  EXPECT_THAT(store.sessions_of("bob"), IsEmpty());
}

TEST(SessionStoreSessions, OnlyRunningAndSuspendedAreStored) {
  SessionStore store(":memory:");
  store.sync_servers({server("a")});
  store.replace_sessions("a", {session("r", "alice", 'R', 1), session("s", "alice", 'S', 2),
                               session("f", "alice", 'F', 3), session("x", "alice", 'x', 4)});
  const auto sessions = store.sessions_of("alice");
  ASSERT_EQ(sessions.size(), 2u);
  EXPECT_EQ(sessions[0].session_id, "s");
  EXPECT_EQ(sessions[0].status, 'S');
  EXPECT_EQ(sessions[0].last_change, 2);
  EXPECT_EQ(sessions[1].session_id, "r");
  EXPECT_EQ(sessions[1].status, 'R');
}

TEST(SessionStoreSessions, SessionsOfFiltersByUserAcrossServers) {
  SessionStore store(":memory:");
  store.sync_servers({server("a"), server("b")});
  store.replace_sessions("a", {session("a1", "alice", 'R', 10), session("a2", "bob")});
  store.replace_sessions("b", {session("b1", "alice", 'S', 20), session("b2", "Alice")});
  const auto sessions = store.sessions_of("alice");
  EXPECT_THAT(session_ids(sessions), ElementsAre("b/b1", "a/a1"));  // most recent first
  EXPECT_THAT(session_ids(store.sessions_of("bob")), ElementsAre("a/a2"));
  EXPECT_THAT(store.sessions_of("carol"), IsEmpty());
  EXPECT_THAT(store.sessions_of(""), IsEmpty());
}

// --- Snapshots -------------------------------------------------------------------------------

// The server's row as text, to show that a refused snapshot changed nothing at all.
std::string server_row(SessionStore& store, const std::string& name) {
  std::string row;
  for (const auto& s : store.servers()) {
    if (s.name == name) row = s.name + " load=" + std::to_string(s.load);
  }
  auto last = store.last_report(name);
  return row + " last_report=" + (last ? std::to_string(*last) : "none");
}

TEST(SessionStoreSnapshots, FirstSnapshotIsAppliedWhateverItsSequence) {
  SessionStore store(":memory:");
  store.sync_servers({server("a"), server("b")});
  EXPECT_EQ(store.last_report("a"), std::nullopt);
  EXPECT_TRUE(store.apply_snapshot("a", 0, {session("s1", "alice")}, 0.5, 1000));
  EXPECT_THAT(session_ids(store.sessions_of("alice")), ElementsAre("a/s1"));
  EXPECT_EQ(store.last_report("a"), 1000);
  EXPECT_EQ(store.servers()[0].load, 0.5);
  EXPECT_EQ(store.last_report("b"), std::nullopt);  // other servers untouched
  EXPECT_EQ(store.servers()[1].load, 0.0);
}

TEST(SessionStoreSnapshots, GreaterSequenceIsApplied) {
  SessionStore store(":memory:");
  store.sync_servers({server("a")});
  ASSERT_TRUE(store.apply_snapshot("a", 5, {session("old", "alice")}, 1.0, 100));
  EXPECT_TRUE(store.apply_snapshot("a", 6, {session("new", "bob", 'S')}, 2.0, 200));
  EXPECT_THAT(store.sessions_of("alice"), IsEmpty());
  EXPECT_THAT(session_ids(store.sessions_of("bob")), ElementsAre("a/new"));
  EXPECT_EQ(store.last_report("a"), 200);
  EXPECT_EQ(store.servers()[0].load, 2.0);
  // Gaps are fine: a lost report is healed by the next full snapshot.
  EXPECT_TRUE(store.apply_snapshot("a", 1000, {}, 0.0, 300));
  EXPECT_THAT(store.sessions_of("bob"), IsEmpty());
}

TEST(SessionStoreSnapshots, EqualOrSmallerSequenceChangesNothing) {
  SessionStore store(":memory:");
  store.sync_servers({server("a")});
  ASSERT_TRUE(store.apply_snapshot("a", 10, {session("s1", "alice")}, 1.5, 100));
  const std::string before = server_row(store, "a");
  EXPECT_FALSE(store.apply_snapshot("a", 10, {session("s2", "bob")}, 9.0, 200));  // replay
  EXPECT_FALSE(store.apply_snapshot("a", 9, {}, 9.0, 300));                        // stale
  EXPECT_FALSE(store.apply_snapshot("a", 0, {}, 9.0, 400));
  EXPECT_THAT(session_ids(store.sessions_of("alice")), ElementsAre("a/s1"));
  EXPECT_THAT(store.sessions_of("bob"), IsEmpty());
  EXPECT_EQ(server_row(store, "a"), before);
  // The refused ones did not move the bar either.
  EXPECT_TRUE(store.apply_snapshot("a", 11, {}, 0.0, 500));
}

TEST(SessionStoreSnapshots, WholeUnsignedRangeOrdersCorrectly) {
  constexpr std::uint64_t kTop = std::numeric_limits<std::uint64_t>::max();
  constexpr std::uint64_t kSignBit = std::uint64_t{1} << 63;
  SessionStore store(":memory:");
  store.sync_servers({server("a")});
  ASSERT_TRUE(store.apply_snapshot("a", kSignBit - 1, {}, 0, 1));
  // Stored as a negative SQLite integer, still greater than INT64_MAX.
  EXPECT_TRUE(store.apply_snapshot("a", kSignBit, {}, 0, 2));
  EXPECT_FALSE(store.apply_snapshot("a", kSignBit - 1, {}, 0, 3));
  EXPECT_FALSE(store.apply_snapshot("a", 1, {}, 0, 4));
  EXPECT_TRUE(store.apply_snapshot("a", kTop - 1, {}, 0, 5));
  EXPECT_TRUE(store.apply_snapshot("a", kTop, {}, 0, 6));
  EXPECT_FALSE(store.apply_snapshot("a", kTop, {}, 0, 7));
  EXPECT_EQ(store.last_report("a"), 6);
}

TEST(SessionStoreSnapshots, UnknownServerThrows) {
  SessionStore store(":memory:");
  store.sync_servers({server("a")});
  EXPECT_THROW(store.apply_snapshot("zz", 1, {}, 0, 1), StoreError);
  EXPECT_THROW(store.apply_snapshot("zz", 1, {session("s", "alice")}, 0, 1), StoreError);
  EXPECT_THAT(store.sessions_of("alice"), IsEmpty());
  EXPECT_EQ(store.last_report("zz"), std::nullopt);
}

TEST(SessionStoreSnapshots, FailedSnapshotChangesNothing) {
  SessionStore store(":memory:");
  store.sync_servers({server("a")});
  ASSERT_TRUE(store.apply_snapshot("a", 1, {session("old", "alice")}, 1.0, 100));
  const std::string before = server_row(store, "a");
  EXPECT_THROW(store.apply_snapshot("a", 2, {session("dup", "bob"), session("dup", "bob")}, 5, 200),
               StoreError);
  EXPECT_THAT(session_ids(store.sessions_of("alice")), ElementsAre("a/old"));
  EXPECT_EQ(server_row(store, "a"), before);
  // The failed sequence was not recorded: it may be sent again, corrected.
  EXPECT_TRUE(store.apply_snapshot("a", 2, {}, 0, 300));
}

TEST(SessionStoreSnapshots, SequenceSurvivesSyncAndResetsWithTheServer) {
  SessionStore store(":memory:");
  store.sync_servers({server("a")});
  ASSERT_TRUE(store.apply_snapshot("a", 7, {}, 0, 1));
  store.sync_servers({server("a", "10.9.9.9", 2222, 3.0)});
  EXPECT_FALSE(store.apply_snapshot("a", 7, {}, 0, 2));
  store.sync_servers({});
  store.sync_servers({server("a")});
  EXPECT_EQ(store.last_report("a"), std::nullopt);
  EXPECT_TRUE(store.apply_snapshot("a", 1, {}, 0, 3));
}

TEST(SessionStoreSnapshots, UsersPerServerCountsDistinctUsers) {
  SessionStore store(":memory:");
  store.sync_servers({server("a"), server("b"), server("c")});
  EXPECT_THAT(store.users_per_server(), IsEmpty());
  store.apply_snapshot("a", 1,
                       {session("a1", "alice"), session("a2", "alice", 'S'), session("a3", "bob"),
                        session("a4", "carol", 'F')},
                       0, 1);
  store.apply_snapshot("b", 1, {session("b1", "alice")}, 0, 1);
  store.apply_snapshot("c", 1, {}, 0, 1);
  using Count = std::pair<std::string, int>;
  EXPECT_THAT(store.users_per_server(), ElementsAre(Count{"a", 2}, Count{"b", 1}));
  store.apply_snapshot("a", 2, {session("a3", "bob")}, 0, 2);
  store.apply_snapshot("b", 2, {}, 0, 2);
  EXPECT_THAT(store.users_per_server(), ElementsAre(Count{"a", 1}));
}

// --- Placements ------------------------------------------------------------------------------

TEST(SessionStorePlacements, ExpiryIsStrictlyAfterNow) {
  SessionStore store(":memory:");
  store.sync_servers({server("a")});
  store.record_placement("alice", "a", 1000);
  EXPECT_EQ(store.placement_of("alice", 999), "a");
  EXPECT_EQ(store.placement_of("alice", 1000), std::nullopt);
  EXPECT_EQ(store.placement_of("alice", 1001), std::nullopt);
  EXPECT_EQ(store.placement_of("bob", 0), std::nullopt);
}

TEST(SessionStorePlacements, RecordReplacesServerAndExpiry) {
  SessionStore store(":memory:");
  store.sync_servers({server("a"), server("b")});
  store.record_placement("alice", "a", 1000);
  store.record_placement("alice", "b", 2000);
  EXPECT_EQ(store.placement_of("alice", 1500), "b");
  store.record_placement("alice", "b", 10);  // shortening works too
  EXPECT_EQ(store.placement_of("alice", 100), std::nullopt);
}

// --- Host keys -------------------------------------------------------------------------------

TEST(SessionStoreHostKeys, FirstKeyWins) {
  SessionStore store(":memory:");
  store.sync_servers({server("a")});
  EXPECT_EQ(store.learned_host_key("a"), std::nullopt);
  const std::string key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJ3 root@a";
  store.learn_host_key("a", key);
  EXPECT_EQ(store.learned_host_key("a"), key);
  EXPECT_NO_THROW(store.learn_host_key("a", key));
  EXPECT_THROW(store.learn_host_key("a", "ssh-ed25519 AAAAother"), StoreError);
  EXPECT_EQ(store.learned_host_key("a"), key);
}

TEST(SessionStoreHostKeys, KeptWhileEndpointIsUnchanged) {
  SessionStore store(":memory:");
  store.sync_servers({server("a", "10.0.0.1", 22), server("b", "10.0.0.2", 22),
                      server("c", "10.0.0.3", 22)});
  for (const char* name : {"a", "b", "c"}) store.learn_host_key(name, "key");
  store.sync_servers({server("a", "10.0.0.1", 22, 5.0), server("b", "10.0.0.22", 22),
                      server("c", "10.0.0.3", 2222)});
  EXPECT_EQ(store.learned_host_key("a"), "key");
  EXPECT_EQ(store.learned_host_key("b"), std::nullopt);
  EXPECT_EQ(store.learned_host_key("c"), std::nullopt);
}

// --- Hostile input ---------------------------------------------------------------------------

TEST(SessionStoreHostile, InjectionLikeStringsAreStoredVerbatim) {
  SessionStore store(":memory:");
  const std::string evil = "x'); DROP TABLE servers;--";
  const std::string quotes = "O'Brien \"q\" `b` \\ %_ ?1 :name";
  store.sync_servers({server(evil, quotes), server(quotes)});
  store.replace_sessions(evil, {session(evil, quotes, 'S'), session(quotes, evil)});
  store.record_placement(evil, quotes, 100);
  store.learn_host_key(evil, quotes);
  store.set_health(evil, ServerHealth::Stale);

  const auto servers = store.servers();
  ASSERT_EQ(servers.size(), 2u);
  EXPECT_EQ(servers[0].name, quotes);  // 'O' < 'x'
  EXPECT_EQ(servers[1].name, evil);
  EXPECT_EQ(servers[1].health, ServerHealth::Stale);
  EXPECT_THAT(session_ids(store.sessions_of(quotes)), ElementsAre(evil + "/" + evil));
  EXPECT_THAT(session_ids(store.sessions_of(evil)), ElementsAre(evil + "/" + quotes));
  EXPECT_EQ(store.placement_of(evil, 0), quotes);
  EXPECT_EQ(store.learned_host_key(evil), quotes);
  EXPECT_THAT(store.sessions_of("%"), IsEmpty());  // no LIKE semantics
}

TEST(SessionStoreHostile, EmptyAndNonAsciiStringsRoundTrip) {
  SessionStore store(":memory:");
  const std::string name = "s\xC3\xA9rveur-\xE2\x82\xAC";
  store.sync_servers({server(name, "")});
  store.replace_sessions(name, {session("", "j\xC3\xBCrgen")});
  EXPECT_THAT(session_ids(store.sessions_of("j\xC3\xBCrgen")), ElementsAre(name + "/"));
  EXPECT_THAT(store.sessions_of("jurgen"), IsEmpty());
}

// --- Concurrency -----------------------------------------------------------------------------

TEST(SessionStoreConcurrency, FourThreadsShareOneStore) {
  TempDir dir;
  SessionStore store(dir.file("state.db"));
  store.sync_servers({server("a"), server("b"), server("c"), server("d")});
  constexpr int kThreads = 4;
  constexpr int kRounds = 200;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      const std::string own = std::string(1, static_cast<char>('a' + t));
      const std::string user = "user" + std::to_string(t);
      try {
        for (int i = 0; i < kRounds; ++i) {
          store.replace_sessions(own, {session("s" + std::to_string(i), user)});
          store.record_placement(user, own, 1000 + i);
          store.record_report(own, i, i);
          if (store.sessions_of(user).size() != 1) ++failures;
          if (store.placement_of(user, 999) != own) ++failures;
          if (store.servers().size() != kThreads) ++failures;
        }
      } catch (const StoreError&) {
        ++failures;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  for (int t = 0; t < kThreads; ++t) {
    const auto sessions = store.sessions_of("user" + std::to_string(t));
    ASSERT_EQ(sessions.size(), 1u);
    EXPECT_EQ(sessions[0].session_id, "s" + std::to_string(kRounds - 1));
  }
}

TEST(SessionStoreConcurrency, TwoConnectionsToOneFileWaitForEachOther) {
  TempDir dir;
  const std::string path = dir.file("state.db");
  SessionStore first(path);
  SessionStore second(path);
  first.sync_servers({server("a"), server("b")});
  std::atomic<int> failures{0};
  auto writer = [&](SessionStore& store, const std::string& own) {
    try {
      for (int i = 0; i < 200; ++i) {
        store.replace_sessions(own, {session("s" + std::to_string(i), "u" + own)});
      }
    } catch (const StoreError&) {
      ++failures;
    }
  };
  std::thread t1(writer, std::ref(first), "a");
  std::thread t2(writer, std::ref(second), "b");
  t1.join();
  t2.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_THAT(session_ids(second.sessions_of("ua")), ElementsAre("a/s199"));
  EXPECT_THAT(session_ids(first.sessions_of("ub")), ElementsAre("b/s199"));
}

}  // namespace
}  // namespace x2gojump
