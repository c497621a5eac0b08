// leading_cn: the group name taken from a memberOf (or group entry) DN.
#include <gtest/gtest.h>

#include "broker/auth/LdapDn.h"

namespace x2gojump {
namespace {

TEST(LeadingCn, PlainGroupDn) {
  EXPECT_EQ(leading_cn("cn=staff,ou=groups,dc=example,dc=org"), "staff");
}

TEST(LeadingCn, AttributeNameIsCaseInsensitive) {
  EXPECT_EQ(leading_cn("CN=Domain Users,CN=Users,DC=corp,DC=example"), "Domain Users");
  EXPECT_EQ(leading_cn("Cn=x,dc=org"), "x");
}

TEST(LeadingCn, EscapesAreDecoded) {
  EXPECT_EQ(leading_cn("cn=a\\,b,ou=groups,dc=org"), "a,b");
  EXPECT_EQ(leading_cn("cn=a\\2Cb,ou=groups,dc=org"), "a,b");
  EXPECT_EQ(leading_cn("cn=\\23hash,dc=org"), "#hash");
  EXPECT_EQ(leading_cn("cn=caf\\C3\\A9,dc=org"), "caf\xc3\xa9");
  EXPECT_EQ(leading_cn("cn=caf\xc3\xa9,dc=org"), "caf\xc3\xa9");
}

TEST(LeadingCn, OnlyTheFirstRdnCounts) {
  EXPECT_EQ(leading_cn("ou=staff,cn=groups,dc=org"), std::nullopt);
  EXPECT_EQ(leading_cn("uid=xjalice,ou=people,dc=org"), std::nullopt);
}

TEST(LeadingCn, MultiValuedRdnUsesItsCn) {
  EXPECT_EQ(leading_cn("gidNumber=5001+cn=physics,ou=groups,dc=org"), "physics");
}

TEST(LeadingCn, SingleRdnDn) { EXPECT_EQ(leading_cn("cn=physics"), "physics"); }

TEST(LeadingCn, InvalidOrUnusableDnsAreRejected) {
  EXPECT_EQ(leading_cn(""), std::nullopt);
  EXPECT_EQ(leading_cn("not a dn"), std::nullopt);
  EXPECT_EQ(leading_cn("cn=a,,dc=org"), std::nullopt);
  EXPECT_EQ(leading_cn("cn=#04024869,dc=org"), std::nullopt);  // BER-encoded value: not a name
}

TEST(LeadingCn, EmbeddedNulIsNotTruncation) {
  EXPECT_EQ(leading_cn(std::string_view("cn=staff\0,dc=org", 16)), std::nullopt);
}

}  // namespace
}  // namespace x2gojump
