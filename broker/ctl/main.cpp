// x2gojumpctl: look at and steer a running x2gojump-broker through its control socket.
#include <CLI/CLI.hpp>

#include <chrono>
#include <iostream>

#include "broker/ctl/ControlClient.h"
#include "broker/ctl/CtlFormat.h"
#include "broker/ctl/SocketPath.h"

using namespace x2gojump;

namespace {

// Exit codes: 0 done, 1 the broker refused the request, 2 usage, 3 no broker to talk to.
constexpr int kRefused = 1;
constexpr int kUnreachable = 3;

int print_answer(const ControlRequest& request, const nlohmann::json& answer, bool json) {
  if (!answer.at("ok").get<bool>()) {
    std::cerr << "x2gojumpctl: " << answer.value("error", std::string("request failed")) << "\n";
    if (json) std::cout << answer.dump(2) << "\n";
    return kRefused;
  }
  if (json) {
    std::cout << answer.dump(2) << "\n";
    return 0;
  }
  switch (request.command) {
    case ControlCommand::Servers:
      std::cout << format_servers(answer.at("servers"));
      break;
    case ControlCommand::Sessions:
      std::cout << format_sessions(answer.at("sessions"));
      break;
    case ControlCommand::Explain:
      std::cout << format_explain(answer.at("explain"));
      break;
    case ControlCommand::Drain:
    case ControlCommand::Undrain:
    case ControlCommand::TrustHostKey:
      std::cout << format_change(answer);
      break;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"x2gojumpctl: inspect and steer a running x2gojump-broker"};
  app.require_subcommand(1);
  std::string socket;
  std::string config = "/etc/x2gojump/broker.toml";
  bool json = false;
  int timeout_s = 30;
  app.add_option("--socket", socket, "the broker's control socket (default: from --config)");
  app.add_option("-c,--config", config, "broker configuration to read [admin] control_socket from")
      ->capture_default_str();
  app.add_flag("--json", json, "print the broker's JSON answer instead of a table");
  app.add_option("--timeout", timeout_s, "seconds to wait for the answer")->capture_default_str()->check(CLI::Range(1, 3600));
  app.set_version_flag("--version", X2GOJUMP_VERSION);

  ControlRequest request;
  auto* servers = app.add_subcommand("servers", "servers with state, load, sessions, report age and host key");
  auto* sessions = app.add_subcommand("sessions", "X2Go sessions the agents reported");
  sessions->add_option("--user", request.user, "only this user's sessions");
  sessions->add_option("--server", request.server, "only the sessions on this server");
  auto* explain = app.add_subcommand("explain", "which server USER would get now, and why");
  explain->add_option("user", request.user, "login name")->required();
  explain->add_option("--from", request.from, "the client address to assume");
  auto* drain = app.add_subcommand("drain", "no new users on SERVER; its sessions stay resumable");
  drain->add_option("server", request.server, "server name")->required();
  auto* undrain = app.add_subcommand("undrain", "end draining of SERVER");
  undrain->add_option("server", request.server, "server name")->required();
  auto* trust = app.add_subcommand("trust-hostkey",
                                   "forget SERVER's learned host key; the next agent report or "
                                   "connection learns it again");
  trust->add_option("server", request.server, "server name")->required();
  CLI11_PARSE(app, argc, argv);

  if (*servers) request.command = ControlCommand::Servers;
  if (*sessions) request.command = ControlCommand::Sessions;
  if (*explain) request.command = ControlCommand::Explain;
  if (*drain) request.command = ControlCommand::Drain;
  if (*undrain) request.command = ControlCommand::Undrain;
  if (*trust) request.command = ControlCommand::TrustHostKey;

  try {
    if (socket.empty()) socket = control_socket_path(config);
    nlohmann::json answer = call_broker(socket, request, std::chrono::seconds(timeout_s));
    return print_answer(request, answer, json);
  } catch (const ControlUnreachable& e) {
    std::cerr << e.what() << "\n";
    return kUnreachable;
  } catch (const std::exception& e) {
    std::cerr << e.what() << "\n";
    return kUnreachable;
  }
}
