#include "broker/health/HealthMonitor.h"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <optional>
#include <vector>

#include "broker/health/BannerProbe.h"
#include "broker/health/HealthPolicy.h"

namespace x2gojump {
namespace {

using SystemClock = std::chrono::system_clock;

struct Target {
  std::string name;
  std::string address;
  std::uint16_t port;
};

struct Tracked {
  HealthFacts facts;
  std::string last_probe_error;  // for the transition log only
};

using TrackedMap = std::map<std::string, Tracked, std::less<>>;

}  // namespace

struct HealthMonitor::Core : std::enable_shared_from_this<Core> {
  Core(boost::asio::io_context& io_context, std::shared_ptr<ConfigHolder> holder,
       SessionStore& session_store, boost::asio::thread_pool& pool)
      : io(io_context),
        configs(std::move(holder)),
        store(session_store),
        loop(boost::asio::make_strand(io_context)),
        writer(boost::asio::make_strand(pool)),
        timer(loop) {
    refresh_config();
  }

  // ---- on loop ----

  // Takes the servers and [health] settings of the configuration in force. Servers that stay
  // keep what is known about them.
  void refresh_config() {
    if (generation && *generation == configs->generation()) return;
    generation = configs->generation();
    const std::shared_ptr<const BrokerConfig> broker = configs->get();
    config = broker->health;
    targets.clear();
    std::lock_guard lock(mutex);
    TrackedMap kept;
    for (const ServerConfig& server : broker->servers) {
      targets.push_back({server.name, server.address, server.port});
      auto node = tracked.extract(server.name);
      if (node) {
        kept.insert(std::move(node));
      } else {
        kept[server.name];
      }
    }
    tracked = std::move(kept);
  }

