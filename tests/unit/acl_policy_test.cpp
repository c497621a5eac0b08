// evaluate_pools against an independent model of the docs/acl.md table, over every combination
// of users x groups x source networks x pool rules, plus named scenarios for the edge cases.
#include "broker/policy/AccessPolicy.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

namespace x2gojump {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

Cidr net(const char* text) { return Cidr::parse(text).value(); }

PoolConfig pool(std::string name, std::vector<std::string> servers) {
  PoolConfig p;
  p.name = std::move(name);
  p.servers = std::move(servers);
  return p;
}

// Where each test source address lies, written by hand (not computed with Cidr).
struct Source {
  std::string text;
  bool in_10_8;       // 10.0.0.0/8
  bool in_10_1_16;    // 10.1.0.0/16
  bool in_db8;        // 2001:db8::/32
  bool known;         // parses as an address
};
const std::vector<Source> kSources = {
    {"10.1.2.3", true, true, false, true},       {"10.2.0.1", true, false, false, true},
    {"::ffff:10.1.2.3", true, true, false, true}, {"192.0.2.1", false, false, false, true},
    {"2001:db8::1", false, false, true, true},    {"2001:db9::1", false, false, false, true},
    {"", false, false, false, false},             {"not-an-address", false, false, false, false},
};

enum class Net { None, Ten, Db8 };  // allow_networks choices
struct Rules {
  int allow_users;   // 0 {}, 1 {alice}, 2 {*}, 3 {alice, *}
  bool allow_physics;
  Net allow_net;
  bool deny_alice;
  bool deny_staff;
  bool deny_10_1;    // deny_networks {10.1.0.0/16}
  bool deny_wins;
};

PoolConfig build(const Rules& r) {
  PoolConfig p = pool("p", {"s1"});
  if (r.allow_users == 1 || r.allow_users == 3) p.allow_users.push_back("alice");
  if (r.allow_users >= 2) p.allow_users.push_back("*");
  if (r.allow_physics) p.allow_groups.push_back("physics");
  if (r.allow_net == Net::Ten) p.allow_networks.push_back(net("10.0.0.0/8"));
  if (r.allow_net == Net::Db8) p.allow_networks.push_back(net("2001:db8::/32"));
  if (r.deny_alice) p.deny_users.push_back("alice");
  if (r.deny_staff) p.deny_groups.push_back("staff");
  if (r.deny_10_1) p.deny_networks.push_back(net("10.1.0.0/16"));
  p.deny_wins = r.deny_wins;
  return p;
}

// The docs/acl.md table, spelled out independently of the implementation.
PoolVerdict model(const Rules& r, bool is_alice, bool physics, bool staff, const Source& s) {
  const bool user_listed = (r.allow_users == 1 || r.allow_users == 3) && is_alice;
  const bool identity = user_listed || r.allow_users >= 2 || (r.allow_physics && physics);
  const bool network_ok = r.allow_net == Net::None || (r.allow_net == Net::Ten && s.in_10_8) ||
                          (r.allow_net == Net::Db8 && s.in_db8);
  const bool user_denied = r.deny_alice && is_alice;
  const bool network_denied = r.deny_10_1 && (s.in_10_1_16 || !s.known);
  const bool denied = user_denied || (r.deny_staff && staff) || network_denied;
  if (!identity) return PoolVerdict::NoAllowMatch;
  if (!network_ok) return PoolVerdict::NetworkNotAllowed;
  if (!denied) return PoolVerdict::Allowed;
  if (!r.deny_wins && user_listed && !user_denied) return PoolVerdict::Allowed;
  return PoolVerdict::Denied;
}

TEST(AccessPolicyTest, EveryCombinationMatchesTheTable) {
  const std::vector<std::pair<std::string, bool>> users = {{"alice", true}, {"ALICE", true}, {"bob", false}};
  const std::vector<std::vector<std::string>> group_sets = {
      {}, {"physics"}, {"staff"}, {"physics", "staff"}, {"PHYSICS", "Staff"}, {"physicsx"}};
  int evaluated = 0;
  int allowed = 0;
  for (int allow_users = 0; allow_users < 4; ++allow_users)
  for (bool allow_physics : {false, true})
  for (Net allow_net : {Net::None, Net::Ten, Net::Db8})
  for (bool deny_alice : {false, true})
  for (bool deny_staff : {false, true})
  for (bool deny_10_1 : {false, true})
  for (bool deny_wins : {false, true}) {
    const Rules rules{allow_users, allow_physics, allow_net, deny_alice, deny_staff, deny_10_1, deny_wins};
    const std::vector<PoolConfig> pools{build(rules)};
    for (const auto& [user, is_alice] : users)
    for (const auto& groups : group_sets)
    for (const Source& source : kSources) {
      bool physics = false, staff = false;
      for (const std::string& g : groups) {
        physics = physics || same_name(g, "physics");
        staff = staff || same_name(g, "staff");
      }
      const PoolVerdict expected = model(rules, is_alice, physics, staff, source);
      const AccessDecision d = evaluate_pools(pools, user, groups, source.text);
      ASSERT_EQ(d.pools.size(), 1u);
      ASSERT_EQ(d.pools[0].verdict, expected)
          << "user=" << user << " groups=" << groups.size() << " source=" << source.text
          << " rules: users=" << allow_users << " physics=" << allow_physics
          << " net=" << static_cast<int>(allow_net) << " deny_alice=" << deny_alice
          << " deny_staff=" << deny_staff << " deny_10_1=" << deny_10_1 << " deny_wins=" << deny_wins
          << " reason: " << d.pools[0].reason();
      EXPECT_TRUE(d.restricted);
      EXPECT_EQ(d.allowed(), expected == PoolVerdict::Allowed);
      EXPECT_EQ(d.may_place_on("s1"), expected == PoolVerdict::Allowed);
      EXPECT_FALSE(d.may_place_on("s2"));
      ++evaluated;
      allowed += expected == PoolVerdict::Allowed;
    }
  }
  EXPECT_EQ(evaluated, 384 * 3 * 6 * 8);
  EXPECT_GT(allowed, 0);  // the matrix covers both outcomes
  EXPECT_LT(allowed, evaluated);
}

TEST(AccessPolicyTest, NoPoolsMeansEveryServer) {
  AccessDecision d = evaluate_pools({}, "alice", {}, "192.0.2.1");
  EXPECT_FALSE(d.restricted);
  EXPECT_TRUE(d.allowed());
  EXPECT_TRUE(d.may_place_on("anything"));
  EXPECT_TRUE(d.may_resume_on("anything"));
  EXPECT_THAT(d.pools, IsEmpty());
  EXPECT_EQ(d.summary(), "no pools");
}

TEST(AccessPolicyTest, AllowedByGroupRecordsTheRule) {
  PoolConfig p = pool("physics", {"s1", "s2"});
  p.allow_groups = {"physics", "staff"};
  p.allow_networks = {net("10.0.0.0/8"), net("192.0.2.0/24")};
  AccessDecision d = evaluate_pools({p}, "alice", {"physics", "staff"}, "192.0.2.9");
  ASSERT_TRUE(d.allowed());
  EXPECT_THAT(d.pools[0].allows,
              ElementsAre(RuleMatch{RuleKind::AllowGroup, "physics"}, RuleMatch{RuleKind::AllowGroup, "staff"},
                          RuleMatch{RuleKind::AllowNetwork, "192.0.2.0/24"}));
  EXPECT_THAT(d.pools[0].denies, IsEmpty());
  EXPECT_EQ(d.pools[0].reason(), "allowed by allow_groups physics, allow_groups staff, allow_networks 192.0.2.0/24");
  EXPECT_THAT(d.servers, ElementsAre("s1", "s2"));
  EXPECT_EQ(d.summary(), "physics: " + d.pools[0].reason());
}

TEST(AccessPolicyTest, DenyWinsByDefault) {
  PoolConfig p = pool("lab", {"s1"});
  p.allow_users = {"alice"};
  p.deny_networks = {net("127.0.0.0/8")};
  AccessDecision d = evaluate_pools({p}, "alice", {}, "127.0.0.1");
  EXPECT_FALSE(d.allowed());
  EXPECT_EQ(d.pools[0].verdict, PoolVerdict::Denied);
  EXPECT_EQ(d.pools[0].reason(), "denied by deny_networks 127.0.0.0/8");
  EXPECT_THAT(d.servers, IsEmpty());
  EXPECT_FALSE(d.may_resume_on("s1"));
}

TEST(AccessPolicyTest, DenyWinsFalseLetsAnExplicitUserPastGroupAndNetworkDenies) {
  PoolConfig p = pool("lab", {"s1"});
  p.allow_users = {"alice"};
  p.allow_groups = {"physics"};
  p.deny_groups = {"students"};
  p.deny_networks = {net("127.0.0.0/8")};
  p.deny_wins = false;
  AccessDecision alice = evaluate_pools({p}, "alice", {"students"}, "127.0.0.1");
  ASSERT_TRUE(alice.allowed());
  EXPECT_TRUE(alice.pools[0].overridden);
  EXPECT_EQ(alice.pools[0].reason(),
            "allowed by allow_users alice (overrides deny_groups students, deny_networks 127.0.0.0/8)");
  // A group member is not explicit: the denies apply.
  AccessDecision bob = evaluate_pools({p}, "bob", {"physics", "students"}, "10.0.0.1");
  EXPECT_EQ(bob.pools[0].verdict, PoolVerdict::Denied);
  EXPECT_EQ(bob.pools[0].reason(), "denied by deny_groups students");
  // deny_users always wins, also over an explicit entry.
  p.deny_users = {"alice"};
  EXPECT_EQ(evaluate_pools({p}, "alice", {}, "10.0.0.1").pools[0].verdict, PoolVerdict::Denied);
}

TEST(AccessPolicyTest, WildcardIsNotAnExplicitUser) {
  PoolConfig p = pool("all", {"s1"});
  p.allow_users = {"*"};
  p.deny_networks = {net("127.0.0.0/8")};
  p.deny_wins = false;
  EXPECT_TRUE(evaluate_pools({p}, "anyone", {}, "10.0.0.1").allowed());
  EXPECT_EQ(evaluate_pools({p}, "anyone", {}, "10.0.0.1").pools[0].reason(), "allowed by allow_users *");
  EXPECT_FALSE(evaluate_pools({p}, "anyone", {}, "127.0.0.1").allowed());
}

TEST(AccessPolicyTest, NamesCompareCaseInsensitively) {
  PoolConfig p = pool("lab", {"s1"});
  p.allow_groups = {"Physics"};
  p.deny_users = {"Mallory"};
  EXPECT_TRUE(evaluate_pools({p}, "alice", {"physics"}, "10.0.0.1").allowed());
  // A deny must not be bypassed by logging in as "MALLORY" (LDAP's uid match ignores case).
  EXPECT_FALSE(evaluate_pools({p}, "MALLORY", {"PHYSICS"}, "10.0.0.1").allowed());
  EXPECT_TRUE(same_name("Staff", "sTAFF"));
  EXPECT_FALSE(same_name("staff", "staff "));
  EXPECT_FALSE(same_name("\xc3\x84", "\xc3\xa4"));  // only ASCII folds
}

TEST(AccessPolicyTest, EmptyListsRestrictNothingButAllowNobody) {
  PoolConfig p = pool("empty", {"s1"});
  AccessDecision d = evaluate_pools({p}, "alice", {"physics"}, "10.0.0.1");
  EXPECT_TRUE(d.restricted);
  EXPECT_FALSE(d.allowed());
  EXPECT_EQ(d.pools[0].reason(), "no allow rule matches");
  EXPECT_EQ(d.summary(), "empty: no allow rule matches");
}

TEST(AccessPolicyTest, UnknownSourceFailsClosed) {
  PoolConfig p = pool("lab", {"s1"});
  p.allow_users = {"alice"};
  p.deny_networks = {net("10.0.0.0/8"), net("2001:db8::/32")};
  AccessDecision d = evaluate_pools({p}, "alice", {}, "");
  EXPECT_EQ(d.pools[0].verdict, PoolVerdict::Denied);
  EXPECT_EQ(d.pools[0].denies.size(), 2u);
  p.deny_networks.clear();
  EXPECT_TRUE(evaluate_pools({p}, "alice", {}, "").allowed());
  p.allow_networks = {net("0.0.0.0/0"), net("::/0")};
  EXPECT_EQ(evaluate_pools({p}, "alice", {}, "garbage").pools[0].verdict, PoolVerdict::NetworkNotAllowed);
  EXPECT_EQ(evaluate_pools({p}, "alice", {}, "garbage").pools[0].reason(),
            "source address not in allow_networks");
  EXPECT_TRUE(evaluate_pools({p}, "alice", {}, "fe80::1%eth0").allowed());
}

TEST(AccessPolicyTest, OverlappingPoolsUniteTheirServers) {
  PoolConfig a = pool("a", {"s1", "s2"});
  a.allow_groups = {"physics"};
  PoolConfig b = pool("b", {"s2", "s3"});
  b.allow_groups = {"staff"};
  PoolConfig c = pool("c", {"s4"});
  c.allow_groups = {"physics"};
  c.deny_networks = {net("10.0.0.0/8")};
  AccessDecision d = evaluate_pools({a, b, c}, "alice", {"physics", "staff"}, "10.0.0.1");
  EXPECT_THAT(d.servers, ElementsAre("s1", "s2", "s3"));  // s2 once; c denied
  EXPECT_TRUE(d.may_place_on("s2"));
  EXPECT_FALSE(d.may_place_on("s4"));
  EXPECT_EQ(d.summary(), "a: allowed by allow_groups physics; b: allowed by allow_groups staff; "
                         "c: denied by deny_networks 10.0.0.0/8");
  // A deny in one pool does not take away what another pool grants on the same server.
  PoolConfig e = pool("e", {"s1"});
  e.allow_groups = {"staff"};
  e.deny_groups = {"physics"};
  AccessDecision d2 = evaluate_pools({a, e}, "alice", {"physics", "staff"}, "10.0.0.1");
  EXPECT_TRUE(d2.may_place_on("s1"));
  EXPECT_EQ(d2.pools[1].verdict, PoolVerdict::Denied);
}

TEST(AccessPolicyTest, ResumeOutsidePoolComesOnlyFromAllowedPools) {
  PoolConfig a = pool("a", {"s1"});
  a.allow_groups = {"physics"};
  PoolConfig b = pool("b", {"s2"});
  b.allow_groups = {"staff"};
  b.resume_outside_pool = true;
  // Only a allows: b's resume switch does not apply.
  AccessDecision d = evaluate_pools({a, b}, "bob", {"physics"}, "10.0.0.1");
  EXPECT_FALSE(d.resume_outside_pool);
  EXPECT_TRUE(d.may_resume_on("s1"));
  EXPECT_FALSE(d.may_resume_on("s2"));
  EXPECT_FALSE(d.may_resume_on("s9"));
  // b allows: sessions anywhere count, new placements stay inside the pools.
  AccessDecision e = evaluate_pools({a, b}, "alice", {"staff"}, "10.0.0.1");
  EXPECT_TRUE(e.resume_outside_pool);
  EXPECT_TRUE(e.may_resume_on("s9"));
  EXPECT_FALSE(e.may_place_on("s9"));
  EXPECT_FALSE(e.may_place_on("s1"));
  // Allowed in no pool: nothing, whatever the switches say.
  AccessDecision f = evaluate_pools({a, b}, "eve", {}, "10.0.0.1");
  EXPECT_FALSE(f.allowed());
  EXPECT_FALSE(f.may_resume_on("s2"));
}

TEST(AccessPolicyTest, EveryPairOfPoolsUnitesExactlyTheAllowedOnes) {
  std::vector<PoolConfig> candidates;
  for (int i = 0; i < 6; ++i) {
    PoolConfig p = pool("p" + std::to_string(i), {"s" + std::to_string(i), "s" + std::to_string(i + 1)});
    if (i % 3 == 0) p.allow_groups = {"physics"};
    if (i % 3 == 1) p.allow_users = {"alice"};
    if (i % 3 == 2) p.allow_users = {"*"};
    if (i >= 3) p.deny_networks = {net("10.0.0.0/8")};
    p.resume_outside_pool = i % 2 == 1;
    candidates.push_back(p);
  }
  for (const PoolConfig& first : candidates)
  for (const PoolConfig& second : candidates)
  for (const char* user : {"alice", "bob"})
  for (const char* source : {"10.0.0.1", "192.0.2.1"}) {
    if (first.name == second.name) continue;
    AccessDecision d = evaluate_pools({first, second}, user, {"physics"}, source);
    std::set<std::string> expected;
    bool resume = false;
    for (const PoolDecision& p : d.pools) {
      const PoolConfig& config = p.pool == first.name ? first : second;
      AccessDecision alone = evaluate_pools({config}, user, {"physics"}, source);
      EXPECT_EQ(alone.pools[0].verdict, p.verdict);
      if (!p.allowed()) continue;
      expected.insert(config.servers.begin(), config.servers.end());
      resume = resume || config.resume_outside_pool;
    }
    EXPECT_EQ(std::set<std::string>(d.servers.begin(), d.servers.end()), expected);
    EXPECT_EQ(d.servers.size(), expected.size());
    EXPECT_EQ(d.resume_outside_pool, resume);
  }
}

TEST(AccessPolicyTest, StableNames) {
  EXPECT_EQ(to_string(RuleKind::AllowUser), "allow_users");
  EXPECT_EQ(to_string(RuleKind::AllowGroup), "allow_groups");
  EXPECT_EQ(to_string(RuleKind::AllowNetwork), "allow_networks");
  EXPECT_EQ(to_string(RuleKind::DenyUser), "deny_users");
  EXPECT_EQ(to_string(RuleKind::DenyGroup), "deny_groups");
  EXPECT_EQ(to_string(RuleKind::DenyNetwork), "deny_networks");
  EXPECT_EQ(to_string(PoolVerdict::Allowed), "allowed");
  EXPECT_EQ(to_string(PoolVerdict::NoAllowMatch), "no-allow-match");
  EXPECT_EQ(to_string(PoolVerdict::NetworkNotAllowed), "network-not-allowed");
  EXPECT_EQ(to_string(PoolVerdict::Denied), "denied");
}

}  // namespace
}  // namespace x2gojump
