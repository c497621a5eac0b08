// The status report, the status page, the scrape-time metrics and the admin HTTP handler.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "broker/admin/AdminHttpHandler.h"
#include "broker/admin/StatusMetrics.h"
#include "broker/admin/StatusPage.h"
#include "broker/admin/StatusReport.h"
#include "broker/admin/StatusSource.h"

namespace x2gojump {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::Pair;

constexpr const char* kKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKOzcTu/G9dPqXNYEpOGQv7NtsUiUIHqkorz/qcHfDBi";
// What `ssh-keygen -l` prints for kKey.
constexpr const char* kFingerprint = "SHA256:31UyLSN7bAmtx6NJqZJJMrZFb6spAlF1fHIvMIWxTGY";

ServerStatus server(std::string name, ServerHealth health) {
  ServerStatus s;
  s.summary.name = std::move(name);
  s.summary.address = "10.0.0.1";
  s.summary.health = health;
  s.host_key_source = "none";
  return s;
}

TEST(StatusReport, JoinsStoreAndConfiguration) {
  BrokerConfig config;
  config.servers = {ServerConfig{.name = "pinned", .address = "a", .host_key = kKey, .max_users = 5},
                    ServerConfig{.name = "learned", .address = "b"}, ServerConfig{.name = "none", .address = "c"}};
  std::vector<ServerSummary> summaries(3);
  summaries[0].name = "learned";
  summaries[0].learned_host_key = std::string(kKey) + " root@host";
  summaries[0].last_report = 1000;
  summaries[1].name = "none";
  summaries[1].last_report = 2000;  // from the future: age 0, not negative
  summaries[2].name = "pinned";
  summaries[2].learned_host_key = "ssh-ed25519 AAAAignored";  // the pin wins
  auto statuses = server_statuses(summaries, config, 1500);
  ASSERT_EQ(statuses.size(), 3u);
  EXPECT_EQ(statuses[0].host_key_source, "learned");
  EXPECT_EQ(statuses[0].host_key_fingerprint, kFingerprint);
  EXPECT_EQ(statuses[0].last_report_age, 500);
  EXPECT_EQ(statuses[1].host_key_source, "none");
  EXPECT_EQ(statuses[1].host_key_fingerprint, "");
  EXPECT_EQ(statuses[1].last_report_age, 0);
  EXPECT_EQ(statuses[2].host_key_source, "config");
  EXPECT_EQ(statuses[2].host_key_type, "ssh-ed25519");
  EXPECT_EQ(statuses[2].host_key_fingerprint, kFingerprint);
  EXPECT_EQ(statuses[2].max_users, 5);
  EXPECT_EQ(statuses[2].last_report_age, std::nullopt);
}

TEST(StatusReport, Json) {
  StatusReport report;
  report.version = "1.2.3";
  report.servers = {server("b1", ServerHealth::Draining)};
  report.servers[0].summary.running_sessions = 2;
  report.servers[0].last_report_age = 7;
  report.recent_events = {R"({"time":"t","event":"drain"})"};
  auto json = to_json(report);
  EXPECT_EQ(json["version"], "1.2.3");
  EXPECT_EQ(json["servers"][0]["state"], "draining");
  EXPECT_EQ(json["servers"][0]["sessions"]["running"], 2);
  EXPECT_EQ(json["servers"][0]["last_report_age_s"], 7);
  EXPECT_EQ(json["servers"][0]["host_key"]["source"], "none");
  EXPECT_FALSE(json["servers"][0]["host_key"].contains("fingerprint"));
  EXPECT_EQ(json["events"][0]["event"], "drain");
}

TEST(StatusPage, HtmlEscape) {
  EXPECT_EQ(html_escape("<a href=\"x\">'&'</a>"), "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
  EXPECT_EQ(html_escape("plain"), "plain");
}

TEST(StatusPage, ShowsEveryServerAndEscapesEverything) {
  StatusReport report;
  report.version = "0.1.0";
  report.now = 100;
  report.servers = {server("b1", ServerHealth::Up), server("b2", ServerHealth::Down),
                    server("<script>x</script>", ServerHealth::Stale)};
  report.servers[0].host_key_fingerprint = kFingerprint;
  report.servers[0].host_key_source = "config";
  report.recent_events = {R"({"time":"2024-01-01T00:00:00.000Z","event":"login","result":"failure","user":"<img src=x>"})",
                          R"({"time":"2024-01-01T00:00:01.000Z","event":"drain","server":"b1"})"};
  const std::string page = render_status_page(report, 7);
  EXPECT_THAT(page, HasSubstr("<meta http-equiv=\"refresh\" content=\"7\">"));
  EXPECT_THAT(page, HasSubstr("<td>b1</td>"));
  EXPECT_THAT(page, HasSubstr("<td>b2</td>"));
  EXPECT_THAT(page, HasSubstr("&lt;script&gt;x&lt;/script&gt;"));
  EXPECT_THAT(page, Not(HasSubstr("<script")));
  EXPECT_THAT(page, Not(HasSubstr("<img")));
  EXPECT_THAT(page, HasSubstr("class=\"state down\""));
  EXPECT_THAT(page, HasSubstr(kFingerprint));
  EXPECT_THAT(page, HasSubstr("Servers (3)"));
  // Newest event first.
  EXPECT_LT(page.find("drain"), page.find("&lt;img src=x&gt;"));
  // Self-contained: nothing is fetched from anywhere.
  EXPECT_THAT(page, Not(HasSubstr("http://")));
  EXPECT_THAT(page, Not(HasSubstr("https://")));
  EXPECT_THAT(page, Not(HasSubstr("src=\"")));
  EXPECT_THAT(page, Not(HasSubstr("<link")));
}

TEST(StatusPage, AgeText) {
  EXPECT_EQ(age_text(std::nullopt), "never");
  EXPECT_EQ(age_text(0), "0s");
  EXPECT_EQ(age_text(59), "59s");
  EXPECT_EQ(age_text(187), "3m 07s");
  EXPECT_EQ(age_text(3600 * 5 + 120), "5h 02m");
  EXPECT_EQ(age_text(86400 * 12 + 3 * 3600 + 5), "12d 3h");
}

TEST(StatusMetrics, OneStateGaugePerServerAndState) {
  StatusReport report;
  report.version = "v";
  report.connections_active = 3;
  report.servers = {server("b1", ServerHealth::Draining)};
  report.servers[0].summary.load = 0.5;
  report.servers[0].summary.suspended_sessions = 4;
  const std::string text = render_prometheus(status_metrics(report));
  EXPECT_THAT(text, HasSubstr("x2gojump_connections_active 3\n"));
  EXPECT_THAT(text, HasSubstr("x2gojump_server_state{server=\"b1\",state=\"draining\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("x2gojump_server_state{server=\"b1\",state=\"up\"} 0\n"));
  EXPECT_THAT(text, HasSubstr("x2gojump_server_load{server=\"b1\"} 0.5\n"));
  EXPECT_THAT(text, HasSubstr("x2gojump_server_sessions{server=\"b1\",status=\"suspended\"} 4\n"));
  EXPECT_THAT(text, HasSubstr("x2gojump_build_info{version=\"v\"} 1\n"));
  // Never reported: no age sample rather than a made-up one.
  EXPECT_THAT(text, Not(HasSubstr("x2gojump_server_last_report_age_seconds{")));
}

class AdminHandler : public ::testing::Test {
 protected:
  AdminHandler() {
    store_.sync_servers({{"b1", "10.0.0.1", 22, 1.0}});
    audit_.record({{"event", "drain"}, {"server", "b1"}});
  }
  ApiResponse get(std::string_view target, std::string_view method = "GET") {
    return handler_.handle(ApiRequest{method, target, "", "", "127.0.0.1"}, 0);
  }
  static std::string header(const ApiResponse& response, const std::string& name) {
    for (const auto& [key, value] : response.headers) {
      if (key == name) return value;
    }
    return "";
  }

  static std::shared_ptr<ConfigHolder> one_server() {
    BrokerConfig config;
    config.servers = {ServerConfig{.name = "b1", .address = "10.0.0.1"}};
    return std::make_shared<ConfigHolder>(std::make_shared<const BrokerConfig>(config));
  }

  SessionStore store_{":memory:"};
  std::shared_ptr<ConfigHolder> holder_ = one_server();
  AuditLog audit_{""};
  StatusSource source_{store_, holder_, &audit_, [] { return std::pair{2, 1}; }};
  AdminHttpHandler handler_{source_};
};

TEST_F(AdminHandler, StatusPage) {
  auto response = get("/");
  EXPECT_EQ(response.status, 200u);
  EXPECT_EQ(header(response, "Content-Type"), "text/html; charset=utf-8");
  EXPECT_THAT(header(response, "Content-Security-Policy"), HasSubstr("default-src 'none'"));
  EXPECT_THAT(response.body, HasSubstr("<td>b1</td>"));
  EXPECT_THAT(response.body, HasSubstr("2 connections open (1 logging in)"));
  EXPECT_EQ(get("/?refresh=1").status, 200u);
}

TEST_F(AdminHandler, Metrics) {
  auto response = get("/metrics");
  EXPECT_EQ(response.status, 200u);
  EXPECT_EQ(header(response, "Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_THAT(response.body, HasSubstr("# TYPE x2gojump_logins_total counter\n"));
  EXPECT_THAT(response.body, HasSubstr("x2gojump_server_state{server=\"b1\",state=\"up\"} 1\n"));
  EXPECT_THAT(response.body, HasSubstr("x2gojump_connections_unauthenticated 1\n"));
}

TEST_F(AdminHandler, ApiStatus) {
  auto response = get("/api/status");
  EXPECT_EQ(response.status, 200u);
  auto json = nlohmann::json::parse(response.body);
  EXPECT_EQ(json["servers"][0]["name"], "b1");
  EXPECT_EQ(json["events"][0]["event"], "drain");
  EXPECT_EQ(json["connections"]["active"], 2);
}

TEST_F(AdminHandler, OtherPathsAndMethods) {
  EXPECT_EQ(get("/index.html").status, 404u);
  EXPECT_EQ(get("/metrics/").status, 404u);
  EXPECT_EQ(get("/v1/snapshot").status, 404u);
  auto post = get("/metrics", "POST");
  EXPECT_EQ(post.status, 405u);
  EXPECT_EQ(header(post, "Allow"), "GET");
  EXPECT_EQ(get("/", "HEAD").status, 405u);
}

}  // namespace
}  // namespace x2gojump
