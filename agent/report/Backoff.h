#pragma once
// Retry delays for one broker: exponential with jitter, reset by a success. Pure.
#include <chrono>

namespace x2gojump {

class Backoff {
 public:
  using Duration = std::chrono::milliseconds;

  Backoff(Duration initial = Duration(500), Duration max = Duration(30000))
      : initial_(initial), max_(max) {}

  // The delay before the next attempt after one more failure: initial doubling per consecutive
  // failure up to max, then scaled into [50%, 100%] by unit_random (in [0, 1)) so that agents
  // restarted together do not retry in lockstep.
  Duration next(double unit_random);
  // After a success: the next failure starts again from initial.
  void reset() { failures_ = 0; }
  int failures() const { return failures_; }

 private:
  Duration initial_;
  Duration max_;
  int failures_ = 0;
};

}  // namespace x2gojump
