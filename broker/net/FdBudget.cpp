#include "broker/net/FdBudget.h"

#include <sys/resource.h>

#include <algorithm>

namespace x2gojump {

int connections_for_fds(std::uint64_t fd_limit) {
  constexpr std::uint64_t kMaxConnections = 1000000;
  if (fd_limit <= static_cast<std::uint64_t>(kReservedFds + kFdsPerConnection)) return 1;
  std::uint64_t fit = (fd_limit - kReservedFds) / kFdsPerConnection;
  return static_cast<int>(std::min(fit, kMaxConnections));
}

std::uint64_t raise_fd_limit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return 0;
  if (limit.rlim_cur < limit.rlim_max) {
    rlimit raised = limit;
    raised.rlim_cur = limit.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) limit = raised;
  }
  return limit.rlim_cur == RLIM_INFINITY ? UINT64_MAX : limit.rlim_cur;
}

}  // namespace x2gojump
