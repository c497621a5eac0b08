#pragma once
// A client address reduced to its source: the network prefix that per-source limits count as one
// client (IPv4 /32 and IPv6 /64 by default: one IPv6 host usually owns a whole /64).
#include <array>
#include <compare>
#include <cstdint>

#include "broker/policy/Cidr.h"

namespace x2gojump {

struct SourceKey {
  bool v4 = true;
  std::array<std::uint8_t, 16> bytes{};  // masked to the prefix
  auto operator<=>(const SourceKey&) const = default;
};

// address with every bit past ipv4_prefix (IPv4) or ipv6_prefix (IPv6) cleared.
SourceKey source_key(const IpAddress& address, int ipv4_prefix, int ipv6_prefix);

}  // namespace x2gojump
