#include <algorithm>

#include "broker/config/ConfigSections.h"
#include "broker/config/ConfigSyntax.h"

namespace x2gojump::config_detail {
namespace {

void read_server(TableReader& server, ServerConfig* config) {
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
    if (auto error = check_host_key(host_key->value); !error.empty()) {
      server.error(host_key->line, "host_key", error);
    }
    config->host_key = host_key->value;
  }
  server.report_unknown_keys();
}

}  // namespace

void read_server_list(const toml::node* servers, int root_line, ErrorSink* errors,
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
    read_server(server, &entry);
    bool duplicate = !entry.name.empty() &&
                     std::any_of(config->begin(), config->end(),
                                 [&](const ServerConfig& other) { return other.name == entry.name; });
    if (duplicate) {
      server.error(line_of(*table.get("name"), server.line()), "name",
                   "duplicate server name \"" + entry.name + "\"");
    }
    config->push_back(std::move(entry));
  }
}

}  // namespace x2gojump::config_detail
