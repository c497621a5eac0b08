#pragma once
// The address of one broker's agent API, as written in agent.toml ("https://host:port").
#include <cstdint>
#include <string>
#include <string_view>

namespace x2gojump {

struct BrokerUrl {
  bool tls = true;   // https
  std::string host;  // DNS name, IPv4 or IPv6 address (IPv6 without brackets)
  std::uint16_t port = 443;

  // "host:port" or "[v6]:port", for logs and the HTTP Host header.
  std::string authority() const;
};

// Parses "https://host[:port][/]" or "http://host[:port][/]". Hosts are DNS names or numeric
// addresses, IPv6 in brackets; the port defaults to 443 or 80. User info, paths other than "/",
// queries and fragments are rejected because the agent always posts to /v1/snapshot. Returns an
// empty string on success, else a message.
std::string parse_broker_url(std::string_view text, BrokerUrl* out);

}  // namespace x2gojump
