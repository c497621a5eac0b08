#include "broker/net/SourceKey.h"

#include <algorithm>

namespace x2gojump {

SourceKey source_key(const IpAddress& address, int ipv4_prefix, int ipv6_prefix) {
  const int prefix = address.v4 ? ipv4_prefix : ipv6_prefix;
  const int bytes = address.v4 ? 4 : 16;
  SourceKey key{address.v4, {}};
  for (int i = 0; i < bytes; ++i) {
    const int bits = std::clamp(prefix - 8 * i, 0, 8);
    key.bytes[i] = address.bytes[i] & static_cast<std::uint8_t>(0xff00 >> bits);
  }
  return key;
}

}  // namespace x2gojump
