// x2golistsessions output parsing, X2Go timestamps, row validation and the command fallback.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <random>
#include <string>

#include "agent/sessions/CommandRunner.h"
#include "agent/sessions/ListSessionsParser.h"
#include "agent/sessions/SessionSource.h"
#include "agent/sessions/X2goTime.h"

namespace x2gojump {
namespace {

using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::SizeIs;
using ::testing::StartsWith;

constexpr const char* kCookie = "b50f3193df8606ef4cd6e4c83f16c4ee";

// The example row of docs/x2go-over-ssh.md §4, as x2golistsessions_root prints it on host "vm".
std::vector<std::string> example_fields() {
  return {"8916",
          "x2gotest-50-1795640822_stRxterm_dp24",
          "50",
          "vm",
          "S",
          "2026-11-25T21:07:02",
          kCookie,
          "127.0.0.1",
          "39424",
          "39425",
          "2026-11-25T21:07:38",
          "x2gotest",
          "40",
          "39426",
          "-1",
          "-1"};
}

// The example row with some fields replaced (by 0-based index), joined with '|'.
std::string row(const std::map<int, std::string>& changes = {},
                std::vector<std::string> fields = example_fields()) {
  for (const auto& [index, value] : changes) fields[static_cast<std::size_t>(index)] = value;
  std::string line;
  for (std::size_t i = 0; i < fields.size(); ++i) line += (i ? "|" : "") + fields[i];
  return line;
}

enum : int {
  kPid = 0,
  kId = 1,
  kDisplay = 2,
  kServer = 3,
  kStatus = 4,
  kCreated = 5,
  kLast = 10,
  kUser = 11
};

SessionListing parse(std::string_view output) {
  return parse_list_sessions(output, "vm", TimeBase::Utc);
}

// The one problem a single-line output produced, or a failure if it did not produce exactly one.
std::string only_problem(const std::string& line) {
  SessionListing listing = parse(line + "\n");
  EXPECT_THAT(listing.sessions, IsEmpty()) << line;
  EXPECT_THAT(listing.problems, SizeIs(1)) << line;
  return listing.problems.empty() ? "" : listing.problems.front();
}

TEST(ListSessionsParser, ParsesTheDocumentedExample) {
  SessionListing listing = parse(row() + "\n");
  EXPECT_THAT(listing.problems, IsEmpty());
  ASSERT_THAT(listing.sessions, SizeIs(1));
  const SnapshotSession& session = listing.sessions[0];
  EXPECT_EQ(session.session_id, "x2gotest-50-1795640822_stRxterm_dp24");
  EXPECT_EQ(session.user, "x2gotest");
  EXPECT_EQ(session.status, 'S');
  EXPECT_EQ(session.display, 50);
  EXPECT_EQ(session.created, 1795640822);  // the session id embeds the same instant
  EXPECT_EQ(session.last_change, 1795640858);
}

TEST(ListSessionsParser, EmptyAndBlankOutputHasNoSessionsAndNoProblems) {
  for (std::string_view output : {"", "\n", "\n\n\n", "\r\n", "\r\n\r\n"}) {
    SessionListing listing = parse(output);
    EXPECT_THAT(listing.sessions, IsEmpty());
    EXPECT_THAT(listing.problems, IsEmpty());
  }
}

TEST(ListSessionsParser, AcceptsMissingFinalNewlineAndCrLf) {
  EXPECT_THAT(parse(row()).sessions, SizeIs(1));
  EXPECT_THAT(parse(row() + "\r\n").sessions, SizeIs(1));
  SessionListing listing = parse(row({{kId, "a-51-1"}, {kDisplay, "51"}}) + "\r\n" + row());
  EXPECT_THAT(listing.sessions, SizeIs(2));
  EXPECT_THAT(listing.problems, IsEmpty());
}

TEST(ListSessionsParser, KeepsRunningAndSuspendedSkipsFinished) {
  std::string output = row({{kId, "u-50-1"}, {kDisplay, "50"}, {kStatus, "R"}}) + "\n" +
                       row({{kId, "u-51-1"}, {kDisplay, "51"}, {kStatus, "S"}}) + "\n" +
                       row({{kId, "u-52-1"}, {kDisplay, "52"}, {kStatus, "F"}}) + "\n";
  SessionListing listing = parse(output);
  EXPECT_THAT(listing.problems, IsEmpty());
  ASSERT_THAT(listing.sessions, SizeIs(2));
  EXPECT_EQ(listing.sessions[0].status, 'R');
  EXPECT_EQ(listing.sessions[1].status, 'S');
}

TEST(ListSessionsParser, FinishedRowsAreSkippedEvenWhenOtherwiseMalformed) {
  // x2golistsessions_root prints F rows of purged sessions with empty ports and cookie.
  SessionListing listing = parse(row({{kStatus, "F"}, {kDisplay, "x"}, {6, ""}}) + "\n");
  EXPECT_THAT(listing.sessions, IsEmpty());
  EXPECT_THAT(listing.problems, IsEmpty());
}

TEST(ListSessionsParser, SkipsOtherServersExactMatchOnly) {
  for (std::string server : {"vm2", "VM", "v", "", " vm", "vm ", "x2go-host-1"}) {
    SessionListing listing = parse(row({{kServer, server}}) + "\n");
    EXPECT_THAT(listing.sessions, IsEmpty()) << server;
    EXPECT_THAT(listing.problems, IsEmpty()) << server;
  }
}

TEST(ListSessionsParser, AcceptsTheFourteenFieldFormatOfOlderX2goServer) {
  auto fields = example_fields();
  fields.resize(14);
  SessionListing listing = parse(row({}, fields) + "\n");
  EXPECT_THAT(listing.problems, IsEmpty());
  EXPECT_THAT(listing.sessions, SizeIs(1));
}

TEST(ListSessionsParser, RejectsWrongFieldCounts) {
  for (std::size_t count : {1u, 2u, 12u, 13u, 15u, 17u, 32u}) {
    auto fields = example_fields();
    fields.resize(count, "extra");
    EXPECT_THAT(only_problem(row({}, fields)),
                AllOf(StartsWith("line 1: "), HasSubstr("got " + std::to_string(count))));
  }
  EXPECT_THAT(only_problem(" "), HasSubstr("got 1"));
  EXPECT_THAT(only_problem("garbage"), HasSubstr("got 1"));
  EXPECT_THAT(only_problem(row() + "|"), HasSubstr("got 17"));
  EXPECT_THAT(only_problem("|" + row()), HasSubstr("got 17"));
}

TEST(ListSessionsParser, SixteenEmptyFieldsAreNotOurServer) {
  // Empty server column: not "vm", so skipped rather than reported.
  SessionListing listing = parse(std::string(15, '|') + "\n");
  EXPECT_THAT(listing.sessions, IsEmpty());
  EXPECT_THAT(listing.problems, IsEmpty());
  EXPECT_THAT(parse_list_sessions(std::string(15, '|'), "", TimeBase::Utc).problems, SizeIs(1));
}

TEST(ListSessionsParser, RejectsBadDisplays) {
  for (std::string display : std::vector<std::string>{"", "abc", "-1", "+5", " 50", "50 ", "5.0",
                                                      "0x10", "5e1", "99999999999", "2147483648",
                                                      "65536", std::string("5\0", 2), "٥٠"}) {
    EXPECT_THAT(only_problem(row({{kDisplay, display}})), HasSubstr("display")) << display;
  }
}

TEST(ListSessionsParser, AcceptsDisplayBounds) {
  EXPECT_EQ(parse(row({{kDisplay, "0"}})).sessions.at(0).display, 0);
  EXPECT_EQ(parse(row({{kDisplay, "65535"}})).sessions.at(0).display, 65535);
  EXPECT_EQ(parse(row({{kDisplay, "007"}})).sessions.at(0).display, 7);
}

TEST(ListSessionsParser, RejectsBadStatuses) {
  for (std::string status : {"", "r", "s", "f", "RS", "X", " R", "R ", "RR", "1"}) {
    EXPECT_THAT(only_problem(row({{kStatus, status}})), HasSubstr("status")) << status;
  }
}

TEST(ListSessionsParser, RejectsBadTimestampsInEitherColumn) {
  for (std::string time : {"",
                           "2026-11-25 21:07:02",
                           "2026-11-25T21:07",
                           "2026-11-25T21:07:02Z",
                           "2026-11-25T21:07:02.5",
                           "26-11-25T21:07:02",
                           "2026/11/25T21:07:02",
                           "2026-13-01T00:00:00",
                           "2026-00-01T00:00:00",
                           "2026-11-00T00:00:00",
                           "2026-02-29T00:00:00",
                           "1900-02-29T00:00:00",
                           "2026-04-31T00:00:00",
                           "2026-11-25T24:00:00",
                           "2026-11-25T23:60:00",
                           "2026-11-25T23:59:60",
                           "1969-12-31T23:59:59",
                           "0000-01-01T00:00:00",
                           "+026-11-25T21:07:02",
                           "2026-1-25T21:07:02Z",
                           "2026-11-25t21:07:02",
                           "2026-11-25T2a:07:02",
                           "１０２６-11-25T21:07:02"}) {
    EXPECT_THAT(only_problem(row({{kCreated, time}})), HasSubstr("created time")) << time;
    EXPECT_THAT(only_problem(row({{kLast, time}})), HasSubstr("last change time")) << time;
  }
}

TEST(X2goTime, ConvertsUtcCalendarDates) {
  EXPECT_EQ(parse_x2go_time("1970-01-01T00:00:00", TimeBase::Utc), 0);
  EXPECT_EQ(parse_x2go_time("2000-02-29T00:00:00", TimeBase::Utc), 951782400);
  EXPECT_EQ(parse_x2go_time("2024-02-29T12:00:00", TimeBase::Utc), 1709208000);
  EXPECT_EQ(parse_x2go_time("9999-12-31T23:59:59", TimeBase::Utc), 253402300799);
  EXPECT_EQ(parse_x2go_time("2023-02-29T12:00:00", TimeBase::Utc), std::nullopt);
}

// X2Go stores local wall-clock time; the agent converts with the process's time zone.
TEST(X2goTime, LocalTimeUsesTheProcessTimeZone) {
  const char* saved = std::getenv("TZ");
  std::string saved_tz = saved ? saved : "";
  ::setenv("TZ", "UTC-2", 1);  // POSIX sign: two hours east of UTC
  ::tzset();
  auto local = parse_x2go_time("2026-11-25T23:07:02", TimeBase::Local);
  ::setenv("TZ", "UTC0", 1);
  ::tzset();
  auto utc_zone = parse_x2go_time("2026-11-25T21:07:02", TimeBase::Local);
  if (saved) {
    ::setenv("TZ", saved_tz.c_str(), 1);
  } else {
    ::unsetenv("TZ");
  }
  ::tzset();
  EXPECT_EQ(local, 1795640822);
  EXPECT_EQ(utc_zone, 1795640822);
}

// The broker refuses a whole snapshot over one bad string, so these rows must be left out here.
TEST(ListSessionsParser, AppliesTheBrokersRulesToSessionIds) {
  EXPECT_THAT(only_problem(row({{kId, ""}})), HasSubstr("session id is empty"));
  EXPECT_THAT(only_problem(row({{kId, std::string(513, 'a')}})), HasSubstr("longer than 512"));
  EXPECT_THAT(parse(row({{kId, std::string(512, 'a')}})).sessions, SizeIs(1));
  for (std::string id : std::vector<std::string>{"a b", "a\tb", std::string("a\0b", 3), "a\x7f",
                                                 "\xff", "j\xc3\xbcrgen-50-1", "a\x1b[31m"}) {
    EXPECT_THAT(only_problem(row({{kId, id}})), HasSubstr("session id is not printable")) << id;
  }
  EXPECT_THAT(parse(row({{kId, "u-50-1795640822_stRxterm_dp24"}})).sessions, SizeIs(1));
  EXPECT_THAT(parse(row({{kId, "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{}~"}})).sessions, SizeIs(1));
}

TEST(ListSessionsParser, AppliesTheBrokersRulesToUsers) {
  EXPECT_THAT(only_problem(row({{kUser, ""}})), HasSubstr("user is empty"));
  EXPECT_THAT(only_problem(row({{kUser, std::string(33, 'a')}})), HasSubstr("longer than 32"));
  EXPECT_THAT(parse(row({{kUser, std::string(32, 'a')}})).sessions, SizeIs(1));
  EXPECT_THAT(only_problem(row({{kUser, "-x"}})), HasSubstr("starts with"));
  EXPECT_THAT(only_problem(row({{kUser, ".x"}})), HasSubstr("starts with"));
  for (std::string user : std::vector<std::string>{"a b", "a\tb", std::string("a\0b", 3), "a\x7f",
                                                   "\xff", "j\xc3\xbcrgen", "a@b", "a/b", "a*"}) {
    EXPECT_THAT(only_problem(row({{kUser, user}})), HasSubstr("not a portable login name")) << user;
  }
  for (std::string user : {"x2gotest", "user.name-1_x", "A", "9", "x-", "x."}) {
    EXPECT_THAT(parse(row({{kUser, user}})).sessions, SizeIs(1)) << user;
  }
}

TEST(ListSessionsParser, KeepsTheFirstOfDuplicateSessionIds) {
  SessionListing listing = parse(row({{kDisplay, "50"}}) + "\n" + row({{kDisplay, "51"}}) + "\n");
  ASSERT_THAT(listing.sessions, SizeIs(1));
  EXPECT_EQ(listing.sessions[0].display, 50);
  EXPECT_THAT(listing.problems, ElementsAre("line 2: duplicate session id"));
}

TEST(ListSessionsParser, ProblemsNameTheLineAndNeverQuoteTheRow) {
  // Shifted columns put the cookie where the display belongs.
  std::string output = row() + "\n\n" + row({{kDisplay, kCookie}, {kId, "other"}}) + "\n" +
                       kCookie + "|" + kCookie + "\n";
  SessionListing listing = parse(output);
  EXPECT_THAT(listing.sessions, SizeIs(1));
  ASSERT_THAT(listing.problems, SizeIs(2));
  EXPECT_THAT(listing.problems[0], StartsWith("line 3: "));
  EXPECT_THAT(listing.problems[1], StartsWith("line 4: "));
  for (const std::string& problem : listing.problems) {
    EXPECT_THAT(problem, Not(HasSubstr(kCookie)));
  }
}

TEST(ListSessionsParser, CapsTheNumberOfSessions) {
  std::string output;
  for (int i = 0; i < 10005; ++i) {
    output += row({{kId, "u-" + std::to_string(i)}, {kDisplay, std::to_string(i)}}) + "\n";
  }
  SessionListing listing = parse(output);
  EXPECT_THAT(listing.sessions, SizeIs(10000));
  EXPECT_THAT(listing.problems, ElementsAre(AllOf(StartsWith("line 10001: "),
                                                  HasSubstr("more than 10000 sessions"))));
}

// Random bytes and random mutations of a valid row: never a crash, every kept session valid.
TEST(ListSessionsParser, SurvivesRandomInput) {
  std::mt19937 random(12345);
  std::uniform_int_distribution<int> byte(0, 255);
  const std::string valid = row();
  const std::string alphabet = "|\n\r0123456789-:TRSF vm\xff\xc3";
  for (int round = 0; round < 3000; ++round) {
    std::string text = valid + "\n" + valid + "\n";
    int edits = 1 + round % 8;
    for (int e = 0; e < edits; ++e) {
      std::size_t at = static_cast<std::size_t>(random()) % text.size();
      switch (random() % 3) {
        case 0:
          text[at] = alphabet[static_cast<std::size_t>(random()) % alphabet.size()];
          break;
        case 1:
          text.erase(at, 1 + static_cast<std::size_t>(random()) % 5);
          break;
        default:
          text.insert(at, 1, static_cast<char>(byte(random)));
          break;
      }
      if (text.empty()) text = "|";
    }
    SessionListing listing = parse(text);
    EXPECT_LE(listing.sessions.size(), 2u);
    for (const SnapshotSession& session : listing.sessions) {
      EXPECT_FALSE(session.session_id.empty());
      EXPECT_FALSE(session.user.empty());
      EXPECT_TRUE(session.status == 'R' || session.status == 'S');
      EXPECT_GE(session.display, 0);
    }
  }
}

TEST(X2goSqlBackend, ReadsTheBackendLine) {
  EXPECT_EQ(parse_x2gosql_backend(""), "sqlite");
  EXPECT_EQ(parse_x2gosql_backend("backend=sqlite\n"), "sqlite");
  EXPECT_EQ(parse_x2gosql_backend("backend=postgres\n"), "postgres");
  EXPECT_EQ(parse_x2gosql_backend("# backend=postgres\nbackend=sqlite"), "sqlite");
  EXPECT_EQ(parse_x2gosql_backend("  backend = PostgreS  # the farm DB\r\n"), "postgres");
  EXPECT_EQ(parse_x2gosql_backend("[postgres]\nhost=db\nport=5432\n"), "sqlite");
  EXPECT_EQ(parse_x2gosql_backend("backends=postgres\nxbackend=postgres"), "sqlite");
  EXPECT_EQ(parse_x2gosql_backend("backend=postgres\nbackend=sqlite\n"), "sqlite");
}

TEST(CommandRunner, CapturesOutputOfASuccessfulProgram) {
  std::string out;
  EXPECT_EQ(run_command({"/bin/echo", "a|b"}, {}, &out), "");
  EXPECT_EQ(out, "a|b\n");
  EXPECT_EQ(run_command({"/bin/sh", "-c", "printf x; printf y >&2"}, {}, &out), "");
  EXPECT_EQ(out, "x");
}

TEST(CommandRunner, ReportsFailures) {
  std::string out = "stale";
  EXPECT_THAT(run_command({"/bin/sh", "-c", "echo secret; exit 3"}, {}, &out),
              AllOf(HasSubstr("exited with status 3"), Not(HasSubstr("secret"))));
  EXPECT_EQ(out, "");
  EXPECT_THAT(run_command({"/nonexistent/x2golistsessions_root"}, {}, &out),
              HasSubstr("cannot run"));
  EXPECT_THAT(run_command({"sh", "-c", "true"}, {}, &out), HasSubstr("absolute path"));
  EXPECT_THAT(run_command({}, {}, &out), HasSubstr("absolute path"));
  EXPECT_THAT(run_command({"/bin/sh", "-c", "kill -TERM $$"}, {}, &out),
              HasSubstr("killed by signal 15"));
}

TEST(CommandRunner, KillsTheProcessGroupOnTimeout) {
  CommandLimits limits;
  limits.timeout = std::chrono::milliseconds(200);
  std::string out;
  auto start = std::chrono::steady_clock::now();
  // The grandchild keeps stdout open; the whole group must die for the call to return.
  EXPECT_THAT(run_command({"/bin/sh", "-c", "sleep 30 & sleep 30"}, limits, &out),
              HasSubstr("timed out"));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  // Closed stdout but still running: the deadline holds too.
  EXPECT_THAT(run_command({"/bin/sh", "-c", "exec >&-; sleep 30"}, limits, &out),
              HasSubstr("timed out"));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TEST(CommandRunner, BoundsTheOutput) {
  CommandLimits limits;
  limits.max_output = 1000;
  std::string out;
  EXPECT_THAT(run_command({"/bin/sh", "-c", "head -c 1001 /dev/zero"}, limits, &out),
              HasSubstr("more than 1000 bytes"));
  EXPECT_EQ(out, "");
  EXPECT_EQ(run_command({"/bin/sh", "-c", "head -c 1000 /dev/zero"}, limits, &out), "");
  EXPECT_EQ(out.size(), 1000u);
  // An endless writer is stopped by the bound, not by the timeout.
  limits.max_output = 4 * 1024 * 1024;
  auto start = std::chrono::steady_clock::now();
  EXPECT_THAT(run_command({"/usr/bin/yes"}, limits, &out), HasSubstr("more than"));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TEST(CommandRunner, ChildGetsDefaultSignalDispositions) {
  // Ignored SIGPIPE in the agent must not leak into helpers (shell pipelines rely on it).
  std::string out;
  auto old = std::signal(SIGPIPE, SIG_IGN);
  std::string error = run_command({"/bin/sh", "-c", "grep SigIgn /proc/self/status"}, {}, &out);
  std::signal(SIGPIPE, old);
  EXPECT_EQ(error, "");
  // SIGPIPE is bit 13 (mask 0x1000); the shell itself ignores nothing else that matters here.
  unsigned long long mask = std::stoull(out.substr(out.find(':') + 1), nullptr, 16);
  EXPECT_EQ(mask & 0x1000ull, 0ull) << out;
}

TEST(SessionSource, FallsBackToTheCommandWhenTheBackendIsNotSqlite) {
  std::string dir = ::testing::TempDir();
  std::string sql = dir + "/xj_x2gosql_sql";
  std::string script = dir + "/xj_listsessions.sh";
  {
    std::FILE* f = std::fopen(sql.c_str(), "w");
    std::fputs("backend=postgres\n", f);
    std::fclose(f);
  }
  {
    std::FILE* f = std::fopen(script.c_str(), "w");
    std::fputs(("#!/bin/sh\necho '" + row() + "'\n").c_str(), f);
    std::fclose(f);
  }
  ASSERT_EQ(::chmod(script.c_str(), 0755), 0);
  SessionSourceOptions options;
  options.server_name = "vm";
  options.session_db = dir + "/does-not-matter";
  options.listsessions_command = {script};
  options.x2gosql_file = sql;
  options.time_base = TimeBase::Utc;
  SessionSource source(options);
  SessionListing listing;
  std::string error;
  ASSERT_TRUE(source.list(&listing, &error)) << error;
  ASSERT_THAT(listing.sessions, SizeIs(1));
  EXPECT_EQ(listing.sessions[0].created, 1795640822);

  options.listsessions_command = {"/bin/false"};
  SessionSource failing(options);
  EXPECT_FALSE(failing.list(&listing, &error));
  EXPECT_THAT(error, AllOf(HasSubstr("not sqlite"), HasSubstr("exited with status 1")));
}

TEST(SessionSource, FallsBackToTheCommandWhenTheDbCannotBeOpened) {
  std::string dir = ::testing::TempDir();
  SessionSourceOptions options;
  options.server_name = "vm";
  options.session_db = dir + "/xj-no-such-db";
  options.listsessions_command = {"/bin/true"};
  options.x2gosql_file = dir + "/xj-no-such-sql-file";  // missing: sqlite, X2Go's default
  SessionSource source(options);
  SessionListing listing;
  listing.problems.push_back("stale");
  std::string error;
  ASSERT_TRUE(source.list(&listing, &error)) << error;
  EXPECT_THAT(listing.sessions, IsEmpty());
  EXPECT_THAT(listing.problems, IsEmpty());
}

}  // namespace
}  // namespace x2gojump
