// The agent API in-process on loopback, over plain HTTP and TLS, with a small Beast client:
// the store follows accepted snapshots and nothing else; limits and timeouts hold.
#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "broker/agentapi/AgentApiServer.h"
#include "broker/store/SessionStore.h"
#include "common/Snapshot.h"
#include "tests/fixtures/TestEnv.h"

namespace x2gojump {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using Response = http::response<http::string_body>;

constexpr const char* kTokenA = "agent-token-of-a-0123456789";
constexpr const char* kTokenB = "agent-token-of-b-0123456789";
constexpr std::size_t kMaxBody = 64 * 1024;

BrokerConfig api_config(std::chrono::milliseconds read_timeout = std::chrono::milliseconds(5000)) {
  BrokerConfig config;
  for (auto [name, token] : {std::pair{"a", kTokenA}, std::pair{"b", kTokenB}}) {
    ServerConfig server;
    server.name = name;
    server.address = "127.0.0.1";
    server.agent_token = token;
    config.servers.push_back(server);
  }
  config.agent_api.listen = {{"127.0.0.1", 0}};
  config.agent_api.allow_plain_http = true;
  config.agent_api.max_body_bytes = kMaxBody;
  config.agent_api.read_timeout = read_timeout;
  return config;
}

// A self-signed certificate for 127.0.0.1, made with the openssl tool.
struct TestCertificate {
  test::TempDir dir{"xj-agentapi-tls"};
  std::string cert = dir.file("cert.pem");
  std::string key = dir.file("key.pem");
  TestCertificate() {
    test::shell("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
                "-days 2 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 -keyout " +
                key + " -out " + cert + " 2>/dev/null");
  }
};

// The server on its own event-loop thread, with a two-thread pool for the store writes.
class ApiServer {
 public:
  explicit ApiServer(BrokerConfig config) : config_(std::move(config)), store_(":memory:"), pool_(2) {
    store_.sync_servers({{"a", "127.0.0.1", 22, 1.0}, {"b", "127.0.0.1", 22, 1.0}});
    server_ = std::make_unique<AgentApiServer>(
        io_, config_, store_, pool_,
        [this](const std::string&, const Snapshot&) { ++reports_; });
    server_->start();
    endpoint_ = server_->local_endpoints().at(0);
    thread_ = std::thread([this] { io_.run(); });
  }
  ~ApiServer() {
    stop();
    work_.reset();
    io_.stop();
    thread_.join();
    pool_.join();
  }

  // Runs stop() on the event loop, as the broker does from its signal handler.
  void stop() {
    std::promise<void> done;
    asio::post(io_, [&] {
      server_->stop();
      done.set_value();
    });
    done.get_future().wait();
  }

  SessionStore& store() { return store_; }
  const tcp::endpoint& endpoint() const { return endpoint_; }
  int reports() const { return reports_; }

 private:
  BrokerConfig config_;
  SessionStore store_;
  asio::thread_pool pool_;
  asio::io_context io_;
  // Keeps io_.run() going after stop() removed all other work, so stop() may run twice.
  asio::executor_work_guard<asio::io_context::executor_type> work_ = asio::make_work_guard(io_);
  std::unique_ptr<AgentApiServer> server_;
  tcp::endpoint endpoint_;
  std::atomic<int> reports_{0};
  std::thread thread_;
};

// One client connection; every operation is bounded by a deadline, so a broken server fails the
// test instead of hanging it.
class Client {
 public:
  static constexpr auto kDeadline = std::chrono::seconds(10);

  Client(const tcp::endpoint& endpoint, const std::string* ca_file = nullptr) {
    if (ca_file) {
      tls_context_.emplace(ssl::context::tls_client);
      tls_context_->load_verify_file(*ca_file);
      tls_context_->set_verify_mode(ssl::verify_peer);
      tls_.emplace(io_, *tls_context_);
      tls_->set_verify_callback(ssl::host_name_verification("127.0.0.1"));
    } else {
      plain_.emplace(io_);
    }
    lowest().expires_after(kDeadline);
    lowest().async_connect(endpoint, [this](beast::error_code ec) { error_ = ec; });
    run();
    if (error_) return;
    if (tls_) {
      lowest().expires_after(kDeadline);
      tls_->async_handshake(ssl::stream_base::client, [this](beast::error_code ec) { error_ = ec; });
      run();
    }
  }

  const beast::error_code& error() const { return error_; }

  // Sends request and reads the response; nullopt (and error()) if either fails.
  std::optional<Response> exchange(http::request<http::string_body> request) {
    request.prepare_payload();
    with_stream([&](auto& stream) {
      http::async_write(stream, request, [this](beast::error_code ec, std::size_t) { error_ = ec; });
    });
    run();
    if (error_) return std::nullopt;
    return read_response();
  }

