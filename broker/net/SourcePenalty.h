#pragma once
// Per-source penalties, like OpenSSH's PerSourcePenalties: failed logins and clients that let the
// login grace time run out add penalty time to their source (an IPv4 /32 or IPv6 /64 by default);
// once a source's pending penalty reaches `min`, new connections from it are dropped at accept until
// the penalty has run out. Events while a penalty runs extend it, up to `max`. Thread-safe; the
// clock is a parameter so that the rules are testable without waiting.
#include <chrono>
#include <cstddef>
#include <map>
#include <mutex>
#include <set>
#include <utility>
#include <vector>

#include "broker/config/Config.h"
#include "broker/net/SourceKey.h"

namespace x2gojump {

struct SourcePenaltySettings {
  std::chrono::seconds auth_failure{5};    // per refused password (or invalid user name); 0 = none
  std::chrono::seconds grace_exceeded{10}; // per connection that ran out of login grace time
  std::chrono::seconds min{15};            // pending penalty at which connections are dropped
  std::chrono::seconds max{600};           // a source's pending penalty never exceeds this
  int ipv4_prefix = 32;                    // a source is a prefix of this length (source_key)
  int ipv6_prefix = 64;
  std::vector<Cidr> exempt;                // never penalised
  std::size_t max_sources = 65536;         // table bound; the entry that expires first is evicted
};

// The settings [limits] configures (penalty_* keys).
SourcePenaltySettings source_penalty_settings(const LimitsConfig& limits);

enum class PenaltyEvent { AuthFailure, GraceExceeded };

class SourcePenalty {
 public:
  using Clock = std::chrono::steady_clock;

  explicit SourcePenalty(SourcePenaltySettings settings);

  // False while address's source has an enforced penalty that has not run out at now.
  bool admit(const IpAddress& address, Clock::time_point now);

  // Adds event's penalty to address's source (nothing for exempt addresses). Returns the penalty
  // left when this event started its enforcement (for a log line), else zero.
  std::chrono::seconds record(const IpAddress& address, PenaltyEvent event, Clock::time_point now);

  // Applies a reloaded configuration. Pending penalties stay; a smaller table drops the entries
  // that expire first. The prefix lengths stay as constructed (a source's key must not change).
  void reconfigure(SourcePenaltySettings settings);

  // Sources currently in the table (penalised or accruing).
  std::size_t size() const;

 private:
  struct Entry {
    Clock::time_point expiry;
    bool enforced = false;
  };

  bool is_exempt(const IpAddress& address) const;
  void forget_expired(Clock::time_point now);
  void set_expiry(std::map<SourceKey, Entry>::iterator entry, Clock::time_point expiry);
  void forget_soonest();

  mutable std::mutex mutex_;
  SourcePenaltySettings settings_;  // guarded by mutex_ (reconfigure)
  std::map<SourceKey, Entry> sources_;
  std::set<std::pair<Clock::time_point, SourceKey>> by_expiry_;  // the same entries, soonest first
};

}  // namespace x2gojump
