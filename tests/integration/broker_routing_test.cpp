// Which backend a login lands on: the user's suspended session first, then (with placement off)
// the rendezvous hash of the client address over healthy servers; dead or unauthenticated
// backends are never used. `ssh -b 127.0.0.N` gives distinct client addresses on loopback.
#include <gtest/gtest.h>

#include <ctime>
#include <future>
#include <iostream>
#include <memory>
#include <set>

#include "broker/store/SessionStore.h"
#include "tests/fixtures/LocalUsers.h"
#include "tests/fixtures/Testbed.h"

namespace x2gojump::test {
namespace {

using std::chrono::seconds;

std::vector<std::string> sources(int first, int last) {
  std::vector<std::string> out;
  for (int i = first; i <= last; ++i) out.push_back("127.0.0." + std::to_string(i));
  return out;
}

// landing() for every source, a few logins at a time (well below the broker's MaxStartups).
std::map<std::string, std::string> landings(Testbed& tb, const std::string& user,
                                            const std::vector<std::string>& srcs) {
  std::map<std::string, std::string> out;
  for (std::size_t i = 0; i < srcs.size(); i += 5) {
    std::vector<std::future<std::string>> batch;
    for (std::size_t j = i; j < std::min(srcs.size(), i + 5); ++j) {
      batch.push_back(std::async(std::launch::async, [&tb, &user, s = srcs[j]] { return tb.landing(user, s); }));
    }
    for (std::size_t j = i; j < std::min(srcs.size(), i + 5); ++j) out[srcs[j]] = batch[j - i].get();
  }
  return out;
}

class Routing : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    tb_ = std::make_unique<Testbed>(TestbedOptions{.limits_extra = "placement_ttl_s = 0\n"});
  }
  static void TearDownTestSuite() { tb_.reset(); }
  void TearDown() override {
    if (HasFailure()) std::cerr << tb_->diagnostics();
  }
  static std::unique_ptr<Testbed> tb_;
};
std::unique_ptr<Testbed> Routing::tb_;

TEST_F(Routing, SameSourceSameBackend) {
  std::string first = tb_->landing("xjalice", "127.0.0.2");
  EXPECT_TRUE(first == "b1" || first == "b2") << first;
  for (int i = 0; i < 2; ++i) EXPECT_EQ(tb_->landing("xjalice", "127.0.0.2"), first);
}

TEST_F(Routing, SourcesSpreadOverBothBackends) {
  std::set<std::string> seen;
  for (const auto& [source, backend] : landings(*tb_, "xjbob", sources(2, 20))) seen.insert(backend);
  EXPECT_EQ(seen, (std::set<std::string>{"b1", "b2"}));
}

TEST_F(Routing, SuspendedSessionWinsForEverySource) {
  // Sources the hash sends to b1: without the session row xjalice would land there.
  std::vector<std::string> to_b1;
  for (const auto& [source, backend] : landings(*tb_, "xjalice", sources(2, 20))) {
    if (backend == "b1") to_b1.push_back(source);
  }
  ASSERT_FALSE(to_b1.empty()) << "no source hashed to b1; the test could not fail";

  SessionStore store(tb_->broker().state_db());
  const std::int64_t now = std::time(nullptr);
  store.replace_sessions("b2", {SessionRecord{"xjalice-50-1_stRxterm_dp24", "xjalice", 'S', 50, now, now}});
  for (const auto& [source, backend] : landings(*tb_, "xjalice", to_b1)) {
    EXPECT_EQ(backend, "b2") << "xjalice from " << source;
  }
  // The row is xjalice's: xjbob from the same addresses still follows the hash.
  for (const auto& [source, backend] : landings(*tb_, "xjbob", to_b1)) {
    EXPECT_EQ(backend, "b1") << "xjbob from " << source;
  }
  store.replace_sessions("b2", {});
}

// Tests that break a backend get their own testbed.
class RoutingFailover : public ::testing::Test {
 protected:
  void TearDown() override {
    if (HasFailure() && tb_) std::cerr << tb_->diagnostics();
  }
  std::unique_ptr<Testbed> tb_;
};

