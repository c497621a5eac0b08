#include "broker/login/LoginService.h"

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>
#include <string.h>

#include <algorithm>
#include <chrono>

#include "broker/auth/LoginName.h"

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

// Pools change who gets in; say so where an admin will look first.
void warn_about_pools(const BrokerConfig& config) {
  if (config.pools.empty()) {
    spdlog::warn("no [[pool]] configured: every authenticated user may use every server");
    return;
  }
  for (const ServerConfig& server : config.servers) {
    bool pooled = std::any_of(config.pools.begin(), config.pools.end(), [&](const PoolConfig& pool) {
      return std::find(pool.servers.begin(), pool.servers.end(), server.name) != pool.servers.end();
    });
    if (!pooled) {
      spdlog::warn("server {} is in no [[pool]]: it takes no new users (sessions there are resumable "
                   "only through resume_outside_pool)", server.name);
    }
  }
}

}  // namespace

LoginService::LoginService(std::shared_ptr<ConfigHolder> config, SessionStore& store,
                           boost::asio::thread_pool& pool, FailurePenalty& penalties)
    : config_(std::move(config)),
      directory_(config_->get()->ldap),
      store_(store),
      pool_(pool),
      penalties_(penalties) {
  warn_about_pools(*config_->get());
}

LoginService::LoginService(std::shared_ptr<const BrokerConfig> config, SessionStore& store,
                           boost::asio::thread_pool& pool, FailurePenalty& penalties)
    : LoginService(std::make_shared<ConfigHolder>(std::move(config)), store, pool, penalties) {}

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
  decision.groups = auth.groups;
  if (decision.status != LoginStatus::Ok) return decision;

  Explanation plan;
  plan.groups = std::move(auth.groups);
  plan.source_address = source_address;
  plan_route(*config_->get(), user, &plan);
  spdlog::debug("{} from {}: {}", user, source_address, plan.access.summary());
  decision.status = plan.status;
  decision.detail = std::move(plan.detail);
  decision.candidates = std::move(plan.candidates);
  for (const PoolDecision& pool : plan.access.pools) {
    if (pool.allowed()) decision.pools.push_back(pool.pool);
  }
  return decision;
}

Explanation LoginService::explain(const std::string& user, const std::string& source_address) {
  Explanation plan;
  plan.source_address = source_address;
  if (!is_valid_login_name(user)) {
    plan.status = LoginStatus::BadCredentials;
    plan.detail = "invalid user name";
    return plan;
  }
  LoginResult found = directory_.groups_of(user);
  plan.status = found.status;
  plan.detail = std::move(found.detail);
  plan.user_dn = std::move(found.user_dn);
  plan.groups = std::move(found.groups);
  if (plan.status != LoginStatus::Ok) return plan;
  plan_route(*config_->get(), user, &plan);
  return plan;
}

void LoginService::plan_route(const BrokerConfig& config, const std::string& user, Explanation* plan) {
  plan->access = evaluate_pools(config.pools, user, plan->groups, plan->source_address);
  if (!plan->access.allowed()) {
    plan->status = LoginStatus::NotAuthorized;
    plan->detail = "no pool allows " + user + " from " +
                   (plan->source_address.empty() ? "an unknown address" : plan->source_address) + ": " +
                   plan->access.summary();
    return;
  }
  plan->status = LoginStatus::Ok;
  try {
    for (const UserSession& session : store_.sessions_of(user)) {
      plan->sessions.push_back({session, plan->access.may_resume_on(session.server)});
    }
    auto has_session_on = [&](const std::string& server) {
      return std::any_of(plan->sessions.begin(), plan->sessions.end(), [&](const ConsideredSession& s) {
        return s.counted && s.session.server == server;
      });
    };
    for (ServerState& server : server_states()) {
      if (plan->access.may_place_on(server.name)) {
        plan->servers.push_back(std::move(server));
      } else if (has_session_on(server.name)) {
        // Outside the user's pools but reachable through resume_outside_pool: a full server
        // takes no new placements, so the router offers it only for the user's sessions there.
        server.full = true;
        plan->resume_only.push_back(server.name);
        plan->servers.push_back(std::move(server));
      }
    }
    plan->placement = store_.placement_of(user, unix_now());
    if (plan->placement && !plan->access.may_place_on(*plan->placement)) plan->placement.reset();

    RouteInput input;
    input.user = user;
    input.source_address = plan->source_address;
    input.strategy = config.fallback;
    input.servers = plan->servers;
    for (const ConsideredSession& session : plan->sessions) {
      if (session.counted) input.sessions.push_back(session.session);
    }
    input.placement = plan->placement;
    for (const RouteCandidate& candidate : route(input)) {
      for (const ServerConfig& server : config.servers) {
        if (server.name != candidate.server) continue;
        BackendTarget target{server.name, server.address, server.port, server.host_key,
                             candidate.reason};
        if (target.pinned_key.empty()) {
          target.pinned_key = store_.learned_host_key(server.name).value_or("");
        }
        plan->candidates.push_back(std::move(target));
      }
    }
  } catch (const StoreError& e) {
    // Without the state table we cannot know where sessions are: fail closed.
    spdlog::error("state store unavailable during routing: {}", e.what());
    plan->candidates.clear();
    plan->detail = "state store unavailable";
  }
}

std::vector<ServerState> LoginService::server_states() {
  const std::shared_ptr<const BrokerConfig> config = config_->get();
  std::vector<ServerState> servers = store_.servers();
  const std::vector<std::pair<std::string, int>> users = store_.users_per_server();
  const auto now = FailurePenalty::Clock::now();
  for (ServerState& server : servers) {
    server.deprioritised = penalties_.penalised(server.name, now);
    auto configured = std::find_if(config->servers.begin(), config->servers.end(),
                                   [&](const ServerConfig& c) { return c.name == server.name; });
    if (configured == config->servers.end() || configured->max_users <= 0) continue;
    auto count = std::find_if(users.begin(), users.end(),
                              [&](const auto& entry) { return entry.first == server.name; });
    server.full = count != users.end() && count->second >= configured->max_users;
  }
  return servers;
}

void LoginService::record_placement(std::string user, std::string server) {
  auto ttl = config_->get()->limits.placement_ttl.count();
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
