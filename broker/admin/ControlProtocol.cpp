#include "broker/admin/ControlProtocol.h"

#include <array>
#include <utility>

namespace x2gojump {
namespace {

constexpr std::size_t kMaxNameBytes = 256;

constexpr std::array<std::pair<ControlCommand, std::string_view>, 6> kCommands{{
    {ControlCommand::Servers, "servers"},
    {ControlCommand::Sessions, "sessions"},
    {ControlCommand::Explain, "explain"},
    {ControlCommand::Drain, "drain"},
    {ControlCommand::Undrain, "undrain"},
    {ControlCommand::TrustHostKey, "trust-hostkey"},
}};

std::string dump(const nlohmann::json& value) {
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

ParsedControlRequest failure(std::string message) { return {std::nullopt, std::move(message)}; }

// A name a client sent, safe to quote in an error message (x2gojumpctl shows it on a terminal).
std::string shown(std::string_view text) {
  std::string out = "\"";
  for (unsigned char c : text.substr(0, 64)) out += (c < 0x20 || c == 0x7f) ? '?' : static_cast<char>(c);
  return out + "\"";
}

// Which of user/server/from a command takes, and which it requires.
struct Keys {
  bool user = false, server = false, from = false;
  bool user_required = false, server_required = false;
};

Keys keys_of(ControlCommand command) {
  switch (command) {
    case ControlCommand::Servers:
      return {};
    case ControlCommand::Sessions:
      return {.user = true, .server = true};
    case ControlCommand::Explain:
      return {.user = true, .from = true, .user_required = true};
    case ControlCommand::Drain:
    case ControlCommand::Undrain:
    case ControlCommand::TrustHostKey:
      return {.server = true, .server_required = true};
  }
  return {};
}

}  // namespace

std::string_view to_string(ControlCommand command) {
  for (const auto& [value, name] : kCommands) {
    if (value == command) return name;
  }
  return "?";
}

ParsedControlRequest parse_control_request(std::string_view line) {
  nlohmann::json json = nlohmann::json::parse(line, nullptr, false);
  if (json.is_discarded() || !json.is_object()) return failure("request is not a JSON object");
  auto command_it = json.find("command");
  if (command_it == json.end() || !command_it->is_string()) {
    return failure("\"command\" (a string) is required");
  }
  ControlRequest request;
  const std::string name = command_it->get<std::string>();
  bool known = false;
  for (const auto& [value, text] : kCommands) {
    if (text == name) {
      request.command = value;
      known = true;
    }
  }
  if (!known) return failure("unknown command " + shown(name));
  const Keys keys = keys_of(request.command);
  for (const auto& [key, value] : json.items()) {
    if (key == "command") continue;
    std::string* target = nullptr;
    if (key == "user" && keys.user) target = &request.user;
    if (key == "server" && keys.server) target = &request.server;
    if (key == "from" && keys.from) target = &request.from;
    if (target == nullptr) return failure(shown(name) + " takes no " + shown(key));
    if (!value.is_string()) return failure(shown(key) + " must be a string");
    *target = value.get<std::string>();
    if (target->size() > kMaxNameBytes) return failure(shown(key) + " is too long");
    for (unsigned char c : *target) {
      if (c < 0x20 || c == 0x7f) return failure(shown(key) + " contains a control character");
    }
  }
  if (keys.user_required && request.user.empty()) return failure(shown(name) + " needs a \"user\"");
  if (keys.server_required && request.server.empty()) {
    return failure(shown(name) + " needs a \"server\"");
  }
  return {std::move(request), {}};
}

std::string control_request_line(const ControlRequest& request) {
  nlohmann::ordered_json json{{"command", to_string(request.command)}};
  if (!request.user.empty()) json["user"] = request.user;
  if (!request.server.empty()) json["server"] = request.server;
  if (!request.from.empty()) json["from"] = request.from;
  return json.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string control_ok_line(const nlohmann::json& fields) {
  nlohmann::json json{{"ok", true}};
  if (fields.is_object()) json.update(fields);
  return dump(json);
}

std::string control_error_line(std::string_view message) {
  return dump(nlohmann::json{{"ok", false}, {"error", message}});
}

}  // namespace x2gojump
