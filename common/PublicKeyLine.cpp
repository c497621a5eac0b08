#include "common/PublicKeyLine.h"

#include <algorithm>
#include <array>
#include <cstdint>

namespace x2gojump {
namespace {

constexpr std::array<std::string_view, 5> kKeyTypes = {
    "ssh-ed25519", "ssh-rsa", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521"};

int base64_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

bool is_control(char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; }

}  // namespace

std::optional<std::string> decode_base64(std::string_view text) {
  if (text.empty() || text.size() % 4 != 0) return std::nullopt;
  std::size_t padding = 0;
  while (padding < 2 && text[text.size() - 1 - padding] == '=') ++padding;
  std::string out;
  out.reserve(text.size() / 4 * 3);
  std::uint32_t bits = 0;
  int bit_count = 0;
  for (char c : text.substr(0, text.size() - padding)) {
    const int value = base64_value(c);
    if (value < 0) return std::nullopt;
    bits = (bits << 6) | static_cast<std::uint32_t>(value);
    bit_count += 6;
    if (bit_count >= 8) {
      bit_count -= 8;
      out.push_back(static_cast<char>((bits >> bit_count) & 0xff));
    }
  }
  // Leftover bits must be zero, as an encoder writes them; otherwise two texts decode alike.
  if ((bits & ((1u << bit_count) - 1)) != 0) return std::nullopt;
  return out;
}

std::string public_key_line_error(std::string_view line) {
  if (std::any_of(line.begin(), line.end(), [](char c) { return is_control(c) && c != '\t'; })) {
    return "contains control characters";
  }
  const auto type_end = line.find_first_of(" \t");
  if (type_end == std::string_view::npos) return "expected \"type base64 [comment]\"";
  const std::string_view type = line.substr(0, type_end);
  if (std::find(kKeyTypes.begin(), kKeyTypes.end(), type) == kKeyTypes.end()) {
    return "unsupported key type \"" + std::string(type) + "\"";
  }
  const auto data_begin = line.find_first_not_of(" \t", type_end);
  if (data_begin == std::string_view::npos) return "missing base64 key data";
  const auto data_end = line.find_first_of(" \t", data_begin);
  const auto blob = decode_base64(line.substr(data_begin, data_end - data_begin));
  if (!blob) return "key data is not valid base64";
  if (blob->size() < 4) return "key data is too short";
  // The blob starts with the type as an SSH string (uint32 big-endian length, then the name).
  std::string prefix = {'\0', '\0', '\0', static_cast<char>(type.size())};
  prefix += type;
  if (blob->size() <= prefix.size() || blob->compare(0, prefix.size(), prefix) != 0) {
    return "key data does not match key type \"" + std::string(type) + "\"";
  }
  return {};
}

}  // namespace x2gojump
