#pragma once
// The file-descriptor budget: how many client connections fit in the process's descriptor limit,
// so that the broker refuses new connections itself instead of accept() failing with EMFILE (which
// would also starve LDAP, SQLite, probes and backend connects of descriptors).
#include <cstdint>

namespace x2gojump {

// Descriptors one relayed connection holds: the client socket and the backend socket, each with
// the duplicate the event loop waits on.
inline constexpr int kFdsPerConnection = 4;
// Kept for everything else: listeners, event loops, SQLite, LDAP, probes, the agent API (64).
inline constexpr int kReservedFds = 256;

// Client connections that fit in fd_limit descriptors (at least 1, at most 1000000).
int connections_for_fds(std::uint64_t fd_limit);

// Raises the soft RLIMIT_NOFILE to the hard limit (best effort) and returns the soft limit now in
// force; 0 if it cannot be read. Never throws.
std::uint64_t raise_fd_limit();

}  // namespace x2gojump
