#pragma once
// One client connection and its backend connection, from key exchange to the last channel.
// Both libssh sessions share one ssh_event and are only ever touched on this connection's thread.
//
//   key exchange -> authenticate (LDAP, off-loop) -> route -> log in to a backend -> relay
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "broker/audit/ConnectionAudit.h"
#include "broker/login/LoginService.h"
#include "broker/net/SourcePenalty.h"
#include "broker/net/SourceStartups.h"
#include "broker/ssh/BackendLogin.h"
#include "broker/ssh/ChannelBridge.h"
#include "broker/ssh/Libssh.h"

namespace x2gojump {

// Broker-wide state every connection shares.
struct ConnectionContext {
  LoginService& login;
  AuditLog* audit = nullptr;  // null: events only go to the metrics
  // Counted in by the acceptor for every connection it hands on, out by the Connection.
  std::atomic<int> unauthenticated{0};
  std::atomic<int> active{0};
  // Per source address, optional: failed logins and grace timeouts; unauthenticated connections
  // (counted in at accept, out by the connection when it leaves the pre-auth phase).
  SourcePenalty* penalties = nullptr;
  SourceStartups* startups = nullptr;
};

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  // Takes ownership of the accepted socket fd. bind holds the host keys (one per thread).
  Connection(boost::asio::io_context& io, ConnectionContext& context, ssh_bind bind, int fd,
             std::string peer_address);
  ~Connection();

  void start();

 private:
  enum class State { KeyExchange, Authenticating, Relaying, Closed };

  struct Watch {
    explicit Watch(boost::asio::io_context& io) : descriptor(io) {}
    boost::asio::posix::stream_descriptor descriptor;
    bool reading = false;
    bool writing = false;
  };

  void process();
  bool poll_sessions();
  bool advance();
  void arm(Watch& watch, ssh_session session);
  void watch_session(Watch& watch, ssh_session session);
  void stop_watching(Watch& watch);

  bool handle_auth_messages();
  void on_auth_request(MessagePtr message);
  void begin_login(MessagePtr message, std::string user, std::string password);
  void on_login_decided(LoginDecision decision);
  void try_next_backend();
  bool step_backend();
  void refuse(const std::string& banner, const std::string& reason);
  void penalise(PenaltyEvent event);
  void accept_login();
  void schedule_tick();

  void close(const std::string& reason);
  void release_unauthenticated_slot();
  const BrokerConfig& config() const { return *config_; }

  boost::asio::io_context& io_;
  ConnectionContext& context_;
  // The configuration in force when the connection started; a reload does not change it.
  std::shared_ptr<const BrokerConfig> config_;
  std::string peer_;
  std::optional<IpAddress> peer_ip_;  // nullopt only for a peer that is not a numeric address
  std::string log_prefix_;
  ConnectionAudit audit_;
  State state_ = State::KeyExchange;
  bool counted_unauthenticated_ = true;
  std::chrono::steady_clock::time_point started_;

  SessionPtr front_;
  SessionPtr back_;
  EventPtr event_;
  Watch front_watch_;
  Watch back_watch_;
  boost::asio::steady_timer grace_timer_;
  boost::asio::steady_timer tick_timer_;
  std::chrono::steady_clock::time_point last_keepalive_;

  // Authentication in progress: the client's request is held unanswered until the backend agreed.
  MessagePtr pending_auth_;
  bool login_pending_ = false;
  int failed_attempts_ = 0;
  std::string user_;
  std::string password_;
  std::string kbdint_user_;
  std::vector<BackendTarget> candidates_;
  std::size_t next_candidate_ = 0;
  std::unique_ptr<BackendLogin> backend_login_;

  std::unique_ptr<ChannelBridge> bridge_;
};

}  // namespace x2gojump
