#pragma once
// The broker's current configuration, replaceable while the broker runs (SIGHUP reload).
// Readers take a snapshot (a shared_ptr) and use it for one whole decision, so a reload never
// mixes two configurations in one login, probe round or request.
#include <atomic>
#include <cstdint>
#include <memory>

#include "broker/config/Config.h"

namespace x2gojump {

class ConfigHolder {
 public:
  explicit ConfigHolder(std::shared_ptr<const BrokerConfig> config) : config_(std::move(config)) {}
  ConfigHolder(const ConfigHolder&) = delete;
  ConfigHolder& operator=(const ConfigHolder&) = delete;

  // The configuration in force now. Thread-safe, lock-free for readers in practice.
  std::shared_ptr<const BrokerConfig> get() const { return config_.load(std::memory_order_acquire); }

  // Makes config the one in force; snapshots taken before stay valid. Thread-safe.
  void set(std::shared_ptr<const BrokerConfig> config) {
    config_.store(std::move(config), std::memory_order_release);
    generation_.fetch_add(1, std::memory_order_release);
  }

  // Starts at 0 and grows by one with every set(), so caches can tell they are stale.
  std::uint64_t generation() const { return generation_.load(std::memory_order_acquire); }

 private:
  std::atomic<std::shared_ptr<const BrokerConfig>> config_;
  std::atomic<std::uint64_t> generation_{0};
};

}  // namespace x2gojump
