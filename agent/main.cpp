// x2gojump-agent: reports an X2Go host's sessions and load to the x2gojump brokers.
//
// Runs unprivileged: the user needs read access to X2Go's session DB, i.e. membership in group
// x2gouser (the DB is root:x2gouser 0660, its directory 0770), and read access to its token files.
#include <CLI/CLI.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <csignal>
#include <iostream>

#include "agent/Agent.h"
#include "agent/config/AgentConfig.h"
#include "common/Log.h"

using namespace x2gojump;

int main(int argc, char** argv) {
  CLI::App app{"x2gojump-agent: reports an X2Go host's sessions and load to x2gojump brokers"};
  std::string config_path = "/etc/x2gojump/agent.toml";
  bool check_only = false;
  std::string log_level;
  app.add_option("-c,--config", config_path, "configuration file")->capture_default_str();
  app.add_flag("--check-config", check_only, "validate the configuration and exit");
  app.add_option("--log-level", log_level, "override the configured log level")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}));
  app.set_version_flag("--version", X2GOJUMP_VERSION);
  CLI11_PARSE(app, argc, argv);

  AgentConfigResult loaded = load_agent_config(config_path);
  if (!loaded.errors.empty()) {
    for (const ConfigError& error : loaded.errors) std::cerr << error.to_string() << "\n";
    return 2;
  }
  AgentConfig& config = *loaded.config;
  if (check_only) {
    std::cout << config_path << ": configuration OK (server " << config.server_name << ", "
              << config.brokers.size() << " broker(s))\n";
    return 0;
  }

  init_logging(log_level.empty() ? config.log_level : log_level);
  // A broker closing mid-request must surface as an error on that request, not kill the agent.
  std::signal(SIGPIPE, SIG_IGN);
  if (::geteuid() == 0) {
    spdlog::warn("running as root is not needed: a user in group x2gouser can read the session DB");
  }

  try {
    boost::asio::io_context io(1);
    Agent agent(io, std::move(config));
    boost::asio::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([&](const boost::system::error_code& ec, int signal) {
      if (ec) return;
      spdlog::info("signal {}: shutting down", signal);
      agent.stop();
      io.stop();
    });
    agent.start();
    spdlog::info("x2gojump-agent {} running", X2GOJUMP_VERSION);
    io.run();
  } catch (const std::exception& error) {
    spdlog::error("x2gojump-agent: {}", error.what());
    return 1;
  }
  return 0;
}
