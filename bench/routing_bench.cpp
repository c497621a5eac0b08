// Figure 6: the routing decision a login pays for, on a state DB with 100,000 session rows over
// 200 servers. Google Benchmark reports the mean; each benchmark also times every single decision
// and reports p50/p99/max as counters (us), because the target is a p99.
//
//   build-x/bench/routing_bench --benchmark_min_time=2
#include <benchmark/benchmark.h>
#include <stdlib.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "broker/routing/Router.h"
#include "broker/store/SessionStore.h"

namespace x2gojump {
namespace {

constexpr int kServers = 200;
constexpr int kUsers = 50000;
constexpr int kSessionsPerUser = 2;  // 100,000 rows
constexpr int kPlacements = 10000;   // users who connected within placement_ttl
constexpr std::int64_t kNow = 1790000000;

std::string server_name(int i) {
  char name[32];
  std::snprintf(name, sizeof name, "x2go-%03d", i);
  return name;
}

std::string user_name(int i) { return "user" + std::to_string(i); }

// The DB is built once (in a temporary directory, WAL, as the broker uses it) and shared by every
// benchmark; snapshots go through apply_snapshot as the agents' reports do.
struct Farm {
  std::filesystem::path dir;
  std::unique_ptr<SessionStore> store;
  std::vector<std::string> servers;  // names, as the broker's [[server]] tables list them

  Farm() {
    char templ[] = "/tmp/xj-routing-bench-XXXXXX";
    if (mkdtemp(templ) == nullptr) std::abort();
    dir = templ;
    store = std::make_unique<SessionStore>((dir / "state.db").string());
    std::vector<ServerRecord> records;
    for (int i = 0; i < kServers; ++i) {
      servers.push_back(server_name(i));
      records.push_back({servers.back(), "10.0." + std::to_string(i / 250) + "." + std::to_string(i % 250),
                         22, 1.0});
    }
    store->sync_servers(records);
    std::mt19937 rng(42);
    std::vector<std::vector<SessionRecord>> per_server(kServers);
    for (int u = 0; u < kUsers; ++u) {
      for (int k = 0; k < kSessionsPerUser; ++k) {
        int server = static_cast<int>(rng() % kServers);
        SessionRecord s;
        s.session_id = user_name(u) + "-" + std::to_string(50 + k) + "-1790000000_stRxterm_dp24";
        s.user = user_name(u);
        s.status = rng() % 3 == 0 ? 'R' : 'S';
        s.display = 50 + k;
        s.created = kNow - 86400;
        s.last_change = kNow - static_cast<std::int64_t>(rng() % 86400);
        per_server[server].push_back(std::move(s));
      }
    }
    for (int i = 0; i < kServers; ++i) {
      store->apply_snapshot(servers[i], 1, per_server[i], 0.1 * (i % 10), kNow);
    }
    for (int u = 0; u < kPlacements; ++u) {
      store->record_placement(user_name(u * (kUsers / kPlacements)), servers[u % kServers], kNow + 300);
    }
  }
  ~Farm() {
    store.reset();
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
  }
};

Farm& farm() {
  static Farm f;
  return f;
}

// Times each iteration's body; sets p50/p99/max counters in microseconds.
class Latencies {
 public:
  explicit Latencies(benchmark::State& state) : state_(state) { ns_.reserve(1 << 20); }
  ~Latencies() {
    if (ns_.empty()) return;
    std::sort(ns_.begin(), ns_.end());
    auto at = [&](double q) { return ns_[static_cast<std::size_t>(q * (ns_.size() - 1))] / 1e3; };
    state_.counters["p50_us"] = at(0.50);
    state_.counters["p99_us"] = at(0.99);
    state_.counters["max_us"] = ns_.back() / 1e3;
  }
  void start() { t0_ = std::chrono::steady_clock::now(); }
  void stop() {
    ns_.push_back(std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0_).count());
  }

