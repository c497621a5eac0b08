#pragma once
// One generation of the running agent: an Agent with its own io_context on its own thread. A
// configuration reload (SIGHUP) throws a whole generation away, pending handlers included, and
// starts the next one from scratch, so nothing of the old configuration can linger.
#include <boost/asio/io_context.hpp>

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "agent/Agent.h"
#include "agent/config/AgentConfig.h"
#include "common/SystemdNotify.h"

namespace x2gojump {

class AgentThread {
 public:
  // Sets up the agent (throws like Agent's constructor, e.g. for a CA file that is not PEM);
  // nothing is sent before start().
  explicit AgentThread(AgentConfig config);
  // Stops the agent and joins its thread.
  ~AgentThread();
  AgentThread(const AgentThread&) = delete;
  AgentThread& operator=(const AgentThread&) = delete;

  // Starts the agent and the systemd watchdog pings on a new thread. If that thread's event loop
  // fails or ends on its own, the error is kept in failure() and the process gets SIGTERM, which
  // the main thread is waiting for.
  void start();
  // Why the event loop ended without being stopped; empty while it runs.
  std::string failure() const;

 private:
  void run();

  boost::asio::io_context io_{1};
  std::unique_ptr<Agent> agent_;
  SystemdWatchdog watchdog_{io_};
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> failed_{false};
  std::string failure_;  // written by the thread before failed_ is set
};

}  // namespace x2gojump
