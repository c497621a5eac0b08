#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <vector>

#include "broker/agentapi/ConnectionSlots.h"
#include "broker/agentapi/ReportedHostKeys.h"
#include "broker/agentapi/TokenMatcher.h"

namespace x2gojump {
namespace {

// --- TokenMatcher ----------------------------------------------------------------------------

ServerConfig with_token(std::string name, std::string token) {
  ServerConfig server;
  server.name = std::move(name);
  server.agent_token = std::move(token);
  return server;
}

TEST(TokenMatcher, FindsTheServerOfEachToken) {
  TokenMatcher matcher({with_token("a", "aaaaaaaaaaaaaaaa"), with_token("b", "bbbbbbbbbbbbbbbbbbbb"),
                        with_token("c", "")});
  ASSERT_NE(matcher.server_of("aaaaaaaaaaaaaaaa"), nullptr);
  EXPECT_EQ(*matcher.server_of("aaaaaaaaaaaaaaaa"), "a");
  ASSERT_NE(matcher.server_of("bbbbbbbbbbbbbbbbbbbb"), nullptr);
  EXPECT_EQ(*matcher.server_of("bbbbbbbbbbbbbbbbbbbb"), "b");
}

TEST(TokenMatcher, RejectsEverythingElse) {
  TokenMatcher matcher({with_token("a", "aaaaaaaaaaaaaaaa"), with_token("c", "")});
  for (const std::string& wrong :
       {std::string(""), std::string("aaaaaaaaaaaaaaa"), std::string("aaaaaaaaaaaaaaaaa"),
        std::string("aaaaaaaaaaaaaaab"), std::string("AAAAAAAAAAAAAAAA"),
        std::string("aaaaaaaaaaaaaaaa\0", 17)}) {
    EXPECT_EQ(matcher.server_of(wrong), nullptr) << wrong;
  }
  TokenMatcher none({});
  EXPECT_EQ(none.server_of("aaaaaaaaaaaaaaaa"), nullptr);
}

// --- ReportedHostKeys ------------------------------------------------------------------------

TEST(ReportedHostKeys, CommentsAndBlanksDoNotMatter) {
  EXPECT_EQ(key_without_comment("ssh-ed25519 AAAA root@host"), "ssh-ed25519 AAAA");
  EXPECT_EQ(key_without_comment("  ssh-ed25519\t AAAA  comment with blanks"), "ssh-ed25519 AAAA");
  EXPECT_EQ(key_without_comment("ssh-ed25519 AAAA"), "ssh-ed25519 AAAA");
  EXPECT_EQ(key_without_comment("ssh-ed25519"), "ssh-ed25519");
  EXPECT_EQ(key_without_comment(""), "");
  EXPECT_TRUE(contains_host_key({"ssh-rsa BBBB", "ssh-ed25519 AAAA x@y"}, "ssh-ed25519 AAAA"));
  EXPECT_TRUE(contains_host_key({"ssh-ed25519 AAAA"}, "ssh-ed25519 AAAA other@comment"));
  EXPECT_FALSE(contains_host_key({"ssh-ed25519 AAAB"}, "ssh-ed25519 AAAA"));
  EXPECT_FALSE(contains_host_key({"ssh-rsa AAAA"}, "ssh-ed25519 AAAA"));
  EXPECT_FALSE(contains_host_key({}, "ssh-ed25519 AAAA"));
}

TEST(ReportedHostKeys, PreferenceFollowsLibssh) {
  EXPECT_EQ(preferred_host_key({"ssh-rsa R", "ecdsa-sha2-nistp256 E256", "ssh-ed25519 ED c"}),
            "ssh-ed25519 ED");
  EXPECT_EQ(preferred_host_key({"ssh-rsa R", "ecdsa-sha2-nistp256 E256", "ecdsa-sha2-nistp521 E521"}),
            "ecdsa-sha2-nistp521 E521");
  EXPECT_EQ(preferred_host_key({"ecdsa-sha2-nistp256 E256", "ecdsa-sha2-nistp384 E384"}),
            "ecdsa-sha2-nistp384 E384");
  EXPECT_EQ(preferred_host_key({"ssh-rsa R1", "ssh-rsa R2"}), "ssh-rsa R1");
  EXPECT_EQ(preferred_host_key({"ssh-dss D", "ssh-rsa R"}), "ssh-rsa R");
  EXPECT_EQ(preferred_host_key({"ssh-dss D"}), std::nullopt);
  EXPECT_EQ(preferred_host_key({}), std::nullopt);
}

// --- ConnectionSlots -------------------------------------------------------------------------

class Counting : public Closable {
 public:
  explicit Counting(std::atomic<int>* closed) : closed_(closed) {}
  void close() override { ++*closed_; }

 private:
  std::atomic<int>* closed_;
};

TEST(ConnectionSlots, RefusesBeyondCapacityUntilOneIsRemoved) {
  std::atomic<int> closed{0};
  ConnectionSlots slots(2);
  auto a = std::make_shared<Counting>(&closed);
  auto b = std::make_shared<Counting>(&closed);
  auto c = std::make_shared<Counting>(&closed);
  auto first = slots.try_add(a);
  auto second = slots.try_add(b);
  ASSERT_TRUE(first && second);
  EXPECT_NE(*first, *second);
  EXPECT_EQ(slots.try_add(c), std::nullopt);
  EXPECT_EQ(slots.size(), 2u);
  slots.remove(*first);
  slots.remove(*first);  // twice is harmless
  slots.remove(12345);
  EXPECT_EQ(slots.size(), 1u);
  EXPECT_TRUE(slots.try_add(c));
}

TEST(ConnectionSlots, CloseAllClosesLiveConnectionsAndRefusesNewOnes) {
  std::atomic<int> closed{0};
  ConnectionSlots slots(64);
  std::vector<std::shared_ptr<Counting>> live;
  for (int i = 0; i < 3; ++i) {
    live.push_back(std::make_shared<Counting>(&closed));
    ASSERT_TRUE(slots.try_add(live.back()));
  }
  {
    auto gone = std::make_shared<Counting>(&closed);
    ASSERT_TRUE(slots.try_add(gone));
  }  // destroyed without remove(): skipped, not crashed on
  slots.close_all();
  EXPECT_EQ(closed.load(), 3);
  EXPECT_EQ(slots.try_add(std::make_shared<Counting>(&closed)), std::nullopt);
}

}  // namespace
}  // namespace x2gojump