  std::optional<Response> read_response() {
    Response response;
    with_stream([&](auto& stream) {
      http::async_read(stream, buffer_, response,
                       [this](beast::error_code ec, std::size_t) { error_ = ec; });
    });
    run();
    if (error_) return std::nullopt;
    return response;
  }

  void write_raw(const std::string& bytes) {
    with_stream([&](auto& stream) {
      asio::async_write(stream, asio::buffer(bytes),
                        [this](beast::error_code ec, std::size_t) { error_ = ec; });
    });
    run();
  }

  // True if the server closes the connection (or resets it) within the deadline.
  bool closed_by_server() {
    char byte;
    with_stream([&](auto& stream) {
      stream.async_read_some(asio::buffer(&byte, 1),
                             [this](beast::error_code ec, std::size_t) { error_ = ec; });
    });
    run();
    return error_ && error_ != beast::error::timeout;
  }

  std::optional<Response> post(const std::string& token, const std::string& body,
                               const std::string& target = "/v1/snapshot") {
    http::request<http::string_body> request{http::verb::post, target, 11};
    request.set(http::field::host, "127.0.0.1");
    request.set(http::field::content_type, "application/json");
    if (!token.empty()) request.set(http::field::authorization, "Bearer " + token);
    request.body() = body;
    return exchange(std::move(request));
  }

  std::optional<Response> get(const std::string& target) {
    http::request<http::string_body> request{http::verb::get, target, 11};
    request.set(http::field::host, "127.0.0.1");
    return exchange(std::move(request));
  }

 private:
  beast::tcp_stream& lowest() { return tls_ ? beast::get_lowest_layer(*tls_) : *plain_; }

  template <class F>
  void with_stream(F f) {
    lowest().expires_after(kDeadline);
    if (tls_) {
      f(*tls_);
    } else {
      f(*plain_);
    }
  }

  void run() {
    io_.restart();
    io_.run();
  }

