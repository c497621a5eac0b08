#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "broker/routing/RendezvousHash.h"

namespace x2gojump {
namespace {

std::vector<WeightedNode> equal_nodes(int count) {
  std::vector<WeightedNode> nodes;
  for (int i = 0; i < count; ++i) nodes.push_back({"node" + std::to_string(i), 1.0});
  return nodes;
}

std::string owner(std::string_view key, const std::vector<WeightedNode>& nodes) {
  return rendezvous_rank(key, nodes).front();
}

std::string key_for(int i) { return "user" + std::to_string(i); }

TEST(RendezvousHash, EmptyNodeListGivesEmptyRanking) {
  EXPECT_TRUE(rendezvous_rank("alice", {}).empty());
}

TEST(RendezvousHash, SingleNodeAlwaysWins) {
  const std::vector<WeightedNode> nodes = {{"only", 1.0}};
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(rendezvous_rank(key_for(i), nodes), std::vector<std::string>{"only"});
  }
  EXPECT_EQ(rendezvous_rank("", nodes), std::vector<std::string>{"only"});
}

TEST(RendezvousHash, NodesWithoutPositiveFiniteWeightAreSkipped) {
  const std::vector<WeightedNode> nodes = {{"zero", 0.0},
                                           {"negative", -1.0},
                                           {"nan", std::numeric_limits<double>::quiet_NaN()},
                                           {"inf", std::numeric_limits<double>::infinity()},
                                           {"ok", 0.001}};
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(rendezvous_rank(key_for(i), nodes), std::vector<std::string>{"ok"});
  }
  const std::vector<WeightedNode> none = {{"zero", 0.0}, {"negative", -5.0}};
  EXPECT_TRUE(rendezvous_rank("alice", none).empty());
}

TEST(RendezvousHash, RanksEveryNodeExactlyOnce) {
  const std::vector<WeightedNode> nodes = equal_nodes(7);
  for (int i = 0; i < 200; ++i) {
    std::vector<std::string> ranked = rendezvous_rank(key_for(i), nodes);
    std::sort(ranked.begin(), ranked.end());
    std::vector<std::string> names;
    for (const WeightedNode& node : nodes) names.push_back(node.name);
    EXPECT_EQ(ranked, names);
  }
}

TEST(RendezvousHash, RankingDoesNotDependOnInputOrder) {
  std::vector<WeightedNode> nodes = {{"a", 1}, {"b", 2}, {"c", 0.5}, {"d", 1}, {"e", 3}};
  std::vector<WeightedNode> reversed(nodes.rbegin(), nodes.rend());
  for (int i = 0; i < 500; ++i) {
    EXPECT_EQ(rendezvous_rank(key_for(i), nodes), rendezvous_rank(key_for(i), reversed));
  }
}

// Golden values: a change here reroutes users after an upgrade, so it must be deliberate.
TEST(RendezvousHash, GoldenValuesAreStableAcrossRunsAndPlatforms) {
  const std::vector<WeightedNode> nodes = {{"x2go-01", 1}, {"x2go-02", 1}, {"x2go-03", 1},
                                           {"x2go-04", 2}, {"x2go-05", 1}, {"x2go-06", 0.5}};
  const std::map<std::string, std::vector<std::string>> golden = {
      {"alice", {"x2go-04", "x2go-02", "x2go-03", "x2go-06", "x2go-01", "x2go-05"}},
      {"bob", {"x2go-06", "x2go-02", "x2go-04", "x2go-01", "x2go-05", "x2go-03"}},
      {"carol", {"x2go-05", "x2go-01", "x2go-04", "x2go-02", "x2go-06", "x2go-03"}},
      {"192.0.2.7", {"x2go-03", "x2go-04", "x2go-05", "x2go-06", "x2go-02", "x2go-01"}},
      {"2001:db8::1", {"x2go-02", "x2go-05", "x2go-04", "x2go-06", "x2go-03", "x2go-01"}},
      {"", {"x2go-02", "x2go-01", "x2go-04", "x2go-05", "x2go-06", "x2go-03"}},
      {"user4711", {"x2go-04", "x2go-05", "x2go-02", "x2go-03", "x2go-06", "x2go-01"}},
  };
  for (const auto& [key, expected] : golden) {
    EXPECT_EQ(rendezvous_rank(key, nodes), expected) << "key " << key;
  }
}

