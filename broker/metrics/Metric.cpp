#include "broker/metrics/Metric.h"

#include <stdexcept>

namespace x2gojump {

CounterFamily::CounterFamily(std::string name, std::string help, std::vector<std::string> label_names)
    : name_(std::move(name)), help_(std::move(help)), label_names_(std::move(label_names)) {}

Counter& CounterFamily::with(const std::vector<std::string>& values) {
  if (values.size() != label_names_.size()) {
    throw std::invalid_argument(name_ + ": expected " + std::to_string(label_names_.size()) +
                                " label values");
  }
  std::lock_guard lock(mutex_);
  auto [it, inserted] = index_.try_emplace(values, nullptr);
  if (inserted) it->second = &counters_.emplace_back();
  return *it->second;
}

MetricFamily CounterFamily::collect() const {
  MetricFamily family{name_, help_, MetricType::Counter, {}};
  std::lock_guard lock(mutex_);
  for (const auto& [values, counter] : index_) {
    MetricSample sample;
    for (std::size_t i = 0; i < values.size(); ++i) sample.labels.emplace_back(label_names_[i], values[i]);
    sample.value = static_cast<double>(counter->value());
    family.samples.push_back(std::move(sample));
  }
  return family;
}

}  // namespace x2gojump
