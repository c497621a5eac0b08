// Hostile requests against the running broker binary's agent API (plain HTTP on loopback, small
// limits): forged and misplaced tokens, oversized and malformed requests, and slow clients holding
// every connection slot. None may change the state database, crash the broker or lock a real
// agent out for longer than the read timeout. (agent_api_test.cpp covers the same server class
// in-process; this drives the binary as deployed, with its real store and SSH front end.)
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <ctime>
#include <map>
#include <memory>

#include "broker/store/SessionStore.h"
#include "common/Snapshot.h"
#include "tests/fixtures/LocalUsers.h"
#include "tests/fixtures/RawClient.h"
#include "tests/fixtures/Testbed.h"

namespace x2gojump::test {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using Clock = std::chrono::steady_clock;

const std::map<std::string, std::string> kTokens{{"b1", "abuse-agent-token-b1-0123456789"},
                                                 {"b2", "abuse-agent-token-b2-0123456789"}};
constexpr int kMaxBody = 65536;
constexpr int kReadTimeoutMs = 1000;

Snapshot valid_snapshot(const std::string& server, std::uint64_t sequence) {
  Snapshot s;
  s.server = server;
  s.sequence = sequence;
  s.generated_at = std::time(nullptr);
  s.load = {0.1, 0.1, 0.1, 2, 4000000, 3000000};
  s.sessions = {{"xjalice-70-1790000000_stRxterm_dp24", "xjalice", 'S', 70, s.generated_at, s.generated_at}};
  return s;
}

class AgentApiAbuse : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    api_port_ = free_port();
    tb_ = std::make_unique<Testbed>(TestbedOptions{.customize = [](BrokerSettings& s) {
      for (auto& server : s.servers) server.agent_token = kTokens.at(server.name);
      s.extra_tables = "[agent_api]\nlisten = [\"127.0.0.1:" + std::to_string(api_port_) +
                       "\"]\nallow_plain_http = true\nmax_body_bytes = " + std::to_string(kMaxBody) +
                       "\nread_timeout_ms = " + std::to_string(kReadTimeoutMs) + "\n";
    }});
    tb_->broker();
  }
  static void TearDownTestSuite() { tb_.reset(); }
  void TearDown() override {
    if (HasFailure()) std::fprintf(stderr, "%s\n", tb_->diagnostics().c_str());
  }

  static std::string exchange(const std::string& request, milliseconds timeout = seconds(10)) {
    return http_exchange(api_port_, request, timeout);
  }
  static std::string post(const std::string& authorization_header, const std::string& body) {
    std::string r = "POST /v1/snapshot HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n";
    if (!authorization_header.empty()) r += "Authorization: " + authorization_header + "\r\n";
    return exchange(r + "Content-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" +
                    body);
  }
  // The broker still runs and serves both its faces.
  static void expect_healthy() {
    EXPECT_TRUE(tb_->broker().running()) << "the broker died";
    EXPECT_EQ(http_status(exchange("GET /v1/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")), 200);
  }
  // What the store holds for server: its last report time and its sessions.
  static std::string state_of(const std::string& server) {
    SessionStore store(tb_->broker().state_db());
    auto report = store.last_report(server);
    std::string out = report ? std::to_string(*report) : "never";
    for (const auto& s : store.sessions_of("xjalice")) {
      if (s.server == server) out += " " + s.session_id;
    }
    return out;
  }

  static std::unique_ptr<Testbed> tb_;
  static std::uint16_t api_port_;
};
std::unique_ptr<Testbed> AgentApiAbuse::tb_;
std::uint16_t AgentApiAbuse::api_port_ = 0;

