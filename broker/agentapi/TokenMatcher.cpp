#include "broker/agentapi/TokenMatcher.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <stdexcept>

namespace x2gojump {

TokenMatcher::TokenMatcher(const std::vector<ServerConfig>& servers) {
  for (const ServerConfig& server : servers) {
    if (!server.agent_token.empty()) entries_.push_back({server.name, digest_of(server.agent_token)});
  }
}

// Comparing digests instead of the tokens gives equal-length inputs to CRYPTO_memcmp, so a
// token's length does not show in the timing either.
TokenMatcher::Digest TokenMatcher::digest_of(std::string_view token) {
  Digest digest{};
  unsigned int size = 0;
  if (EVP_Digest(token.data(), token.size(), digest.data(), &size, EVP_sha256(), nullptr) != 1 ||
      size != digest.size()) {
    throw std::runtime_error("SHA-256 is unavailable");
  }
  return digest;
}

const std::string* TokenMatcher::server_of(std::string_view presented) const {
  if (presented.empty()) return nullptr;
  const Digest digest = digest_of(presented);
  const std::string* found = nullptr;
  for (const Entry& entry : entries_) {
    // No early exit: the loop runs over every entry whether or not one matched.
    bool equal = CRYPTO_memcmp(entry.digest.data(), digest.data(), digest.size()) == 0;
    if (equal) found = &entry.server;
  }
  return found;
}

}  // namespace x2gojump
