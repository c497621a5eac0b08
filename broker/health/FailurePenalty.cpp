#include "broker/health/FailurePenalty.h"

#include <algorithm>

namespace x2gojump {

void FailurePenalty::record_failure(const std::string& server, Clock::time_point now) {
  std::lock_guard lock(mutex_);
  auto [it, inserted] = last_failure_.try_emplace(server, now);
  if (!inserted) it->second = std::max(it->second, now);
}

bool FailurePenalty::penalised(const std::string& server, Clock::time_point now) const {
  std::lock_guard lock(mutex_);
  auto it = last_failure_.find(server);
  return penalty_.count() > 0 && it != last_failure_.end() && now - it->second < penalty_;
}

void FailurePenalty::set_penalty(std::chrono::seconds penalty) {
  std::lock_guard lock(mutex_);
  penalty_ = penalty;
}

}  // namespace x2gojump
