// SessionDbReader against a DB with X2Go's real schema (docs/x2go-over-ssh.md §4).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "agent/sessions/SessionDbReader.h"
#include "agent/sessions/SessionSource.h"

namespace x2gojump {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;
using ::testing::StartsWith;

// `sqlite3 /var/lib/x2go/x2go_sessions .schema` on Debian 12's x2goserver.
constexpr const char* kX2goSchema = R"sql(
CREATE TABLE sessions(session_id varchar(500) primary key, display integer not null, uname varchar(100) not null,
  server varchar(100) not null, client inet, status char(1) not null default 'R',
  init_time timestamp not null default CURRENT_TIMESTAMP, last_time timestamp not null default CURRENT_TIMESTAMP,
  cookie char(33), agent_pid int, gr_port int, sound_port int, fs_port int, tekictrl_port int, tekidata_port int,
  unique(display));
CREATE TABLE messages(mess_id varchar(20) primary key, message text);
CREATE TABLE user_messages(mess_id varchar(20) not null, uname varchar(100) not null);
CREATE TABLE used_ports(server varchar(100) not null, session_id varchar(500) references sessions on delete cascade, port integer primary key);
CREATE TABLE mounts(session_id varchar(500) references sessions on delete restrict, path varchar(512) not null, client inet not null, primary key(path,client));
)sql";

// A writable connection playing X2Go's part.
class X2goDb {
 public:
  explicit X2goDb(const std::string& path) {
    EXPECT_EQ(sqlite3_open(path.c_str(), &db_), SQLITE_OK);
    exec(kX2goSchema);
  }
  ~X2goDb() { sqlite3_close(db_); }

