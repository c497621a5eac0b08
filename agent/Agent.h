#pragma once
// The agent's event loop: collects this host's sessions and load, and pushes a full snapshot to
// every broker at start, every heartbeat interval and whenever the session DB changes.
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "agent/DbWatcher.h"
#include "agent/config/AgentConfig.h"
#include "agent/load/LoadSampler.h"
#include "agent/report/BrokerClient.h"
#include "agent/sessions/SessionSource.h"

namespace x2gojump {

struct AgentOptions {
  std::string x2gosql_file = "/etc/x2go/x2gosql/sql";
  std::string proc_dir = "/proc";
  std::chrono::milliseconds debounce{50};
  BrokerClientOptions client;
};

class Agent {
 public:
  // Reads the host keys and sets up one client per broker. Throws std::exception if a client
  // cannot be set up (e.g. a CA file that is not PEM).
  Agent(boost::asio::io_context& io, AgentConfig config, AgentOptions options = {});
  // Waits for a collection in progress (bounded by the listsessions timeout).
  ~Agent();
  Agent(const Agent&) = delete;
  Agent& operator=(const Agent&) = delete;

  // Sends the first snapshot and starts the heartbeat and the DB watcher. Call on io's thread.
  void start();
  // Stops timers, the watcher and the clients; no snapshot is sent afterwards.
  void stop();

 private:
  struct Collected;

  // Starts a collection, or marks one as due when one is running (collections never overlap,
  // and a change during one is not lost).
  void collect();
  void on_collected(std::shared_ptr<Collected> collected);
  void publish(Collected& collected);
  void schedule_heartbeat();

  boost::asio::io_context& io_;
  AgentConfig config_;
  std::vector<std::string> host_keys_;
  std::vector<std::unique_ptr<BrokerClient>> clients_;
  boost::asio::steady_timer heartbeat_;
  DbWatcher watcher_;
  std::uint64_t next_sequence_;
  bool collecting_ = false;
  bool collect_again_ = false;
  bool stopped_ = false;
  std::string last_error_;                  // logged once per distinct failure
  std::vector<std::string> last_problems_;  // likewise for rejected rows
  HostLoad last_load_;
  // Cleared on destruction: a collection result still queued on io_ then finds no agent.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);

  // Only the collector thread touches these two.
  SessionSource source_;
  LoadSampler sampler_;
  // Sessions are read off the event loop: a listsessions command may block for seconds. Declared
  // last so it is joined before the members its jobs use are destroyed.
  boost::asio::thread_pool collector_{1};
};

}  // namespace x2gojump
