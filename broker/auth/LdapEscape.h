#pragma once
// Escaping of untrusted values placed in LDAP search filters (RFC 4515) and DNs (RFC 4514).
#include <string>
#include <string_view>

namespace x2gojump {

// Escapes '*', '(', ')', '\\', NUL and every byte outside printable ASCII as "\\xx" (two lowercase hex
// digits, e.g. "*" -> "\\2a"). Multi-byte UTF-8 is escaped byte by byte, which RFC 4515 allows.
std::string escape_filter_value(std::string_view value);

// Replaces each "{user}" in filter_template with escape_filter_value(user).
std::string expand_filter(std::string_view filter_template, std::string_view user);

// Escapes an attribute value for use inside a DN (RFC 4514): ",+\"\\<>;=", leading space or '#' and
// trailing space get a backslash; NUL and every other byte outside printable ASCII become "\\xx".
std::string escape_dn_value(std::string_view value);

}  // namespace x2gojump