  void exec(const std::string& sql) {
    char* message = nullptr;
    int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &message);
    EXPECT_EQ(rc, SQLITE_OK) << (message ? message : "") << " in " << sql;
    sqlite3_free(message);
  }

  // The columns x2goinsertsession and x2gocreatesession fill; times as X2Go writes them
  // (datetime('now','localtime'): a blank between date and time).
  void insert(const std::string& id, int display, const std::string& user,
              const std::string& server, const std::string& status,
              const std::string& init_time = "2026-11-25 21:07:02",
              const std::string& last_time = "2026-11-25 21:07:38") {
    sqlite3_stmt* statement = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(db_,
                                 "INSERT INTO sessions (session_id, display, uname, server, status,"
                                 " init_time, last_time, cookie, agent_pid, client, gr_port)"
                                 " VALUES (?, ?, ?, ?, ?, ?, ?, 'b50f3193df8606ef4cd6e4c83f16c4ee',"
                                 " 8916, '127.0.0.1', 39424)",
                                 -1, &statement, nullptr),
              SQLITE_OK);
    sqlite3_bind_text(statement, 1, id.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(statement, 2, display);
    sqlite3_bind_text(statement, 3, user.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(statement, 4, server.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(statement, 5, status.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(statement, 6, init_time.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(statement, 7, last_time.c_str(), -1, SQLITE_TRANSIENT);
    EXPECT_EQ(sqlite3_step(statement), SQLITE_DONE) << sqlite3_errmsg(db_);
    sqlite3_finalize(statement);
  }

 private:
  sqlite3* db_ = nullptr;
};

class SessionDbTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(::testing::TempDir()) /
           ("xj-session-db-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "x2go_sessions").string();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::unique_ptr<SessionDbReader> open_reader(const std::string& path) {
    std::string error;
    auto reader = SessionDbReader::open(path, &error, std::chrono::milliseconds(100));
    EXPECT_TRUE(reader) << error;
    return reader;
  }

  SessionListing read(SessionDbReader& reader, const std::string& server = "vm") {
    SessionListing listing;
    std::string error;
    EXPECT_TRUE(reader.read(server, TimeBase::Utc, &listing, &error)) << error;
    return listing;
  }

  std::filesystem::path dir_;
  std::string path_;
};

std::string file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

TEST_F(SessionDbTest, ReadsRunningAndSuspendedSessionsOfThisServer) {
  X2goDb x2go(path_);
  x2go.insert("x2gotest-50-1795640822_stRxterm_dp24", 50, "x2gotest", "vm", "R");
  x2go.insert("x2gotest-51-1795640822_stDxfce_dp24", 51, "x2gotest", "vm", "S");
  x2go.insert("x2gotest-52-1795640822_stRxterm_dp24", 52, "x2gotest", "vm", "F");
  x2go.insert("other-53-1795640822_stRxterm_dp24", 53, "other", "x2go-host-2", "R");
  auto reader = open_reader(path_);
  ASSERT_TRUE(reader);
  SessionListing listing = read(*reader);
  EXPECT_THAT(listing.problems, IsEmpty());
  ASSERT_THAT(listing.sessions, SizeIs(2));
  const SnapshotSession& running =
      listing.sessions[0].status == 'R' ? listing.sessions[0] : listing.sessions[1];
  EXPECT_EQ(running.session_id, "x2gotest-50-1795640822_stRxterm_dp24");
  EXPECT_EQ(running.user, "x2gotest");
  EXPECT_EQ(running.display, 50);
  EXPECT_EQ(running.created, 1795640822);
  EXPECT_EQ(running.last_change, 1795640858);
  EXPECT_THAT(read(*reader, "x2go-host-2").sessions, SizeIs(1));
  EXPECT_THAT(read(*reader, "nobody").sessions, IsEmpty());
}

TEST_F(SessionDbTest, ServerNameIsABoundParameter) {
  X2goDb x2go(path_);
  x2go.insert("a-50-1", 50, "a", "vm", "R");
  auto reader = open_reader(path_);
  ASSERT_TRUE(reader);
  EXPECT_THAT(read(*reader, "x' OR '1'='1").sessions, IsEmpty());
  EXPECT_THAT(read(*reader, "vm").sessions, SizeIs(1));
}

TEST_F(SessionDbTest, AcceptsTimestampFormsSqliteUnderstands) {
  X2goDb x2go(path_);
  x2go.insert("a-50-1", 50, "a", "vm", "R", "2026-11-25T21:07:02", "2026-11-25 21:07:38.123");
  auto reader = open_reader(path_);
  ASSERT_TRUE(reader);
  SessionListing listing = read(*reader);
  ASSERT_THAT(listing.sessions, SizeIs(1));
  EXPECT_EQ(listing.sessions[0].created, 1795640822);
  EXPECT_EQ(listing.sessions[0].last_change, 1795640858);
}

TEST_F(SessionDbTest, ReportsInvalidRowsAndKeepsTheRest) {
  X2goDb x2go(path_);
  x2go.insert("a-50-1", 50, "a", "vm", "R");
  x2go.insert("b-51-1", 51, "b", "vm", "R", "yesterday");
  x2go.insert("c-52-1", 52, "", "vm", "S");
  x2go.exec(
      "INSERT INTO sessions (session_id, display, uname, server, status, init_time,"
      " last_time) VALUES ('d-53-1', 'fifty', 'd', 'vm', 'R', '2026-11-25 21:07:02',"
      " '2026-11-25 21:07:02')");
  auto reader = open_reader(path_);
  ASSERT_TRUE(reader);
  SessionListing listing = read(*reader);
  ASSERT_THAT(listing.sessions, SizeIs(1));
  EXPECT_EQ(listing.sessions[0].session_id, "a-50-1");
  ASSERT_THAT(listing.problems, SizeIs(3));
  for (const std::string& problem : listing.problems) EXPECT_THAT(problem, StartsWith("row "));
}

TEST_F(SessionDbTest, SeesChangesOfOtherConnections) {
  X2goDb x2go(path_);
  auto reader = open_reader(path_);
  ASSERT_TRUE(reader);
  EXPECT_THAT(read(*reader).sessions, IsEmpty());
  x2go.insert("a-50-1", 50, "a", "vm", "R");
  EXPECT_THAT(read(*reader).sessions, SizeIs(1));
  x2go.exec("UPDATE sessions SET status = 'S' WHERE session_id = 'a-50-1'");
  ASSERT_THAT(read(*reader).sessions, SizeIs(1));
  EXPECT_EQ(read(*reader).sessions[0].status, 'S');
  x2go.exec("UPDATE sessions SET status = 'F' WHERE session_id = 'a-50-1'");
  EXPECT_THAT(read(*reader).sessions, IsEmpty());
}

TEST_F(SessionDbTest, NeverWritesTheDb) {
  {
    X2goDb x2go(path_);
    x2go.insert("a-50-1", 50, "a", "vm", "R");
  }
  std::string before = file_bytes(path_);
  auto reader = open_reader(path_);
  ASSERT_TRUE(reader);
  for (int i = 0; i < 3; ++i) read(*reader);
  reader.reset();
  EXPECT_EQ(file_bytes(path_), before);
  EXPECT_FALSE(std::filesystem::exists(path_ + "-journal"));
  EXPECT_FALSE(std::filesystem::exists(path_ + "-wal"));
}

TEST_F(SessionDbTest, DoesNotCreateAMissingDb) {
  std::string error;
  EXPECT_FALSE(SessionDbReader::open(path_, &error));
  EXPECT_THAT(error, HasSubstr("cannot open session DB " + path_));
  EXPECT_FALSE(std::filesystem::exists(path_));
}

TEST_F(SessionDbTest, RejectsFilesThatAreNotX2goDbs) {
  std::ofstream(path_) << "this is not a database, it is a text file of some length......\n";
  std::string error;
  EXPECT_FALSE(SessionDbReader::open(path_, &error));
  EXPECT_THAT(error, HasSubstr("cannot open session DB"));

  std::string other = (dir_ / "other.db").string();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(other.c_str(), &db), SQLITE_OK);
  sqlite3_exec(db, "CREATE TABLE unrelated(x)", nullptr, nullptr, nullptr);
  sqlite3_close(db);
  EXPECT_FALSE(SessionDbReader::open(other, &error));
  EXPECT_THAT(error, HasSubstr("no such table: sessions"));
}

TEST_F(SessionDbTest, ReadFailsWhileX2goHoldsAnExclusiveLockThenRecovers) {
  X2goDb x2go(path_);
  x2go.insert("a-50-1", 50, "a", "vm", "R");
  auto reader = open_reader(path_);
  ASSERT_TRUE(reader);
  x2go.exec("BEGIN EXCLUSIVE");
  x2go.exec("UPDATE sessions SET status = 'S'");
  SessionListing listing;
  std::string error;
  EXPECT_FALSE(reader->read("vm", TimeBase::Utc, &listing, &error));
  EXPECT_THAT(error, HasSubstr("locked"));
  x2go.exec("COMMIT");
  listing = read(*reader);
  ASSERT_THAT(listing.sessions, SizeIs(1));
  EXPECT_EQ(listing.sessions[0].status, 'S');
}

TEST_F(SessionDbTest, OpensPathsWithUriSpecialCharacters) {
  std::string odd = (dir_ / "x2go?mode=rwc#%41 sessions").string();
  {
    X2goDb x2go(odd);
    x2go.insert("a-50-1", 50, "a", "vm", "R");
  }
  auto reader = open_reader(odd);
  ASSERT_TRUE(reader);
  EXPECT_THAT(read(*reader).sessions, SizeIs(1));
}

TEST(ReadOnlyUri, EscapesWhatWouldEndOrEscapeThePath) {
  EXPECT_EQ(read_only_uri("/var/lib/x2go/x2go_sessions"),
            "file:/var/lib/x2go/x2go_sessions?mode=ro");
  EXPECT_EQ(read_only_uri("/a?b#c%d e"), "file:/a%3Fb%23c%25d e?mode=ro");
  EXPECT_EQ(read_only_uri(std::string("/a\nb\xc3\xa9", 6)), "file:/a%0Ab%C3%A9?mode=ro");
}

TEST_F(SessionDbTest, SourcePrefersTheDbWhenTheBackendIsSqlite) {
  X2goDb x2go(path_);
  x2go.insert("a-50-1", 50, "a", "vm", "R");
  std::string sql = (dir_ / "sql").string();
  std::ofstream(sql) << "backend=sqlite\n";
  SessionSourceOptions options;
  options.server_name = "vm";
  options.session_db = path_;
  options.listsessions_command = {"/bin/false"};  // would fail if it were used
  options.x2gosql_file = sql;
  SessionSource source(options);
  SessionListing listing;
  std::string error;
  ASSERT_TRUE(source.list(&listing, &error)) << error;
  EXPECT_THAT(listing.sessions, SizeIs(1));
}

TEST_F(SessionDbTest, SourceReopensADbFileThatWasReplaced) {
  {
    X2goDb x2go(path_);
    x2go.insert("old-50-1", 50, "a", "vm", "R");
  }
  SessionSourceOptions options;
  options.server_name = "vm";
  options.session_db = path_;
  options.listsessions_command = {"/bin/false"};
  options.x2gosql_file = (dir_ / "no-sql-file").string();
  SessionSource source(options);
  SessionListing listing;
  std::string error;
  ASSERT_TRUE(source.list(&listing, &error)) << error;
  ASSERT_THAT(listing.sessions, SizeIs(1));
  EXPECT_EQ(listing.sessions[0].session_id, "old-50-1");

  std::string replacement = (dir_ / "restored").string();
  {
    X2goDb x2go(replacement);
    x2go.insert("new-51-1", 51, "a", "vm", "R");
  }
  std::filesystem::rename(replacement, path_);
  ASSERT_TRUE(source.list(&listing, &error)) << error;
  ASSERT_THAT(listing.sessions, SizeIs(1));
  EXPECT_EQ(listing.sessions[0].session_id, "new-51-1");

  std::filesystem::remove(path_);
  EXPECT_FALSE(source.list(&listing, &error));
  EXPECT_THAT(error, HasSubstr("cannot open session DB"));
}

}  // namespace
}  // namespace x2gojump
