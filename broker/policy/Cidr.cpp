#include "broker/policy/Cidr.h"

#include <arpa/inet.h>

namespace x2gojump {
namespace {

bool is_v4_mapped(const std::array<std::uint8_t, 16>& bytes) {
  for (int i = 0; i < 10; ++i) {
    if (bytes[i] != 0) return false;
  }
  return bytes[10] == 0xff && bytes[11] == 0xff;
}

IpAddress unmapped(const std::array<std::uint8_t, 16>& v6) {
  IpAddress address;
  for (int i = 0; i < 4; ++i) address.bytes[i] = v6[12 + i];
  return address;
}

// Without a zone: zones name an interface, not a host, and config entries must not carry one.
std::optional<IpAddress> parse_numeric(const std::string& text) {
  IpAddress address;
  if (inet_pton(AF_INET, text.c_str(), address.bytes.data()) == 1) return address;
  if (inet_pton(AF_INET6, text.c_str(), address.bytes.data()) != 1) return std::nullopt;
  address.v4 = false;
  return address;
}

int width(bool v4) { return v4 ? 32 : 128; }

bool bit(const IpAddress& address, int index) {
  return (address.bytes[index / 8] >> (7 - index % 8)) & 1;
}

// Zeroes every bit from prefix on.
IpAddress masked(IpAddress address, int prefix) {
  for (int i = prefix; i < width(address.v4); ++i) {
    address.bytes[i / 8] &= static_cast<std::uint8_t>(~(1u << (7 - i % 8)));
  }
  return address;
}

std::string address_text(const IpAddress& address) {
  char buffer[INET6_ADDRSTRLEN] = {};
  inet_ntop(address.v4 ? AF_INET : AF_INET6, address.bytes.data(), buffer, sizeof buffer);
  return buffer;
}

std::optional<Cidr> fail(std::string* error, std::string message) {
  if (error) *error = std::move(message);
  return std::nullopt;
}

}  // namespace

std::optional<IpAddress> parse_ip_address(std::string_view text) {
  std::string host(text.substr(0, text.find('%')));
  auto address = parse_numeric(host);
  if (address && !address->v4 && is_v4_mapped(address->bytes)) return unmapped(address->bytes);
  return address;
}

std::optional<Cidr> Cidr::parse(std::string_view text, std::string* error) {
  auto slash = text.find('/');
  std::string host(text.substr(0, slash));
  auto address = parse_numeric(host);
  if (!address) {
    return fail(error, "not a numeric IPv4 or IPv6 address: \"" + host + "\"");
  }
  int prefix = width(address->v4);
  if (slash != std::string_view::npos) {
    std::string_view digits = text.substr(slash + 1);
    if (digits.empty() || digits.size() > 3 || digits.find_first_not_of("0123456789") != std::string_view::npos ||
        (digits.size() > 1 && digits.front() == '0')) {
      return fail(error, "invalid prefix length \"" + std::string(digits) + "\"");
    }
    prefix = std::stoi(std::string(digits));
    if (prefix > width(address->v4)) {
      return fail(error, "prefix length " + std::string(digits) + " is longer than " +
                             std::to_string(width(address->v4)) + " bits");
    }
  }
  if (masked(*address, prefix) != *address) {
    return fail(error, "bits beyond the prefix length are set (did you mean \"" +
                           address_text(masked(*address, prefix)) + "/" + std::to_string(prefix) + "\"?)");
  }
  Cidr cidr;
  if (!address->v4 && prefix >= 96 && is_v4_mapped(address->bytes)) {
    cidr.network_ = unmapped(address->bytes);
    cidr.prefix_ = prefix - 96;
  } else {
    cidr.network_ = *address;
    cidr.prefix_ = prefix;
  }
  return cidr;
}

bool Cidr::contains(const IpAddress& address) const {
  if (address.v4 != network_.v4) return false;
  for (int i = 0; i < prefix_; ++i) {
    if (bit(address, i) != bit(network_, i)) return false;
  }
  return true;
}

bool Cidr::contains(const Cidr& other) const {
  return other.prefix_ >= prefix_ && contains(other.network_);
}

std::string Cidr::to_string() const {
  return address_text(network_) + "/" + std::to_string(prefix_);
}

}  // namespace x2gojump
