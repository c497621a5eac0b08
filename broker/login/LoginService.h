#pragma once
// The blocking part of a login: LDAP verification, then the routing decision from the state store.
// Runs on the worker pool; the result is delivered on the caller's executor, so the SSH event loop
// never waits for LDAP or SQLite.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/thread_pool.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "broker/auth/LdapDirectory.h"
#include "broker/config/Config.h"
#include "broker/health/FailurePenalty.h"
#include "broker/routing/Router.h"
#include "broker/store/SessionStore.h"

namespace x2gojump {

struct BackendTarget {
  std::string server;
  std::string address;
  std::uint16_t port = 22;
  std::string pinned_key;  // configured pin, else the learned key; empty = none known
  RouteReason reason = RouteReason::FallbackSourceIp;
};

struct LoginDecision {
  LoginStatus status = LoginStatus::DirectoryUnavailable;
  std::string detail;                     // for the log
  std::vector<std::string> groups;
  std::vector<BackendTarget> candidates;  // best first; empty when no server is usable
};

class LoginService {
 public:
  // penalties ranks servers with a recent backend failure last; it must outlive the service.
  LoginService(std::shared_ptr<const BrokerConfig> config, SessionStore& store,
               boost::asio::thread_pool& pool, FailurePenalty& penalties);

  using Done = std::function<void(LoginDecision)>;
  // Verifies user/password and plans the route; done runs on executor. The password is wiped from
  // the worker's copy after use.
  void login(std::string user, std::string password, std::string source_address,
             boost::asio::any_io_executor executor, Done done);

  // Records the sticky placement user -> server (asynchronously, errors logged).
  void record_placement(std::string user, std::string server);

  // Stores a backend host key learned on first use (asynchronously, errors logged).
  void learn_host_key(std::string server, std::string key_line);

  // A connect, handshake, host key or protocol failure on server that was not the user's
  // credentials: later logins rank it after the others for failure_penalty. Cheap and
  // thread-safe, so the event loop may call it directly.
  void record_backend_failure(const std::string& server);

  const BrokerConfig& config() const { return *config_; }

 private:
  LoginDecision decide(const std::string& user, const std::string& password,
                       const std::string& source_address);
  // The store's servers with full and deprioritised set for this moment.
  std::vector<ServerState> server_states();

  std::shared_ptr<const BrokerConfig> config_;
  LdapDirectory directory_;
  SessionStore& store_;
  boost::asio::thread_pool& pool_;
  FailurePenalty& penalties_;
};

}  // namespace x2gojump
