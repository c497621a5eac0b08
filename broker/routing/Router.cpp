#include "broker/routing/Router.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>
#include <unordered_set>

#include "broker/routing/RendezvousHash.h"

namespace x2gojump {

namespace {

constexpr std::string_view kStrategyNames[] = {"source-ip", "user", "least-load"};
constexpr std::string_view kHealthNames[] = {"up", "stale", "down", "draining"};

bool has_usable_weight(const ServerState& server) {
  return server.weight > 0 && !std::isinf(server.weight);
}

// NaN would break the strict weak ordering std::sort relies on; unknown load sorts last.
double load_per_weight(const ServerState& server) {
  const double value = server.load / server.weight;
  return std::isnan(value) ? std::numeric_limits<double>::infinity() : value;
}

// First entry per name wins, so a duplicated server cannot change its own health or weight.
std::vector<const ServerState*> eligible_servers(const std::vector<ServerState>& servers) {
  std::vector<const ServerState*> eligible;
  eligible.reserve(servers.size());
  std::unordered_set<std::string_view> seen(servers.size() * 2);
  for (const ServerState& server : servers) {
    if (!seen.insert(server.name).second) continue;
    if (server.health != ServerHealth::Down) eligible.push_back(&server);
  }
  return eligible;
}

const ServerState* find_server(const std::vector<const ServerState*>& servers, std::string_view name) {
  for (const ServerState* server : servers) {
    if (server->name == name) return server;
  }
  return nullptr;
}

struct SessionCandidate {
  const UserSession* session;
  const ServerState* server;
};

// Order within each class: 0 healthy, 1 deprioritised, 2 stale, 3 stale and deprioritised. A stale
// server's session list is not trusted, so it ranks after a recent backend failure, which is only
// a hint (the probe still answers, or the server would be Down).
int preference(const ServerState& server) {
  return (server.health == ServerHealth::Stale ? 2 : 0) + (server.deprioritised ? 1 : 0);
}

// Class 1 (suspended) before class 2 (running); within a class by preference, then newest first.
bool session_before(const SessionCandidate& a, const SessionCandidate& b) {
  const bool a_suspended = a.session->status == 'S';
  const bool b_suspended = b.session->status == 'S';
  if (a_suspended != b_suspended) return a_suspended;
  if (preference(*a.server) != preference(*b.server)) {
    return preference(*a.server) < preference(*b.server);
  }
  if (a.session->last_change != b.session->last_change) {
    return a.session->last_change > b.session->last_change;
  }
  return a.server->name < b.server->name;
}

// Orders the fallback servers by the input's strategy, then (stably) by preference.
std::vector<const ServerState*> fallback_order(const RouteInput& input,
                                               std::vector<const ServerState*> servers) {
  std::vector<WeightedNode> nodes;
  nodes.reserve(servers.size());
  for (const ServerState* server : servers) nodes.push_back({server->name, server->weight});
  const std::string_view key =
      input.strategy == FallbackStrategy::SourceIp ? input.source_address : input.user;
  std::vector<const ServerState*> ordered;
  ordered.reserve(servers.size());
  for (std::size_t index : rendezvous_order(key, nodes)) ordered.push_back(servers[index]);
  if (input.strategy == FallbackStrategy::LeastLoad) {
    std::stable_sort(ordered.begin(), ordered.end(), [](const ServerState* a, const ServerState* b) {
      return load_per_weight(*a) < load_per_weight(*b);
    });
  }
  std::stable_sort(ordered.begin(), ordered.end(), [](const ServerState* a, const ServerState* b) {
    return preference(*a) < preference(*b);
  });
  return ordered;
}

RouteReason fallback_reason(FallbackStrategy strategy) {
  switch (strategy) {
    case FallbackStrategy::SourceIp: return RouteReason::FallbackSourceIp;
    case FallbackStrategy::User: return RouteReason::FallbackUser;
    case FallbackStrategy::LeastLoad: return RouteReason::FallbackLeastLoad;
  }
  return RouteReason::FallbackSourceIp;
}

}  // namespace

std::string_view to_string(RouteReason reason) {
  switch (reason) {
    case RouteReason::SessionSuspended: return "session-suspended";
    case RouteReason::SessionRunning: return "session-running";
    case RouteReason::Placement: return "placement";
    case RouteReason::FallbackSourceIp: return "fallback-source-ip";
    case RouteReason::FallbackUser: return "fallback-user";
    case RouteReason::FallbackLeastLoad: return "fallback-least-load";
  }
  return "unknown";
}

std::string_view to_string(ServerHealth health) {
  return kHealthNames[static_cast<int>(health)];
}

std::string_view to_string(FallbackStrategy strategy) {
  return kStrategyNames[static_cast<int>(strategy)];
}

std::optional<FallbackStrategy> parse_fallback_strategy(std::string_view text) {
  for (int i = 0; i < 3; ++i) {
    if (kStrategyNames[i] == text) return static_cast<FallbackStrategy>(i);
  }
  return std::nullopt;
}

std::optional<ServerHealth> parse_server_health(std::string_view text) {
  for (int i = 0; i < 4; ++i) {
    if (kHealthNames[i] == text) return static_cast<ServerHealth>(i);
  }
  return std::nullopt;
}

std::vector<RouteCandidate> route(const RouteInput& input) {
  const std::vector<const ServerState*> eligible = eligible_servers(input.servers);
  std::vector<RouteCandidate> result;
  result.reserve(eligible.size());
  std::set<std::string_view> chosen;

  std::vector<SessionCandidate> sessions;
  for (const UserSession& session : input.sessions) {
    if (session.status != 'S' && session.status != 'R') continue;
    if (const ServerState* server = find_server(eligible, session.server)) {
      sessions.push_back({&session, server});
    }
  }
  std::sort(sessions.begin(), sessions.end(), session_before);
  for (const SessionCandidate& candidate : sessions) {
    if (!chosen.insert(candidate.server->name).second) continue;
    result.push_back({candidate.server->name, candidate.session->status == 'S'
                                                  ? RouteReason::SessionSuspended
                                                  : RouteReason::SessionRunning});
  }

  if (input.placement) {
    const ServerState* server = find_server(eligible, *input.placement);
    if (server && server->health != ServerHealth::Draining && chosen.insert(server->name).second) {
      result.push_back({server->name, RouteReason::Placement});
    }
  }

  std::vector<const ServerState*> remaining;
  for (const ServerState* server : eligible) {
    if (server->health == ServerHealth::Draining || server->full || !has_usable_weight(*server)) continue;
    if (!chosen.contains(server->name)) remaining.push_back(server);
  }
  const RouteReason reason = fallback_reason(input.strategy);
  for (const ServerState* server : fallback_order(input, std::move(remaining))) {
    result.push_back({server->name, reason});
  }
  return result;
}

}  // namespace x2gojump