TEST_F(RoutingFailover, StoppedBackendSendsNewLoginsToTheOther) {
  tb_ = std::make_unique<Testbed>(TestbedOptions{.limits_extra = "placement_ttl_s = 0\n"});
  std::string before = tb_->landing("xjalice", "127.0.0.2");
  ASSERT_TRUE(before == "b1" || before == "b2") << before;
  std::string other = before == "b1" ? "b2" : "b1";
  tb_->backend(before == "b1" ? 0 : 1).stop();
  for (const auto& [source, backend] : landings(*tb_, "xjalice", sources(2, 9))) {
    EXPECT_EQ(backend, other) << "from " << source;
  }
}

TEST_F(RoutingFailover, PlacementKeepsUserOnOneServer) {
  tb_ = std::make_unique<Testbed>(TestbedOptions{.limits_extra = "placement_ttl_s = 300\n"});
  // Sequential on purpose: the first login places xjalice, all later ones must follow it, although
  // the hash alone would spread these 11 addresses over both servers (all equal: p = 2^-10).
  std::string first = tb_->landing("xjalice", "127.0.0.2");
  for (const auto& source : sources(3, 12)) EXPECT_EQ(tb_->landing("xjalice", source), first) << source;
}

TEST_F(RoutingFailover, SessionRowSurvivesBrokerRestart) {
  tb_ = std::make_unique<Testbed>(TestbedOptions{.limits_extra = "placement_ttl_s = 0\n"});
  std::string hashed = tb_->landing("xjalice", "127.0.0.2");
  ASSERT_TRUE(hashed == "b1" || hashed == "b2") << hashed;
  std::string other = hashed == "b1" ? "b2" : "b1";
  {
    SessionStore store(tb_->broker().state_db());
    const std::int64_t now = std::time(nullptr);
    store.replace_sessions(other, {SessionRecord{"xjalice-51-1_stRxterm_dp24", "xjalice", 'S', 51, now, now}});
  }
  tb_->broker().restart();
  EXPECT_EQ(tb_->landing("xjalice", "127.0.0.2"), other);
}

TEST_F(RoutingFailover, HostKeyMismatchIsRefused) {
  TempDir other_key("xj-wrongkey");
  shell("ssh-keygen -q -t ed25519 -N '' -f '" + other_key.file("k") + "'");
  std::string wrong = read_file(other_key.file("k.pub"));
  wrong = wrong.substr(0, wrong.find(' ', wrong.find(' ') + 1));
  tb_ = std::make_unique<Testbed>(TestbedOptions{
      .backends = 1, .customize = [&](BrokerSettings& s) { s.servers.at(0).host_key = wrong; }});
  auto r = tb_->broker_client().run("xjalice", test_user("xjalice").password, "echo $X2GOJUMP_BACKEND");
  EXPECT_EQ(r.exit_code, 255) << describe(r);
  EXPECT_EQ(r.out, "");
  EXPECT_NE(r.err.find("x2gojump: no X2Go server available"), std::string::npos) << describe(r);
  // The broker must check the key before it hands the password to an impostor.
  EXPECT_EQ(read_file(tb_->backend(0).log_path()).find("password for xjalice"), std::string::npos)
      << read_file(tb_->backend(0).log_path());
}

TEST_F(RoutingFailover, NoBackendReachable) {
  tb_ = std::make_unique<Testbed>(TestbedOptions{.backends = 1});
  tb_->backend(0).stop();  // its port is now closed: connection refused
  auto r = tb_->broker_client().run("xjalice", test_user("xjalice").password, "true");
  EXPECT_EQ(r.exit_code, 255) << describe(r);
  EXPECT_NE(r.err.find("x2gojump: no X2Go server available"), std::string::npos) << describe(r);
  EXPECT_LT(r.elapsed, seconds(10));
}

}  // namespace
}  // namespace x2gojump::test
