#pragma once
// Reading group names out of LDAP distinguished names.
#include <optional>
#include <string>
#include <string_view>

namespace x2gojump {

// Returns the unescaped value of a "cn" leading RDN ("cn=staff,ou=groups,..." -> "staff"), or
// nullopt if dn does not parse (RFC 4514), its first RDN has no cn, or the value is hex-encoded.
std::optional<std::string> leading_cn(std::string_view dn);

}  // namespace x2gojump
