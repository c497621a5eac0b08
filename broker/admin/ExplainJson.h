#pragma once
// `x2gojumpctl explain` as JSON: LoginService::explain's answer in the control protocol.
#include <nlohmann/json.hpp>

#include "broker/login/LoginService.h"

namespace x2gojump {

// {"user", "source", "status": "ok" | "not-authorized" | "unknown-user" |
// "directory-unavailable", "detail", "user_dn", "groups", "access": {"restricted", "allowed",
// "summary", "servers", "resume_outside_pool", "pools": [{"name", "verdict", "reason",
// "allows", "denies", "overridden"}]}, "sessions": [{"server", "session_id", "status",
// "last_change", "counted"}], "servers": [{"name", "state", "load", "full", "deprioritised"}],
// "resume_only", "placement", "candidates": [{"server", "reason", "address", "port"}]}
nlohmann::json explanation_json(const std::string& user, const Explanation& explanation);

}  // namespace x2gojump
