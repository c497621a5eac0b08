// x2gojump-agent: reports an X2Go host's sessions and load to the x2gojump brokers.
//
// Runs unprivileged: the user needs read access to X2Go's session DB, i.e. membership in group
// x2gouser (the DB is root:x2gouser 0660, its directory 0770), and read access to its token files.
#include <CLI/CLI.hpp>
#include <pthread.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <csignal>
#include <iostream>
#include <memory>

#include "agent/AgentThread.h"
#include "agent/config/AgentConfig.h"
#include "common/Log.h"
#include "common/SystemdNotify.h"

using namespace x2gojump;

namespace {

// SIGHUP: a valid new configuration (token files and CA files included) replaces the running
// agent; with errors it is logged and the running agent carries on untouched.
void reload(const std::string& path, bool keep_log_level, std::unique_ptr<AgentThread>& agent) {
  AgentConfigResult loaded = load_agent_config(path);
  for (const ConfigError& error : loaded.errors) {
    spdlog::error("reload rejected: {}", error.to_string());
  }
  if (!loaded.errors.empty()) return;
  const std::string level = loaded.config->log_level;
  std::unique_ptr<AgentThread> next;
  try {
    next = std::make_unique<AgentThread>(std::move(*loaded.config));
  } catch (const std::exception& error) {
    spdlog::error("reload rejected: {}", error.what());
    return;
  }
  agent = std::move(next);  // the old generation stops before the new one sends anything
  if (!keep_log_level) spdlog::set_level(spdlog::level::from_str(level));
  agent->start();
  spdlog::info("configuration reloaded from {}", path);
}

}  // namespace

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

  // This thread takes SIGHUP, SIGINT and SIGTERM with sigwait(). They are blocked before any other
  // thread exists, so no thread runs a handler for them and a reload never races a shutdown.
  sigset_t signals;
  sigemptyset(&signals);
  for (int signal : {SIGHUP, SIGINT, SIGTERM}) sigaddset(&signals, signal);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  std::unique_ptr<AgentThread> agent;
  try {
    agent = std::make_unique<AgentThread>(std::move(config));
    agent->start();
  } catch (const std::exception& error) {
    spdlog::error("x2gojump-agent: {}", error.what());
    return 1;
  }
  spdlog::info("x2gojump-agent {} running", X2GOJUMP_VERSION);
  notify_ready("reporting to the brokers");
  for (;;) {
    int signal = 0;
    if (sigwait(&signals, &signal) != 0) continue;
    if (signal != SIGHUP) {
      spdlog::info("signal {}: shutting down", signal);
      break;
    }
    notify_reloading();
    reload(config_path, !log_level.empty(), agent);
    notify_ready("reporting to the brokers");
  }
  notify_stopping();
  const std::string failure = agent->failure();
  agent.reset();
  if (!failure.empty()) {
    spdlog::error("x2gojump-agent: {}", failure);
    return 1;
  }
  return 0;
}
