#include "broker/routing/RendezvousHash.h"

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace x2gojump {

namespace {

constexpr std::uint64_t kFnvOffset = 0xcbf29ce484222325ULL;
constexpr std::uint64_t kFnvPrime = 0x100000001b3ULL;

std::uint64_t fnv1a(std::uint64_t state, std::string_view bytes) {
  for (char c : bytes) {
    state ^= static_cast<unsigned char>(c);
    state *= kFnvPrime;
  }
  return state;
}

// FNV-1a alone mixes its last bytes poorly; the splitmix64 finalizer gives full avalanche.
std::uint64_t splitmix64_finalize(std::uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// The FNV-1a state after the key, its length first so that ("ab", "c") and ("a", "bc") differ;
// every node's hash continues from it.
std::uint64_t key_state(std::string_view key) {
  std::uint64_t state = kFnvOffset;
  std::uint64_t length = key.size();
  for (int i = 0; i < 8; ++i) {
    state ^= length & 0xff;
    state *= kFnvPrime;
    length >>= 8;
  }
  return fnv1a(state, key);
}

// Weighted HRW score -w/ln(u): u uniform in (0,1) makes each node win with probability
// proportional to its weight. 52 bits plus one half stay exact in a double, so u is never 0 or 1.
double score(std::uint64_t key_hash, const WeightedNode& node) {
  const std::uint64_t hash = splitmix64_finalize(fnv1a(key_hash, node.name));
  const double u = (static_cast<double>(hash >> 12) + 0.5) * 0x1p-52;
  return -node.weight / std::log(u);
}

}  // namespace

std::vector<std::size_t> rendezvous_order(std::string_view key, std::span<const WeightedNode> nodes) {
  struct Scored {
    double score;
    std::size_t index;
  };
  const std::uint64_t key_hash = key_state(key);
  std::vector<Scored> scored;
  scored.reserve(nodes.size());
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    // The negated test also rejects NaN.
    if (!(nodes[i].weight > 0) || std::isinf(nodes[i].weight)) continue;
    scored.push_back({score(key_hash, nodes[i]), i});
  }
  std::sort(scored.begin(), scored.end(), [&](const Scored& a, const Scored& b) {
    if (a.score != b.score) return a.score > b.score;
    return nodes[a.index].name < nodes[b.index].name;
  });
  std::vector<std::size_t> order;
  order.reserve(scored.size());
  for (const Scored& s : scored) order.push_back(s.index);
  return order;
}

std::vector<std::string> rendezvous_rank(std::string_view key, std::span<const WeightedNode> nodes) {
  std::vector<std::string> ranked;
  for (std::size_t index : rendezvous_order(key, nodes)) ranked.push_back(nodes[index].name);
  return ranked;
}

}  // namespace x2gojump
