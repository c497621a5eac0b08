#include "broker/agentapi/SnapshotRequestHandler.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "broker/agentapi/ReportedHostKeys.h"
#include "broker/metrics/BrokerMetrics.h"

namespace x2gojump {
namespace {

constexpr std::string_view kSnapshotPath = "/v1/snapshot";
constexpr std::string_view kHealthPath = "/v1/health";

ApiResponse json_response(unsigned status, const nlohmann::json& body) {
  // Reasons may quote what a client sent; "replace" keeps invalid UTF-8 from throwing.
  return ApiResponse{status, body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), {}};
}

ApiResponse unauthorized(std::string_view reason, bool token_sent) {
  ApiResponse response = error_response(401, reason);
  std::string challenge = "Bearer realm=\"x2gojump\"";
  if (token_sent) challenge += ", error=\"invalid_token\"";
  response.headers.emplace_back("WWW-Authenticate", std::move(challenge));
  return response;
}

ApiResponse method_not_allowed(std::string_view allowed) {
  ApiResponse response = error_response(405, "method not allowed");
  response.headers.emplace_back("Allow", std::string(allowed));
  return response;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return (x | 0x20) == (y | 0x20);
         });
}

// The token of "Bearer <token>" (scheme case-insensitive, RFC 7235); empty if the header is
// absent or uses another scheme.
std::string_view bearer_token(std::string_view authorization) {
  constexpr std::string_view kScheme = "Bearer";
  if (authorization.size() <= kScheme.size() ||
      !iequals(authorization.substr(0, kScheme.size()), kScheme) ||
      authorization[kScheme.size()] != ' ') {
    return {};
  }
  std::string_view token = authorization.substr(kScheme.size());
  token.remove_prefix(std::min(token.find_first_not_of(' '), token.size()));
  token.remove_suffix(token.size() - std::min(token.find_last_not_of(" \t") + 1, token.size()));
  return token;
}

std::vector<SessionRecord> session_records(const std::vector<SnapshotSession>& sessions) {
  std::vector<SessionRecord> records;
  records.reserve(sessions.size());
  for (const SnapshotSession& s : sessions) {
    records.push_back(SessionRecord{s.session_id, s.user, s.status, s.display, s.created,
                                    s.last_change});
  }
  return records;
}

}  // namespace

SnapshotRequestHandler::SnapshotRequestHandler(const BrokerConfig& config, SessionStore& store,
                                               ReportCallback on_report)
    : tokens_(config.servers),
      max_body_bytes_(config.agent_api.max_body_bytes),
      store_(store),
      on_report_(std::move(on_report)) {
  for (const ServerConfig& server : config.servers) {
    if (!server.host_key.empty()) pinned_.push_back(server.name);
  }
}

ApiResponse SnapshotRequestHandler::handle(const ApiRequest& request, std::int64_t now) const {
  std::string_view path = request.target.substr(0, request.target.find('?'));
  if (path == kHealthPath) {
    if (request.method != "GET") return method_not_allowed("GET");
    return json_response(200, {{"ok", true}});
  }
  if (path != kSnapshotPath) return error_response(404, "not found");
  if (request.method != "POST") return method_not_allowed("POST");
  ApiResponse response;
  try {
    response = post_snapshot(request, now);
  } catch (const StoreError& e) {
    spdlog::error("agent API: [{}] cannot apply snapshot: {}", request.peer, e.what());
    response = error_response(500, "state store unavailable");
  } catch (const std::exception& e) {
    spdlog::error("agent API: [{}] request failed: {}", request.peer, e.what());
    response = error_response(500, "internal error");
  }
  count_agent_report(response.status);
  return response;
}

void SnapshotRequestHandler::refused(unsigned status) const { count_agent_report(status); }

ApiResponse SnapshotRequestHandler::post_snapshot(const ApiRequest& request,
                                                  std::int64_t now) const {
  // Authentication comes first, so nobody without a token can probe the parser.
  std::string_view token = bearer_token(request.authorization);
  if (token.empty()) {
    spdlog::info("agent API: [{}] snapshot without bearer token", request.peer);
    return unauthorized("bearer token required", false);
  }
  const std::string* server = tokens_.server_of(token);
  if (server == nullptr) {
    spdlog::warn("agent API: [{}] snapshot with an unknown token", request.peer);
    return unauthorized("invalid token", true);
  }
  if (request.body.size() > max_body_bytes_) {
    return error_response(413, "body larger than " + std::to_string(max_body_bytes_) + " bytes");
  }
  SnapshotLimits limits;
  SnapshotParse parsed = parse_snapshot(request.body, limits);
  if (!parsed.snapshot) {
    // The reason may quote the body, so it goes back to the agent but not into the log.
    spdlog::warn("agent API: [{}] invalid snapshot for {}", request.peer, *server);
    return error_response(400, parsed.error);
  }
  const Snapshot& snapshot = *parsed.snapshot;
  if (snapshot.server != *server) {
    spdlog::warn("agent API: [{}] the token of {} was used for a snapshot of another server",
                 request.peer, *server);
    return error_response(403, "token is not valid for server \"" + snapshot.server + "\"");
  }
  if (!store_.apply_snapshot(*server, snapshot.sequence, session_records(snapshot.sessions),
                             load_score(snapshot.load), now)) {
    spdlog::info("agent API: [{}] stale snapshot {} of {}", request.peer, snapshot.sequence,
                 *server);
    return error_response(409, "sequence " + std::to_string(snapshot.sequence) +
                                   " is not newer than the last applied one");
  }
  spdlog::debug("agent API: [{}] applied snapshot {} of {}: {} sessions", request.peer,
                snapshot.sequence, *server, snapshot.sessions.size());
  check_host_keys(*server, snapshot);
  if (on_report_) {
    try {
      on_report_(*server, snapshot);
    } catch (const std::exception& e) {
      spdlog::error("agent API: report handler failed for {}: {}", *server, e.what());
    }
  }
  return json_response(200, {{"applied", true}});
}

// Learns the host key from the first authenticated report (the agent reads it on the host, a
// better source than trust on first SSH use), but never replaces one: a changed key needs an
// operator, as with a configured pin.
void SnapshotRequestHandler::check_host_keys(const std::string& server,
                                             const Snapshot& snapshot) const {
  if (snapshot.host_keys.empty()) return;
  if (std::find(pinned_.begin(), pinned_.end(), server) != pinned_.end()) return;
  try {
    if (auto learned = store_.learned_host_key(server)) {
      if (!contains_host_key(snapshot.host_keys, *learned)) {
        spdlog::warn("host key of {} changed; not trusted", server);
      }
      return;
    }
    if (auto key = preferred_host_key(snapshot.host_keys)) {
      store_.learn_host_key(server, *key);
      spdlog::info("learned the host key of {} from its agent: {}", server,
                   key->substr(0, key->find(' ')));
    }
  } catch (const StoreError& e) {
    // Another path (trust on first SSH use) may have learned a key in between.
    spdlog::warn("cannot store the host key of {}: {}", server, e.what());
  }
}

}  // namespace x2gojump
