#pragma once
// Maps an agent's bearer token to the server it was issued for, in constant time.
#include <array>
#include <string>
#include <string_view>
#include <vector>

#include "broker/config/Config.h"

namespace x2gojump {

class TokenMatcher {
 public:
  // Servers with an empty agent_token get no entry: no token reaches them.
  explicit TokenMatcher(const std::vector<ServerConfig>& servers);

  // The name of the server whose token equals presented, or null. Every configured token is
  // compared, whole, whatever matches, so the time taken reveals neither which server's token
  // was close nor how much of it was right.
  const std::string* server_of(std::string_view presented) const;

 private:
  using Digest = std::array<unsigned char, 32>;  // SHA-256
  struct Entry {
    std::string server;
    Digest digest;
  };
  static Digest digest_of(std::string_view token);

  std::vector<Entry> entries_;
};

}  // namespace x2gojump
