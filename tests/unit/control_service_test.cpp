// The broker's side of x2gojumpctl: each command against a real (in-memory) store.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "broker/admin/ControlService.h"

namespace x2gojump {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr const char* kKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKOzcTu/G9dPqXNYEpOGQv7NtsUiUIHqkorz/qcHfDBi";

class ControlServiceTest : public ::testing::Test {
 protected:
  ControlServiceTest() {
    store_.sync_servers({{"b1", "10.0.0.1", 22, 1.0}, {"b2", "10.0.0.2", 22, 1.0}});
    store_.replace_sessions("b1", {SessionRecord{"s1", "alice", 'S', 50, 10, 100},
                                   SessionRecord{"s2", "bob", 'R', 51, 10, 100}});
    store_.replace_sessions("b2", {SessionRecord{"s3", "alice", 'R', 52, 10, 100}});
  }
  nlohmann::json call(const std::string& line) {
    return nlohmann::json::parse(service_.handle(line, ControlPeer{1000, 42}));
  }
  ServerHealth health_of(const std::string& name) {
    for (const ServerState& s : store_.servers()) {
      if (s.name == name) return s.health;
    }
    return ServerHealth::Up;
  }

  static std::shared_ptr<ConfigHolder> two_servers() {
    BrokerConfig config;
    config.servers = {ServerConfig{.name = "b1", .address = "10.0.0.1"},
                      ServerConfig{.name = "b2", .address = "10.0.0.2", .host_key = kKey}};
    return std::make_shared<ConfigHolder>(std::make_shared<const BrokerConfig>(config));
  }

  SessionStore store_{":memory:"};
  std::shared_ptr<ConfigHolder> holder_ = two_servers();
  AuditLog audit_{""};
  StatusSource status_{store_, holder_, &audit_, nullptr};
  std::vector<std::string> undrained_;
  ControlService service_{store_, holder_, status_, &audit_,
                          [](const std::string& user, const std::string& from) {
                            if (user == "nobody") throw std::runtime_error("no such user");
                            return nlohmann::json{{"user", user}, {"from", from}};
                          },
                          [this](const std::string& server) { undrained_.push_back(server); }};
};

TEST_F(ControlServiceTest, Servers) {
  auto answer = call(R"({"command":"servers"})");
  ASSERT_EQ(answer["ok"], true) << answer;
  ASSERT_EQ(answer["servers"].size(), 2u);
  EXPECT_EQ(answer["servers"][0]["name"], "b1");
  EXPECT_EQ(answer["servers"][0]["sessions"]["suspended"], 1);
  EXPECT_EQ(answer["servers"][1]["host_key"]["source"], "config");
}

TEST_F(ControlServiceTest, SessionsWithFilters) {
  EXPECT_EQ(call(R"({"command":"sessions"})")["sessions"].size(), 3u);
  auto alice = call(R"({"command":"sessions","user":"alice"})")["sessions"];
  ASSERT_EQ(alice.size(), 2u);
  EXPECT_EQ(alice[0]["server"], "b1");
  EXPECT_EQ(alice[0]["status"], "S");
  EXPECT_EQ(alice[0]["display"], 50);
  EXPECT_EQ(call(R"({"command":"sessions","server":"b2"})")["sessions"].size(), 1u);
  auto unknown = call(R"({"command":"sessions","server":"zz"})");
  EXPECT_EQ(unknown["ok"], false);
  EXPECT_THAT(unknown["error"].get<std::string>(), HasSubstr("unknown server \"zz\""));
}

TEST_F(ControlServiceTest, DrainAndUndrainAreAuditedWithTheCaller) {
  auto drained = call(R"({"command":"drain","server":"b1"})");
  EXPECT_EQ(drained["ok"], true);
  EXPECT_EQ(drained["changed"], true);
  EXPECT_EQ(health_of("b1"), ServerHealth::Draining);
  EXPECT_EQ(call(R"({"command":"drain","server":"b1"})")["changed"], false);
  EXPECT_THAT(undrained_, ElementsAre());
  EXPECT_EQ(call(R"({"command":"undrain","server":"b1"})")["changed"], true);
  EXPECT_THAT(undrained_, ElementsAre("b1"));
  EXPECT_EQ(call(R"({"command":"undrain","server":"b1"})")["changed"], false);
  EXPECT_THAT(undrained_, ElementsAre("b1"));
  auto events = audit_.recent();
  ASSERT_EQ(events.size(), 2u);  // only actual changes
  auto first = nlohmann::json::parse(events[0]);
  EXPECT_EQ(first["event"], "drain");
  EXPECT_EQ(first["server"], "b1");
  EXPECT_EQ(first["uid"], 1000);
  EXPECT_EQ(nlohmann::json::parse(events[1])["event"], "undrain");
}

TEST_F(ControlServiceTest, TrustHostKeyForgetsOnlyLearnedKeys) {
  store_.learn_host_key("b1", kKey);
  auto answer = call(R"({"command":"trust-hostkey","server":"b1"})");
  EXPECT_EQ(answer["changed"], true);
  EXPECT_EQ(store_.learned_host_key("b1"), std::nullopt);
  EXPECT_EQ(nlohmann::json::parse(audit_.recent().back())["event"], "trust_hostkey");
  EXPECT_EQ(call(R"({"command":"trust-hostkey","server":"b1"})")["changed"], false);
  auto pinned = call(R"({"command":"trust-hostkey","server":"b2"})");
  EXPECT_EQ(pinned["ok"], false);
  EXPECT_THAT(pinned["error"].get<std::string>(), HasSubstr("pinned in the configuration"));
}

TEST_F(ControlServiceTest, UnknownServersAndBadRequests) {
  for (const char* command : {"drain", "undrain", "trust-hostkey"}) {
    auto answer = call(std::string(R"({"command":")") + command + R"(","server":"nope"})");
    EXPECT_EQ(answer["ok"], false);
    EXPECT_THAT(answer["error"].get<std::string>(), HasSubstr("unknown server \"nope\""));
  }
  EXPECT_EQ(call("garbage")["ok"], false);
  EXPECT_TRUE(audit_.recent().empty());
}

TEST_F(ControlServiceTest, ExplainPassesThroughAndReportsErrors) {
  auto answer = call(R"({"command":"explain","user":"alice","from":"10.1.2.3"})");
  EXPECT_EQ(answer["explain"]["user"], "alice");
  EXPECT_EQ(answer["explain"]["from"], "10.1.2.3");
  auto bad_address = call(R"({"command":"explain","user":"alice","from":"host.example"})");
  EXPECT_EQ(bad_address["ok"], false);
  EXPECT_THAT(bad_address["error"].get<std::string>(), HasSubstr("not an IP address"));
  EXPECT_EQ(call(R"({"command":"explain","user":"alice","from":"::1"})")["ok"], true);
  auto failed = call(R"({"command":"explain","user":"nobody"})");
  EXPECT_EQ(failed["ok"], false);
  EXPECT_EQ(failed["error"], "no such user");
}

TEST_F(ControlServiceTest, ServersRemovedByAReloadAreUnknown) {
  BrokerConfig config;
  config.servers = {ServerConfig{.name = "b2", .address = "10.0.0.2"}};
  holder_->set(std::make_shared<const BrokerConfig>(config));
  EXPECT_EQ(call(R"({"command":"drain","server":"b1"})")["ok"], false);
}

}  // namespace
}  // namespace x2gojump
