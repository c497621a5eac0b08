#pragma once
// The blocking part of a login: LDAP verification, the [[pool]] access decision, then the routing
// decision from the state store. Runs on the worker pool; the result is delivered on the caller's
// executor, so the SSH event loop never waits for LDAP or SQLite. Group membership is read from
// LDAP at every login (no cache), so a group change applies to the next connection.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/thread_pool.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "broker/auth/LdapDirectory.h"
#include "broker/config/Config.h"
#include "broker/config/ConfigHolder.h"
#include "broker/health/FailurePenalty.h"
#include "broker/policy/AccessPolicy.h"
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
  LoginStatus status = LoginStatus::DirectoryUnavailable;  // NotAuthorized: no pool allows the user
  std::string detail;                     // for the log
  std::vector<std::string> groups;
  std::vector<std::string> pools;         // the pools that allow the user (empty without [[pool]])
  std::vector<BackendTarget> candidates;  // best first; empty when no server is usable
};

struct ConsideredSession {
  UserSession session;
  bool counted = false;  // false: on a server outside the user's pools, without resume_outside_pool
};

// What a login of user from source_address would get right now, for `x2gojumpctl explain`.
struct Explanation {
  // Ok (candidates may still be empty: no usable server), NotAuthorized (no pool allows the user),
  // BadCredentials (invalid user name, no such user, ambiguous filter) or DirectoryUnavailable.
  LoginStatus status = LoginStatus::DirectoryUnavailable;
  std::string detail;               // why, for humans: LDAP failure, "state store unavailable"
  std::string user_dn;
  std::vector<std::string> groups;  // read from LDAP now, sorted
  std::string source_address;       // as evaluated; "" = unknown, network rules then fail closed
  AccessDecision access;            // every pool's verdict and matched rules; the user's servers
  std::vector<ConsideredSession> sessions;  // all of the user's sessions in the store
  std::vector<ServerState> servers;  // the routing input: usable servers with health, load, full
                                     // and deprioritised, after the ACL filter
  std::vector<std::string> resume_only;   // servers outside the user's pools kept only to resume
                                          // a session (resume_outside_pool); full in servers
  std::optional<std::string> placement;   // the live sticky placement, if inside the user's pools
  std::vector<BackendTarget> candidates;  // what a login would try, best first, with RouteReason
};

class LoginService {
 public:
  // penalties ranks servers with a recent backend failure last; it must outlive the service.
  // Every login reads the configuration in force when it starts (config may be replaced by a
  // reload); the LDAP settings are read once, here.
  LoginService(std::shared_ptr<ConfigHolder> config, SessionStore& store,
               boost::asio::thread_pool& pool, FailurePenalty& penalties);
  // A fixed configuration (tests).
  LoginService(std::shared_ptr<const BrokerConfig> config, SessionStore& store,
               boost::asio::thread_pool& pool, FailurePenalty& penalties);

  using Done = std::function<void(LoginDecision)>;
  // Verifies user/password and plans the route; done runs on executor. The password is wiped from
  // the worker's copy after use.
  void login(std::string user, std::string password, std::string source_address,
             boost::asio::any_io_executor executor, Done done);

  // Blocking (LDAP and SQLite on the calling thread; never call it on an event loop): the ACL
  // decision and route for user from source_address, groups looked up without a password
  // (LdapDirectory::groups_of). Records nothing.
  Explanation explain(const std::string& user, const std::string& source_address);

  // Records the sticky placement user -> server (asynchronously, errors logged).
  void record_placement(std::string user, std::string server);

  // Stores a backend host key learned on first use (asynchronously, errors logged).
  void learn_host_key(std::string server, std::string key_line);

  // A connect, handshake, host key or protocol failure on server that was not the user's
  // credentials: later logins rank it after the others for failure_penalty. Cheap and
  // thread-safe, so the event loop may call it directly.
  void record_backend_failure(const std::string& server);

  // The configuration in force now; keep the pointer for as long as its values are used.
  std::shared_ptr<const BrokerConfig> config() const { return config_->get(); }

 private:
  LoginDecision decide(const std::string& user, const std::string& password,
                       const std::string& source_address);
  // Fills access, sessions, servers, resume_only, placement and candidates of *plan for an
  // authenticated user whose groups are in plan->groups; sets status NotAuthorized or Ok.
  void plan_route(const BrokerConfig& config, const std::string& user, Explanation* plan);
  // The store's servers with full and deprioritised set for this moment.
  std::vector<ServerState> server_states();

  std::shared_ptr<ConfigHolder> config_;
  LdapDirectory directory_;
  SessionStore& store_;
  boost::asio::thread_pool& pool_;
  FailurePenalty& penalties_;
};

}  // namespace x2gojump
