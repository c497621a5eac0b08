// x2gojump-broker: session-aware SSH jump broker for X2Go farms.
#include <CLI/CLI.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/thread_pool.hpp>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <iostream>
#include <random>
#include <thread>

#include "broker/admin/Operations.h"
#include "broker/agentapi/AgentApiServer.h"
#include "broker/config/Config.h"
#include "broker/health/FailurePenalty.h"
#include "broker/health/HealthMonitor.h"
#include "broker/login/LoginService.h"
#include "broker/net/FdBudget.h"
#include "broker/net/Listener.h"
#include "broker/net/SourcePenalty.h"
#include "broker/net/SourceStartups.h"
#include "broker/net/StartupGate.h"
#include "broker/ssh/WorkerPool.h"
#include "broker/store/SessionStore.h"
#include "common/Log.h"
#include "common/Privileges.h"
#include "common/SystemdNotify.h"

using namespace x2gojump;

namespace {

// Host keys readable by others would let any local user impersonate the broker.
void check_host_key_modes(const std::vector<std::string>& files) {
  for (const std::string& file : files) {
    struct stat st {};
    if (::stat(file.c_str(), &st) != 0) throw std::runtime_error("cannot stat host key " + file);
    if (st.st_mode & (S_IRWXG | S_IRWXO)) {
      throw std::runtime_error("host key " + file + " is accessible by group or others (chmod 600)");
    }
  }
}

// The state DB holds users, sessions and pinned keys; the TLS key authenticates the agent API.
// Their group may read them (x2gojumpctl, a root:x2gojump key file), others may not.
void check_secret_file_modes(const BrokerConfig& config) {
  for (const std::string& file : {config.state_db, config.agent_api.tls_key_file}) {
    if (file.empty() || file == ":memory:") continue;
    if (std::string problem = private_file_problem(file, true); !problem.empty()) {
      throw std::runtime_error(problem);
    }
  }
}

// Started as root outside systemd: what needs root (port 22, root-owned keys) is open now, so
// switch to the service user before the first client is accepted.
void drop_root(const BrokerConfig& config) {
  if (::geteuid() != 0) return;
  if (config.user.empty()) {
    spdlog::warn("running as root; set [broker] user to drop privileges after start-up");
    return;
  }
  const std::string& db = config.state_db;
  drop_privileges(config.user, {db, db + "-wal", db + "-shm"});
  spdlog::info("switched to user {}", config.user);
}

int run(std::shared_ptr<const BrokerConfig> config, const std::string& config_path,
        const std::string& log_level_override) {
  // A reload (SIGHUP) replaces what the holder holds; see broker/admin/ConfigReload.h.
  auto holder = std::make_shared<ConfigHolder>(config);
  check_secret_file_modes(*config);
  SessionStore store(config->state_db);
  store.sync_servers(server_records(*config));
  check_host_key_modes(config->host_keys);

  // LDAP binds and SQLite queries block; they run here, never on the event loops.
  boost::asio::thread_pool blocking(4);
  FailurePenalty penalties(config->health.failure_penalty);
  LoginService login(holder, store, blocking, penalties);
  SourcePenalty source_penalties(source_penalty_settings(config->limits));
  ConnectionContext context{login};
  context.penalties = &source_penalties;
  SourceStartups source_startups(config->limits.source_ipv4_prefix, config->limits.source_ipv6_prefix);
  context.startups = &source_startups;

  int threads = config->threads > 0 ? config->threads
                                    : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  WorkerPool workers(threads, config->host_keys, context);

  boost::asio::io_context accept_io(1);
  // Refuse connections the descriptor limit cannot hold, before accept() fails with EMFILE.
  const std::uint64_t fd_limit = raise_fd_limit();
  const int fd_cap = connections_for_fds(fd_limit);
  const int connection_cap = std::min(config->limits.max_connections, fd_cap);
  if (connection_cap < config->limits.max_connections) {
    spdlog::warn("open file limit {} holds {} connections, fewer than max_connections = {}; raise "
                 "LimitNOFILE", fd_limit, connection_cap, config->limits.max_connections);
  }
  bool at_capacity = false;  // logged once each time the cap is reached
  // Read for every connection, so a reload (SIGHUP) applies to the next one.
  auto startup_limits = [&holder, fd_cap] {
    const std::shared_ptr<const BrokerConfig> current = holder->get();
    const LimitsConfig& l = current->limits;
    return StartupLimits{l.max_startups_begin, l.max_startups_rate, l.max_startups_full,
                         std::min(l.max_connections, fd_cap), l.max_startups_per_source};
  };
  std::mt19937_64 random{std::random_device{}()};
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  Listener listener(accept_io, config->listen, [&](boost::asio::ip::tcp::socket socket) {
    boost::system::error_code ec;
    auto remote = socket.remote_endpoint(ec);
    if (ec) return;
    std::string peer = remote.address().to_string();
    if (remote.address().is_v6() && remote.address().to_v6().is_v4_mapped()) {
      peer = remote.address().to_v6().to_v4().to_string();
    }
    const std::optional<IpAddress> address = parse_ip_address(peer);
    if (address && !source_penalties.admit(*address, SourcePenalty::Clock::now())) {
      spdlog::debug("[{}] dropped: source penalised for failed logins", peer);
      return;
    }
    const StartupLimits limits = startup_limits();
    const int active = context.active.load();
    if (active >= limits.max_connections) {
      if (!at_capacity) spdlog::warn("{} connections: refusing new ones until some close", active);
      at_capacity = true;
      return;
    }
    at_capacity = false;
    const int from_source = address ? source_startups.pending(*address) : 0;
    const int unauthenticated = context.unauthenticated.load();
    if (!admit_from_source(limits, from_source, unauthenticated, active, uniform(random))) {
      // One flooding source must not flood the log either: its drops are debug messages.
      bool own_limit = limits.per_source > 0 && from_source >= limits.per_source;
      spdlog::log(own_limit ? spdlog::level::debug : spdlog::level::warn,
                  "[{}] dropped: too many unauthenticated connections ({}, {} from this source)", peer,
                  unauthenticated, from_source);
      return;  // the socket closes here
    }
    ++context.active;
    ++context.unauthenticated;
    if (address) source_startups.add(*address);
    socket.set_option(boost::asio::ip::tcp::no_delay(true), ec);
    socket.set_option(boost::asio::socket_base::keep_alive(true), ec);
    workers.dispatch(socket.release(), std::move(peer));
  });

  // Probes and the agent API share the accept thread: both are light and never block on I/O.
  HealthMonitor health(accept_io, holder, store, blocking);
  AgentApiServer agent_api(accept_io, *config, store, blocking,
                           [&health](const std::string& server, const Snapshot&) {
                             health.on_heartbeat(server, std::chrono::system_clock::now());
                           });
  agent_api.start();
  health.start();
  Operations operations({accept_io, blocking, holder, config_path, log_level_override, store, health,
                         agent_api, login, penalties, source_penalties, [&context] {
                           return std::pair{context.active.load(), context.unauthenticated.load()};
                         }});
  context.audit = &operations.audit();
  operations.start();
  drop_root(*config);

  boost::asio::signal_set signals(accept_io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int signal) {
    if (ec) return;
    spdlog::info("signal {}: shutting down", signal);
    notify_stopping();
    listener.stop();
    agent_api.stop();
    health.stop();
    operations.stop();
    accept_io.stop();
  });

