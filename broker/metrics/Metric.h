#pragma once
// Counters for the Prometheus endpoint. Updating one is a single relaxed atomic add,
// so the relay and the event loops can count without locks.
#include <atomic>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "broker/metrics/PrometheusText.h"

namespace x2gojump {

class Counter {
 public:
  void add(std::uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  // Adds one and returns the new value: a unique number per call (connection ids).
  std::uint64_t add_fetch() { return value_.fetch_add(1, std::memory_order_relaxed) + 1; }
  std::uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> value_{0};
};

// One counter per combination of label values, for labels known only at run time (reasons,
// server names). Finding a counter takes a mutex; the reference it returns stays valid for the
// family's lifetime, so hot paths look it up once and keep it.
class CounterFamily {
 public:
  CounterFamily(std::string name, std::string help, std::vector<std::string> label_names);

  // The counter for values (one per label name, in order), created at 0 on first use.
  Counter& with(const std::vector<std::string>& values);

  // Every counter created so far, ordered by label values.
  MetricFamily collect() const;

 private:
  const std::string name_;
  const std::string help_;
  const std::vector<std::string> label_names_;
  mutable std::mutex mutex_;
  std::deque<Counter> counters_;  // a deque never moves its elements
  std::map<std::vector<std::string>, Counter*> index_;
};

}  // namespace x2gojump
