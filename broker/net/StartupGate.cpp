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

bool admit_from_source(const StartupLimits& limits, int source_pending, int unauthenticated,
                       int active, double random01) {
  if (limits.per_source > 0 && source_pending >= limits.per_source) return false;
  if (source_pending == 0) return active < limits.max_connections && unauthenticated < limits.full;
  return admit_connection(limits, unauthenticated, active, random01);
}

}  // namespace x2gojump
