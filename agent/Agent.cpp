#include "agent/Agent.h"

#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>
#include <ctime>

#include "agent/HostKeys.h"
#include "common/Snapshot.h"

namespace x2gojump {
namespace {

SessionSourceOptions source_options(const AgentConfig& config, const AgentOptions& options) {
  SessionSourceOptions source;
  source.server_name = config.server_name;
  source.session_db = config.session_db;
  source.listsessions_command = config.listsessions_command;
  source.x2gosql_file = options.x2gosql_file;
  return source;
}

// Microseconds since the epoch at start-up, then +1 per snapshot: strictly increasing across
// restarts as long as the agent sends fewer than a million snapshots per second of uptime.
std::uint64_t first_sequence() {
  auto now = std::chrono::system_clock::now().time_since_epoch();
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(now).count());
}

}  // namespace

struct Agent::Collected {
  bool ok = false;
  std::string error;
  SessionListing listing;
  HostLoad load;
  std::string load_error;
};

Agent::Agent(boost::asio::io_context& io, AgentConfig config, AgentOptions options)
    : io_(io),
      config_(std::move(config)),
      heartbeat_(io),
      watcher_(io, config_.session_db, options.debounce, [this] { collect(); }),
      next_sequence_(first_sequence()),
      source_(source_options(config_, options)),
      sampler_(options.proc_dir) {
  std::vector<std::string> problems;
  host_keys_ = read_host_keys(config_.host_key_files, &problems);
  for (const std::string& problem : problems) spdlog::warn("{}", problem);
  for (const BrokerTarget& target : config_.brokers) {
    clients_.push_back(std::make_unique<BrokerClient>(io_, target, options.client));
  }
}

Agent::~Agent() {
  stop();
  collector_.join();
  *alive_ = false;
}

void Agent::start() {
  if (auto error = watcher_.start(); !error.empty()) {
    spdlog::warn(
        "not watching the session DB ({}); changes reach the brokers with the next "
        "heartbeat",
        error);
  }
  spdlog::info("reporting server {} to {} broker(s) every {} s", config_.server_name,
               clients_.size(), config_.heartbeat_interval.count());
  collect();
  heartbeat_.expires_after(config_.heartbeat_interval);
  schedule_heartbeat();
}

void Agent::stop() {
  if (stopped_) return;
  stopped_ = true;
  heartbeat_.cancel();
  watcher_.stop();
  for (auto& client : clients_) client->stop();
}

void Agent::schedule_heartbeat() {
  heartbeat_.async_wait([this](const boost::system::error_code& ec) {
    if (ec || stopped_) return;
    collect();
    // From the previous deadline, so the period does not drift by the handler's latency.
    heartbeat_.expires_at(heartbeat_.expiry() + config_.heartbeat_interval);
    schedule_heartbeat();
  });
}

void Agent::collect() {
  if (stopped_) return;
  if (collecting_) {
    collect_again_ = true;
    return;
  }
  collecting_ = true;
  boost::asio::post(collector_, [this] {
    auto collected = std::make_shared<Collected>();
    collected->ok = source_.list(&collected->listing, &collected->error);
    collected->load_error = sampler_.sample(&collected->load);
    boost::asio::post(io_, [this, alive = alive_, collected] {
      if (*alive) on_collected(collected);
    });
  });
}

void Agent::on_collected(std::shared_ptr<Collected> collected) {
  collecting_ = false;
  if (stopped_) return;
  if (collected->ok) {
    publish(*collected);
  } else if (collected->error != last_error_) {
    // An empty list would tell the brokers every session ended; sending nothing lets them mark
    // this server stale instead.
    spdlog::error("cannot list sessions, no snapshot sent: {}", collected->error);
    last_error_ = collected->error;
  }
  if (collect_again_) {
    collect_again_ = false;
    collect();
  }
}

void Agent::publish(Collected& collected) {
  if (!last_error_.empty()) spdlog::info("listing sessions works again");
  last_error_.clear();
  if (collected.listing.problems != last_problems_) {
    for (const std::string& problem : collected.listing.problems) {
      spdlog::warn("session row left out: {}", problem);
    }
    last_problems_ = collected.listing.problems;
  }
  if (collected.load_error.empty()) {
    last_load_ = collected.load;
  } else {
    spdlog::warn("cannot sample load ({}); reporting the last known load", collected.load_error);
  }

  Snapshot snapshot;
  snapshot.server = config_.server_name;
  snapshot.sequence = next_sequence_++;
  snapshot.generated_at = static_cast<std::int64_t>(std::time(nullptr));
  snapshot.load = last_load_;
  snapshot.sessions = std::move(collected.listing.sessions);
  snapshot.host_keys = host_keys_;
  auto body = std::make_shared<const std::string>(to_json(snapshot));
  spdlog::debug("snapshot {}: {} session(s), load {:.2f}", snapshot.sequence,
                snapshot.sessions.size(), snapshot.load.load1);
  for (auto& client : clients_) client->submit(body);
}

}  // namespace x2gojump
