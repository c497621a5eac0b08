// Pre-auth protections end to end, against the real broker: the login grace time, max auth
// attempts, per-source penalties (and the loopback exemption they have by default), the per-source
// cap on unauthenticated connections, and the file-descriptor budget. Each test uses its own
// loopback source addresses (127.0.0.N) so one source's penalty cannot leak into another test.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sys/resource.h>

#include <string>

#include "tests/fixtures/LocalUsers.h"
#include "tests/fixtures/Process.h"
#include "tests/fixtures/RawClient.h"
#include "tests/fixtures/TestEnv.h"
#include "tests/fixtures/Testbed.h"

namespace x2gojump::test {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// One connection, one password attempt as user from source (paramiko probe): "ok", "denied", or
// "error" when the broker closed the connection before its banner.
std::string try_login(std::uint16_t port, const std::string& source, const std::string& user,
                      const std::string& password) {
  RunResult r = run_process({.argv = {"/usr/bin/python3", X2GOJUMP_FIXTURES_DIR "/ssh_auth_probe.py",
                                      "try", std::to_string(port), hex(user), "--source", source},
                             .env = {{"PROBE_PASSWORD", password}}},
                            seconds(60));
  try {
    return nlohmann::json::parse(r.out).value("result", "unparsable");
  } catch (const std::exception&) {
    return "probe failed: " + describe(r);
  }
}

int count_of(const std::string& text, const std::string& needle) {
  int n = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

const std::string& alice_password() { return test_user("xjalice").password; }

// The fixture's broker.toml sets login_grace_time_s = 30 itself; a [limits] key cannot be given
// twice, so this test waits for the default.
TEST(PreAuthLimits, SilentClientIsClosedAfterTheLoginGraceTime) {
  Testbed tb({.backends = 1});
  IdleConnections idle(tb.broker().port(), "127.0.0.21", 1);
  const auto start = std::chrono::steady_clock::now();
  bool closed = wait_until([&] {
    idle.update();
    return idle.closed_after_banner() == 1;
  }, seconds(90), milliseconds(100));
  const auto waited = std::chrono::steady_clock::now() - start;
  EXPECT_TRUE(closed) << "admitted " << idle.admitted() << ", dropped " << idle.dropped() << "\n"
                      << tb.diagnostics();
  EXPECT_GE(waited, seconds(29));
  EXPECT_NE(tb.broker().log().find("login grace time exceeded"), std::string::npos);
}

TEST(PreAuthLimits, ConnectionEndsAfterMaxAuthAttempts) {
  Testbed tb({.backends = 1, .limits_extra = "max_auth_attempts = 2\n"});
  const std::string stop_file = tb.dir().file("brute.stop");
  const std::string out = tb.dir().file("brute.out");
  Process brute({.argv = {"/usr/bin/python3", X2GOJUMP_FIXTURES_DIR "/ssh_auth_probe.py", "brute",
                          std::to_string(tb.broker().port()), "xjbob", "--stop-file", stop_file,
                          "--source", "127.0.0.22", "--per-connection", "5"},
                 .stdout_path = out});
  bool cut_off = wait_until([&] {
    return count_of(tb.broker().log(), "too many authentication failures") >= 2;
  }, seconds(60), milliseconds(100));
  write_file(stop_file, "");
  ASSERT_TRUE(brute.wait(seconds(30)).has_value());
  EXPECT_TRUE(cut_off) << tb.diagnostics();
  nlohmann::json stats = nlohmann::json::parse(read_file(out), nullptr, false);
  ASSERT_TRUE(stats.is_object()) << read_file(out);
  // Two refusals per connection at most; the third attempt finds the connection closed.
  EXPECT_LE(stats.value("denied", 99), 2 * stats.value("connections", 0)) << stats.dump();
  EXPECT_EQ(stats.value("ok", -1), 0) << stats.dump();
}

// Penalties decay in real time while they accrue, so these tests use large ones: two refusals
// (2 x 100 s, minus the seconds the attempts take) pass the 150 s threshold, one does not.
constexpr const char* kBigPenalties =
    "penalty_exempt = []\npenalty_auth_failure_s = 100\npenalty_min_s = 150\n";

TEST(PreAuthLimits, FailedLoginsPenaliseTheirSourceOnly) {
  Testbed tb({.backends = 1, .limits_extra = kBigPenalties});
  const std::uint16_t port = tb.broker().port();
  EXPECT_EQ(try_login(port, "127.0.0.23", "xjalice", "wrong-1"), "denied");
  EXPECT_EQ(try_login(port, "127.0.0.23", "xjalice", alice_password()), "ok");  // below threshold
  EXPECT_EQ(try_login(port, "127.0.0.23", "xjalice", "wrong-2"), "denied");
  // The right password does not help the penalised source: it is dropped before the banner.
  EXPECT_EQ(try_login(port, "127.0.0.23", "xjalice", alice_password()), "error");
  EXPECT_EQ(try_login(port, "127.0.0.24", "xjalice", alice_password()), "ok") << tb.diagnostics();
  const std::string log = tb.broker().log();
  EXPECT_NE(log.find("[127.0.0.23] source refused for "), std::string::npos) << tb.diagnostics();
  EXPECT_EQ(count_of(log, "source refused for "), 1);
}

TEST(PreAuthLimits, InvalidUserNamesCountAsFailures) {
  Testbed tb({.backends = 1, .limits_extra = kBigPenalties});
  const std::uint16_t port = tb.broker().port();
  EXPECT_EQ(try_login(port, "127.0.0.28", "*", "x"), "denied");
  EXPECT_EQ(try_login(port, "127.0.0.28", ")(uid=*", "x"), "denied");
  EXPECT_EQ(try_login(port, "127.0.0.28", "xjalice", alice_password()), "error") << tb.diagnostics();
}

TEST(PreAuthLimits, LoopbackIsExemptFromPenaltiesByDefault) {
  Testbed tb({.backends = 1});
  const std::uint16_t port = tb.broker().port();
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(try_login(port, "127.0.0.25", "xjalice", "wrong-" + std::to_string(i)), "denied") << i;
  }
  EXPECT_EQ(try_login(port, "127.0.0.25", "xjalice", alice_password()), "ok") << tb.diagnostics();
}

TEST(PreAuthLimits, OneSourceHoldsAtMostItsShareOfPreAuthSlots) {
  Testbed tb({.backends = 1, .limits_extra = "max_startups_per_source = 3\n"});
  const std::uint16_t port = tb.broker().port();
  IdleConnections flood(port, "127.0.0.26", 8);
  bool decided = wait_until([&] {
    flood.update();
    return flood.undecided() == 0;
  }, seconds(20), milliseconds(50));
  ASSERT_TRUE(decided) << tb.diagnostics();
  EXPECT_EQ(flood.admitted(), 3);
  EXPECT_EQ(flood.dropped(), 5);
  // Another address is unaffected, at the first attempt.
  EXPECT_EQ(try_login(port, "127.0.0.27", "xjalice", alice_password()), "ok") << tb.diagnostics();
}

// Sets RLIMIT_NOFILE (soft and hard) for as long as it lives; root may raise it back afterwards.
class FdLimit {
 public:
  explicit FdLimit(rlim_t limit) {
    ::getrlimit(RLIMIT_NOFILE, &saved_);
    rlimit lowered{limit, limit};
    ok_ = ::setrlimit(RLIMIT_NOFILE, &lowered) == 0;
  }
  ~FdLimit() { ::setrlimit(RLIMIT_NOFILE, &saved_); }
  bool ok() const { return ok_; }

