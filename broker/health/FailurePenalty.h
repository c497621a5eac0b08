#pragma once
// Recent backend failures per server (ThinLinc-style): a server where a connect or login failed
// for a reason other than the user's credentials is ranked after the others for a while.
// Thread-safe: event loops record failures while login workers read.
#include <chrono>
#include <map>
#include <mutex>
#include <string>

namespace x2gojump {

class FailurePenalty {
 public:
  // Monotonic: a penalty is a duration, and wall-clock steps must not extend or cancel it.
  using Clock = std::chrono::steady_clock;

  explicit FailurePenalty(std::chrono::seconds penalty) : penalty_(penalty) {}

  // Remembers that a backend connection to server failed at now (the latest failure counts).
  void record_failure(const std::string& server, Clock::time_point now);

  // True iff server's latest failure was less than the penalty before now (never for a zero
  // penalty). A failure recorded after now also counts, so concurrent callers cannot miss it.
  bool penalised(const std::string& server, Clock::time_point now) const;

  // Changes the penalty (a configuration reload); failures already recorded keep counting.
  void set_penalty(std::chrono::seconds penalty);

 private:
  std::chrono::seconds penalty_;  // guarded by mutex_
  mutable std::mutex mutex_;
  std::map<std::string, Clock::time_point, std::less<>> last_failure_;  // one entry per failed server
};

}  // namespace x2gojump
