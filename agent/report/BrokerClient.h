#pragma once
// Delivers snapshots to one broker's agent API (POST /v1/snapshot, bearer token) over HTTPS, or
// HTTP where configured. Each broker has its own client, so a slow or unreachable broker never
// delays the others; all clients share the agent's io_context.
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <memory>
#include <string>

#include "agent/config/AgentConfig.h"

namespace x2gojump {

struct BrokerClientOptions {
  std::chrono::milliseconds timeout{5000};  // whole attempt: resolve, connect, TLS, request, reply
  std::chrono::milliseconds initial_backoff{500};
  std::chrono::milliseconds max_backoff{30000};
};

class BrokerClient {
 public:
  // Throws std::exception if the TLS context cannot be set up (e.g. an unreadable CA bundle).
  // Must be used from io's thread only; io must outlive the client's pending work.
  BrokerClient(boost::asio::io_context& io, BrokerTarget target, BrokerClientOptions options = {});
  // Stops the client; an attempt in flight is abandoned.
  ~BrokerClient();
  BrokerClient(const BrokerClient&) = delete;
  BrokerClient& operator=(const BrokerClient&) = delete;

  // Hands over a serialised snapshot. Only the newest is kept: it replaces one not yet delivered,
  // so memory stays bounded however long the broker is away. Sent at once when idle, else after
  // the attempt in flight or the backoff delay in progress.
  void submit(std::shared_ptr<const std::string> body);

  // Cancels the attempt in flight and any retry; nothing is sent afterwards.
  void stop();

  // Snapshots answered 200 so far (for tests and status logs).
  std::uint64_t delivered() const;

  struct State;

 private:
  std::shared_ptr<State> state_;
};

}  // namespace x2gojump
