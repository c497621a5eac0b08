// libFuzzer target for the agent's configuration loader (agent.toml). It must never crash or
// throw; it must set exactly one of config and errors; every error must name the file; no error may
// quote a token it read; and an accepted configuration has a broker, each with a token.
// Built and run by scripts/fuzz.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "agent/config/AgentConfig.h"
#include "tests/fuzz/FuzzFiles.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace x2gojump;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  if (fuzz::names_special_files(text)) return 0;
  const std::string file = fuzz::scratch_directory() + "/agent.toml";
  AgentDefaults defaults;
  defaults.server_name = "x2go-host-1";
  defaults.host_key_files = {fuzz::scratch_directory() + "/ssh_host_ed25519_key.pub"};
  AgentConfigResult result = parse_agent_config(text, file, defaults);
  if (result.config.has_value() == !result.errors.empty()) std::abort();
  bool quotes_secret = text.find(fuzz::kToken) != std::string_view::npos;
  for (const ConfigError& error : result.errors) {
    std::string line = error.to_string();
    if (!line.starts_with(file + ":")) std::abort();
    if (!quotes_secret && line.find(fuzz::kToken) != std::string::npos) std::abort();
  }
  if (result.config) {
    if (result.config->brokers.empty() || result.config->server_name.empty()) std::abort();
    for (const BrokerTarget& broker : result.config->brokers) {
      if (broker.token.empty()) std::abort();
    }
  }
  return 0;
}
