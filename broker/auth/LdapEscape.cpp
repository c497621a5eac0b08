#include "broker/auth/LdapEscape.h"

namespace x2gojump {

namespace {

constexpr char kHexDigits[] = "0123456789abcdef";

void append_hex_escape(std::string& out, unsigned char byte) {
  out += '\\';
  out += kHexDigits[byte >> 4];
  out += kHexDigits[byte & 0x0f];
}

bool is_printable_ascii(unsigned char byte) { return byte >= 0x20 && byte <= 0x7e; }

}  // namespace

std::string escape_filter_value(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '*' || c == '(' || c == ')' || c == '\\' || !is_printable_ascii(byte)) {
      append_hex_escape(out, byte);
    } else {
      out += c;
    }
  }
  return out;
}

std::string expand_filter(std::string_view filter_template, std::string_view user) {
  constexpr std::string_view kPlaceholder = "{user}";
  const std::string escaped = escape_filter_value(user);
  std::string out;
  out.reserve(filter_template.size() + escaped.size());
  std::size_t pos = 0;
  while (true) {
    const std::size_t hit = filter_template.find(kPlaceholder, pos);
    if (hit == std::string_view::npos) break;
    out.append(filter_template.substr(pos, hit - pos));
    out += escaped;
    pos = hit + kPlaceholder.size();
  }
  out.append(filter_template.substr(pos));
  return out;
}

std::string escape_dn_value(std::string_view value) {
  constexpr std::string_view kSpecial = ",+\"\\<>;=";
  std::string out;
  out.reserve(value.size());
  for (std::size_t i = 0; i < value.size(); ++i) {
    const char c = value[i];
    const auto byte = static_cast<unsigned char>(c);
    const bool leading = i == 0 && (c == ' ' || c == '#');
    const bool trailing = i + 1 == value.size() && c == ' ';
    if (kSpecial.find(c) != std::string_view::npos || leading || trailing) {
      out += '\\';
      out += c;
    } else if (!is_printable_ascii(byte)) {
      // Hex pairs keep the DN pure ASCII, whatever bytes (even invalid UTF-8) the value holds.
      append_hex_escape(out, byte);
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace x2gojump
