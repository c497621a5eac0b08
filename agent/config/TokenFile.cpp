#include "agent/config/TokenFile.h"

#include "broker/config/SecretFile.h"

namespace x2gojump {
namespace {

// Matches the broker's rule for agent_token_file, so a token accepted here is accepted there.
constexpr std::size_t kMinTokenBytes = 16;

}  // namespace

std::string read_token_file(const std::string& path, std::string* token) {
  std::string content;
  if (auto error = config_detail::read_secret_file(path, &content, /*owner_only=*/true); !error.empty()) {
    return error;
  }
  if (content.size() < kMinTokenBytes) {
    return path + ": token must be at least " + std::to_string(kMinTokenBytes) + " bytes";
  }
  for (char c : content) {
    if (c <= ' ' || c > '~') return path + ": token may only contain printable ASCII without spaces";
  }
  *token = std::move(content);
  return {};
}

}  // namespace x2gojump
