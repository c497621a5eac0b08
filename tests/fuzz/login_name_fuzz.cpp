// libFuzzer target for is_valid_login_name, the check every user name passes before it reaches
// LDAP. It must agree with an independent statement of the rule, and an accepted name must need no
// escaping in an LDAP filter or DN (so no accepted name can change a query's structure).
// Built and run by scripts/fuzz.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "broker/auth/LdapEscape.h"
#include "broker/auth/LoginName.h"

namespace {

// POSIX portable user names, as broker/auth/LoginName.h documents them.
bool reference_rule(std::string_view name) {
  static constexpr std::string_view kAllowed =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-";
  return !name.empty() && name.size() <= 32 && name[0] != '-' && name[0] != '.' &&
         name.find_first_not_of(kAllowed) == std::string_view::npos;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view name(reinterpret_cast<const char*>(data), size);
  bool valid = x2gojump::is_valid_login_name(name);
  if (valid != reference_rule(name)) std::abort();
  if (valid) {
    if (x2gojump::escape_filter_value(name) != name) std::abort();
    if (x2gojump::escape_dn_value(name) != name) std::abort();
  }
  return 0;
}
