// The store's operations for the admin tools: drain, summaries, session listing, forgetting keys.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "broker/store/SessionStore.h"

namespace x2gojump {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

class AdminStore : public ::testing::Test {
 protected:
  AdminStore() {
    store_.sync_servers({{"a", "10.0.0.1", 22, 1.0}, {"b", "10.0.0.2", 2222, 2.0}});
  }
  static SessionRecord row(std::string id, std::string user, char status) {
    return SessionRecord{std::move(id), std::move(user), status, 50, 10, 100};
  }
  ServerHealth health_of(const std::string& name) {
    for (const ServerState& s : store_.servers()) {
      if (s.name == name) return s.health;
    }
    throw std::runtime_error("no server " + name);
  }
  static std::vector<std::string> keys(const std::vector<StoredSession>& sessions) {
    std::vector<std::string> out;
    for (const auto& s : sessions) out.push_back(s.server + "/" + s.session.user + "/" + s.session.session_id);
    return out;
  }

  SessionStore store_{":memory:"};
};

TEST_F(AdminStore, DrainIsStickyAgainstHealthUpdates) {
  EXPECT_TRUE(store_.drain("a"));
  EXPECT_FALSE(store_.drain("a"));  // already draining
  EXPECT_EQ(health_of("a"), ServerHealth::Draining);
  for (ServerHealth h : {ServerHealth::Up, ServerHealth::Stale, ServerHealth::Down}) {
    EXPECT_FALSE(store_.set_health_unless_draining("a", h));
    EXPECT_EQ(health_of("a"), ServerHealth::Draining);
  }
  EXPECT_TRUE(store_.set_health_unless_draining("b", ServerHealth::Down));
  EXPECT_EQ(health_of("b"), ServerHealth::Down);
}

TEST_F(AdminStore, UndrainMakesTheServerStaleUntilAssessed) {
  EXPECT_FALSE(store_.undrain("a"));  // not draining: unchanged
  EXPECT_EQ(health_of("a"), ServerHealth::Up);
  store_.drain("a");
  EXPECT_TRUE(store_.undrain("a"));
  EXPECT_EQ(health_of("a"), ServerHealth::Stale);
  EXPECT_TRUE(store_.set_health_unless_draining("a", ServerHealth::Up));
  EXPECT_EQ(health_of("a"), ServerHealth::Up);
}

TEST_F(AdminStore, DrainSurvivesSync) {
  store_.drain("b");
  store_.sync_servers({{"a", "10.0.0.1", 22, 1.0}, {"b", "10.0.0.2", 2222, 3.0}});
  EXPECT_EQ(health_of("b"), ServerHealth::Draining);
}

TEST_F(AdminStore, UnknownServersThrow) {
  EXPECT_THROW(store_.drain("zz"), StoreError);
  EXPECT_THROW(store_.undrain("zz"), StoreError);
  EXPECT_THROW(store_.set_health_unless_draining("zz", ServerHealth::Up), StoreError);
  EXPECT_THROW(store_.forget_host_key("zz"), StoreError);
}

TEST_F(AdminStore, ForgetHostKeyLetsTheNextKeyBeLearned) {
  EXPECT_FALSE(store_.forget_host_key("a"));
  store_.learn_host_key("a", "ssh-ed25519 AAAAold");
  EXPECT_THROW(store_.learn_host_key("a", "ssh-ed25519 AAAAnew"), StoreError);
  EXPECT_TRUE(store_.forget_host_key("a"));
  EXPECT_EQ(store_.learned_host_key("a"), std::nullopt);
  store_.learn_host_key("a", "ssh-ed25519 AAAAnew");
  EXPECT_EQ(store_.learned_host_key("a"), "ssh-ed25519 AAAAnew");
}

TEST_F(AdminStore, SummariesCountSessionsAndUsers) {
  store_.replace_sessions("a", {row("1", "alice", 'R'), row("2", "alice", 'S'), row("3", "bob", 'S')});
  store_.record_report("a", 0.5, 1700000000);
  store_.learn_host_key("b", "ssh-ed25519 AAAAkey");
  auto rows = store_.server_summaries();
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].name, "a");
  EXPECT_EQ(rows[0].address, "10.0.0.1");
  EXPECT_EQ(rows[0].running_sessions, 1);
  EXPECT_EQ(rows[0].suspended_sessions, 2);
  EXPECT_EQ(rows[0].users, 2);
  EXPECT_DOUBLE_EQ(rows[0].load, 0.5);
  EXPECT_EQ(rows[0].last_report, 1700000000);
  EXPECT_EQ(rows[0].learned_host_key, std::nullopt);
  EXPECT_EQ(rows[1].name, "b");
  EXPECT_EQ(rows[1].port, 2222);
  EXPECT_DOUBLE_EQ(rows[1].weight, 2.0);
  EXPECT_EQ(rows[1].users, 0);
  EXPECT_EQ(rows[1].last_report, std::nullopt);
  EXPECT_EQ(rows[1].learned_host_key, "ssh-ed25519 AAAAkey");
}

TEST_F(AdminStore, ListSessionsFiltersByUserAndServer) {
  store_.replace_sessions("a", {row("1", "alice", 'R'), row("2", "bob", 'S')});
  store_.replace_sessions("b", {row("9", "alice", 'S')});
  EXPECT_THAT(keys(store_.list_sessions("", "")), ElementsAre("a/alice/1", "a/bob/2", "b/alice/9"));
  EXPECT_THAT(keys(store_.list_sessions("alice", "")), ElementsAre("a/alice/1", "b/alice/9"));
  EXPECT_THAT(keys(store_.list_sessions("", "a")), ElementsAre("a/alice/1", "a/bob/2"));
  EXPECT_THAT(keys(store_.list_sessions("alice", "b")), ElementsAre("b/alice/9"));
  EXPECT_THAT(store_.list_sessions("carol", ""), IsEmpty());
  // A filter is a value, never SQL.
  EXPECT_THAT(store_.list_sessions("' OR 1=1 --", ""), IsEmpty());
  auto one = store_.list_sessions("bob", "");
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0].session.status, 'S');
  EXPECT_EQ(one[0].session.display, 50);
}

}  // namespace
}  // namespace x2gojump
