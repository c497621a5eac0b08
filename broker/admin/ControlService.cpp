#include "broker/admin/ControlService.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <stdexcept>

#include "broker/policy/Cidr.h"

namespace x2gojump {
namespace {

// A failure the client should see as it is.
struct ClientError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

nlohmann::json session_json(const StoredSession& stored) {
  const SessionRecord& s = stored.session;
  return {{"server", stored.server},   {"session_id", s.session_id},
          {"user", s.user},            {"status", std::string(1, s.status)},
          {"display", s.display},      {"created", s.created},
          {"last_change", s.last_change}};
}

}  // namespace

ControlService::ControlService(SessionStore& store, std::shared_ptr<ConfigHolder> config,
                               const StatusSource& status, AuditLog* audit, Explain explain,
                               Undrained on_undrain)
    : store_(store),
      config_(std::move(config)),
      status_(status),
      audit_(audit),
      explain_(std::move(explain)),
      on_undrain_(std::move(on_undrain)) {}

std::string ControlService::handle(std::string_view line, const ControlPeer& peer) const {
  ParsedControlRequest parsed = parse_control_request(line);
  if (!parsed.request) return control_error_line(parsed.error);
  try {
    return control_ok_line(run(*parsed.request, peer));
  } catch (const ClientError& e) {
    return control_error_line(e.what());
  } catch (const StoreError& e) {
    spdlog::error("control: {} failed: {}", to_string(parsed.request->command), e.what());
    return control_error_line(std::string("state store error: ") + e.what());
  } catch (const std::exception& e) {
    spdlog::error("control: {} failed: {}", to_string(parsed.request->command), e.what());
    return control_error_line(e.what());
  }
}

nlohmann::json ControlService::run(const ControlRequest& request, const ControlPeer& peer) const {
  switch (request.command) {
    case ControlCommand::Servers: {
      nlohmann::json servers = nlohmann::json::array();
      for (const ServerStatus& server : status_.collect().servers) servers.push_back(to_json(server));
      return {{"servers", std::move(servers)}};
    }
    case ControlCommand::Sessions:
      return sessions(request);
    case ControlCommand::Explain:
      if (!explain_) throw ClientError("explain is not available in this broker");
      if (!request.from.empty() && !parse_ip_address(request.from)) {
        throw ClientError("\"" + request.from + "\" is not an IP address");
      }
      return {{"explain", explain_(request.user, request.from)}};
    case ControlCommand::Drain:
    case ControlCommand::Undrain:
    case ControlCommand::TrustHostKey:
      return change_server(request, peer);
  }
  throw ClientError("unsupported command");
}

nlohmann::json ControlService::sessions(const ControlRequest& request) const {
  if (!request.server.empty() && !server_known(request.server)) {
    throw ClientError("unknown server \"" + request.server + "\"");
  }
  nlohmann::json sessions = nlohmann::json::array();
  for (const StoredSession& stored : store_.list_sessions(request.user, request.server)) {
    sessions.push_back(session_json(stored));
  }
  return {{"sessions", std::move(sessions)}};
}

nlohmann::json ControlService::change_server(const ControlRequest& request,
                                             const ControlPeer& peer) const {
  const std::string& server = request.server;
  if (!server_known(server)) throw ClientError("unknown server \"" + server + "\"");
  const std::string command(to_string(request.command));
  bool changed = false;
  std::string message;
  switch (request.command) {
    case ControlCommand::Drain:
      changed = store_.drain(server);
      message = changed ? "draining: no new users; existing sessions stay resumable"
                        : "already draining";
      break;
    case ControlCommand::Undrain:
      changed = store_.undrain(server);
      if (changed && on_undrain_) on_undrain_(server);
      message = changed ? "no longer draining; state follows health checks again" : "was not draining";
      break;
    case ControlCommand::TrustHostKey: {
      const std::shared_ptr<const BrokerConfig> config = config_->get();
      auto configured = std::find_if(config->servers.begin(), config->servers.end(),
                                     [&](const ServerConfig& s) { return s.name == server; });
      if (configured != config->servers.end() && !configured->host_key.empty()) {
        throw ClientError("the host key of \"" + server +
                          "\" is pinned in the configuration (host_key); change it there and reload");
      }
      changed = store_.forget_host_key(server);
      message = changed ? "learned host key forgotten; the next agent report or connection learns it again"
                        : "no learned host key; the next agent report or connection learns one";
      break;
    }
    default:
      throw ClientError("unsupported command");
  }
  if (changed) {
    spdlog::info("control: {} {} by uid {} (pid {})", command, server, peer.uid, peer.pid);
    if (audit_ != nullptr) {
      std::string event = command;
      std::replace(event.begin(), event.end(), '-', '_');  // like the other event names
      audit_->record({{"event", event}, {"server", server}, {"uid", peer.uid}, {"pid", peer.pid}});
    }
  }
  return {{"server", server}, {"changed", changed}, {"message", message}};
}

bool ControlService::server_known(const std::string& server) const {
  const std::shared_ptr<const BrokerConfig> config = config_->get();
  return std::any_of(config->servers.begin(), config->servers.end(),
                     [&](const ServerConfig& s) { return s.name == server; });
}

}  // namespace x2gojump
