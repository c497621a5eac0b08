#include <algorithm>

#include "broker/config/ConfigSections.h"
#include "broker/config/ConfigSyntax.h"
#include "broker/config/SecretFile.h"
#include "common/PublicKeyLine.h"

namespace x2gojump::config_detail {
namespace {

// A shorter token is guessable; agents should use e.g. `openssl rand -hex 32`.
constexpr std::size_t kMinTokenBytes = 16;

// The token travels in an HTTP header ("Authorization: Bearer <token>"), so it must be printable
// ASCII without spaces. Messages never contain the token.
std::string check_agent_token(const std::string& token) {
  if (token.size() < kMinTokenBytes) {
    return "token must be at least " + std::to_string(kMinTokenBytes) + " bytes";
  }
  for (char c : token) {
    if (c <= ' ' || c > '~') return "token may only contain printable ASCII without spaces";
  }
  return {};
}

void read_agent_token(TableReader& server, const std::filesystem::path& config_dir,
                      ServerConfig* config) {
  auto token_file = server.string("agent_token_file");
  if (!token_file || token_file->value.empty()) return;
  std::filesystem::path path(token_file->value);
  if (path.is_relative()) path = config_dir / path;
  std::string token;
  std::string error = read_secret_file(path.string(), &token);
  if (error.empty()) error = check_agent_token(token);
  if (!error.empty()) {
    server.error(token_file->line, "agent_token_file", error);
    return;
  }
  config->agent_token = std::move(token);
}

void read_server(TableReader& server, const std::filesystem::path& config_dir,
                 ServerConfig* config) {
  if (auto name = server.string("name", /*required=*/true)) {
    if (auto error = check_server_name(name->value); !error.empty()) {
      server.error(name->line, "name", error);
    }
    config->name = name->value;
  }
  if (auto address = server.string("address", /*required=*/true)) {
    if (auto error = check_host_address(address->value); !error.empty()) {
      server.error(address->line, "address", error);
    }
    config->address = address->value;
  }
  if (auto port = server.integer("port", 1, 65535)) {
    config->port = static_cast<std::uint16_t>(port->value);
  }
  if (auto weight = server.number("weight")) {
    if (weight->value <= 0 || weight->value > 1000) {
      server.error(weight->line, "weight", "must be greater than 0 and at most 1000");
    }
    config->weight = weight->value;
  }
  if (auto host_key = server.string("host_key")) {
    if (auto error = public_key_line_error(host_key->value); !error.empty()) {
      server.error(host_key->line, "host_key", error);
    }
    config->host_key = host_key->value;
  }
  read_agent_token(server, config_dir, config);
  if (auto max_users = server.integer("max_users", 0, 100000)) {
    config->max_users = static_cast<int>(max_users->value);
  }
  server.report_unknown_keys();
}

}  // namespace

void read_server_list(const toml::node* servers, int root_line,
                      const std::filesystem::path& config_dir, ErrorSink* errors,
                      std::vector<ServerConfig>* config) {
  if (!servers) {
    errors->add(root_line, "server", "at least one [[server]] is required");
    return;
  }
  const toml::array* array = servers->as_array();
  if (array && array->empty()) {
    errors->add(line_of(*servers, root_line), "server", "at least one [[server]] is required");
    return;
  }
  if (!array || !array->is_array_of_tables()) {
    errors->add(line_of(*servers, root_line), "server",
                "expected array of tables ([[server]]), got " + std::string(type_name(*servers)));
    return;
  }
  for (std::size_t i = 0; i < array->size(); ++i) {
    const toml::table& table = *(*array)[i].as_table();
    TableReader server(&table, "server[" + std::to_string(i) + "]", errors);
    ServerConfig entry;
    read_server(server, config_dir, &entry);
    bool duplicate = !entry.name.empty() &&
                     std::any_of(config->begin(), config->end(),
                                 [&](const ServerConfig& other) { return other.name == entry.name; });
    if (duplicate) {
      server.error(line_of(*table.get("name"), server.line()), "name",
                   "duplicate server name \"" + entry.name + "\"");
    }
    // A shared token would let one host's agent report for the other; the API could not tell.
    auto same_token = std::find_if(config->begin(), config->end(), [&](const ServerConfig& other) {
      return !entry.agent_token.empty() && other.agent_token == entry.agent_token;
    });
    if (same_token != config->end()) {
      server.error(line_of(*table.get("agent_token_file"), server.line()), "agent_token_file",
                   "same token as server[" + std::to_string(same_token - config->begin()) + "]");
    }
    config->push_back(std::move(entry));
  }
}

}  // namespace x2gojump::config_detail
