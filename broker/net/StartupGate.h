#pragma once
// Admission of new TCP connections before any SSH work is spent on them (OpenSSH's MaxStartups).

namespace x2gojump {

struct StartupLimits {
  int begin = 10;   // below this many unauthenticated connections, always admit
  int rate = 30;    // percent dropped at `begin`, rising linearly to 100 at `full`
  int full = 100;   // at or above, always drop
  int max_connections = 10000;  // all connections, authenticated or not
  int per_source = 0;  // unauthenticated connections one source may hold; 0 = no limit
};

// Decides whether a new connection is admitted. random01 is uniform in [0, 1).
bool admit_connection(const StartupLimits& limits, int unauthenticated, int active, double random01);

// The same for a client whose source holds source_pending unauthenticated connections: refused at
// limits.per_source; a source holding none skips the random early drop (only `full` and
// max_connections refuse it), so a flood from a few addresses cannot crowd everyone else out.
bool admit_from_source(const StartupLimits& limits, int source_pending, int unauthenticated,
                       int active, double random01);

}  // namespace x2gojump
