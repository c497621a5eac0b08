#include "broker/agentapi/SnapshotRequestHandler.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace x2gojump {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Pair;

constexpr const char* kEd25519 =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKOzcTu/G9dPqXNYEpOGQv7NtsUiUIHqkorz/qcHfDBi";
constexpr const char* kEd25519Other =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIErIwAmFTlQEgi6aKkB0PFxf9ZaPPm7eKf1e7rHgFtsf";
constexpr const char* kEcdsa256 =
    "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBCJnArg99SOfxa3D+QDLu"
    "b04zVwYSDjGArRvHEqy2XQ9KbJiZEtO7+2Pi8bdnX+VcQXIOLWRrPcgtphd9RsPDsA=";

constexpr const char* kTokenA = "token-of-server-a-0123456789";
constexpr const char* kTokenB = "token-of-server-b-0123456789";

struct Report {
  std::string server;
  std::uint64_t sequence;
};

// Servers a (token A), b (token B, pinned host key) and c (no token), all in an in-memory store.
class HandlerTest : public ::testing::Test {
 protected:
  HandlerTest() : store_(":memory:") {
    config_.servers = {server("a", kTokenA, ""), server("b", kTokenB, kEd25519Other),
                       server("c", "", "")};
    config_.agent_api.max_body_bytes = 4096;
    store_.sync_servers({{"a", "10.0.0.1", 22, 1.0}, {"b", "10.0.0.2", 22, 1.0},
                         {"c", "10.0.0.3", 22, 1.0}});
  }

  static ServerConfig server(std::string name, std::string token, std::string host_key) {
    ServerConfig config;
    config.name = std::move(name);
    config.address = "10.0.0.9";
    config.agent_token = std::move(token);
    config.host_key = std::move(host_key);
    return config;
  }

  SnapshotRequestHandler& handler() {
    if (!handler_) {
      handler_.emplace(config_, store_, [this](const std::string& server, const Snapshot& s) {
        reports_.push_back({server, s.sequence});
      });
    }
    return *handler_;
  }

  static Snapshot snapshot(const std::string& server, std::uint64_t sequence,
                           std::vector<std::string> users = {"alice"}) {
    Snapshot s;
    s.server = server;
    s.sequence = sequence;
    s.generated_at = 1700000000;
    s.load.load1 = 0.5;
    s.load.cpus = 2;
    s.load.mem_total_kb = 1000;
    s.load.mem_available_kb = 500;
    int display = 50;
    for (const std::string& user : users) {
      s.sessions.push_back(SnapshotSession{user + "-" + std::to_string(display) + "-1700000000_stDxterm_dp24",
                                           user, 'S', display, 1700000000, 1700000100});
      ++display;
    }
    return s;
  }

  ApiResponse post(const std::string& token, const std::string& body,
                   std::string_view target = "/v1/snapshot", std::string_view method = "POST") {
    std::string authorization = token.empty() ? "" : "Bearer " + token;
    return handler().handle(ApiRequest{method, target, authorization, body, "192.0.2.1"}, 4242);
  }
  ApiResponse post(const std::string& token, const Snapshot& s) { return post(token, to_json(s)); }

  // Everything a request could change, as text: sessions, load, last report, learned key.
  std::string state() {
    std::string text;
    for (const auto& s : store_.servers()) {
      auto last = store_.last_report(s.name);
      text += s.name + " load=" + std::to_string(s.load) +
              " last=" + (last ? std::to_string(*last) : "-") +
              " key=" + store_.learned_host_key(s.name).value_or("-") + "\n";
    }
    for (const std::string user : {"alice", "bob", "carol"}) {
      for (const auto& s : store_.sessions_of(user)) text += s.server + "/" + s.session_id + "\n";
    }
    return text;
  }

  static std::string header(const ApiResponse& response, const std::string& name) {
    for (const auto& [key, value] : response.headers) {
      if (key == name) return value;
    }
    return "<absent>";
  }

