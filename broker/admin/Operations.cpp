#include "broker/admin/Operations.h"

#include <boost/asio/ip/address.hpp>
#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include <csignal>

#include "broker/admin/AdminHttpHandler.h"
#include "broker/admin/ConfigReload.h"
#include "broker/admin/ExplainJson.h"
#include "broker/metrics/BrokerMetrics.h"
#include "common/SystemdNotify.h"

namespace x2gojump {
namespace {

// Limits of the admin listener: the status page and /metrics are small GET requests.
constexpr std::size_t kAdminMaxBody = 4096;
constexpr std::chrono::seconds kAdminReadTimeout{10};

}  // namespace

std::vector<ServerRecord> server_records(const BrokerConfig& config) {
  std::vector<ServerRecord> records;
  for (const ServerConfig& server : config.servers) {
    records.push_back({server.name, server.address, server.port, server.weight});
  }
  return records;
}

Operations::Operations(Parts parts)
    : parts_(std::move(parts)),
      audit_(std::make_unique<AuditLog>(parts_.config->get()->admin.audit_log)),
      status_(parts_.store, parts_.config, audit_.get(), parts_.connections),
      control_(parts_.store, parts_.config, status_, audit_.get(),
               [this](const std::string& user, const std::string& from) {
                 return explanation_json(user, parts_.login.explain(user, from));
               },
               [this](const std::string&) { parts_.health.reevaluate(); }),
      control_socket_(parts_.io, parts_.pool, control_),
      http_(parts_.io, std::make_shared<ApiContext>("admin", std::make_shared<const AdminHttpHandler>(status_),
                                                    parts_.pool, kAdminMaxBody,
                                                    std::chrono::milliseconds(kAdminReadTimeout))),
      hangup_(parts_.io),
      reloads_(boost::asio::make_strand(parts_.pool)) {}

Operations::~Operations() { stop(); }

void Operations::start() {
  const std::shared_ptr<const BrokerConfig> config = parts_.config->get();
  const AdminConfig& admin = config->admin;
  if (!admin.control_socket.empty()) control_socket_.start(admin.control_socket, admin.control_socket_group);
  if (!admin.listen.empty()) {
    http_.start(admin.listen);
    for (const ListenAddress& address : admin.listen) {
      if (!boost::asio::ip::make_address(address.host).is_loopback()) {
        spdlog::warn("admin listener on {}:{} is not loopback: the status page shows user names "
                     "and has no authentication",
                     address.host, address.port);
      }
    }
  }
  if (admin.control_socket.empty() && admin.listen.empty()) {
    spdlog::info("admin interfaces disabled (no [admin] table)");
  }
  hangup_.add(SIGHUP);
  watch_hangup();
}

void Operations::stop() {
  boost::system::error_code ignored;
  hangup_.cancel(ignored);
  control_socket_.stop();
  http_.stop();
}

void Operations::watch_hangup() {
  hangup_.async_wait([this](const boost::system::error_code& ec, int) {
    if (ec) return;
    spdlog::info("SIGHUP: reloading the configuration");
    boost::asio::post(reloads_, [this] { reload(); });
    watch_hangup();
  });
}

void Operations::reject_reload(const std::string& why, std::size_t errors) {
  spdlog::error("configuration reload rejected, the running configuration stays: {}", why);
  metrics().config_reloads.with({"failure"}).add();
  audit_->record({{"event", "config_reload"}, {"result", "failure"}, {"errors", errors}, {"reason", why}});
}

bool Operations::reload() {
  notify_reloading();
  const bool applied = apply_reload();
  // Also after a rejected file: systemd waits for READY=1 to end the reload either way.
  notify_ready("serving " + std::to_string(parts_.config->get()->servers.size()) + " servers");
  return applied;
}

bool Operations::apply_reload() {
  // The audit log is reopened whatever the outcome: logrotate sends SIGHUP for that alone.
  ConfigResult loaded = load_broker_config(parts_.config_path);
  if (!loaded.errors.empty()) {
    for (const ConfigError& error : loaded.errors) spdlog::error("{}", error.to_string());
    if (std::string error = audit_->reopen(); !error.empty()) spdlog::error("{}", error);
    reject_reload(loaded.errors.front().to_string(), loaded.errors.size());
    return false;
  }
  const std::shared_ptr<const BrokerConfig> running = parts_.config->get();
  ReloadPlan plan = plan_reload(*running, std::move(*loaded.config));
  for (const std::string& key : plan.needs_restart) {
    spdlog::warn("reload: {} changed; it takes effect after a restart", key);
  }
  auto config = std::make_shared<const BrokerConfig>(std::move(plan.config));
  try {
    parts_.store.sync_servers(server_records(*config));
  } catch (const StoreError& e) {
    if (std::string error = audit_->reopen(); !error.empty()) spdlog::error("{}", error);
    reject_reload(std::string("cannot update the servers in the state database: ") + e.what(), 1);
    return false;
  }
  parts_.config->set(config);
  parts_.agent_api.reconfigure(*config);
  parts_.penalties.set_penalty(config->health.failure_penalty);
  parts_.source_penalties.reconfigure(source_penalty_settings(config->limits));
  if (parts_.log_level_override.empty()) {
    spdlog::set_level(spdlog::level::from_str(config->log_level));
  }
  if (std::string error = audit_->reopen(config->admin.audit_log); !error.empty()) {
    spdlog::error("reload: {}; audit events still go to {}", error,
                  audit_->target().empty() ? "memory only" : audit_->target());
  }
  metrics().config_reloads.with({"success"}).add();
  nlohmann::json restart = plan.needs_restart;
  audit_->record({{"event", "config_reload"}, {"result", "success"}, {"servers", config->servers.size()},
                  {"needs_restart", restart}});
  spdlog::info("configuration reloaded: {} servers, {} pools{}", config->servers.size(), config->pools.size(),
               plan.needs_restart.empty() ? "" : " (some changes need a restart, see above)");
  return true;
}

}  // namespace x2gojump
