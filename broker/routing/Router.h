#pragma once
// Routing decision: which backend a login goes to, in order of preference. Pure: no I/O, no clock.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace x2gojump {

enum class FallbackStrategy { SourceIp, User, LeastLoad };
enum class ServerHealth { Up, Stale, Down, Draining };
enum class RouteReason {
  SessionSuspended,   // the user has a suspended X2Go session there
  SessionRunning,     // the user has a running (attached elsewhere) session there
  Placement,          // the user's live sticky placement (parallel connections of one login)
  FallbackSourceIp,   // rendezvous hash of the client's source address
  FallbackUser,       // rendezvous hash of the user name
  FallbackLeastLoad,  // lowest load per weight
};

// Stable names used in logs and metrics: "session-suspended", "fallback-source-ip", ...
std::string_view to_string(RouteReason reason);
std::string_view to_string(ServerHealth health);
std::string_view to_string(FallbackStrategy strategy);

// Inverse of to_string (exact, case-sensitive match); nullopt for any other text.
std::optional<FallbackStrategy> parse_fallback_strategy(std::string_view text);
std::optional<ServerHealth> parse_server_health(std::string_view text);

struct ServerState {
  std::string name;
  double weight = 1.0;  // > 0; relative share of fallback placements
  ServerHealth health = ServerHealth::Up;
  double load = 0.0;    // agent-reported load (e.g. load average per CPU); 0 when unknown
  bool full = false;           // at max_users: no new placements, sessions still resumable
  bool deprioritised = false;  // a recent backend failure: ranked after the others in each class
};

struct UserSession {
  std::string server;
  std::string session_id;
  char status = 'R';         // 'S' suspended, 'R' running; others are ignored
  std::int64_t last_change;  // unix seconds of the last status change
};

struct RouteInput {
  std::string user;
  std::string source_address;          // textual IP of the client ("192.0.2.7", "2001:db8::1")
  std::vector<ServerState> servers;    // every server the user may use (ACLs already applied)
  std::vector<UserSession> sessions;   // the user's X2Go sessions on any server
  std::optional<std::string> placement;  // live sticky placement, if any
  FallbackStrategy strategy = FallbackStrategy::SourceIp;
};

struct RouteCandidate {
  std::string server;
  RouteReason reason;
  bool operator==(const RouteCandidate&) const = default;
};

// Returns every usable server at most once, best first: suspended sessions, running sessions, the
// live placement, then all remaining eligible servers in fallback order. Within the session classes
// and the fallback class, servers rank: healthy, then deprioritised, then Stale, then Stale and
// deprioritised (a Stale server's sessions are not trusted; a deprioritised one's are); ties go to
// the most recent session (sessions) or the strategy's order (fallback). Servers that are Down, or
// not in input.servers, never appear. Draining servers appear only for the user's existing
// sessions. Full servers get no fallback placements but keep the user's sessions and live
// placement (a live placement means the user connected there within placement_ttl, so is one of
// its users already or about to be). Only the first entry of a duplicated server name counts. A
// server whose weight is not a finite value > 0 gets no fallback placements (it still serves the
// user's sessions and placement).
std::vector<RouteCandidate> route(const RouteInput& input);

}  // namespace x2gojump