  static nlohmann::json json(const ApiResponse& response) {
    return nlohmann::json::parse(response.body);
  }

  BrokerConfig config_;
  SessionStore store_;
  std::optional<SnapshotRequestHandler> handler_;
  std::vector<Report> reports_;
};

TEST_F(HandlerTest, ValidSnapshotIsApplied) {
  ApiResponse response = post(kTokenA, snapshot("a", 1, {"alice", "bob"}));
  EXPECT_EQ(response.status, 200u);
  EXPECT_EQ(json(response), (nlohmann::json{{"applied", true}}));
  EXPECT_THAT(store_.sessions_of("alice"), ::testing::SizeIs(1));
  EXPECT_EQ(store_.sessions_of("bob").at(0).server, "a");
  EXPECT_EQ(store_.sessions_of("bob").at(0).status, 'S');
  EXPECT_EQ(store_.last_report("a"), 4242);  // the broker's clock, not the agent's
  EXPECT_DOUBLE_EQ(store_.servers()[0].load, load_score(snapshot("a", 1).load));
  ASSERT_EQ(reports_.size(), 1u);
  EXPECT_EQ(reports_[0].server, "a");
  EXPECT_EQ(reports_[0].sequence, 1u);
}

TEST_F(HandlerTest, LaterSnapshotReplacesSessions) {
  ASSERT_EQ(post(kTokenA, snapshot("a", 1, {"alice"})).status, 200u);
  ASSERT_EQ(post(kTokenA, snapshot("a", 2, {"bob"})).status, 200u);
  EXPECT_THAT(store_.sessions_of("alice"), IsEmpty());
  EXPECT_THAT(store_.sessions_of("bob"), ::testing::SizeIs(1));
  EXPECT_EQ(reports_.size(), 2u);
}

TEST_F(HandlerTest, StaleOrReplayedSequenceIs409AndChangesNothing) {
  ASSERT_EQ(post(kTokenA, snapshot("a", 5, {"alice"})).status, 200u);
  const std::string before = state();
  for (std::uint64_t sequence : {5u, 4u, 1u}) {
    ApiResponse response = post(kTokenA, snapshot("a", sequence, {"bob"}));
    EXPECT_EQ(response.status, 409u) << sequence;
    EXPECT_THAT(json(response)["error"].get<std::string>(), HasSubstr("not newer"));
  }
  EXPECT_EQ(state(), before);
  EXPECT_EQ(reports_.size(), 1u);
}

TEST_F(HandlerTest, MissingOrMalformedAuthorizationIs401) {
  const std::string before = state();
  const std::string body = to_json(snapshot("a", 1));
  for (std::string_view authorization :
       {std::string_view(""), std::string_view("Basic YTpi"), std::string_view("Bearer"),
        std::string_view("Bearer "), std::string_view("Bearertoken-of-server-a-0123456789"),
        std::string_view(kTokenA)}) {
    ApiResponse response =
        handler().handle(ApiRequest{"POST", "/v1/snapshot", authorization, body, "p"}, 1);
    EXPECT_EQ(response.status, 401u) << authorization;
    EXPECT_EQ(header(response, "WWW-Authenticate"), "Bearer realm=\"x2gojump\"") << authorization;
  }
  EXPECT_EQ(state(), before);
  EXPECT_THAT(reports_, IsEmpty());
}

TEST_F(HandlerTest, UnknownTokenIs401WithInvalidTokenChallenge) {
  const std::string before = state();
  std::string almost = kTokenA;
  almost.back() = 'X';
  for (const std::string& token :
       {std::string("wrong-token-0123456789"), almost, std::string(kTokenA) + "9",
        std::string(kTokenA).substr(0, 20), std::string(1, 'x')}) {
    ApiResponse response = post(token, snapshot("a", 1));
    EXPECT_EQ(response.status, 401u) << token;
    EXPECT_EQ(header(response, "WWW-Authenticate"),
              "Bearer realm=\"x2gojump\", error=\"invalid_token\"");
    EXPECT_EQ(json(response)["error"], "invalid token");
  }
  EXPECT_EQ(state(), before);
}