  workers.start();
  spdlog::info("x2gojump-broker {} ready: {} event-loop threads, {} servers", X2GOJUMP_VERSION, threads,
               config->servers.size());
  SystemdWatchdog watchdog(accept_io);
  watchdog.start();
  notify_ready("serving " + std::to_string(config->servers.size()) + " servers");
  accept_io.run();
  workers.stop();
  blocking.join();
  // Connections still open end here, while the audit log and everything else they use exist.
  workers.close_connections();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"x2gojump-broker: session-aware SSH jump broker for X2Go"};
  std::string config_path = "/etc/x2gojump/broker.toml";
  bool check_only = false;
  std::string log_level;
  app.add_option("-c,--config", config_path, "configuration file")->capture_default_str();
  app.add_flag("--check-config", check_only, "validate the configuration and exit");
  app.add_option("--log-level", log_level, "override the configured log level");
  app.set_version_flag("--version", X2GOJUMP_VERSION);
  CLI11_PARSE(app, argc, argv);

  ConfigResult loaded = load_broker_config(config_path);
  if (!loaded.errors.empty()) {
    for (const ConfigError& error : loaded.errors) std::cerr << error.to_string() << "\n";
    return 2;
  }
  if (check_only) {
    std::cout << config_path << ": configuration OK\n";
    return 0;
  }
  auto config = std::make_shared<const BrokerConfig>(std::move(*loaded.config));
  init_logging(log_level.empty() ? config->log_level : log_level);
  try {
    return run(config, config_path, log_level);
  } catch (const std::exception& e) {
    spdlog::critical("{}", e.what());
    return 1;
  }
}
