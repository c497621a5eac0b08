#pragma once
// broker.toml texts the configuration tests build on. Error messages name lines, so the tests
// rely on the line numbers given here.
#include <string>

#include "broker/config/Config.h"

namespace x2gojump::test {

// The smallest valid broker.toml, 10 lines: [broker] 1-2, [ldap] 4-6, one [[server]] "s1" 8-10,
// ending in a newline.
inline constexpr const char* kMinimalBrokerToml = R"([broker]
host_keys = ["/etc/x2gojump/key"]

[ldap]
uris = ["ldap://ldap.example.org"]
base_dn = "dc=example,dc=org"

[[server]]
name = "s1"
address = "10.0.0.1"
)";

// The first error of result as "file:line: key: message", "" if there is none.
inline std::string first_error(const ConfigResult& result) {
  return result.errors.empty() ? "" : result.errors.front().to_string();
}

}  // namespace x2gojump::test