 private:
  rlimit saved_{};
  bool ok_ = false;
};

TEST(PreAuthLimits, FdBudgetRefusesConnectionsBeforeAcceptFails) {
  Testbed tb({.backends = 1});
  tb.slapd();  // started with the normal limit; only the broker inherits the low one
  {
    // 300 descriptors: 256 reserved, 4 per connection -> 11 connections.
    FdLimit limit(300);
    ASSERT_TRUE(limit.ok());
    tb.broker();
  }
  const std::uint16_t port = tb.broker().port();
  // The fixture's readiness probe (one connection that reads the banner) counts until the broker
  // has seen it close.
  ASSERT_TRUE(wait_until([&] {
    return tb.broker().log().find("connection closed before login") != std::string::npos;
  }, seconds(20), milliseconds(50))) << tb.diagnostics();
  {
    // 2 sources x 10 (the per-source cap) = 20 attempts at 11 slots.
    IdleConnections a(port, "127.0.0.31", 10);
    IdleConnections b(port, "127.0.0.32", 10);
    wait_until([&] {
      a.update();
      b.update();
      return a.undecided() + b.undecided() == 0;
    }, seconds(20), milliseconds(50));
    EXPECT_EQ(a.admitted() + b.admitted(), 11);
    EXPECT_EQ(a.dropped() + b.dropped(), 9);
  }
  const std::string log = tb.broker().log();
  EXPECT_NE(log.find("open file limit 300 holds 11 connections"), std::string::npos) << log;
  EXPECT_EQ(count_of(log, "refusing new ones until some close"), 1) << log;
  EXPECT_EQ(log.find("accept failed"), std::string::npos) << log;
  // Once the idle connections are gone the broker serves again.
  bool served = wait_until([&] {
    return try_login(port, "127.0.0.33", "xjalice", alice_password()) == "ok";
  }, seconds(30), milliseconds(500));
  EXPECT_TRUE(served) << tb.diagnostics();
}

}  // namespace
}  // namespace x2gojump::test
