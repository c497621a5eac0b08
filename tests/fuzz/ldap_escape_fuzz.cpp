// libFuzzer target for LDAP filter and DN escaping (RFC 4515, RFC 4514) and for leading_cn, which
// parses group DNs the directory returns. Properties checked on every input:
//  - escape_filter_value yields printable ASCII in which '*', '(', ')' and '\' occur only as part
//    of "\xx" escapes, and unescaping gives the input back;
//  - expand_filter never changes a filter's structure: the user part (after the first NUL) adds no
//    parenthesis and no wildcard to the template (before it; templates with a stray backslash,
//    which the admin writes, are left out);
//  - escape_dn_value yields printable ASCII, and libldap's DN parser reads the value back unchanged;
//  - leading_cn never crashes on arbitrary DNs.
// Built and run by scripts/fuzz.
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

#include "broker/auth/LdapDn.h"
#include "broker/auth/LdapEscape.h"

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;  // escapes are lowercase by contract
}

// Undoes escape_filter_value; nullopt if escaped is not of the promised shape.
std::optional<std::string> unescape_filter_value(std::string_view escaped) {
  std::string out;
  for (std::size_t i = 0; i < escaped.size(); ++i) {
    char c = escaped[i];
    if (c < 0x20 || c > 0x7e || c == '*' || c == '(' || c == ')') return std::nullopt;
    if (c != '\\') {
      out += c;
      continue;
    }
    if (i + 2 >= escaped.size()) return std::nullopt;
    int high = hex_value(escaped[i + 1]);
    int low = hex_value(escaped[i + 2]);
    if (high < 0 || low < 0) return std::nullopt;
    out += static_cast<char>(high * 16 + low);
    i += 2;
  }
  return out;
}

// Parentheses and wildcards that are not inside a "\xx" escape.
std::size_t structure_count(std::string_view filter) {
  std::size_t count = 0;
  for (std::size_t i = 0; i < filter.size(); ++i) {
    if (filter[i] == '\\') {
      i += 2;
    } else if (filter[i] == '(' || filter[i] == ')' || filter[i] == '*') {
      ++count;
    }
  }
  return count;
}

// True if every backslash in text starts a "\\xx" escape. A template that breaks this (admin
// configuration, e.g. "\\{user}") could pair its backslash with the user part's escapes.
bool escapes_well_formed(std::string_view text) {
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\\') continue;
    if (i + 2 >= text.size() || !std::isxdigit(static_cast<unsigned char>(text[i + 1])) ||
        !std::isxdigit(static_cast<unsigned char>(text[i + 2]))) {
      return false;
    }
    i += 2;
  }
  return true;
}

bool printable_ascii(std::string_view text) {
  for (char c : text) {
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace x2gojump;
  std::string_view input(reinterpret_cast<const char*>(data), size);

  std::string filter_value = escape_filter_value(input);
  std::optional<std::string> round_trip = unescape_filter_value(filter_value);
  if (!round_trip || *round_trip != input) std::abort();

  std::size_t nul = input.find('\0');
  if (nul != std::string_view::npos && escapes_well_formed(input.substr(0, nul))) {
    std::string_view filter_template = input.substr(0, nul);
    std::string_view user = input.substr(nul + 1);
    std::string expanded = expand_filter(filter_template, user);
    std::string without_user = expand_filter(filter_template, "");
    if (structure_count(expanded) != structure_count(without_user)) std::abort();
  }

  std::string dn_value = escape_dn_value(input);
  if (!printable_ascii(dn_value)) std::abort();
  std::optional<std::string> cn = leading_cn("cn=" + dn_value + ",ou=groups,dc=example,dc=org");
  if (!cn || *cn != input) std::abort();

  (void)leading_cn(input);
  return 0;
}