TEST_F(AgentApiAbuse, ForgedAndMisplacedTokensChangeNothing) {
  const std::string before = state_of("b1");
  const std::string body = to_json(valid_snapshot("b1", 1'000'000'000));
  const std::string& real = kTokens.at("b1");
  const std::vector<std::pair<std::string, int>> cases{
      {"", 401},
      {"Bearer forged-token-0123456789abcdef", 401},
      {"Bearer " + real + "x", 401},
      {"Bearer " + real.substr(0, real.size() - 1), 401},
      {"Bearer " + real.substr(0, 16), 401},
      {"Bearer", 401},
      {"Bearer ", 401},
      {"Basic " + real, 401},
      {real, 401},
      {"Bearer " + kTokens.at("b2"), 403},  // a real token, but of another server
  };
  for (const auto& [header, status] : cases) {
    SCOPED_TRACE("Authorization: " + header);
    EXPECT_EQ(http_status(post(header, body)), status);
  }
  // A token in the query string or a second header line is not a token.
  EXPECT_EQ(http_status(exchange(http_post_request("/v1/snapshot?token=" + real, "", body))), 401);
  EXPECT_EQ(state_of("b1"), before) << "a request with a bad token changed the store";
  expect_healthy();
}

TEST_F(AgentApiAbuse, OversizedAndMalformedRequestsChangeNothing) {
  const std::string before = state_of("b2");
  const std::string auth = "Bearer " + kTokens.at("b2");
  const std::string head = "POST /v1/snapshot HTTP/1.1\r\nHost: x\r\nAuthorization: " + auth + "\r\n";
  std::string deep(kMaxBody - 16, '[');
  std::string valid = to_json(valid_snapshot("b2", 1'000'000'000));
  std::string non_utf8 = valid;
  non_utf8.replace(non_utf8.find("xjalice-70"), 2, "\xff\xfe");
  std::string with_nul = valid;
  with_nul.replace(with_nul.find("xjalice-70"), 1, std::string(1, '\0'));
  std::string many_sessions = valid.substr(0, valid.find("\"sessions\":[") + 12);
  for (int i = 0; many_sessions.size() < kMaxBody - 1000; ++i) {
    many_sessions += "{\"session_id\":\"s" + std::to_string(i) +
                     "\",\"user\":\"xjalice\",\"status\":\"S\",\"display\":1,\"created\":1,\"last_change\":1},";
  }
  many_sessions += "{\"session_id\":\"s0\",\"user\":\"xjalice\",\"status\":\"S\",\"display\":1,\"created\":1,"
                   "\"last_change\":1}],\"host_keys\":[]}";

  struct Case {
    std::string name, request;
    std::vector<int> statuses;  // acceptable answers; 0 = the broker just closed the connection
  };
  const std::vector<Case> cases{
      {"1 GiB announced, nothing sent", head + "Content-Length: 1073741824\r\n\r\n", {413}},
      {"body over max_body_bytes", head + "Content-Length: 200000\r\n\r\n" + std::string(200000, '{'), {413}},
      {"chunked body over the limit",
       head + "Transfer-Encoding: chunked\r\n\r\n" + "20000\r\n" + std::string(0x20000, 'x') + "\r\n0\r\n\r\n", {413}},
      {"64 KiB header", head + "X-Junk: " + std::string(65536, 'a') + "\r\nContent-Length: 2\r\n\r\n{}", {431, 400, 0}},
      {"10000 headers", head + [] {
         std::string h;
         for (int i = 0; i < 10000; ++i) h += "X-" + std::to_string(i) + ": y\r\n";
         return h;
       }() + "Content-Length: 2\r\n\r\n{}", {431, 400, 0}},
      {"invalid JSON", head + "Content-Length: 9\r\n\r\n{\"version", {400}},
      {"nested 64 K deep", head + "Content-Length: " + std::to_string(deep.size()) + "\r\n\r\n" + deep, {400}},
      {"non-UTF-8", head + "Content-Length: " + std::to_string(non_utf8.size()) + "\r\n\r\n" + non_utf8, {400}},
      {"NUL in a string", head + "Content-Length: " + std::to_string(with_nul.size()) + "\r\n\r\n" + with_nul, {400}},
      {"duplicate session ids", head + "Content-Length: " + std::to_string(many_sessions.size()) + "\r\n\r\n" +
                                    many_sessions, {400}},
      {"snapshot of another server", head + "Content-Length: " + std::to_string(to_json(valid_snapshot("b1", 5)).size()) +
                                         "\r\n\r\n" + to_json(valid_snapshot("b1", 5)), {403}},
      {"Content-Length and Transfer-Encoding", head + "Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", {400}},
      {"negative Content-Length", head + "Content-Length: -1\r\n\r\n{}", {400}},
      {"Content-Length overflow", head + "Content-Length: 99999999999999999999999\r\n\r\n{}", {400, 413}},
      {"two Content-Lengths", head + "Content-Length: 2\r\nContent-Length: 3\r\n\r\n{}x", {400}},
      {"garbage line", std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11) + std::string(500, '\xee'), {400, 0}},
      {"NUL in the request line", std::string("POST /v1/snap\0shot HTTP/1.1\r\n\r\n", 31), {400, 404, 0}},
      {"HTTP/0.9", "GET /v1/health\r\n", {400, 0}},
      {"absurd method", std::string(5000, 'A') + " / HTTP/1.1\r\n\r\n", {400, 404, 405, 431, 0}},
      {"path traversal", "GET /../../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n", {404, 400}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    auto start = Clock::now();
    std::string response = exchange(c.request, seconds(10));
    double took = std::chrono::duration<double>(Clock::now() - start).count();
    int status = http_status(response);
    EXPECT_NE(std::find(c.statuses.begin(), c.statuses.end(), status), c.statuses.end())
        << "got " << status << ": " << response.substr(0, 300);
    // Refused at once, not after a read timeout or after buffering a gigabyte.
    EXPECT_LT(took, kReadTimeoutMs / 1000.0 + 2.0);
    EXPECT_TRUE(tb_->broker().running()) << "the broker died";
  }
  EXPECT_EQ(state_of("b2"), before) << "a refused request changed the store";
  expect_healthy();
  // Control: the same token and a valid body are accepted.
  EXPECT_EQ(http_status(post(auth, valid)), 200);
  EXPECT_NE(state_of("b2"), before);
  auto r = tb_->broker_client().run("xjbob", test_user("xjbob").password, "true");
  EXPECT_EQ(r.exit_code, 0) << describe(r);
}

// Slow-loris: more idle half-requests than the API has connection slots (64). The broker must cut
// them off at read_timeout, so a real agent gets through within about that time.
TEST_F(AgentApiAbuse, SlowClientsCannotLockAgentsOut) {
  raise_fd_limit(4096);
  std::vector<int> slow;
  for (int i = 0; i < 100; ++i) {
    int fd = tcp_connect(api_port_);
    if (fd >= 0 && send_all(fd, "POST /v1/snapshot HTTP/1.1\r\nHost: x\r\n")) slow.push_back(fd);
  }
  auto start = Clock::now();
  const std::string request = http_post_request("/v1/snapshot", kTokens.at("b1"), to_json(valid_snapshot("b1", 2'000'000'000)));
  int status = 0;
  int tries = 0;
  wait_until([&] {
    ++tries;
    status = http_status(exchange(request, seconds(3)));
    return status == 200;
  }, seconds(10), milliseconds(50));
  double waited = std::chrono::duration<double>(Clock::now() - start).count();
  std::printf("[ figures  ] %zu slow clients; a real agent got 200 after %.2f s (%d tries)\n", slow.size(),
              waited, tries);
  EXPECT_EQ(status, 200);
  EXPECT_LT(waited, kReadTimeoutMs / 1000.0 + 3.0);
  // Every slow client was cut off by the broker (EOF), none kept a slot.
  std::size_t closed = 0;
  std::vector<bool> done(slow.size(), false);
  wait_until([&] {
    for (std::size_t i = 0; i < slow.size(); ++i) {
      char buf[4096];
      if (done[i]) continue;
      ssize_t n = ::recv(slow[i], buf, sizeof buf, MSG_DONTWAIT);
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
        done[i] = true;
        ++closed;
      }
    }
    return closed == slow.size();
  }, seconds(kReadTimeoutMs / 1000 + 5));
  for (int fd : slow) ::close(fd);
  EXPECT_EQ(closed, slow.size()) << "slow clients still connected after the read timeout";
  expect_healthy();
}

}  // namespace
}  // namespace x2gojump::test
