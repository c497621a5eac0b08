#include "broker/login/LoginService.h"

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>
#include <string.h>

#include <algorithm>
#include <chrono>

namespace x2gojump {
namespace {

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void wipe(std::string& secret) {
  explicit_bzero(secret.data(), secret.size());
  secret.clear();
}

}  // namespace

LoginService::LoginService(std::shared_ptr<const BrokerConfig> config, SessionStore& store,
                           boost::asio::thread_pool& pool, FailurePenalty& penalties)
    : config_(std::move(config)),
      directory_(config_->ldap),
      store_(store),
      pool_(pool),
      penalties_(penalties) {}

void LoginService::login(std::string user, std::string password, std::string source_address,
                         boost::asio::any_io_executor executor, Done done) {
  boost::asio::post(pool_, [this, user = std::move(user), password = std::move(password),
                            source = std::move(source_address), executor,
                            done = std::move(done)]() mutable {
    LoginDecision decision = decide(user, password, source);
    wipe(password);
    boost::asio::post(executor, [decision = std::move(decision), done = std::move(done)]() mutable {
      done(std::move(decision));
    });
  });
}

LoginDecision LoginService::decide(const std::string& user, const std::string& password,
                                   const std::string& source_address) {
  LoginDecision decision;
  LoginResult auth = directory_.authenticate(user, password);
  decision.status = auth.status;
  decision.detail = std::move(auth.detail);
  decision.groups = std::move(auth.groups);
  if (decision.status != LoginStatus::Ok) return decision;

  try {
    RouteInput input;
    input.user = user;
    input.source_address = source_address;
    input.strategy = config_->fallback;
    input.servers = server_states();
    input.sessions = store_.sessions_of(user);
    input.placement = store_.placement_of(user, unix_now());
    for (const RouteCandidate& candidate : route(input)) {
      for (const ServerConfig& server : config_->servers) {
        if (server.name != candidate.server) continue;
        BackendTarget target{server.name, server.address, server.port, server.host_key,
                             candidate.reason};
        if (target.pinned_key.empty()) {
          target.pinned_key = store_.learned_host_key(server.name).value_or("");
        }
        decision.candidates.push_back(std::move(target));
      }
    }
  } catch (const StoreError& e) {
    // Without the state table we cannot know where sessions are: fail closed.
    spdlog::error("state store unavailable during routing: {}", e.what());
    decision.candidates.clear();
    decision.detail = "state store unavailable";
  }
  return decision;
}

std::vector<ServerState> LoginService::server_states() {
  std::vector<ServerState> servers = store_.servers();
  const std::vector<std::pair<std::string, int>> users = store_.users_per_server();
  const auto now = FailurePenalty::Clock::now();
  for (ServerState& server : servers) {
    server.deprioritised = penalties_.penalised(server.name, now);
    auto configured = std::find_if(config_->servers.begin(), config_->servers.end(),
                                   [&](const ServerConfig& c) { return c.name == server.name; });
    if (configured == config_->servers.end() || configured->max_users <= 0) continue;
    auto count = std::find_if(users.begin(), users.end(),
                              [&](const auto& entry) { return entry.first == server.name; });
    server.full = count != users.end() && count->second >= configured->max_users;
  }
  return servers;
}

void LoginService::record_placement(std::string user, std::string server) {
  auto ttl = config_->limits.placement_ttl.count();
  if (ttl <= 0) return;
  boost::asio::post(pool_, [this, user = std::move(user), server = std::move(server), ttl] {
    try {
      store_.record_placement(user, server, unix_now() + ttl);
    } catch (const StoreError& e) {
      spdlog::warn("cannot record placement of {} on {}: {}", user, server, e.what());
    }
  });
}

void LoginService::learn_host_key(std::string server, std::string key_line) {
  boost::asio::post(pool_, [this, server = std::move(server), key_line = std::move(key_line)] {
    try {
      store_.learn_host_key(server, key_line);
    } catch (const StoreError& e) {
      spdlog::warn("cannot store the host key of {}: {}", server, e.what());
    }
  });
}

void LoginService::record_backend_failure(const std::string& server) {
  penalties_.record_failure(server, FailurePenalty::Clock::now());
}

}  // namespace x2gojump
