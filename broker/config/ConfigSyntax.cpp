#include "broker/config/ConfigSyntax.h"

#include <arpa/inet.h>

#include <array>
#include <charconv>
#include <cstdint>
#include <optional>
#include <vector>

namespace x2gojump::config_detail {
namespace {

// Whole-string unsigned decimal; no sign, no spaces, no overflow.
std::optional<std::uint64_t> parse_unsigned(std::string_view text) {
  std::uint64_t value = 0;
  if (text.empty() || text.size() > 18) return std::nullopt;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::string parse_port(std::string_view text, std::uint16_t* out) {
  auto port = parse_unsigned(text);
  if (!port) return "invalid port \"" + std::string(text) + "\"";
  if (*port < 1 || *port > 65535) return "port out of range 1..65535: " + std::string(text);
  *out = static_cast<std::uint16_t>(*port);
  return {};
}

bool is_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

std::optional<std::string> canonical_ip(int family, const std::string& text) {
  std::array<unsigned char, 16> binary{};
  if (inet_pton(family, text.c_str(), binary.data()) != 1) return std::nullopt;
  std::array<char, INET6_ADDRSTRLEN> buffer{};
  if (inet_ntop(family, binary.data(), buffer.data(), buffer.size()) == nullptr) return std::nullopt;
  return std::string(buffer.data());
}

}  // namespace

std::string parse_listen_address(std::string_view text, ListenAddress* out) {
  std::string host;
  std::string_view port_text;
  int family = AF_INET;
  if (!text.empty() && text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string_view::npos) return "missing \"]\" after IPv6 address";
    if (close + 1 >= text.size() || text[close + 1] != ':') return "missing \":port\" after \"]\"";
    host = std::string(text.substr(1, close - 1));
    port_text = text.substr(close + 2);
    family = AF_INET6;
  } else {
    auto colon = text.rfind(':');
    if (colon == std::string_view::npos) return "missing \":port\"";
    host = std::string(text.substr(0, colon));
    port_text = text.substr(colon + 1);
    if (host.find(':') != std::string::npos) {
      return "IPv6 addresses must be written in brackets: \"[addr]:port\"";
    }
  }
  auto canonical = canonical_ip(family, host);
  if (!canonical) {
    if (family == AF_INET6) return "not a numeric IPv6 address: \"" + host + "\"";
    return "not a numeric IPv4 address (host names are not allowed): \"" + host + "\"";
  }
  ListenAddress parsed;
  parsed.host = *canonical;
  if (auto error = parse_port(port_text, &parsed.port); !error.empty()) return error;
  *out = std::move(parsed);
  return {};
}

std::string parse_max_startups(std::string_view text, LimitsConfig* out) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  while (true) {
    auto colon = text.find(':', start);
    parts.push_back(text.substr(start, colon - start));
    if (colon == std::string_view::npos) break;
    start = colon + 1;
  }
  if (parts.size() != 1 && parts.size() != 3) return "expected \"start:rate:full\" or \"N\"";
  std::vector<std::uint64_t> numbers;
  for (auto part : parts) {
    auto number = parse_unsigned(part);
    if (!number || *number > 1000000) return "invalid number \"" + std::string(part) + "\"";
    numbers.push_back(*number);
  }
  if (numbers.size() == 1) numbers = {numbers[0], 100, numbers[0]};
  if (numbers[0] < 1) return "start must be at least 1";
  if (numbers[1] > 100) return "rate must be between 0 and 100";
  if (numbers[0] > numbers[2]) return "start must not exceed full";
  out->max_startups_begin = static_cast<int>(numbers[0]);
  out->max_startups_rate = static_cast<int>(numbers[1]);
  out->max_startups_full = static_cast<int>(numbers[2]);
  return {};
}

std::string check_server_name(std::string_view text) {
  if (text.empty() || text.size() > 64) return "must be 1 to 64 characters";
  for (char c : text) {
    if (!is_alnum(c) && c != '.' && c != '_' && c != '-') {
      return "may only contain letters, digits, '.', '_' and '-'";
    }
  }
  return {};
}

std::string check_host_address(std::string_view text) {
  std::string host(text);
  if (canonical_ip(AF_INET, host) || canonical_ip(AF_INET6, host)) return {};
  static constexpr const char* kError = "not an IP address or valid host name";
  if (host.empty() || host.size() > 253) return kError;
  std::size_t label_start = 0;
  while (label_start <= host.size()) {
    auto dot = host.find('.', label_start);
    if (dot == std::string::npos) dot = host.size();
    std::string_view label(host.data() + label_start, dot - label_start);
    bool trailing_dot = label.empty() && dot == host.size() && label_start > 0;
    if (!trailing_dot) {
      if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') {
        return kError;
      }
      for (char c : label) {
        if (!is_alnum(c) && c != '-') return kError;
      }
    }
    label_start = dot + 1;
  }
  // An all-digit last label means a mistyped IPv4 address such as "10.0.0.256", not a name.
  std::string_view last(host);
  if (last.back() == '.') last.remove_suffix(1);
  last = last.substr(last.rfind('.') == std::string_view::npos ? 0 : last.rfind('.') + 1);
  if (last.find_first_not_of("0123456789") == std::string_view::npos) return kError;
  return {};
}

std::string check_ldap_uri(std::string_view text) {
  std::string lower;
  for (char c : text.substr(0, 8)) lower.push_back(static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c));
  std::size_t rest;
  if (lower.starts_with("ldaps://")) {
    rest = 8;
  } else if (lower.starts_with("ldap://")) {
    rest = 7;
  } else {
    return "scheme must be ldap:// or ldaps://";
  }
  if (rest == text.size() || text[rest] == '/') return "missing host";
  if (text.find_first_of(" \t\r\n,") != std::string_view::npos) {
    return "must be a single URI (use one array entry per server)";
  }
  return {};
}

std::string check_user_filter(std::string_view text) {
  if (text.size() < 2 || text.front() != '(' || text.back() != ')') {
    return "must be enclosed in parentheses";
  }
  int depth = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '(') ++depth;
    if (text[i] == ')') --depth;
    // Reaching depth 0 before the end means "(a)(b)", which is not one filter.
    if (depth < 0 || (depth == 0 && i + 1 < text.size())) return "unbalanced parentheses";
  }
  if (depth != 0) return "unbalanced parentheses";
  if (text.find("{user}") == std::string_view::npos) return "must contain the {user} placeholder";
  return {};
}

std::string parse_group_style(std::string_view text, GroupStyle* out) {
  if (text == "posix") {
    *out = GroupStyle::PosixMemberUid;
  } else if (text == "groupofnames") {
    *out = GroupStyle::GroupOfNamesMember;
  } else if (text == "memberof") {
    *out = GroupStyle::MemberOf;
  } else {
    return "must be one of \"posix\", \"groupofnames\", \"memberof\"";
  }
  return {};
}

}  // namespace x2gojump::config_detail
