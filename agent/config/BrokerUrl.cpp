#include "agent/config/BrokerUrl.h"

#include <arpa/inet.h>

#include <charconv>

#include "broker/config/ConfigSyntax.h"

namespace x2gojump {

std::string BrokerUrl::authority() const {
  bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

std::string parse_broker_url(std::string_view text, BrokerUrl* out) {
  BrokerUrl url;
  if (text.starts_with("https://")) {
    text.remove_prefix(8);
  } else if (text.starts_with("http://")) {
    url.tls = false;
    url.port = 80;
    text.remove_prefix(7);
  } else {
    return "must start with https:// or http://";
  }
  if (text.ends_with('/')) text.remove_suffix(1);
  if (text.find_first_of("/?#") != std::string_view::npos) {
    return "must not have a path, query or fragment (the agent posts to /v1/snapshot)";
  }
  if (text.find('@') != std::string_view::npos) return "must not contain user info";

  std::string_view host = text;
  std::string_view port;
  bool has_port = false;
  if (text.starts_with('[')) {
    auto close = text.find(']');
    if (close == std::string_view::npos) return "unterminated '[' in IPv6 address";
    host = text.substr(1, close - 1);
    std::string_view rest = text.substr(close + 1);
    if (!rest.empty() && !rest.starts_with(':')) return "unexpected text after ']'";
    has_port = !rest.empty();
    if (has_port) port = rest.substr(1);
    in6_addr address{};
    if (inet_pton(AF_INET6, std::string(host).c_str(), &address) != 1) {
      return "not a valid IPv6 address in brackets";
    }
  } else {
    auto colon = text.find(':');
    has_port = colon != std::string_view::npos;
    if (has_port) {
      host = text.substr(0, colon);
      port = text.substr(colon + 1);
      if (port.find(':') != std::string_view::npos) return "IPv6 addresses must be in brackets";
    }
    if (host.empty()) return "missing host";
    if (auto error = config_detail::check_host_address(host); !error.empty()) {
      return "host: " + error;
    }
  }
  if (has_port) {
    unsigned value = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (port.empty() || ec != std::errc() || end != port.data() + port.size() || value < 1 ||
        value > 65535) {
      return "port must be a number from 1 to 65535";
    }
    url.port = static_cast<std::uint16_t>(value);
  }
  url.host = std::string(host);
  *out = std::move(url);
  return {};
}

}  // namespace x2gojump
