#include "broker/admin/ExplainJson.h"

namespace x2gojump {
namespace {

std::string_view status_name(LoginStatus status) {
  switch (status) {
    case LoginStatus::Ok: return "ok";
    case LoginStatus::NotAuthorized: return "not-authorized";
    case LoginStatus::BadCredentials: return "unknown-user";
    case LoginStatus::AccountLocked: return "account-locked";
    case LoginStatus::DirectoryUnavailable: return "directory-unavailable";
  }
  return "unknown";
}

nlohmann::json rules_json(const std::vector<RuleMatch>& rules) {
  nlohmann::json out = nlohmann::json::array();
  for (const RuleMatch& rule : rules) out.push_back({{"kind", to_string(rule.kind)}, {"value", rule.value}});
  return out;
}

nlohmann::json access_json(const AccessDecision& access) {
  nlohmann::json pools = nlohmann::json::array();
  for (const PoolDecision& pool : access.pools) {
    pools.push_back({{"name", pool.pool},
                     {"verdict", to_string(pool.verdict)},
                     {"reason", pool.reason()},
                     {"allows", rules_json(pool.allows)},
                     {"denies", rules_json(pool.denies)},
                     {"overridden", pool.overridden}});
  }
  return {{"restricted", access.restricted},     {"allowed", access.allowed()},
          {"summary", access.summary()},         {"servers", access.servers},
          {"resume_outside_pool", access.resume_outside_pool}, {"pools", std::move(pools)}};
}

}  // namespace

nlohmann::json explanation_json(const std::string& user, const Explanation& explanation) {
  nlohmann::json sessions = nlohmann::json::array();
  for (const ConsideredSession& s : explanation.sessions) {
    sessions.push_back({{"server", s.session.server},
                        {"session_id", s.session.session_id},
                        {"status", std::string(1, s.session.status)},
                        {"last_change", s.session.last_change},
                        {"counted", s.counted}});
  }
  nlohmann::json servers = nlohmann::json::array();
  for (const ServerState& s : explanation.servers) {
    servers.push_back({{"name", s.name},
                       {"state", to_string(s.health)},
                       {"load", s.load},
                       {"full", s.full},
                       {"deprioritised", s.deprioritised}});
  }
  nlohmann::json candidates = nlohmann::json::array();
  for (const BackendTarget& c : explanation.candidates) {
    candidates.push_back({{"server", c.server},
                          {"reason", to_string(c.reason)},
                          {"address", c.address},
                          {"port", c.port}});
  }
  nlohmann::json placement = nullptr;
  if (explanation.placement) placement = *explanation.placement;
  return {{"user", user},
          {"source", explanation.source_address},
          {"status", status_name(explanation.status)},
          {"detail", explanation.detail},
          {"user_dn", explanation.user_dn},
          {"groups", explanation.groups},
          {"access", access_json(explanation.access)},
          {"sessions", std::move(sessions)},
          {"servers", std::move(servers)},
          {"resume_only", explanation.resume_only},
          {"placement", std::move(placement)},
          {"candidates", std::move(candidates)}};
}

}  // namespace x2gojump