  asio::io_context io_;
  std::optional<ssl::context> tls_context_;
  std::optional<beast::tcp_stream> plain_;
  std::optional<beast::ssl_stream<beast::tcp_stream>> tls_;
  beast::flat_buffer buffer_;
  beast::error_code error_;
};

Snapshot snapshot(const std::string& server, std::uint64_t sequence, const std::string& user) {
  Snapshot s;
  s.server = server;
  s.sequence = sequence;
  s.generated_at = 1700000000;
  s.load.cpus = 4;
  s.load.load1 = 1.0;
  s.load.mem_total_kb = 1000;
  s.load.mem_available_kb = 900;
  s.sessions.push_back(SnapshotSession{user + "-50-1700000000_stDxterm_dp24", user, 'S', 50,
                                       1700000000, 1700000100});
  return s;
}

bool has_session(SessionStore& store, const std::string& user, const std::string& server) {
  auto sessions = store.sessions_of(user);
  return sessions.size() == 1 && sessions[0].server == server;
}

// What a refused request must not change.
std::string state(SessionStore& store) {
  std::string text;
  for (const auto& s : store.servers()) {
    text += s.name + " " + std::to_string(s.load) + " " +
            std::to_string(store.last_report(s.name).value_or(-1)) + ";";
  }
  for (const auto& [server, users] : store.users_per_server()) {
    text += server + "=" + std::to_string(users) + ";";
  }
  return text;
}

struct Latency {
  double p50_ms;
  double p99_ms;
};

// Posts count snapshots of server a (each with a new user) and measures from the start of the
// POST to the response, which the server sends only after the transaction committed; the new
// row is then checked in the store.
Latency measure(ApiServer& server, const std::string* ca_file, bool new_connection_each,
                std::uint64_t first_sequence, int count = 200) {
  std::vector<double> samples;
  std::optional<Client> client;
  for (int i = 0; i < count; ++i) {
    const std::string user = "lat" + std::to_string(first_sequence) + "u" + std::to_string(i);
    const std::string body = to_json(snapshot("a", first_sequence + i, user));
    auto start = Clock::now();
    if (new_connection_each || !client) client.emplace(server.endpoint(), ca_file);
    auto response = client->post(kTokenA, body);
    auto elapsed = Clock::now() - start;
    EXPECT_TRUE(response && response->result_int() == 200) << client->error().message();
    EXPECT_TRUE(has_session(server.store(), user, "a")) << user;
    samples.push_back(std::chrono::duration<double, std::milli>(elapsed).count());
  }
  std::sort(samples.begin(), samples.end());
  auto at = [&](double q) { return samples[static_cast<std::size_t>(q * (samples.size() - 1))]; };
  return {at(0.50), at(0.99)};
}

void report(const char* name, Latency latency) {
  std::printf("[ latency  ] %s: POST -> rows in store: p50 %.3f ms, p99 %.3f ms (200 posts)\n",
              name, latency.p50_ms, latency.p99_ms);
  ::testing::Test::RecordProperty(std::string(name) + "_p50_us",
                                  static_cast<int>(latency.p50_ms * 1000));
  ::testing::Test::RecordProperty(std::string(name) + "_p99_us",
                                  static_cast<int>(latency.p99_ms * 1000));
  // Loopback and an in-memory store: anything near a second means requests are stuck somewhere.
  EXPECT_LT(latency.p99_ms, 500.0) << name;
}

// The status checks both transports share.
void check_every_outcome(ApiServer& server, const std::string* ca_file) {
  Client client(server.endpoint(), ca_file);
  ASSERT_FALSE(client.error()) << client.error().message();
  SessionStore& store = server.store();

  // Applied; the same connection is kept alive for the following requests.
  auto applied = client.post(kTokenA, to_json(snapshot("a", 10, "alice")));
  ASSERT_TRUE(applied) << client.error().message();
  EXPECT_EQ(applied->result_int(), 200);
  EXPECT_EQ(applied->body(), R"({"applied":true})");
  EXPECT_EQ((*applied)[http::field::server], "x2gojump");
  EXPECT_EQ((*applied)[http::field::content_type], "application/json");
  EXPECT_TRUE(applied->keep_alive());
  EXPECT_TRUE(has_session(store, "alice", "a"));
  EXPECT_EQ(server.reports(), 1);
  const std::string after_apply = state(store);

  auto stale = client.post(kTokenA, to_json(snapshot("a", 10, "bob")));
  ASSERT_TRUE(stale);
  EXPECT_EQ(stale->result_int(), 409);
  auto older = client.post(kTokenA, to_json(snapshot("a", 9, "bob")));
  ASSERT_TRUE(older);
  EXPECT_EQ(older->result_int(), 409);

  auto forged = client.post("forged-token-0123456789abc", to_json(snapshot("a", 11, "bob")));
  ASSERT_TRUE(forged);
  EXPECT_EQ(forged->result_int(), 401);
  EXPECT_EQ((*forged)[http::field::www_authenticate],
            "Bearer realm=\"x2gojump\", error=\"invalid_token\"");
  auto anonymous = client.post("", to_json(snapshot("a", 11, "bob")));
  ASSERT_TRUE(anonymous);
  EXPECT_EQ(anonymous->result_int(), 401);

  auto foreign = client.post(kTokenB, to_json(snapshot("a", 11, "bob")));
  ASSERT_TRUE(foreign);
  EXPECT_EQ(foreign->result_int(), 403);

  auto malformed = client.post(kTokenA, R"({"version":1,"server":"a")");
  ASSERT_TRUE(malformed);
  EXPECT_EQ(malformed->result_int(), 400);
  EXPECT_NE(malformed->body().find("\"error\""), std::string::npos);

  auto missing = client.post(kTokenA, "{}", "/v1/other");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->result_int(), 404);
  auto wrong_method = client.get("/v1/snapshot");
  ASSERT_TRUE(wrong_method);
  EXPECT_EQ(wrong_method->result_int(), 405);
  auto health = client.get("/v1/health");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->result_int(), 200);
  EXPECT_EQ(health->body(), R"({"ok":true})");

  EXPECT_FALSE(has_session(store, "bob", "a"));
  EXPECT_EQ(state(store), after_apply);
  EXPECT_EQ(server.reports(), 1);

  // Oversized: answered from the Content-Length alone; the body is read and dropped so the
  // client still gets the response, and the connection ends.
  Snapshot big = snapshot("a", 12, "bob");
  std::string body = to_json(big);
  body.append(kMaxBody + 1 - body.size(), ' ');
  auto oversized = client.post(kTokenA, body);
  ASSERT_TRUE(oversized) << client.error().message();
  EXPECT_EQ(oversized->result_int(), 413);
  EXPECT_FALSE(oversized->keep_alive());
  EXPECT_EQ(state(store), after_apply);

  // A new connection works, and exactly max_body_bytes is accepted.
  Client again(server.endpoint(), ca_file);
  body.pop_back();
  auto at_limit = again.post(kTokenA, body);
  ASSERT_TRUE(at_limit) << again.error().message();
  EXPECT_EQ(at_limit->result_int(), 200);
  EXPECT_TRUE(has_session(store, "bob", "a"));
}

