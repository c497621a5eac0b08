#pragma once
#include <string_view>

namespace x2gojump {

// True if name is a POSIX portable login name we accept before asking LDAP: 1 to 32 bytes of
// [A-Za-z0-9._-], not starting with '-' or '.'. Rejects everything else (NUL, spaces, '*', UTF-8...).
bool is_valid_login_name(std::string_view name);

}  // namespace x2gojump
