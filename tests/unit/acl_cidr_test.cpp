#include "broker/policy/Cidr.h"

#include <gtest/gtest.h>

#include <string>

namespace x2gojump {
namespace {

IpAddress ip(const std::string& text) {
  auto address = parse_ip_address(text);
  EXPECT_TRUE(address.has_value()) << text;
  return address.value_or(IpAddress{});
}

Cidr cidr(const std::string& text) {
  std::string error;
  auto parsed = Cidr::parse(text, &error);
  EXPECT_TRUE(parsed.has_value()) << text << ": " << error;
  return parsed.value_or(Cidr{});
}

std::string parse_error(const std::string& text) {
  std::string error;
  auto parsed = Cidr::parse(text, &error);
  EXPECT_FALSE(parsed.has_value()) << text << " parsed as " << (parsed ? parsed->to_string() : "");
  return error;
}

TEST(CidrTest, ParsesAddresses) {
  EXPECT_TRUE(ip("192.0.2.7").v4);
  EXPECT_FALSE(ip("2001:db8::1").v4);
  EXPECT_EQ(ip("::ffff:192.0.2.7"), ip("192.0.2.7"));  // mapped = the IPv4 host
  EXPECT_EQ(ip("::ffff:c000:207"), ip("192.0.2.7"));
  EXPECT_EQ(ip("fe80::1%eth0"), ip("fe80::1"));  // the zone does not change the host
  EXPECT_FALSE(ip("::192.0.2.7").v4);             // IPv4-compatible is plain IPv6
  for (const char* bad : {"", "localhost", "192.0.2", "192.0.2.256", "1.2.3.4/32", "2001:db8::1::2",
                          " 192.0.2.7", "192.0.2.7 ", "::ffff:1.2.3.4.5"}) {
    EXPECT_FALSE(parse_ip_address(bad).has_value()) << bad;
  }
}

TEST(CidrTest, CanonicalText) {
  EXPECT_EQ(cidr("10.0.0.0/8").to_string(), "10.0.0.0/8");
  EXPECT_EQ(cidr("192.0.2.7").to_string(), "192.0.2.7/32");
  EXPECT_EQ(cidr("::1").to_string(), "::1/128");
  EXPECT_EQ(cidr("2001:0DB8:0000::/32").to_string(), "2001:db8::/32");
  EXPECT_EQ(cidr("0.0.0.0/0").to_string(), "0.0.0.0/0");
  EXPECT_EQ(cidr("::/0").to_string(), "::/0");
  // IPv4-mapped prefixes are IPv4 prefixes.
  EXPECT_EQ(cidr("::ffff:10.0.0.0/104"), cidr("10.0.0.0/8"));
  EXPECT_EQ(cidr("::ffff:0:0/96"), cidr("0.0.0.0/0"));
  EXPECT_EQ(cidr("::ffff:192.0.2.7"), cidr("192.0.2.7/32"));
  for (const char* text : {"10.0.0.0/8", "2001:db8::/32", "::ffff:10.0.0.0/104", "192.0.2.7"}) {
    EXPECT_EQ(cidr(cidr(text).to_string()), cidr(text)) << text;
  }
}

TEST(CidrTest, RejectsMalformed) {
  EXPECT_NE(parse_error("10.0.0.0/33").find("longer than 32"), std::string::npos);
  EXPECT_NE(parse_error("::/129").find("longer than 128"), std::string::npos);
  EXPECT_NE(parse_error("10.1.0.0/8").find("did you mean \"10.0.0.0/8\""), std::string::npos);
  EXPECT_NE(parse_error("2001:db8::1/32").find("did you mean \"2001:db8::/32\""), std::string::npos);
  EXPECT_NE(parse_error("example.org/24").find("not a numeric"), std::string::npos);
  for (const char* bad : {"", "/8", "10.0.0.0/", "10.0.0.0/-1", "10.0.0.0/+8", "10.0.0.0/08",
                          "10.0.0.0/8/8", "10.0.0.0/ 8", "10.0.0.0 /8", "10.0.0.0/1000", "10.0.0/8",
                          "fe80::%eth0/64", "fe80::1%eth0", "::ffff:0:0/80", "10.0.0.0/8x", "*"}) {
    parse_error(bad);
  }
}

TEST(CidrTest, ContainsIpv4) {
  Cidr net = cidr("10.0.0.0/8");
  EXPECT_TRUE(net.contains(ip("10.0.0.0")));
  EXPECT_TRUE(net.contains(ip("10.255.255.255")));
  EXPECT_FALSE(net.contains(ip("11.0.0.0")));
  EXPECT_FALSE(net.contains(ip("9.255.255.255")));
  EXPECT_TRUE(net.contains(ip("::ffff:10.1.2.3")));  // dual-stack listener view of an IPv4 client
  EXPECT_FALSE(net.contains(ip("::a01:203")));       // not mapped: an IPv6 host
  EXPECT_FALSE(net.contains(ip("2001:db8::1")));

  Cidr odd = cidr("192.168.4.0/22");
  EXPECT_TRUE(odd.contains(ip("192.168.7.255")));
  EXPECT_FALSE(odd.contains(ip("192.168.8.0")));
  EXPECT_FALSE(odd.contains(ip("192.168.3.255")));

  Cidr host = cidr("127.0.0.1/32");
  EXPECT_TRUE(host.contains(ip("127.0.0.1")));
  EXPECT_FALSE(host.contains(ip("127.0.0.2")));

  Cidr all = cidr("0.0.0.0/0");
  EXPECT_TRUE(all.contains(ip("255.255.255.255")));
  EXPECT_TRUE(all.contains(ip("::ffff:1.2.3.4")));
  EXPECT_FALSE(all.contains(ip("::1")));
}

TEST(CidrTest, ContainsIpv6) {
  Cidr net = cidr("2001:db8::/32");
  EXPECT_TRUE(net.contains(ip("2001:db8::1")));
  EXPECT_TRUE(net.contains(ip("2001:db8:ffff:ffff:ffff:ffff:ffff:ffff")));
  EXPECT_FALSE(net.contains(ip("2001:db9::")));
  EXPECT_FALSE(net.contains(ip("10.0.0.1")));

  Cidr odd = cidr("2001:db8:80::/41");
  EXPECT_TRUE(odd.contains(ip("2001:db8:ff::1")));
  EXPECT_FALSE(odd.contains(ip("2001:db8:7f::1")));
  EXPECT_FALSE(odd.contains(ip("2001:db8:100::")));

  Cidr all = cidr("::/0");
  EXPECT_TRUE(all.contains(ip("::1")));
  EXPECT_TRUE(all.contains(ip("ffff::")));
  // Families never mix: "every IPv6 client" does not include IPv4 clients.
  EXPECT_FALSE(all.contains(ip("127.0.0.1")));
  EXPECT_FALSE(all.contains(ip("::ffff:127.0.0.1")));

  EXPECT_TRUE(cidr("::1").contains(ip("::1")));
  EXPECT_FALSE(cidr("::1").contains(ip("::2")));
}

TEST(CidrTest, MappedPrefixMatchesIpv4Clients) {
  Cidr mapped = cidr("::ffff:127.0.0.0/104");
  EXPECT_TRUE(mapped.contains(ip("127.0.0.1")));
  EXPECT_TRUE(mapped.contains(ip("::ffff:127.9.9.9")));
  EXPECT_FALSE(mapped.contains(ip("128.0.0.1")));
}

TEST(CidrTest, ContainsPrefix) {
  EXPECT_TRUE(cidr("10.0.0.0/8").contains(cidr("10.1.0.0/16")));
  EXPECT_TRUE(cidr("10.0.0.0/8").contains(cidr("10.0.0.0/8")));
  EXPECT_FALSE(cidr("10.1.0.0/16").contains(cidr("10.0.0.0/8")));
  EXPECT_FALSE(cidr("10.0.0.0/8").contains(cidr("11.0.0.0/16")));
  EXPECT_TRUE(cidr("0.0.0.0/0").contains(cidr("192.0.2.7")));
  EXPECT_FALSE(cidr("::/0").contains(cidr("10.0.0.0/8")));
  EXPECT_FALSE(cidr("0.0.0.0/0").contains(cidr("::/0")));
  EXPECT_TRUE(cidr("2001:db8::/32").contains(cidr("2001:db8:1::/48")));
  EXPECT_FALSE(cidr("2001:db8:1::/48").contains(cidr("2001:db8::/32")));
}

}  // namespace
}  // namespace x2gojump
