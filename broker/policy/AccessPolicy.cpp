#include "broker/policy/AccessPolicy.h"

#include <algorithm>
#include <optional>

namespace x2gojump {
namespace {

constexpr std::string_view kAnyUser = "*";

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool contains_name(const std::vector<std::string>& list, std::string_view name) {
  return std::any_of(list.begin(), list.end(), [&](const std::string& e) { return same_name(e, name); });
}

void match_names(const std::vector<std::string>& entries, const std::vector<std::string>& names,
                 RuleKind kind, std::vector<RuleMatch>* out) {
  for (const std::string& entry : entries) {
    if (contains_name(names, entry)) out->push_back({kind, entry});
  }
}

void match_networks(const std::vector<Cidr>& entries, const std::optional<IpAddress>& source,
                    bool unknown_matches, RuleKind kind, std::vector<RuleMatch>* out) {
  for (const Cidr& entry : entries) {
    if (source ? entry.contains(*source) : unknown_matches) out->push_back({kind, entry.to_string()});
  }
}

bool has(const std::vector<RuleMatch>& matches, RuleKind kind) {
  return std::any_of(matches.begin(), matches.end(), [&](const RuleMatch& m) { return m.kind == kind; });
}

PoolDecision evaluate(const PoolConfig& pool, std::string_view user, const std::vector<std::string>& groups,
                      const std::optional<IpAddress>& source) {
  PoolDecision d;
  d.pool = pool.name;
  const std::vector<std::string> self{std::string(user)};
  // An explicit entry beats denies when deny_wins is off; the "*" wildcard never does.
  const bool explicit_user = contains_name(pool.allow_users, user);
  if (explicit_user) {
    match_names(pool.allow_users, self, RuleKind::AllowUser, &d.allows);
  } else if (contains_name(pool.allow_users, kAnyUser)) {
    d.allows.push_back({RuleKind::AllowUser, std::string(kAnyUser)});
  }
  match_names(pool.allow_groups, groups, RuleKind::AllowGroup, &d.allows);
  const bool identity_allowed = !d.allows.empty();
  match_networks(pool.allow_networks, source, false, RuleKind::AllowNetwork, &d.allows);

  match_names(pool.deny_users, self, RuleKind::DenyUser, &d.denies);
  match_names(pool.deny_groups, groups, RuleKind::DenyGroup, &d.denies);
  match_networks(pool.deny_networks, source, true, RuleKind::DenyNetwork, &d.denies);

  if (!identity_allowed) {
    d.verdict = PoolVerdict::NoAllowMatch;
  } else if (!pool.allow_networks.empty() && !has(d.allows, RuleKind::AllowNetwork)) {
    d.verdict = PoolVerdict::NetworkNotAllowed;
  } else if (d.denies.empty()) {
    d.verdict = PoolVerdict::Allowed;
  } else if (!pool.deny_wins && explicit_user && !has(d.denies, RuleKind::DenyUser)) {
    d.verdict = PoolVerdict::Allowed;
    d.overridden = true;
  } else {
    d.verdict = PoolVerdict::Denied;
  }
  return d;
}

std::string describe(const std::vector<RuleMatch>& matches) {
  std::string text;
  for (const RuleMatch& m : matches) {
    if (!text.empty()) text += ", ";
    text += std::string(to_string(m.kind)) + " " + m.value;
  }
  return text;
}

}  // namespace

std::string_view to_string(RuleKind kind) {
  switch (kind) {
    case RuleKind::AllowUser: return "allow_users";
    case RuleKind::AllowGroup: return "allow_groups";
    case RuleKind::AllowNetwork: return "allow_networks";
    case RuleKind::DenyUser: return "deny_users";
    case RuleKind::DenyGroup: return "deny_groups";
    case RuleKind::DenyNetwork: return "deny_networks";
  }
  return "unknown";
}

std::string_view to_string(PoolVerdict verdict) {
  switch (verdict) {
    case PoolVerdict::Allowed: return "allowed";
    case PoolVerdict::NoAllowMatch: return "no-allow-match";
    case PoolVerdict::NetworkNotAllowed: return "network-not-allowed";
    case PoolVerdict::Denied: return "denied";
  }
  return "unknown";
}

std::string PoolDecision::reason() const {
  switch (verdict) {
    case PoolVerdict::Allowed:
      return "allowed by " + describe(allows) + (overridden ? " (overrides " + describe(denies) + ")" : "");
    case PoolVerdict::NoAllowMatch: return "no allow rule matches";
    case PoolVerdict::NetworkNotAllowed: return "source address not in allow_networks";
    case PoolVerdict::Denied: return "denied by " + describe(denies);
  }
  return "unknown";
}

bool AccessDecision::allowed() const {
  return !restricted || std::any_of(pools.begin(), pools.end(), [](const PoolDecision& p) { return p.allowed(); });
}

bool AccessDecision::may_place_on(std::string_view server) const {
  return !restricted || std::find(servers.begin(), servers.end(), server) != servers.end();
}

bool AccessDecision::may_resume_on(std::string_view server) const {
  return may_place_on(server) || (resume_outside_pool && allowed());
}

std::string AccessDecision::summary() const {
  if (!restricted) return "no pools";
  std::string text;
  for (const PoolDecision& pool : pools) {
    if (!text.empty()) text += "; ";
    text += pool.pool + ": " + pool.reason();
  }
  return text;
}

AccessDecision evaluate_pools(const std::vector<PoolConfig>& pools, std::string_view user,
                              const std::vector<std::string>& groups, std::string_view source_address) {
  AccessDecision decision;
  decision.restricted = !pools.empty();
  const std::optional<IpAddress> source = parse_ip_address(source_address);
  for (const PoolConfig& pool : pools) {
    decision.pools.push_back(evaluate(pool, user, groups, source));
    if (!decision.pools.back().allowed()) continue;
    decision.resume_outside_pool = decision.resume_outside_pool || pool.resume_outside_pool;
    for (const std::string& server : pool.servers) {
      if (std::find(decision.servers.begin(), decision.servers.end(), server) == decision.servers.end()) {
        decision.servers.push_back(server);
      }
    }
  }
  return decision;
}

bool same_name(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return lower(x) == lower(y); });
}

}  // namespace x2gojump
