#pragma once
// Tracks every configured server's health: probes each backend's SSH banner every probe_interval,
// combines that with the agent heartbeats it is told about (HealthPolicy) and writes changed
// states to the store, logging each transition ("server b1: up -> down (2 probe failures)").
#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>

#include <chrono>
#include <memory>
#include <string>

#include "broker/config/Config.h"
#include "broker/config/ConfigHolder.h"
#include "broker/store/SessionStore.h"

namespace x2gojump {

class HealthMonitor {
 public:
  // Probes run on io; store reads and writes run on pool (serialised), never on io. The servers
  // and [health] settings are read from config at the start of every round, so a reload takes
  // effect at the next round. store and pool must outlive every job this posts (in practice:
  // join the pool before destroying the store).
  HealthMonitor(boost::asio::io_context& io, std::shared_ptr<ConfigHolder> config,
                SessionStore& store, boost::asio::thread_pool& pool);
  // A fixed configuration, copied.
  HealthMonitor(boost::asio::io_context& io, const BrokerConfig& config, SessionStore& store,
                boost::asio::thread_pool& pool);
  ~HealthMonitor();  // stop()s
  HealthMonitor(const HealthMonitor&) = delete;
  HealthMonitor& operator=(const HealthMonitor&) = delete;

  // Starts the first probe round now; each next one starts probe_interval after the previous
  // one started, or when it ends if it took longer (rounds never overlap). Call once.
  void start();
  // No further rounds or store writes; probes in flight finish unobserved. Thread-safe.
  void stop();

  // The agent of server reported at `at` (the broker's receive time). Unknown servers are
  // ignored. Thread-safe; takes effect at the next evaluation (the end of the current round).
  void on_heartbeat(const std::string& server, std::chrono::system_clock::time_point at);

  // Assesses every server again now from what is known (no new probes), e.g. right after an
  // admin ended a drain. Thread-safe.
  void reevaluate();

 private:
  struct Core;
  std::shared_ptr<Core> core_;
};

}  // namespace x2gojump