TEST_F(HandlerTest, SchemeIsCaseInsensitiveAndExtraBlanksAreAccepted) {
  std::uint64_t sequence = 0;
  for (std::string scheme : {"bearer ", "BEARER ", "Bearer   "}) {
    std::string authorization = scheme + kTokenA;
    ApiResponse response = handler().handle(
        ApiRequest{"POST", "/v1/snapshot", authorization, to_json(snapshot("a", ++sequence)), "p"},
        1);
    EXPECT_EQ(response.status, 200u) << scheme;
  }
}

TEST_F(HandlerTest, TokenOfAnotherServerIs403) {
  const std::string before = state();
  ApiResponse response = post(kTokenB, snapshot("a", 1, {"mallory"}));
  EXPECT_EQ(response.status, 403u);
  EXPECT_EQ(json(response)["error"], "token is not valid for server \"a\"");
  // Servers without a token and unknown servers are out of reach too.
  EXPECT_EQ(post(kTokenA, snapshot("c", 1)).status, 403u);
  EXPECT_EQ(post(kTokenA, snapshot("nowhere", 1)).status, 403u);
  EXPECT_EQ(state(), before);
  EXPECT_THAT(reports_, IsEmpty());
}

TEST_F(HandlerTest, InvalidBodyIs400WithReason) {
  const std::string before = state();
  std::string unknown_field = to_json(snapshot("a", 1));
  unknown_field.insert(1, "\"extra\":1,");
  for (const std::string& body : {std::string(""), std::string("{"), std::string("[]"),
                                  std::string("{\"version\":2}"), unknown_field}) {
    ApiResponse response = post(kTokenA, body);
    EXPECT_EQ(response.status, 400u) << body;
    EXPECT_FALSE(json(response)["error"].get<std::string>().empty()) << body;
  }
  EXPECT_EQ(state(), before);
  EXPECT_THAT(reports_, IsEmpty());
}

TEST_F(HandlerTest, OversizedBodyIs413) {
  const std::string before = state();
  Snapshot big = snapshot("a", 1);
  std::string body = to_json(big);
  body.append(config_.agent_api.max_body_bytes + 1 - body.size(), ' ');  // still valid JSON
  ApiResponse response = post(kTokenA, body);
  EXPECT_EQ(response.status, 413u);
  EXPECT_THAT(json(response)["error"].get<std::string>(), HasSubstr("4096"));
  EXPECT_EQ(state(), before);
  body.pop_back();  // exactly the limit is fine
  EXPECT_EQ(post(kTokenA, body).status, 200u);
}

TEST_F(HandlerTest, OtherPathsAre404AndOtherMethods405) {
  const std::string before = state();
  const std::string body = to_json(snapshot("a", 1));
  for (std::string_view target : {"/", "/v1", "/v1/snapshot/", "/v1/snapshots", "/V1/snapshot",
                                  "v1/snapshot", "/v2/snapshot", "//v1/snapshot"}) {
    ApiResponse response = post(kTokenA, body, target);
    EXPECT_EQ(response.status, 404u) << target;
    EXPECT_EQ(json(response)["error"], "not found");
  }
  for (std::string_view method : {"GET", "PUT", "DELETE", "HEAD", "post", "OPTIONS"}) {
    ApiResponse response = post(kTokenA, body, "/v1/snapshot", method);
    EXPECT_EQ(response.status, 405u) << method;
    EXPECT_EQ(header(response, "Allow"), "POST");
  }
  EXPECT_EQ(state(), before);
  // A query string does not change the route.
  EXPECT_EQ(post(kTokenA, body, "/v1/snapshot?x=1").status, 200u);
}

