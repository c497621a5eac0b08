#include "broker/net/SourceStartups.h"

namespace x2gojump {

int SourceStartups::pending(const IpAddress& address) const {
  std::lock_guard lock(mutex_);
  auto entry = pending_.find(source_key(address, ipv4_prefix_, ipv6_prefix_));
  return entry == pending_.end() ? 0 : entry->second;
}

void SourceStartups::add(const IpAddress& address) {
  std::lock_guard lock(mutex_);
  ++pending_[source_key(address, ipv4_prefix_, ipv6_prefix_)];
}

void SourceStartups::remove(const IpAddress& address) {
  std::lock_guard lock(mutex_);
  auto entry = pending_.find(source_key(address, ipv4_prefix_, ipv6_prefix_));
  if (entry != pending_.end() && --entry->second <= 0) pending_.erase(entry);
}

std::size_t SourceStartups::sources() const {
  std::lock_guard lock(mutex_);
  return pending_.size();
}

}  // namespace x2gojump
