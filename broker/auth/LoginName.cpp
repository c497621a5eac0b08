#include "broker/auth/LoginName.h"

namespace x2gojump {

namespace {

// Locale-independent on purpose: std::isalnum would accept extra bytes in some locales.
bool is_portable_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-';
}

}  // namespace

bool is_valid_login_name(std::string_view name) {
  if (name.empty() || name.size() > 32) return false;
  if (name.front() == '-' || name.front() == '.') return false;
  for (char c : name) {
    if (!is_portable_char(c)) return false;
  }
  return true;
}

}  // namespace x2gojump
