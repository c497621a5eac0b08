#include "broker/agentapi/AgentApiServer.h"

#include <spdlog/spdlog.h>

#include "broker/agentapi/TlsContext.h"

namespace x2gojump {

namespace asio = boost::asio;

AgentApiServer::AgentApiServer(asio::io_context& io, const BrokerConfig& config,
                               SessionStore& store, asio::thread_pool& pool,
                               ReportCallback on_report)
    : config_(config.agent_api),
      store_(store),
      on_report_(std::move(on_report)),
      listener_(io, std::make_shared<ApiContext>(
                        "agent API",
                        std::make_shared<const SnapshotRequestHandler>(config, store, on_report_),
                        pool, config.agent_api.max_body_bytes, config.agent_api.read_timeout)) {}

AgentApiServer::~AgentApiServer() { stop(); }

void AgentApiServer::start() {
  if (config_.listen.empty()) {
    spdlog::info("agent API disabled (no [agent_api] listen addresses)");
    return;
  }
  if (!config_.allow_plain_http) {
    listener_.context().tls = make_tls_server_context(config_.tls_cert_file, config_.tls_key_file);
  }
  listener_.start(config_.listen);
}

void AgentApiServer::reconfigure(const BrokerConfig& config) {
  listener_.context().handler.store(
      std::make_shared<const SnapshotRequestHandler>(config, store_, on_report_));
}

void AgentApiServer::stop() { listener_.stop(); }

std::vector<asio::ip::tcp::endpoint> AgentApiServer::local_endpoints() const {
  return listener_.local_endpoints();
}

}  // namespace x2gojump