  void schedule_round() {
    timer.expires_at(round_started + config.probe_interval);
    timer.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
      if (!ec) self->run_round();
    });
  }

  void run_round() {
    if (stopped) return;
    refresh_config();
    round_started = std::chrono::steady_clock::now();
    if (targets.empty()) return schedule_round();  // a reload may add servers
    pending = targets.size();
    for (const Target& target : targets) {
      probe_ssh_banner(io, target.address, target.port, config.probe_timeout,
                       [self = shared_from_this(), name = target.name](ProbeResult result) {
                         boost::asio::post(self->loop, [self, name, result = std::move(result)] {
                           self->on_probe(name, result);
                         });
                       });
    }
  }

  void on_probe(const std::string& name, const ProbeResult& result) {
    {
      std::lock_guard lock(mutex);
      Tracked& server = tracked[name];
      if (result.ok) {
        server.facts.consecutive_probe_failures = 0;
        server.facts.last_probe_ok = SystemClock::now();
        server.last_probe_error.clear();
      } else {
        ++server.facts.consecutive_probe_failures;
        server.last_probe_error = result.detail;
      }
    }
    if (!result.ok) spdlog::debug("server {}: probe failed: {}", name, result.detail);
    if (--pending > 0 || stopped) return;

    evaluate();
    schedule_round();
  }

  // Hands what is known now to the writer.
  void evaluate() {
    TrackedMap snapshot;
    {
      std::lock_guard lock(mutex);
      snapshot = tracked;
    }
    boost::asio::post(writer, [self = shared_from_this(), snapshot = std::move(snapshot),
                               health = config] { self->apply(snapshot, health); });
  }

  // ---- on writer (the pool, serialised) ----

  void apply(const TrackedMap& snapshot, const HealthConfig& health) {
    if (stopped) return;
    try {
      if (!seeded) seed_from_store(snapshot);
      const std::vector<ServerState> current = store.servers();
      const auto now = SystemClock::now();
      for (const auto& [name, server] : snapshot) {
        auto state = std::find_if(current.begin(), current.end(),
                                  [&](const ServerState& s) { return s.name == name; });
        if (state == current.end()) continue;  // not synced to the store (yet)
        HealthFacts facts = server.facts;
        // Admins own draining: reading it back here is what keeps it sticky.
        facts.draining = state->health == ServerHealth::Draining;
        if (auto report = last_report.find(name); report != last_report.end()) {
          facts.agent_seen = true;
          facts.last_heartbeat = std::max(facts.last_heartbeat.value_or(report->second), report->second);
        }
        const HealthVerdict verdict = assess_health(facts, now, health);
        if (verdict.health == state->health) continue;
        // An admin may have drained the server since it was read.
        if (!store.set_health_unless_draining(name, verdict.health)) continue;
        std::string reason = verdict.reason;
        if (verdict.health == ServerHealth::Down && !server.last_probe_error.empty()) {
          reason += "; last: " + server.last_probe_error;
        }
        spdlog::log(verdict.health == ServerHealth::Up ? spdlog::level::info : spdlog::level::warn,
                    "server {}: {} -> {} ({})", name, to_string(state->health),
                    to_string(verdict.health), reason);
      }
    } catch (const StoreError& e) {
      spdlog::error("cannot update server health: {}", e.what());
    }
  }

  // Agents that reported before a restart were seen: without this a server whose agent died while
  // the broker was down would count as probe-only, and so as up.
  void seed_from_store(const TrackedMap& snapshot) {
    for (const auto& [name, server] : snapshot) {
      if (auto at = store.last_report(name)) {
        last_report[name] = SystemClock::time_point(std::chrono::seconds(*at));
      }
    }
    seeded = true;
  }

  boost::asio::io_context& io;
  const std::shared_ptr<ConfigHolder> configs;
  SessionStore& store;
  std::optional<std::uint64_t> generation;  // loop only, like config and targets
  HealthConfig config;
  std::vector<Target> targets;
  boost::asio::strand<boost::asio::io_context::executor_type> loop;
  boost::asio::strand<boost::asio::thread_pool::executor_type> writer;
  std::atomic<bool> stopped{false};

  std::mutex mutex;  // guards tracked: heartbeats arrive from other threads
  TrackedMap tracked;

  boost::asio::steady_timer timer;  // loop only
  std::chrono::steady_clock::time_point round_started;
  std::size_t pending = 0;

  bool seeded = false;  // writer only
  std::map<std::string, SystemClock::time_point, std::less<>> last_report;
};

HealthMonitor::HealthMonitor(boost::asio::io_context& io, std::shared_ptr<ConfigHolder> config,
                             SessionStore& store, boost::asio::thread_pool& pool)
    : core_(std::make_shared<Core>(io, std::move(config), store, pool)) {}

HealthMonitor::HealthMonitor(boost::asio::io_context& io, const BrokerConfig& config,
                             SessionStore& store, boost::asio::thread_pool& pool)
    : HealthMonitor(io,
                    std::make_shared<ConfigHolder>(std::make_shared<const BrokerConfig>(config)),
                    store, pool) {}

HealthMonitor::~HealthMonitor() { stop(); }

void HealthMonitor::start() {
  boost::asio::post(core_->loop, [core = core_] { core->run_round(); });
}

void HealthMonitor::stop() {
  core_->stopped = true;
  boost::asio::post(core_->loop, [core = core_] { core->timer.cancel(); });
}

void HealthMonitor::reevaluate() {
  boost::asio::post(core_->loop, [core = core_] {
    if (!core->stopped) core->evaluate();
  });
}

void HealthMonitor::on_heartbeat(const std::string& server, std::chrono::system_clock::time_point at) {
  std::lock_guard lock(core_->mutex);
  auto it = core_->tracked.find(server);
  if (it == core_->tracked.end()) return;
  HealthFacts& facts = it->second.facts;
  facts.agent_seen = true;
  facts.last_heartbeat = std::max(facts.last_heartbeat.value_or(at), at);
}

}  // namespace x2gojump
