#include "broker/net/StartupGate.h"

namespace x2gojump {

bool admit_connection(const StartupLimits& limits, int unauthenticated, int active, double random01) {
  if (active >= limits.max_connections) return false;
  if (unauthenticated < limits.begin) return true;
  if (unauthenticated >= limits.full) return false;
  double span = limits.full - limits.begin;
  double drop_percent = limits.rate + (100.0 - limits.rate) * (unauthenticated - limits.begin) / span;
  return random01 * 100.0 >= drop_percent;
}

}  // namespace x2gojump
