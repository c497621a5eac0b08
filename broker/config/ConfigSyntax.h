#pragma once
// Validators for the textual values in broker.toml. Internal to xj_config; pure, no I/O.
// Each returns an empty string on success, else a message naming what is wrong (never the input
// for secrets; none of these values is secret).
#include <string>
#include <string_view>

#include "broker/config/Config.h"

namespace x2gojump::config_detail {

// "IPv4:port" or "[IPv6]:port", numeric addresses only, port 1..65535. On success *out holds the
// canonical address text (inet_ntop form) and the port.
std::string parse_listen_address(std::string_view text, ListenAddress* out);

// "start:rate:full" (1 <= start <= full, 0 <= rate <= 100) or "N", meaning N:100:N.
std::string parse_max_startups(std::string_view text, LimitsConfig* out);

// [A-Za-z0-9._-]{1,64}
std::string check_server_name(std::string_view text);

// A numeric IPv4/IPv6 address (no brackets) or an RFC 1123 host name.
std::string check_host_address(std::string_view text);

// ldap:// or ldaps:// followed by a host part; one URI, no whitespace or commas (libldap would
// otherwise treat it as a list and break our own failover order).
std::string check_ldap_uri(std::string_view text);

// Must be one parenthesised filter with balanced parentheses containing the {user} placeholder.
std::string check_user_filter(std::string_view text);

// "posix" | "groupofnames" | "memberof".
std::string parse_group_style(std::string_view text, GroupStyle* out);

}  // namespace x2gojump::config_detail