TEST_F(HandlerTest, HealthNeedsNoAuthentication) {
  ApiResponse response = handler().handle(ApiRequest{"GET", "/v1/health", "", "", "lb"}, 1);
  EXPECT_EQ(response.status, 200u);
  EXPECT_EQ(json(response), (nlohmann::json{{"ok", true}}));
  EXPECT_EQ(handler().handle(ApiRequest{"GET", "/v1/health?probe", "", "", "lb"}, 1).status, 200u);
  ApiResponse post_health = handler().handle(ApiRequest{"POST", "/v1/health", "", "", "lb"}, 1);
  EXPECT_EQ(post_health.status, 405u);
  EXPECT_EQ(header(post_health, "Allow"), "GET");
}

TEST_F(HandlerTest, StoreFailureIs500) {
  // A server the configuration knows but the store does not (sync_servers not run for it).
  config_.servers.push_back(server("d", "token-of-server-d-0123456789", ""));
  ApiResponse response = post("token-of-server-d-0123456789", snapshot("d", 1));
  EXPECT_EQ(response.status, 500u);
  EXPECT_EQ(json(response)["error"], "state store unavailable");
  EXPECT_THAT(reports_, IsEmpty());
}

TEST_F(HandlerTest, DuplicateSessionIdsAre400) {
  Snapshot s = snapshot("a", 1, {"alice"});
  s.sessions.push_back(s.sessions[0]);
  const std::string before = state();
  EXPECT_EQ(post(kTokenA, s).status, 400u);
  EXPECT_EQ(state(), before);
}

// --- Host key pinning from reports -----------------------------------------------------------

TEST_F(HandlerTest, FirstReportTeachesThePreferredHostKey) {
  Snapshot s = snapshot("a", 1);
  s.host_keys = {kEcdsa256, kEd25519};
  ASSERT_EQ(post(kTokenA, s).status, 200u);
  // libssh negotiates ed25519 first, so that is the key the backend will present.
  EXPECT_EQ(store_.learned_host_key("a"), kEd25519);
}

TEST_F(HandlerTest, LearnedKeyIsNeverReplaced) {
  Snapshot s = snapshot("a", 1);
  s.host_keys = {kEd25519};
  ASSERT_EQ(post(kTokenA, s).status, 200u);
  s.sequence = 2;
  s.host_keys = {kEd25519Other};
  EXPECT_EQ(post(kTokenA, s).status, 200u);  // the sessions are still news
  EXPECT_EQ(store_.learned_host_key("a"), kEd25519);
  s.sequence = 3;
  s.host_keys = {};
  EXPECT_EQ(post(kTokenA, s).status, 200u);
  EXPECT_EQ(store_.learned_host_key("a"), kEd25519);
}

TEST_F(HandlerTest, ConfiguredPinIsNotOverriddenByLearning) {
  Snapshot s = snapshot("b", 1);
  s.host_keys = {kEd25519};
  ASSERT_EQ(post(kTokenB, s).status, 200u);
  EXPECT_EQ(store_.learned_host_key("b"), std::nullopt);
}

TEST_F(HandlerTest, RejectedReportsTeachNoKey) {
  Snapshot s = snapshot("a", 5);
  ASSERT_EQ(post(kTokenA, s).status, 200u);
  s.sequence = 4;
  s.host_keys = {kEd25519};
  EXPECT_EQ(post(kTokenA, s).status, 409u);
  EXPECT_EQ(post(kTokenB, s).status, 403u);
  EXPECT_EQ(store_.learned_host_key("a"), std::nullopt);
}

TEST(ErrorResponse, IsJsonWithTheReason) {
  ApiResponse response = error_response(413, "too \"big\"\n");
  EXPECT_EQ(response.status, 413u);
  EXPECT_EQ(nlohmann::json::parse(response.body)["error"], "too \"big\"\n");
  EXPECT_THAT(response.headers, IsEmpty());
  // Invalid UTF-8 in a reason does not throw.
  EXPECT_NO_THROW(error_response(400, "\xff"));
}

}  // namespace
}  // namespace x2gojump
