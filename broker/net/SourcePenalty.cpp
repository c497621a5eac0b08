#include "broker/net/SourcePenalty.h"

#include <algorithm>

namespace x2gojump {

SourcePenaltySettings source_penalty_settings(const LimitsConfig& limits) {
  SourcePenaltySettings settings;
  settings.auth_failure = limits.penalty_auth_failure;
  settings.grace_exceeded = limits.penalty_grace_exceeded;
  settings.min = limits.penalty_min;
  settings.max = limits.penalty_max;
  settings.ipv4_prefix = limits.source_ipv4_prefix;
  settings.ipv6_prefix = limits.source_ipv6_prefix;
  settings.exempt = limits.penalty_exempt;
  settings.max_sources = static_cast<std::size_t>(limits.penalty_max_sources);
  return settings;
}

SourcePenalty::SourcePenalty(SourcePenaltySettings settings) : settings_(std::move(settings)) {}

bool SourcePenalty::is_exempt(const IpAddress& address) const {
  return std::any_of(settings_.exempt.begin(), settings_.exempt.end(),
                     [&](const Cidr& cidr) { return cidr.contains(address); });
}

void SourcePenalty::forget_expired(Clock::time_point now) {
  while (!by_expiry_.empty() && by_expiry_.begin()->first <= now) forget_soonest();
}

void SourcePenalty::forget_soonest() {
  sources_.erase(by_expiry_.begin()->second);
  by_expiry_.erase(by_expiry_.begin());
}

void SourcePenalty::set_expiry(std::map<SourceKey, Entry>::iterator entry, Clock::time_point expiry) {
  by_expiry_.erase({entry->second.expiry, entry->first});
  entry->second.expiry = expiry;
  by_expiry_.insert({expiry, entry->first});
}

bool SourcePenalty::admit(const IpAddress& address, Clock::time_point now) {
  std::lock_guard lock(mutex_);
  forget_expired(now);
  auto entry = sources_.find(source_key(address, settings_.ipv4_prefix, settings_.ipv6_prefix));
  return entry == sources_.end() || !entry->second.enforced;
}

std::chrono::seconds SourcePenalty::record(const IpAddress& address, PenaltyEvent event,
                                           Clock::time_point now) {
  using std::chrono::seconds;
  std::lock_guard lock(mutex_);
  const seconds penalty =
      event == PenaltyEvent::AuthFailure ? settings_.auth_failure : settings_.grace_exceeded;
  if (penalty <= seconds::zero() || is_exempt(address)) return seconds::zero();
  forget_expired(now);
  const SourceKey key = source_key(address, settings_.ipv4_prefix, settings_.ipv6_prefix);
  auto entry = sources_.find(key);
  if (entry == sources_.end()) {
    // Under a flood of sources the entry closest to its end is the least loss.
    if (sources_.size() >= settings_.max_sources && !by_expiry_.empty()) forget_soonest();
    entry = sources_.emplace(key, Entry{now, false}).first;
    by_expiry_.insert({now, key});
  }
  set_expiry(entry, std::min(std::max(entry->second.expiry, now) + penalty, now + settings_.max));
  const auto left = entry->second.expiry - now;
  if (entry->second.enforced || left < settings_.min) return seconds::zero();
  entry->second.enforced = true;
  return std::chrono::duration_cast<seconds>(left);
}

void SourcePenalty::reconfigure(SourcePenaltySettings settings) {
  std::lock_guard lock(mutex_);
  settings.ipv4_prefix = settings_.ipv4_prefix;
  settings.ipv6_prefix = settings_.ipv6_prefix;
  settings_ = std::move(settings);
  while (sources_.size() > settings_.max_sources) forget_soonest();
}

std::size_t SourcePenalty::size() const {
  std::lock_guard lock(mutex_);
  return sources_.size();
}

}  // namespace x2gojump