 private:
  benchmark::State& state_;
  std::vector<double> ns_;
  std::chrono::steady_clock::time_point t0_;
};

// Users in a fixed pseudo-random order: every decision looks up a different user.
const std::string& next_user(std::size_t& i) {
  static const std::vector<std::string> users = [] {
    std::vector<std::string> v;
    std::mt19937 rng(7);
    for (int k = 0; k < 65536; ++k) v.push_back(user_name(static_cast<int>(rng() % kUsers)));
    return v;
  }();
  return users[i++ % users.size()];
}

RouteInput input_for(const std::string& user, std::vector<ServerState> servers,
                     std::vector<UserSession> sessions, std::optional<std::string> placement) {
  RouteInput input;
  input.user = user;
  input.source_address = "192.0.2.7";
  input.strategy = FallbackStrategy::SourceIp;
  input.servers = std::move(servers);
  input.sessions = std::move(sessions);
  input.placement = std::move(placement);
  return input;
}

// route() alone, on inputs prepared from the DB beforehand.
void BM_Route(benchmark::State& state) {
  Farm& f = farm();
  std::vector<RouteInput> inputs;
  std::vector<ServerState> servers = f.store->servers();
  std::size_t u = 0;
  for (int i = 0; i < 4096; ++i) {
    const std::string& user = next_user(u);
    inputs.push_back(input_for(user, servers, f.store->sessions_of(user), f.store->placement_of(user, kNow)));
  }
  Latencies lat(state);
  std::size_t i = 0;
  for (auto _ : state) {
    lat.start();
    auto candidates = route(inputs[i++ % inputs.size()]);
    benchmark::DoNotOptimize(candidates);
    lat.stop();
  }
}

// What the brief names: the store reads of one login (servers, the user's sessions, placement)
// plus route().
void BM_StoreReadsAndRoute(benchmark::State& state) {
  Farm& f = farm();
  Latencies lat(state);
  std::size_t u = 0;
  for (auto _ : state) {
    const std::string& user = next_user(u);
    lat.start();
    auto candidates = route(input_for(user, f.store->servers(), f.store->sessions_of(user),
                                      f.store->placement_of(user, kNow)));
    benchmark::DoNotOptimize(candidates);
    lat.stop();
  }
}

// Everything LoginService::decide does after LDAP: server_states() (servers + users_per_server
// for max_users), sessions_of, placement_of, route(), and mapping candidates back to the
// configured servers (pinned host keys, so no learned-key query).
void BM_LoginDecision(benchmark::State& state) {
  Farm& f = farm();
  Latencies lat(state);
  std::size_t u = 0;
  for (auto _ : state) {
    const std::string& user = next_user(u);
    lat.start();
    std::vector<ServerState> servers = f.store->servers();
    const auto users = f.store->users_per_server();
    for (ServerState& server : servers) {
      auto count = std::find_if(users.begin(), users.end(),
                                [&](const auto& entry) { return entry.first == server.name; });
      server.full = count != users.end() && count->second >= 1000;
    }
    auto candidates = route(input_for(user, std::move(servers), f.store->sessions_of(user),
                                      f.store->placement_of(user, kNow)));
    std::size_t matched = 0;
    for (const RouteCandidate& candidate : candidates) {
      for (const std::string& configured : f.servers) matched += configured == candidate.server;
    }
    benchmark::DoNotOptimize(matched);
    lat.stop();
  }
}

// The single query that scans all 100,000 rows on every login (server_states' max_users check).
void BM_UsersPerServer(benchmark::State& state) {
  Farm& f = farm();
  Latencies lat(state);
  for (auto _ : state) {
    lat.start();
    auto users = f.store->users_per_server();
    benchmark::DoNotOptimize(users);
    lat.stop();
  }
}

BENCHMARK(BM_Route)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_StoreReadsAndRoute)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_LoginDecision)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_UsersPerServer)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace x2gojump

BENCHMARK_MAIN();
