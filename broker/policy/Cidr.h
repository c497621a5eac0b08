#pragma once
// IPv4/IPv6 addresses and CIDR prefixes for the pool network rules. Pure, no I/O.
//
// IPv4-mapped IPv6 addresses (::ffff:a.b.c.d, what a dual-stack listener reports for an IPv4
// client) are the IPv4 host they name, so "10.0.0.0/8" matches "::ffff:10.1.2.3". Families never
// mix otherwise: "::/0" matches every IPv6 client and no IPv4 one.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace x2gojump {

struct IpAddress {
  bool v4 = true;
  std::array<std::uint8_t, 16> bytes{};  // network order; an IPv4 address uses bytes[0..3]

  bool operator==(const IpAddress&) const = default;
};

// A numeric IPv4 or IPv6 address; an IPv6 zone ("fe80::1%eth0") is ignored. Mapped IPv6 addresses
// become IPv4. nullopt for anything else (host names, empty text).
std::optional<IpAddress> parse_ip_address(std::string_view text);

class Cidr {
 public:
  // "10.0.0.0/8", "2001:db8::/32", or one address ("192.0.2.7" = /32, "::1" = /128). Bits beyond
  // the prefix must be zero (a typo guard: "10.1.0.0/8" is refused). "::ffff:a.b.c.d/96+n" becomes
  // "a.b.c.d/n". On failure returns nullopt and, if error is given, a message naming the problem.
  static std::optional<Cidr> parse(std::string_view text, std::string* error = nullptr);

  bool v4() const { return network_.v4; }
  int prefix_length() const { return prefix_; }
  bool contains(const IpAddress& address) const;
  // True when every address of other is in this prefix (same family, other at least as long).
  bool contains(const Cidr& other) const;
  // Canonical "address/length" (inet_ntop form); parse(to_string()) gives back the same Cidr.
  std::string to_string() const;

  bool operator==(const Cidr&) const = default;

 private:
  IpAddress network_;
  int prefix_ = 0;
};

}  // namespace x2gojump