TEST(AgentApi, PlainHttpEveryOutcome) {
  ApiServer server(api_config());
  check_every_outcome(server, nullptr);
}

TEST(AgentApi, TlsEveryOutcome) {
  TestCertificate certificate;
  BrokerConfig config = api_config();
  config.agent_api.allow_plain_http = false;
  config.agent_api.tls_cert_file = certificate.cert;
  config.agent_api.tls_key_file = certificate.key;
  ApiServer server(config);
  check_every_outcome(server, &certificate.cert);

  // Plain HTTP to the TLS port gets no HTTP response.
  Client plain(server.endpoint());
  ASSERT_FALSE(plain.error());
  EXPECT_FALSE(plain.post(kTokenA, to_json(snapshot("a", 100, "carol"))));
  EXPECT_FALSE(has_session(server.store(), "carol", "a"));
}

TEST(AgentApi, TlsClientRejectsAnotherCertificate) {
  // The client verifies the server; a certificate from elsewhere fails the handshake.
  TestCertificate certificate;
  TestCertificate other;
  BrokerConfig config = api_config();
  config.agent_api.allow_plain_http = false;
  config.agent_api.tls_cert_file = certificate.cert;
  config.agent_api.tls_key_file = certificate.key;
  ApiServer server(config);
  Client client(server.endpoint(), &other.cert);
  EXPECT_TRUE(client.error());
}

TEST(AgentApi, BadTlsFilesFailStart) {
  TestCertificate certificate;
  TestCertificate other;
  BrokerConfig config = api_config();
  config.agent_api.allow_plain_http = false;
  config.agent_api.tls_cert_file = certificate.cert;
  config.agent_api.tls_key_file = other.key;
  SessionStore store(":memory:");
  asio::thread_pool pool(1);
  asio::io_context io;
  AgentApiServer mismatched(io, config, store, pool, nullptr);
  EXPECT_THROW(mismatched.start(), std::runtime_error);
  config.agent_api.tls_key_file = certificate.dir.file("missing.pem");
  AgentApiServer missing(io, config, store, pool, nullptr);
  EXPECT_THROW(missing.start(), std::runtime_error);
  pool.join();
}

TEST(AgentApi, DisabledWithoutListenAddresses) {
  BrokerConfig config = api_config();
  config.agent_api.listen.clear();
  SessionStore store(":memory:");
  asio::thread_pool pool(1);
  asio::io_context io;
  AgentApiServer server(io, config, store, pool, nullptr);
  server.start();
  EXPECT_TRUE(server.local_endpoints().empty());
  pool.join();
}

TEST(AgentApi, ChunkedOversizedBodyIs413) {
  ApiServer server(api_config());
  const std::string before = state(server.store());
  Client client(server.endpoint());
  std::string chunk(16 * 1024, ' ');
  std::string request = std::string("POST /v1/snapshot HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ") +
                        kTokenA + "\r\nTransfer-Encoding: chunked\r\n\r\n";
  char size_line[32];
  std::snprintf(size_line, sizeof size_line, "%zx\r\n", chunk.size());
  for (std::size_t sent = 0; sent <= kMaxBody; sent += chunk.size()) {
    request += size_line + chunk + "\r\n";
  }
  request += "0\r\n\r\n";
  client.write_raw(request);
  auto response = client.read_response();
  ASSERT_TRUE(response) << client.error().message();
  EXPECT_EQ(response->result_int(), 413);
  EXPECT_EQ(state(server.store()), before);
}

// Far more than the socket buffers hold: unless the server reads and drops the rest of the body,
// the client's write fails with a reset instead of it reading the 413.
void check_huge_body(ApiServer& server, const std::string* ca_file) {
  const std::string before = state(server.store());
  Client client(server.endpoint(), ca_file);
  std::string body = to_json(snapshot("a", 50, "erin"));
  body.append(16 * 1024 * 1024, ' ');
  auto response = client.post(kTokenA, body);
  ASSERT_TRUE(response) << client.error().message();
  EXPECT_EQ(response->result_int(), 413);
  EXPECT_EQ(state(server.store()), before);
  EXPECT_FALSE(has_session(server.store(), "erin", "a"));
}

TEST(AgentApi, HugeBodyGets413NotAReset) {
  ApiServer server(api_config());
  check_huge_body(server, nullptr);
  TestCertificate certificate;
  BrokerConfig config = api_config();
  config.agent_api.allow_plain_http = false;
  config.agent_api.tls_cert_file = certificate.cert;
  config.agent_api.tls_key_file = certificate.key;
  ApiServer tls_server(config);
  check_huge_body(tls_server, &certificate.cert);
}

