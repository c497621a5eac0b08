#pragma once
// Weighted rendezvous (highest-random-weight) hashing: removing one of N nodes moves only the keys
// that node owned, and each node's share of keys is proportional to its weight.
#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace x2gojump {

struct WeightedNode {
  std::string name;
  double weight = 1.0;  // must be > 0
};

// Ranks nodes for key, best first; equal scores rank by name. Deterministic across processes and
// platforms (no std::hash). Nodes whose weight is not a finite value > 0 are left out.
std::vector<std::string> rendezvous_rank(std::string_view key, std::span<const WeightedNode> nodes);

// The same ranking as indices into nodes (no copies of the names).
std::vector<std::size_t> rendezvous_order(std::string_view key, std::span<const WeightedNode> nodes);

}  // namespace x2gojump
