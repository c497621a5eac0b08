#pragma once
// Who may use which servers: evaluates the [[pool]] rules for one login. Pure: no I/O, no clock;
// the caller supplies the user's LDAP groups and source address. Semantics in docs/acl.md.
#include <string>
#include <string_view>
#include <vector>

#include "broker/config/Config.h"

namespace x2gojump {

enum class RuleKind { AllowUser, AllowGroup, AllowNetwork, DenyUser, DenyGroup, DenyNetwork };

// The config key of the rule list: "allow_users", "deny_networks", ...
std::string_view to_string(RuleKind kind);

struct RuleMatch {
  RuleKind kind;
  std::string value;  // the entry as configured: user name, group cn, "*", or canonical CIDR
  bool operator==(const RuleMatch&) const = default;
};

enum class PoolVerdict {
  Allowed,            // an allow_users/allow_groups entry matched, the network fits, no deny applies
  NoAllowMatch,       // neither the user nor any of the user's groups is allowed
  NetworkNotAllowed,  // allow_networks is set and the source address is in none of its entries
  Denied,             // a deny entry matched (and deny_wins, or no allow_users override)
};

// Stable names for logs and `x2gojumpctl explain --json`: "allowed", "no-allow-match",
// "network-not-allowed", "denied".
std::string_view to_string(PoolVerdict verdict);

struct PoolDecision {
  std::string pool;
  PoolVerdict verdict = PoolVerdict::NoAllowMatch;
  std::vector<RuleMatch> allows;  // every allow entry that matched (users, groups, networks)
  std::vector<RuleMatch> denies;  // every deny entry that matched, also those an override beat
  bool overridden = false;        // allowed although denies matched (deny_wins = false)
  bool allowed() const { return verdict == PoolVerdict::Allowed; }
  // One line for logs and explain: "allowed by allow_groups physics", "denied by deny_networks
  // 127.0.0.0/8", "no allow rule matches".
  std::string reason() const;
};

struct AccessDecision {
  bool restricted = false;           // false when no [[pool]] exists: every server is usable
  std::vector<PoolDecision> pools;   // one per configured pool, in config order
  std::vector<std::string> servers;  // union of the allowed pools' servers, first-seen order
  bool resume_outside_pool = false;  // an allowed pool lets the user resume sessions anywhere

  bool allowed() const;  // unrestricted, or at least one pool allows the user
  // New placements: only servers of the user's pools.
  bool may_place_on(std::string_view server) const;
  // Resuming an existing session: the user's servers, or any server with resume_outside_pool.
  bool may_resume_on(std::string_view server) const;
  // "physics: allowed by allow_groups physics; lab: no allow rule matches", or "no pools".
  std::string summary() const;
};

// Evaluates every pool for user (the login name), groups (LDAP cn values) and source_address
// (textual IP, as the listener reports it). A source address that does not parse (or is empty)
// matches no allow_networks entry and every deny_networks entry: network rules fail closed.
AccessDecision evaluate_pools(const std::vector<PoolConfig>& pools, std::string_view user,
                              const std::vector<std::string>& groups,
                              std::string_view source_address);

// ASCII case-insensitive equality, the way LDAP compares uid and cn values.
bool same_name(std::string_view a, std::string_view b);

}  // namespace x2gojump
