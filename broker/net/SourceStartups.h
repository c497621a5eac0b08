#pragma once
// Unauthenticated connections per source (OpenSSH's PerSourceMaxStartups), so that one client
// address cannot take the pre-auth slots every other client needs. Thread-safe: connections are
// counted in on the accept thread and out on their event-loop thread.
#include <map>
#include <mutex>

#include "broker/net/SourceKey.h"

namespace x2gojump {

class SourceStartups {
 public:
  SourceStartups(int ipv4_prefix, int ipv6_prefix)
      : ipv4_prefix_(ipv4_prefix), ipv6_prefix_(ipv6_prefix) {}

  // Unauthenticated connections address's source holds now.
  int pending(const IpAddress& address) const;
  // Counts one more for address's source; every add() needs exactly one remove().
  void add(const IpAddress& address);
  void remove(const IpAddress& address);
  // Sources with at least one pending connection.
  std::size_t sources() const;

 private:
  const int ipv4_prefix_;
  const int ipv6_prefix_;
  mutable std::mutex mutex_;
  std::map<SourceKey, int> pending_;  // only sources with a count above zero
};

}  // namespace x2gojump
