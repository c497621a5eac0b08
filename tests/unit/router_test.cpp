#include <gtest/gtest.h>

#include <algorithm>
#include <limits>
#include <optional>
#include <ostream>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "broker/routing/RendezvousHash.h"
#include "broker/routing/Router.h"

namespace x2gojump {

// Readable failure messages for candidate lists.
void PrintTo(const RouteCandidate& candidate, std::ostream* os) {
  *os << candidate.server << "/" << to_string(candidate.reason);
}

namespace {

using Reason = RouteReason;
using Health = ServerHealth;

ServerState server(std::string name, Health health = Health::Up, double load = 0.0,
                   double weight = 1.0) {
  return ServerState{std::move(name), weight, health, load};
}

UserSession session(std::string server_name, char status, std::int64_t last_change) {
  return UserSession{std::move(server_name), "sid-" + std::to_string(last_change), status,
                     last_change};
}

std::vector<std::string> names(const std::vector<RouteCandidate>& candidates) {
  std::vector<std::string> out;
  for (const RouteCandidate& candidate : candidates) out.push_back(candidate.server);
  return out;
}

std::vector<std::string> rank(std::string_view key, const std::vector<std::string>& servers) {
  std::vector<WeightedNode> nodes;
  for (const std::string& name : servers) nodes.push_back({name, 1.0});
  return rendezvous_rank(key, nodes);
}

// ---- names ---------------------------------------------------------------------------------

TEST(RouterNames, ReasonNames) {
  EXPECT_EQ(to_string(Reason::SessionSuspended), "session-suspended");
  EXPECT_EQ(to_string(Reason::SessionRunning), "session-running");
  EXPECT_EQ(to_string(Reason::Placement), "placement");
  EXPECT_EQ(to_string(Reason::FallbackSourceIp), "fallback-source-ip");
  EXPECT_EQ(to_string(Reason::FallbackUser), "fallback-user");
  EXPECT_EQ(to_string(Reason::FallbackLeastLoad), "fallback-least-load");
}

TEST(RouterNames, HealthNamesRoundTrip) {
  EXPECT_EQ(to_string(Health::Up), "up");
  EXPECT_EQ(to_string(Health::Stale), "stale");
  EXPECT_EQ(to_string(Health::Down), "down");
  EXPECT_EQ(to_string(Health::Draining), "draining");
  for (Health health : {Health::Up, Health::Stale, Health::Down, Health::Draining}) {
    EXPECT_EQ(parse_server_health(to_string(health)), health);
  }
  for (std::string_view bad : {"", "Up", "UP", "up ", " up", "drain", "unknown", "upx"}) {
    EXPECT_EQ(parse_server_health(bad), std::nullopt) << bad;
  }
}

TEST(RouterNames, StrategyNamesRoundTrip) {
  EXPECT_EQ(to_string(FallbackStrategy::SourceIp), "source-ip");
  EXPECT_EQ(to_string(FallbackStrategy::User), "user");
  EXPECT_EQ(to_string(FallbackStrategy::LeastLoad), "least-load");
  for (FallbackStrategy strategy :
       {FallbackStrategy::SourceIp, FallbackStrategy::User, FallbackStrategy::LeastLoad}) {
    EXPECT_EQ(parse_fallback_strategy(to_string(strategy)), strategy);
  }
  for (std::string_view bad : {"", "source_ip", "sourceip", "User", "least_load", "leastload", "ip"}) {
    EXPECT_EQ(parse_fallback_strategy(bad), std::nullopt) << bad;
  }
}

// ---- matrix --------------------------------------------------------------------------------
// One target server "t" with every health and every capacity/failure flag, optionally holding the
// user's session, against every kind of placement and every fallback strategy. The user also has
// an older suspended session on a healthy server "s-up", so the target's rank inside the session
// classes shows. Other servers cover each health and flag too.

enum class SessionKind { Suspended, Running, None };
enum class PlacementKind {
  Absent, OnTarget, OnOtherUp, OnOtherStale, OnDown, OnDraining, OnFull, OnDeprioritised, OnUnknown
};
enum class Flags { None, Full, Deprioritised, FullDeprioritised };

using MatrixParam = std::tuple<SessionKind, Health, Flags, PlacementKind, FallbackStrategy>;

class RouterMatrix : public ::testing::TestWithParam<MatrixParam> {};

std::optional<std::string> placement_for(PlacementKind kind) {
  switch (kind) {
    case PlacementKind::Absent: return std::nullopt;
    case PlacementKind::OnTarget: return "t";
    case PlacementKind::OnOtherUp: return "p-up";
    case PlacementKind::OnOtherStale: return "p-stale";
    case PlacementKind::OnDown: return "p-down";
    case PlacementKind::OnDraining: return "p-drain";
    case PlacementKind::OnFull: return "p-full";
    case PlacementKind::OnDeprioritised: return "p-depri";
    case PlacementKind::OnUnknown: return "nowhere";
  }
  return std::nullopt;
}

ServerState flagged(ServerState state, bool full, bool deprioritised) {
  state.full = full;
  state.deprioritised = deprioritised;
  return state;
}

// The documented rank inside a class, spelled out rather than computed.
int rank_in_class(const ServerState& s) {
  if (s.health == Health::Stale) return s.deprioritised ? 3 : 2;
  return s.deprioritised ? 1 : 0;
}

TEST_P(RouterMatrix, FollowsTheClassOrder) {
  const auto [session_kind, target_health, flags, placement_kind, strategy] = GetParam();
  const bool target_full = flags == Flags::Full || flags == Flags::FullDeprioritised;
  const bool target_depri = flags == Flags::Deprioritised || flags == Flags::FullDeprioritised;
  // Distinct loads make the least-load order unambiguous.
  const std::vector<ServerState> servers = {
      flagged(server("t", target_health, 0.5), target_full, target_depri),
      server("s-up", Health::Up, 0.6),
      server("p-up", Health::Up, 0.1),
      server("p-stale", Health::Stale, 0.2),
      server("p-down", Health::Down, 0.0),
      server("p-drain", Health::Draining, 0.0),
      flagged(server("p-full", Health::Up, 0.01), true, false),
      flagged(server("p-depri", Health::Up, 0.02), false, true),
      server("f1", Health::Up, 0.3),
      server("f2", Health::Up, 0.9),
      server("f3", Health::Stale, 0.05),
      server("f4", Health::Up, 0.7),
      flagged(server("f5", Health::Up, 0.03), true, false),
      flagged(server("f6", Health::Up, 0.04), false, true),
      flagged(server("f7", Health::Stale, 0.06), false, true),
      flagged(server("f8", Health::Stale, 0.07), true, true)};
  RouteInput input;
  input.user = "alice";
  input.source_address = "192.0.2.7";
  input.servers = servers;
  input.strategy = strategy;
  input.placement = placement_for(placement_kind);
  input.sessions.push_back(session("s-up", 'S', 50));
  if (session_kind != SessionKind::None) {
    input.sessions.push_back(session("t", session_kind == SessionKind::Suspended ? 'S' : 'R', 100));
  }

  const ServerState& target = servers[0];
  std::vector<RouteCandidate> expected;
  const bool target_has_session = session_kind != SessionKind::None && target_health != Health::Down;
  if (target_has_session && session_kind == SessionKind::Suspended && rank_in_class(target) == 0) {
    expected.push_back({"t", Reason::SessionSuspended});  // newer than s-up's, same rank
  }
  expected.push_back({"s-up", Reason::SessionSuspended});
  if (target_has_session && !(session_kind == SessionKind::Suspended && rank_in_class(target) == 0)) {
    expected.push_back({"t", session_kind == SessionKind::Suspended ? Reason::SessionSuspended
                                                                    : Reason::SessionRunning});
  }
  auto find = [&](const std::string& name) -> const ServerState* {
    for (const ServerState& s : servers) {
      if (s.name == name) return &s;
    }
    return nullptr;
  };
  auto listed = [&](const std::string& name) {
    return std::any_of(expected.begin(), expected.end(),
                       [&](const RouteCandidate& c) { return c.server == name; });
  };
  if (input.placement) {
    const ServerState* placed = find(*input.placement);
    // Full does not matter: a live placement is an existing user of the server.
    if (placed && placed->health != Health::Down && placed->health != Health::Draining &&
        !listed(*input.placement)) {
      expected.push_back({*input.placement, Reason::Placement});
    }
  }
  std::vector<ServerState> rest;
  for (const ServerState& s : servers) {
    if (s.health != Health::Down && s.health != Health::Draining && !s.full && !listed(s.name)) {
      rest.push_back(s);
    }
  }
  std::vector<std::string> rest_names;
  for (const ServerState& s : rest) rest_names.push_back(s.name);
  std::vector<std::string> order;
  Reason fallback = Reason::FallbackSourceIp;
  if (strategy == FallbackStrategy::SourceIp) {
    order = rank("192.0.2.7", rest_names);
  } else if (strategy == FallbackStrategy::User) {
    order = rank("alice", rest_names);
    fallback = Reason::FallbackUser;
  } else {
    std::sort(rest.begin(), rest.end(),
              [](const ServerState& a, const ServerState& b) { return a.load < b.load; });
    for (const ServerState& s : rest) order.push_back(s.name);
    fallback = Reason::FallbackLeastLoad;
  }
  for (int wanted = 0; wanted < 4; ++wanted) {
    for (const std::string& name : order) {
      if (rank_in_class(*find(name)) == wanted) expected.push_back({name, fallback});
    }
  }

  const std::vector<RouteCandidate> actual = route(input);
  EXPECT_EQ(actual, expected);

  // Invariants stated in the header, checked independently of the expectation above.
  const std::vector<std::string> actual_names = names(actual);
  const std::set<std::string> unique(actual_names.begin(), actual_names.end());
  EXPECT_EQ(unique.size(), actual_names.size());
  EXPECT_FALSE(unique.contains("p-down"));
  EXPECT_FALSE(unique.contains("p-drain"));
  EXPECT_FALSE(unique.contains("nowhere"));
  EXPECT_FALSE(unique.contains("f5"));  // full, no session, no placement
  EXPECT_FALSE(unique.contains("f8"));
  EXPECT_EQ(unique.contains("p-full"), placement_kind == PlacementKind::OnFull);
  const bool target_takes_new_users =
      (target_health == Health::Up || target_health == Health::Stale) && !target_full;
  const bool target_serves_user =
      target_has_session ||
      (placement_kind == PlacementKind::OnTarget &&
       (target_health == Health::Up || target_health == Health::Stale));
  EXPECT_EQ(unique.contains("t"), target_takes_new_users || target_serves_user);
  for (const char* always : {"s-up", "p-up", "p-stale", "p-depri", "f1", "f2", "f3", "f4", "f6", "f7"}) {
    EXPECT_TRUE(unique.contains(always)) << always;
  }
  for (const RouteCandidate& candidate : actual) {
    if (candidate.reason == fallback) {
      EXPECT_FALSE(find(candidate.server)->full) << candidate.server;
    }
  }

  // Deprioritising only reorders: the same servers with the same reasons stay in the list.
  RouteInput undeprioritised = input;
  for (ServerState& s : undeprioritised.servers) s.deprioritised = false;
  std::vector<RouteCandidate> sorted_actual = actual;
  std::vector<RouteCandidate> sorted_plain = route(undeprioritised);
  auto by_name = [](const RouteCandidate& a, const RouteCandidate& b) { return a.server < b.server; };
  std::sort(sorted_actual.begin(), sorted_actual.end(), by_name);
  std::sort(sorted_plain.begin(), sorted_plain.end(), by_name);
  EXPECT_EQ(sorted_actual, sorted_plain);
}

std::string matrix_name(const ::testing::TestParamInfo<MatrixParam>& info) {
  static constexpr const char* kSession[] = {"Suspended", "Running", "NoSession"};
  static constexpr const char* kHealth[] = {"Up", "Stale", "Down", "Draining"};
  static constexpr const char* kFlags[] = {"", "Full", "Depri", "FullDepri"};
  static constexpr const char* kPlacement[] = {
      "NoPlacement",      "PlacementOnTarget",   "PlacementOnUp",
      "PlacementOnStale", "PlacementOnDown",     "PlacementOnDraining",
      "PlacementOnFull",  "PlacementOnDepri",    "PlacementUnknown"};
  static constexpr const char* kStrategy[] = {"SourceIp", "User", "LeastLoad"};
  return std::string(kSession[static_cast<int>(std::get<0>(info.param))]) + "_" +
         kHealth[static_cast<int>(std::get<1>(info.param))] +
         kFlags[static_cast<int>(std::get<2>(info.param))] + "_" +
         kPlacement[static_cast<int>(std::get<3>(info.param))] + "_" +
         kStrategy[static_cast<int>(std::get<4>(info.param))];
}

INSTANTIATE_TEST_SUITE_P(
    AllCombinations, RouterMatrix,
    ::testing::Combine(::testing::Values(SessionKind::Suspended, SessionKind::Running, SessionKind::None),
                       ::testing::Values(Health::Up, Health::Stale, Health::Down, Health::Draining),
                       ::testing::Values(Flags::None, Flags::Full, Flags::Deprioritised,
                                         Flags::FullDeprioritised),
                       ::testing::Values(PlacementKind::Absent, PlacementKind::OnTarget,
                                         PlacementKind::OnOtherUp, PlacementKind::OnOtherStale,
                                         PlacementKind::OnDown, PlacementKind::OnDraining,
                                         PlacementKind::OnFull, PlacementKind::OnDeprioritised,
                                         PlacementKind::OnUnknown),
                       ::testing::Values(FallbackStrategy::SourceIp, FallbackStrategy::User,
                                         FallbackStrategy::LeastLoad)),
    matrix_name);

// ---- hand-checked cases --------------------------------------------------------------------

RouteInput least_load_input(std::vector<ServerState> servers) {
  RouteInput input;
  input.user = "alice";
  input.source_address = "198.51.100.1";
  input.servers = std::move(servers);
  input.strategy = FallbackStrategy::LeastLoad;
  return input;
}

TEST(Router, EmptyInputGivesNoCandidates) {
  EXPECT_TRUE(route(RouteInput{}).empty());
  RouteInput input;
  input.sessions = {session("a", 'S', 1)};
  input.placement = "a";
  EXPECT_TRUE(route(input).empty());
}

TEST(Router, AllServersDownOrDrainingGivesNoCandidates) {
  RouteInput input = least_load_input(
      {server("a", Health::Down), server("b", Health::Draining), server("c", Health::Down)});
  EXPECT_TRUE(route(input).empty());
  input.placement = "b";
  EXPECT_TRUE(route(input).empty());
}

TEST(Router, SessionsOrderedBySuspendedThenRunningThenRecency) {
  RouteInput input = least_load_input({server("a"), server("b"), server("c"), server("d"),
                                       server("e"), server("f", Health::Stale),
                                       server("g", Health::Draining), server("h", Health::Up, 0.4),
                                       server("i", Health::Stale, 0.1), server("j", Health::Up, 0.2)});
  input.sessions = {session("a", 'R', 50), session("b", 'S', 10), session("c", 'S', 30),
                    session("f", 'S', 99), session("g", 'R', 70), session("d", 'S', 30),
                    session("e", 'R', 50)};
  const std::vector<RouteCandidate> expected = {
      {"c", Reason::SessionSuspended},  // newest suspended; ties with d, wins by name
      {"d", Reason::SessionSuspended},
      {"b", Reason::SessionSuspended},
      {"f", Reason::SessionSuspended},  // newest of all, but on a Stale server
      {"g", Reason::SessionRunning},    // Draining still serves existing sessions
      {"a", Reason::SessionRunning},
      {"e", Reason::SessionRunning},
      {"j", Reason::FallbackLeastLoad},
      {"h", Reason::FallbackLeastLoad},
      {"i", Reason::FallbackLeastLoad},  // least loaded, but Stale
  };
  EXPECT_EQ(route(input), expected);
}

TEST(Router, StaleSessionsComeAfterHealthyOnesOfTheSameClassOnly) {
  RouteInput input = least_load_input(
      {server("up-old"), server("stale-new", Health::Stale), server("stale-run", Health::Stale),
       server("up-run"), server("drain-old", Health::Draining)});
  input.sessions = {session("stale-new", 'S', 500), session("up-old", 'S', 1),
                    session("drain-old", 'S', 2), session("up-run", 'R', 3),
                    session("stale-run", 'R', 900)};
  const std::vector<RouteCandidate> expected = {
      {"drain-old", Reason::SessionSuspended}, {"up-old", Reason::SessionSuspended},
      {"stale-new", Reason::SessionSuspended}, {"up-run", Reason::SessionRunning},
      {"stale-run", Reason::SessionRunning}};
  EXPECT_EQ(route(input), expected);
}

TEST(Router, OneServerAppearsOnceWithItsFirstReason) {
  RouteInput input = least_load_input({server("a", Health::Up, 0.1), server("b", Health::Up, 0.2)});
  input.sessions = {session("a", 'R', 900), session("a", 'S', 1), session("a", 'S', 5),
                    session("a", 'R', 1000)};
  input.placement = "a";
  const std::vector<RouteCandidate> expected = {{"a", Reason::SessionSuspended},
                                                {"b", Reason::FallbackLeastLoad}};
  EXPECT_EQ(route(input), expected);

  input.sessions = {session("b", 'R', 1)};
  const std::vector<RouteCandidate> placed = {{"b", Reason::SessionRunning},
                                              {"a", Reason::Placement}};
  EXPECT_EQ(route(input), placed);
}

TEST(Router, DuplicateServerEntriesKeepTheFirst) {
  RouteInput input = least_load_input({server("a", Health::Down), server("a", Health::Up),
                                       server("b", Health::Up, 0.5), server("b", Health::Up, 0.0),
                                       server("c", Health::Up, 0.2)});
  input.sessions = {session("a", 'S', 1)};
  const std::vector<RouteCandidate> expected = {{"c", Reason::FallbackLeastLoad},
                                                {"b", Reason::FallbackLeastLoad}};
  EXPECT_EQ(route(input), expected);
}

TEST(Router, UnknownServersAndOtherStatusesAreIgnored) {
  RouteInput input = least_load_input({server("a", Health::Up, 0.3), server("b", Health::Up, 0.1)});
  input.sessions = {session("ghost", 'S', 100), session("a", 'E', 200), session("a", 's', 300),
                    session("a", 'r', 300), session("a", 'T', 400), session("a", '\0', 500),
                    session("", 'S', 600)};
  input.placement = "ghost";
  const std::vector<RouteCandidate> expected = {{"b", Reason::FallbackLeastLoad},
                                                {"a", Reason::FallbackLeastLoad}};
  EXPECT_EQ(route(input), expected);
  input.placement = "";
  EXPECT_EQ(route(input), expected);
}

TEST(Router, DrainingServerOnlyForSessionsNeverPlacementOrFallback) {
  RouteInput input = least_load_input({server("d", Health::Draining), server("u", Health::Up)});
  input.placement = "d";
  EXPECT_EQ(route(input), (std::vector<RouteCandidate>{{"u", Reason::FallbackLeastLoad}}));
  input.sessions = {session("d", 'R', 1)};
  EXPECT_EQ(route(input), (std::vector<RouteCandidate>{{"d", Reason::SessionRunning},
                                                       {"u", Reason::FallbackLeastLoad}}));
}

TEST(Router, DeprioritisedSessionsRankAfterHealthyOnesAndBeforeStaleOnes) {
  RouteInput input = least_load_input(
      {flagged(server("a"), false, true), server("b"), server("c", Health::Stale),
       flagged(server("d", Health::Stale), false, true), server("e", Health::Draining),
       flagged(server("f"), false, true), server("g")});
  input.sessions = {session("a", 'S', 900), session("b", 'S', 100), session("c", 'S', 950),
                    session("d", 'S', 999), session("e", 'S', 50), session("f", 'R', 10),
                    session("g", 'R', 5)};
  const std::vector<RouteCandidate> expected = {
      {"b", Reason::SessionSuspended}, {"e", Reason::SessionSuspended},  // healthy, newest first
      {"a", Reason::SessionSuspended},  // newer than b and e, but deprioritised
      {"c", Reason::SessionSuspended},  // stale
      {"d", Reason::SessionSuspended},  // stale and deprioritised
      {"g", Reason::SessionRunning},    {"f", Reason::SessionRunning}};
  EXPECT_EQ(route(input), expected);
}

TEST(Router, DeprioritisedServerIsStillUsedWhenItIsTheOnlyOne) {
  RouteInput input = least_load_input({flagged(server("only"), false, true), server("gone", Health::Down)});
  EXPECT_EQ(route(input), (std::vector<RouteCandidate>{{"only", Reason::FallbackLeastLoad}}));
  input.strategy = FallbackStrategy::SourceIp;
  EXPECT_EQ(route(input), (std::vector<RouteCandidate>{{"only", Reason::FallbackSourceIp}}));
}

TEST(Router, DeprioritisedFallbackServersFollowHealthyOnesInStrategyOrder) {
  // Least loaded first, but the two least loaded had a backend failure.
  RouteInput input = least_load_input(
      {flagged(server("a", Health::Up, 0.1), false, true), flagged(server("b", Health::Up, 0.2), false, true),
       server("c", Health::Up, 0.5), server("d", Health::Up, 0.3), server("s", Health::Stale, 0.0)});
  EXPECT_EQ(names(route(input)), (std::vector<std::string>{"d", "c", "a", "b", "s"}));
}

TEST(Router, FullServerKeepsSessionsAndPlacementButTakesNoFallback) {
  RouteInput input = least_load_input(
      {flagged(server("full", Health::Up, 0.0), true, false), server("free", Health::Up, 0.9)});
  EXPECT_EQ(route(input), (std::vector<RouteCandidate>{{"free", Reason::FallbackLeastLoad}}));
  input.placement = "full";
  EXPECT_EQ(route(input), (std::vector<RouteCandidate>{{"full", Reason::Placement},
                                                       {"free", Reason::FallbackLeastLoad}}));
  input.placement.reset();
  input.sessions = {session("full", 'S', 1)};
  EXPECT_EQ(route(input), (std::vector<RouteCandidate>{{"full", Reason::SessionSuspended},
                                                       {"free", Reason::FallbackLeastLoad}}));
}

TEST(Router, AllServersFullGivesOnlyTheUsersOwnServers) {
  RouteInput input = least_load_input({flagged(server("a"), true, false), flagged(server("b"), true, true),
                                       flagged(server("c", Health::Stale), true, false)});
  EXPECT_TRUE(route(input).empty());
  input.sessions = {session("b", 'R', 3)};
  EXPECT_EQ(route(input), (std::vector<RouteCandidate>{{"b", Reason::SessionRunning}}));
}

TEST(Router, StalePlacementIsStillPlacement) {
  RouteInput input = least_load_input({server("u"), server("s", Health::Stale)});
  input.placement = "s";
  EXPECT_EQ(route(input), (std::vector<RouteCandidate>{{"s", Reason::Placement},
                                                       {"u", Reason::FallbackLeastLoad}}));
}

TEST(Router, LeastLoadDividesByWeight) {
  // a: 1.0 / 4 = 0.25, b: 0.3 / 1 = 0.3, c: 0.5 / 2 = 0.25, d: 0.0 / 0.5 = 0.
  RouteInput input = least_load_input({server("a", Health::Up, 1.0, 4.0), server("b", Health::Up, 0.3),
                                       server("c", Health::Up, 0.5, 2.0),
                                       server("d", Health::Up, 0.0, 0.5)});
  const std::vector<std::string> tie = rank("alice", {"a", "c"});
  const std::vector<std::string> got = names(route(input));
  ASSERT_EQ(got.size(), 4u);
  EXPECT_EQ(got[0], "d");
  EXPECT_EQ(std::vector<std::string>(got.begin() + 1, got.begin() + 3), tie);
  EXPECT_EQ(got[3], "b");
}

TEST(Router, LeastLoadTiesFollowTheUserRendezvousRank) {
  std::vector<ServerState> servers;
  std::vector<WeightedNode> nodes;
  for (int i = 0; i < 8; ++i) {
    const std::string name = "s" + std::to_string(i);
    servers.push_back(server(name, Health::Up, 0.5, 1.0 + i));
    nodes.push_back({name, 1.0 + i});
  }
  // Equal load per weight: load is proportional to weight.
  for (ServerState& s : servers) s.load = s.weight * 0.25;
  for (const std::string user : {"alice", "bob", "carol", "dave"}) {
    RouteInput input = least_load_input(servers);
    input.user = user;
    EXPECT_EQ(names(route(input)), rendezvous_rank(user, nodes)) << user;
  }
}

TEST(Router, NanLoadSortsLast) {
  RouteInput input =
      least_load_input({server("nan", Health::Up, std::numeric_limits<double>::quiet_NaN()),
                        server("busy", Health::Up, 100.0), server("idle", Health::Up, 0.0)});
  EXPECT_EQ(names(route(input)), (std::vector<std::string>{"idle", "busy", "nan"}));
}

TEST(Router, HashStrategiesUseTheirKeyAndWeights) {
  std::vector<ServerState> servers;
  std::vector<WeightedNode> nodes;
  for (int i = 0; i < 6; ++i) {
    const std::string name = "x2go-" + std::to_string(i);
    servers.push_back(server(name, Health::Up, 0.0, 1.0 + i % 3));
    nodes.push_back({name, 1.0 + i % 3});
  }
  RouteInput input;
  input.user = "alice";
  input.servers = servers;
  bool differs = false;
  for (int i = 0; i < 50; ++i) {
    input.source_address = "10.1.2." + std::to_string(i);
    input.strategy = FallbackStrategy::SourceIp;
    const std::vector<RouteCandidate> by_ip = route(input);
    EXPECT_EQ(names(by_ip), rendezvous_rank(input.source_address, nodes));
    for (const RouteCandidate& c : by_ip) EXPECT_EQ(c.reason, Reason::FallbackSourceIp);

    input.strategy = FallbackStrategy::User;
    const std::vector<RouteCandidate> by_user = route(input);
    EXPECT_EQ(names(by_user), rendezvous_rank("alice", nodes));
    for (const RouteCandidate& c : by_user) EXPECT_EQ(c.reason, Reason::FallbackUser);
    differs = differs || names(by_ip) != names(by_user);
  }
  EXPECT_TRUE(differs);
}

TEST(Router, StaleFallbackServersFollowUpServersInStrategyOrder) {
  std::vector<ServerState> servers;
  std::vector<std::string> up;
  std::vector<std::string> stale;
  for (int i = 0; i < 10; ++i) {
    const std::string name = "n" + std::to_string(i);
    const Health health = i % 2 ? Health::Stale : Health::Up;
    servers.push_back(server(name, health));
    (health == Health::Up ? up : stale).push_back(name);
  }
  RouteInput input;
  input.user = "bob";
  input.source_address = "2001:db8::1";
  input.servers = servers;
  std::vector<std::string> expected = rank("2001:db8::1", up);
  for (const std::string& name : rank("2001:db8::1", stale)) expected.push_back(name);
  EXPECT_EQ(names(route(input)), expected);
}

TEST(Router, ServersWithoutUsableWeightGetNoFallbackButKeepSessions) {
  RouteInput input = least_load_input({server("zero", Health::Up, 0.0, 0.0),
                                       server("neg", Health::Up, 0.0, -1.0),
                                       server("ok", Health::Up, 0.5)});
  EXPECT_EQ(route(input), (std::vector<RouteCandidate>{{"ok", Reason::FallbackLeastLoad}}));
  input.strategy = FallbackStrategy::User;
  EXPECT_EQ(route(input), (std::vector<RouteCandidate>{{"ok", Reason::FallbackUser}}));
  input.sessions = {session("zero", 'S', 1)};
  input.placement = "neg";
  EXPECT_EQ(route(input), (std::vector<RouteCandidate>{{"zero", Reason::SessionSuspended},
                                                       {"neg", Reason::Placement},
                                                       {"ok", Reason::FallbackUser}}));
}

TEST(Router, ResultDoesNotDependOnServerOrSessionInputOrder) {
  std::vector<ServerState> servers = {server("a", Health::Up, 0.3), server("b", Health::Stale, 0.1),
                                      server("c", Health::Draining), server("d", Health::Up, 0.2),
                                      server("e", Health::Down), server("f", Health::Up, 0.2)};
  std::vector<UserSession> sessions = {session("c", 'R', 5), session("b", 'S', 5),
                                       session("a", 'S', 5), session("e", 'S', 9)};
  for (FallbackStrategy strategy :
       {FallbackStrategy::SourceIp, FallbackStrategy::User, FallbackStrategy::LeastLoad}) {
    RouteInput input;
    input.user = "carol";
    input.source_address = "203.0.113.9";
    input.strategy = strategy;
    input.servers = servers;
    input.sessions = sessions;
    const std::vector<RouteCandidate> reference = route(input);
    std::sort(input.servers.begin(), input.servers.end(),
              [](const ServerState& x, const ServerState& y) { return x.name < y.name; });
    do {
      std::reverse(input.sessions.begin(), input.sessions.end());
      EXPECT_EQ(route(input), reference);
    } while (std::next_permutation(
        input.servers.begin(), input.servers.end(),
        [](const ServerState& x, const ServerState& y) { return x.name < y.name; }));
    ASSERT_GE(reference.size(), 3u);
    EXPECT_EQ(reference[0], (RouteCandidate{"a", Reason::SessionSuspended}));
    EXPECT_EQ(reference[1], (RouteCandidate{"b", Reason::SessionSuspended}));
    EXPECT_EQ(reference[2], (RouteCandidate{"c", Reason::SessionRunning}));
  }
}

}  // namespace
}  // namespace x2gojump
