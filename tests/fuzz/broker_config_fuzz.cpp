// libFuzzer target for the broker's configuration loader (broker.toml). It must never crash or
// throw; it must set exactly one of config and errors; every error must name the file; no error may
// quote a secret it read; and an accepted configuration must satisfy the documented ranges.
// Built and run by scripts/fuzz.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "broker/config/Config.h"
#include "tests/fuzz/FuzzFiles.h"

namespace {

void check_accepted(const x2gojump::BrokerConfig& config) {
  const x2gojump::LimitsConfig& limits = config.limits;
  if (limits.max_startups_begin < 1 || limits.max_startups_begin > limits.max_startups_full ||
      limits.max_startups_rate < 0 || limits.max_startups_rate > 100) {
    std::abort();
  }
  if (limits.max_auth_attempts < 1 || limits.max_connections < 1) std::abort();
  if (config.listen.empty() || config.ldap.uris.empty()) std::abort();
  for (const x2gojump::ServerConfig& server : config.servers) {
    if (server.name.empty() || !(server.weight > 0)) std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace x2gojump;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  if (fuzz::names_special_files(text)) return 0;
  const std::string file = fuzz::scratch_directory() + "/broker.toml";
  ConfigResult result = parse_broker_config(text, file);
  if (result.config.has_value() == !result.errors.empty()) std::abort();
  bool quotes_secret = text.find(fuzz::kBindPassword) != std::string_view::npos ||
                       text.find(fuzz::kToken) != std::string_view::npos;
  for (const ConfigError& error : result.errors) {
    std::string line = error.to_string();
    if (!line.starts_with(file + ":")) std::abort();
    if (!quotes_secret && (line.find(fuzz::kBindPassword) != std::string::npos ||
                           line.find(fuzz::kToken) != std::string::npos)) {
      std::abort();
    }
  }
  if (result.config) check_accepted(*result.config);
  return 0;
}
