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

// The key length is hashed first so that ("ab", "c") and ("a", "bc") differ.
std::uint64_t pair_hash(std::string_view key, std::string_view node) {
  std::uint64_t state = kFnvOffset;
  std::uint64_t length = key.size();
  for (int i = 0; i < 8; ++i) {
    state ^= length & 0xff;
    state *= kFnvPrime;
    length >>= 8;
  }
  state = fnv1a(state, key);
  state = fnv1a(state, node);
  return splitmix64_finalize(state);
}

// Weighted HRW score -w/ln(u): u uniform in (0,1) makes each node win with probability
// proportional to its weight. 52 bits plus one half stay exact in a double, so u is never 0 or 1.
double score(std::string_view key, const WeightedNode& node) {
  const double u = (static_cast<double>(pair_hash(key, node.name) >> 12) + 0.5) * 0x1p-52;
  return -node.weight / std::log(u);
}

}  // namespace

std::vector<std::string> rendezvous_rank(std::string_view key, std::span<const WeightedNode> nodes) {
  struct Scored {
    double score;
    const std::string* name;
  };
  std::vector<Scored> scored;
  scored.reserve(nodes.size());
  for (const WeightedNode& node : nodes) {
    // The negated test also rejects NaN.
    if (!(node.weight > 0) || std::isinf(node.weight)) continue;
    scored.push_back({score(key, node), &node.name});
  }
  std::sort(scored.begin(), scored.end(), [](const Scored& a, const Scored& b) {
    if (a.score != b.score) return a.score > b.score;
    return *a.name < *b.name;
  });
  std::vector<std::string> ranked;
  ranked.reserve(scored.size());
  for (const Scored& s : scored) ranked.push_back(*s.name);
  return ranked;
}

}  // namespace x2gojump
