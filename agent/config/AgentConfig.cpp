#include "agent/config/AgentConfig.h"

#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include <toml++/toml.h>

#include "agent/config/TokenFile.h"
#include "broker/config/ConfigSyntax.h"
#include "broker/config/ConfigText.h"
#include "broker/config/TableReader.h"

namespace x2gojump {

using config_detail::ErrorSink;
using config_detail::line_of;
using config_detail::TableReader;
using config_detail::type_name;

namespace {

std::string resolve(const std::filesystem::path& config_dir, const std::string& file) {
  std::filesystem::path path(file);
  return path.is_relative() ? (config_dir / path).string() : file;
}

// No shell: the command is split at blanks, so its arguments cannot contain spaces.
std::vector<std::string> split_words(std::string_view text) {
  std::vector<std::string> words;
  std::size_t at = 0;
  while ((at = text.find_first_not_of(" \t", at)) != std::string_view::npos) {
    std::size_t end = text.find_first_of(" \t", at);
    if (end == std::string_view::npos) end = text.size();
    words.emplace_back(text.substr(at, end - at));
    at = end;
  }
  return words;
}

void read_server_name(TableReader& agent, const AgentDefaults& defaults, AgentConfig* config) {
  if (auto name = agent.string("server_name")) {
    if (auto error = config_detail::check_server_name(name->value); !error.empty()) {
      agent.error(name->line, "server_name", error);
    }
    config->server_name = name->value;
  } else if (!agent.node("server_name")) {
    if (auto error = config_detail::check_server_name(defaults.server_name); !error.empty()) {
      agent.error(agent.line(), "server_name",
                  "the host name \"" + defaults.server_name + "\" is not usable (" + error +
                      "); set server_name");
    }
    config->server_name = defaults.server_name;
  }
}

void read_agent_section(TableReader& agent, const std::filesystem::path& config_dir,
                        const AgentDefaults& defaults, AgentConfig* config) {
  read_server_name(agent, defaults, config);
  if (auto db = agent.string("session_db")) {
    if (db->value.empty()) agent.error(db->line, "session_db", "must not be empty");
    config->session_db = resolve(config_dir, db->value);
  }
  if (auto command = agent.string("listsessions_command")) {
    auto argv = split_words(command->value);
    if (argv.empty()) {
      agent.error(command->line, "listsessions_command", "must not be empty");
    } else if (!argv[0].starts_with('/')) {
      agent.error(command->line, "listsessions_command",
                  "the program must be an absolute path (PATH is not searched)");
    }
    config->listsessions_command = std::move(argv);
  }
  if (auto interval = agent.integer("heartbeat_interval_s", 1, 3600)) {
    config->heartbeat_interval = std::chrono::seconds(interval->value);
  }
  if (auto files = agent.strings("host_key_files")) {
    config->host_key_files.clear();
    for (std::size_t i = 0; i < files->size(); ++i) {
      const auto& file = (*files)[i];
      if (file.value.empty()) {
        agent.error(file.line, "host_key_files[" + std::to_string(i) + "]", "must not be empty");
      }
      config->host_key_files.push_back(resolve(config_dir, file.value));
    }
  } else if (!agent.node("host_key_files")) {
    config->host_key_files = defaults.host_key_files;
  }
  if (auto level = agent.string("log_level")) {
    static constexpr std::string_view kLevels[] = {"trace", "debug", "info", "warn", "error"};
    if (std::find(std::begin(kLevels), std::end(kLevels), level->value) == std::end(kLevels)) {
      agent.error(level->line, "log_level",
                  "must be one of \"trace\", \"debug\", \"info\", \"warn\", \"error\"");
    } else {
      config->log_level = level->value;
    }
  }
}

void read_ca_file(TableReader& broker, const std::filesystem::path& config_dir,
                  BrokerTarget* target) {
  auto ca_file = broker.string("ca_file");
  if (!ca_file || ca_file->value.empty()) return;
  if (!target->endpoint.tls && !target->url.empty()) {
    broker.error(ca_file->line, "ca_file", "only used with https:// URLs");
    return;
  }
  target->ca_file = resolve(config_dir, ca_file->value);
  // O_NONBLOCK: opening a FIFO must not wait for a writer.
  int fd = ::open(target->ca_file.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) {
    broker.error(ca_file->line, "ca_file",
                 "cannot read " + target->ca_file + ": " + std::strerror(errno));
    return;
  }
  ::close(fd);
}

void read_broker(TableReader& broker, const std::filesystem::path& config_dir,
                 BrokerTarget* target) {
  auto allow_plain_http = broker.boolean("allow_plain_http");
  if (auto url = broker.string("url", /*required=*/true)) {
    if (auto error = parse_broker_url(url->value, &target->endpoint); !error.empty()) {
      broker.error(url->line, "url", error);
    } else if (!target->endpoint.tls && !(allow_plain_http && allow_plain_http->value)) {
      // The token and the session list would cross the network in clear text.
      broker.error(url->line, "url", "http:// requires allow_plain_http = true");
    } else {
      target->url = url->value;
    }
  }
  if (auto token_file = broker.string("token_file", /*required=*/true)) {
    std::string error =
        token_file->value.empty()
            ? "must not be empty"
            : read_token_file(resolve(config_dir, token_file->value), &target->token);
    if (!error.empty()) broker.error(token_file->line, "token_file", error);
  }
  read_ca_file(broker, config_dir, target);
  broker.report_unknown_keys();
}

void read_broker_list(const toml::node* brokers, int root_line,
                      const std::filesystem::path& config_dir, ErrorSink* errors,
                      std::vector<BrokerTarget>* targets) {
  const toml::array* array = brokers ? brokers->as_array() : nullptr;
  if (!brokers || (array && array->empty())) {
    errors->add(brokers ? line_of(*brokers, root_line) : root_line, "broker",
                "at least one [[broker]] is required");
    return;
  }
  if (!array || !array->is_array_of_tables()) {
    errors->add(line_of(*brokers, root_line), "broker",
                "expected array of tables ([[broker]]), got " + std::string(type_name(*brokers)));
    return;
  }
  for (std::size_t i = 0; i < array->size(); ++i) {
    const toml::table& table = *(*array)[i].as_table();
    TableReader broker(&table, "broker[" + std::to_string(i) + "]", errors);
    BrokerTarget target;
    read_broker(broker, config_dir, &target);
    auto same = std::find_if(targets->begin(), targets->end(), [&](const BrokerTarget& other) {
      return !target.url.empty() && other.endpoint.tls == target.endpoint.tls &&
             other.endpoint.authority() == target.endpoint.authority();
    });
    if (same != targets->end()) {
      broker.error(line_of(*table.get("url"), broker.line()), "url",
                   "same broker as broker[" + std::to_string(same - targets->begin()) + "]");
    }
    targets->push_back(std::move(target));
  }
}

void read_document(const toml::table& document, const std::filesystem::path& config_dir,
                   const AgentDefaults& defaults, ErrorSink* errors, AgentConfig* config) {
  TableReader root(&document, "", errors);
  const toml::node* agent_node = root.node("agent");
  if (agent_node && !agent_node->is_table()) {
    root.error(line_of(*agent_node, root.line()), "agent",
               "expected table, got " + std::string(type_name(*agent_node)));
  } else {
    // [agent] is optional: every key in it has a default.
    TableReader agent(agent_node ? agent_node->as_table() : nullptr, "agent", errors, root.line());
    read_agent_section(agent, config_dir, defaults, config);
    agent.report_unknown_keys();
  }
  read_broker_list(root.node("broker"), root.line(), config_dir, errors, &config->brokers);
  root.report_unknown_keys();
}

}  // namespace

AgentDefaults system_agent_defaults() {
  AgentDefaults defaults;
  char host[HOST_NAME_MAX + 1] = {};
  if (::gethostname(host, sizeof host - 1) == 0) defaults.server_name = host;
  glob_t found{};
  if (::glob("/etc/ssh/ssh_host_*_key.pub", 0, nullptr, &found) == 0) {
    for (std::size_t i = 0; i < found.gl_pathc; ++i) {
      defaults.host_key_files.emplace_back(found.gl_pathv[i]);
    }
  }
  ::globfree(&found);
  return defaults;
}

AgentConfigResult parse_agent_config(std::string_view text, std::string_view file_name,
                                     const AgentDefaults& defaults) {
  ErrorSink errors{std::string(file_name)};
  AgentConfig config;
  config_detail::parse_toml(text, file_name, &errors,
                            [&](const toml::table& document, const std::filesystem::path& config_dir) {
                              read_document(document, config_dir, defaults, &errors, &config);
                            });
  AgentConfigResult result;
  result.errors = errors.take();
  if (result.errors.empty()) result.config = std::move(config);
  return result;
}

AgentConfigResult load_agent_config(const std::string& path) {
  std::string text;
  if (auto error = config_detail::read_config_file(path, &text)) {
    AgentConfigResult result;
    result.errors.push_back(std::move(*error));
    return result;
  }
  return parse_agent_config(text, path, system_agent_defaults());
}

}  // namespace x2gojump