TEST(AgentApi, OversizedHeaderIs431AndMalformedRequestIs400) {
  ApiServer server(api_config());
  {
    Client client(server.endpoint());
    client.write_raw("GET /v1/health HTTP/1.1\r\nHost: x\r\nX-Pad: " + std::string(9000, 'p') +
                     "\r\n\r\n");
    auto response = client.read_response();
    ASSERT_TRUE(response) << client.error().message();
    EXPECT_EQ(response->result_int(), 431);
  }
  {
    Client client(server.endpoint());
    client.write_raw("GET /v1/health HTTP/1.1\r\nHost: x\r\nX-Pad: " + std::string(7000, 'p') +
                     "\r\n\r\n");
    auto response = client.read_response();
    ASSERT_TRUE(response) << client.error().message();
    EXPECT_EQ(response->result_int(), 200);
  }
  {
    Client client(server.endpoint());
    client.write_raw("NOT HTTP AT ALL\r\n\r\n");
    auto response = client.read_response();
    ASSERT_TRUE(response) << client.error().message();
    EXPECT_EQ(response->result_int(), 400);
  }
}

TEST(AgentApi, ExpectContinueIsHonoured) {
  ApiServer server(api_config());
  Client client(server.endpoint());
  const std::string body = to_json(snapshot("a", 1, "dave"));
  client.write_raw(std::string("POST /v1/snapshot HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ") +
                   kTokenA + "\r\nExpect: 100-continue\r\nContent-Length: " +
                   std::to_string(body.size()) + "\r\n\r\n");
  auto interim = client.read_response();
  ASSERT_TRUE(interim) << client.error().message();
  EXPECT_EQ(interim->result_int(), 100);
  client.write_raw(body);
  auto response = client.read_response();
  ASSERT_TRUE(response) << client.error().message();
  EXPECT_EQ(response->result_int(), 200);
  EXPECT_TRUE(has_session(server.store(), "dave", "a"));
}

TEST(AgentApi, SlowAndIdleClientsAreCutOffByTheReadTimeout) {
  ApiServer server(api_config(std::chrono::milliseconds(300)));
  Client slow(server.endpoint());
  slow.write_raw("POST /v1/snapshot HTTP/1.1\r\nHost: x\r\n");  // never finishes the header
  auto start = Clock::now();
  EXPECT_TRUE(slow.closed_by_server());
  auto waited = Clock::now() - start;
  EXPECT_LT(waited, std::chrono::seconds(3));

  Client idle(server.endpoint());
  ASSERT_TRUE(idle.get("/v1/health"));
  EXPECT_TRUE(idle.closed_by_server());  // keep-alive, but not forever
}

TEST(AgentApi, AtMost64ConnectionsAtOnce) {
  ApiServer server(api_config());
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < 64; ++i) {
    clients.push_back(std::make_unique<Client>(server.endpoint()));
    // A response proves the server registered the connection.
    auto response = clients.back()->get("/v1/health");
    ASSERT_TRUE(response) << i << ": " << clients.back()->error().message();
  }
  Client refused(server.endpoint());
  EXPECT_TRUE(refused.closed_by_server());

  clients.pop_back();  // frees a slot once the server notices the close
  EXPECT_TRUE(test::wait_until(
      [&] {
        Client retry(server.endpoint());
        return retry.get("/v1/health").has_value();
      },
      std::chrono::seconds(5)));
  for (auto& client : clients) EXPECT_TRUE(client->get("/v1/health")) << "kept connections work";
}

TEST(AgentApi, StopClosesConnectionsAndTheListener) {
  ApiServer server(api_config());
  Client client(server.endpoint());
  ASSERT_TRUE(client.get("/v1/health"));
  server.stop();
  EXPECT_TRUE(client.closed_by_server());
  Client late(server.endpoint());
  EXPECT_TRUE(late.error() || late.closed_by_server());
}

TEST(AgentApi, LatencyPostToRowsInStore) {
  ApiServer server(api_config());
  report("plain_keepalive", measure(server, nullptr, false, 1000));
  report("plain_new_connection", measure(server, nullptr, true, 2000));

  TestCertificate certificate;
  BrokerConfig config = api_config();
  config.agent_api.allow_plain_http = false;
  config.agent_api.tls_cert_file = certificate.cert;
  config.agent_api.tls_key_file = certificate.key;
  ApiServer tls_server(config);
  report("tls_keepalive", measure(tls_server, &certificate.cert, false, 1000));
  report("tls_new_connection", measure(tls_server, &certificate.cert, true, 2000));
}

}  // namespace
}  // namespace x2gojump