TEST(RendezvousHash, KeyAndNodeBoundaryMatters) {
  // ("ab", "c") and ("a", "bc") would collide if key and node were simply concatenated.
  int differing = 0;
  for (int i = 0; i < 100; ++i) {
    const std::string suffix = std::to_string(i);
    const std::vector<WeightedNode> left = {{"c" + suffix, 1}, {"bc" + suffix, 1}};
    if (rendezvous_rank("ab", left) != rendezvous_rank("a", left)) ++differing;
  }
  EXPECT_GT(differing, 20);
}

TEST(RendezvousHash, RemovingANodeMovesOnlyItsKeys) {
  const std::vector<WeightedNode> all = equal_nodes(10);
  for (int removed = 0; removed < 10; ++removed) {
    std::vector<WeightedNode> rest = all;
    rest.erase(rest.begin() + removed);
    int moved = 0;
    for (int i = 0; i < 10000; ++i) {
      const std::string key = key_for(i);
      const std::vector<std::string> before = rendezvous_rank(key, all);
      const std::vector<std::string> after = rendezvous_rank(key, rest);
      if (before.front() == all[removed].name) {
        ++moved;
        EXPECT_EQ(after.front(), before[1]) << key;
      } else {
        ASSERT_EQ(after.front(), before.front()) << key;
      }
      // The whole ranking is the old one minus the removed node.
      std::vector<std::string> expected = before;
      std::erase(expected, all[removed].name);
      ASSERT_EQ(after, expected) << key;
    }
    EXPECT_GT(moved, 800);
    EXPECT_LT(moved, 1200);
  }
}

TEST(RendezvousHash, AddingANodeOnlyTakesKeysToTheNewNode) {
  const std::vector<WeightedNode> before_nodes = equal_nodes(9);
  std::vector<WeightedNode> after_nodes = before_nodes;
  after_nodes.push_back({"newcomer", 1.0});
  int taken = 0;
  for (int i = 0; i < 10000; ++i) {
    const std::string key = key_for(i);
    const std::string before = owner(key, before_nodes);
    const std::string after = owner(key, after_nodes);
    if (after != before) {
      ASSERT_EQ(after, "newcomer") << key;
      ++taken;
    }
  }
  EXPECT_GT(taken, 800);
  EXPECT_LT(taken, 1200);
}

std::map<std::string, int> count_owners(const std::vector<WeightedNode>& nodes, int keys,
                                        const std::string& prefix) {
  std::map<std::string, int> counts;
  for (int i = 0; i < keys; ++i) ++counts[owner(prefix + std::to_string(i), nodes)];
  return counts;
}

TEST(RendezvousHash, EqualWeightsBalanceWithinThreePercent) {
  const std::vector<WeightedNode> nodes = equal_nodes(5);
  // User names and IPv4-like source addresses are the two key shapes the router uses.
  for (const std::string prefix : {"user", "10.0.", "2001:db8::"}) {
    const std::map<std::string, int> counts = count_owners(nodes, 100000, prefix);
    ASSERT_EQ(counts.size(), 5u);
    for (const auto& [name, count] : counts) {
      EXPECT_NEAR(count, 20000, 600) << prefix << " " << name;
    }
  }
}

TEST(RendezvousHash, SharesAreProportionalToWeights) {
  const std::vector<WeightedNode> nodes = {{"w1", 1.0}, {"w2", 2.0}, {"w3", 3.0}};
  const std::map<std::string, int> counts = count_owners(nodes, 100000, "user");
  EXPECT_NEAR(counts.at("w1"), 100000.0 / 6, 500);
  EXPECT_NEAR(counts.at("w2"), 100000.0 * 2 / 6, 1000);
  EXPECT_NEAR(counts.at("w3"), 100000.0 * 3 / 6, 1500);
}

TEST(RendezvousHash, ScalingAllWeightsChangesNothing) {
  const std::vector<WeightedNode> nodes = {{"a", 1}, {"b", 2}, {"c", 3}};
  const std::vector<WeightedNode> scaled = {{"a", 10}, {"b", 20}, {"c", 30}};
  for (int i = 0; i < 1000; ++i) {
    EXPECT_EQ(rendezvous_rank(key_for(i), nodes), rendezvous_rank(key_for(i), scaled));
  }
}

TEST(RendezvousHash, OrderIsTheRankingAsIndices) {
  std::vector<WeightedNode> nodes = equal_nodes(50);
  nodes[7].weight = 0;  // left out of both
  nodes[9].weight = 3.5;
  for (const char* key : {"", "10.0.0.1", "alice", "2001:db8::1"}) {
    std::vector<std::string> via_order;
    for (std::size_t index : rendezvous_order(key, nodes)) via_order.push_back(nodes[index].name);
    EXPECT_EQ(via_order, rendezvous_rank(key, nodes)) << key;
  }
}

}  // namespace
}  // namespace x2gojump
