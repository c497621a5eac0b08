#include "agent/report/Backoff.h"

#include <algorithm>

namespace x2gojump {

Backoff::Duration Backoff::next(double unit_random) {
  // Doubling stops at the cap, so a long outage cannot overflow the duration.
  Duration ceiling = initial_;
  for (int i = 0; i < failures_ && ceiling < max_; ++i) ceiling *= 2;
  ceiling = std::min(ceiling, max_);
  ++failures_;
  double fraction = 0.5 + 0.5 * std::clamp(unit_random, 0.0, 1.0);
  return Duration(static_cast<Duration::rep>(static_cast<double>(ceiling.count()) * fraction));
}

}  // namespace x2gojump
