#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "broker/auth/LdapEscape.h"

namespace x2gojump {
namespace {

using namespace std::string_view_literals;

TEST(EscapeFilterValue, PlainValueIsUnchanged) {
  EXPECT_EQ(escape_filter_value("alice"), "alice");
  EXPECT_EQ(escape_filter_value("Alice.Smith_2-x"), "Alice.Smith_2-x");
  EXPECT_EQ(escape_filter_value(""), "");
  EXPECT_EQ(escape_filter_value("a b"), "a b");
}

TEST(EscapeFilterValue, SpecialCharactersUseLowercaseHex) {
  EXPECT_EQ(escape_filter_value("*"), "\\2a");
  EXPECT_EQ(escape_filter_value("("), "\\28");
  EXPECT_EQ(escape_filter_value(")"), "\\29");
  EXPECT_EQ(escape_filter_value("\\"), "\\5c");
  EXPECT_EQ(escape_filter_value("\0"sv), "\\00");
}

TEST(EscapeFilterValue, ClassicInjections) {
  EXPECT_EQ(escape_filter_value(")(uid=*"), "\\29\\28uid=\\2a");
  EXPECT_EQ(escape_filter_value("admin)(|(uid=*"), "admin\\29\\28|\\28uid=\\2a");
  EXPECT_EQ(escape_filter_value("*)(objectClass=*"), "\\2a\\29\\28objectClass=\\2a");
  EXPECT_EQ(escape_filter_value("admin\0extra"sv), "admin\\00extra");
  EXPECT_EQ(escape_filter_value("a\\2a"), "a\\5c2a");
}

TEST(EscapeFilterValue, NonAsciiAndControlBytesAreEscapedBytewise) {
  EXPECT_EQ(escape_filter_value("\xff"), "\\ff");
  EXPECT_EQ(escape_filter_value("\x80\xfe"), "\\80\\fe");
  EXPECT_EQ(escape_filter_value("j\xc3\xbcrgen"), "j\\c3\\bcrgen");         // "jürgen"
  EXPECT_EQ(escape_filter_value("\xe2\x82\xac"), "\\e2\\82\\ac");           // "€"
  EXPECT_EQ(escape_filter_value("\xf0\x9f\x98\x80"), "\\f0\\9f\\98\\80");   // emoji
  EXPECT_EQ(escape_filter_value("a\nb\tc\r\x7f\x1f"), "a\\0ab\\09c\\0d\\7f\\1f");
}

TEST(EscapeFilterValue, OutputNeverContainsFilterMetacharactersUnescaped) {
  for (int byte = 0; byte < 256; ++byte) {
    const std::string value(1, static_cast<char>(byte));
    const std::string escaped = escape_filter_value(value);
    const bool kept = byte >= 0x20 && byte <= 0x7e && byte != '*' && byte != '(' && byte != ')' &&
                      byte != '\\';
    if (kept) {
      EXPECT_EQ(escaped, value) << "byte " << byte;
    } else {
      ASSERT_EQ(escaped.size(), 3u) << "byte " << byte;
      EXPECT_EQ(escaped[0], '\\');
      EXPECT_EQ(std::stoi(escaped.substr(1), nullptr, 16), byte);
      EXPECT_EQ(escaped.substr(1).find_first_of("ABCDEF"), std::string::npos);
    }
  }
}

TEST(ExpandFilter, ReplacesEveryPlaceholderWithEscapedUser) {
  EXPECT_EQ(expand_filter("(uid={user})", "alice"), "(uid=alice)");
  EXPECT_EQ(expand_filter("(|(uid={user})(mail={user})(cn={user}))", "a*"),
            "(|(uid=a\\2a)(mail=a\\2a)(cn=a\\2a))");
  EXPECT_EQ(expand_filter("{user}{user}", "x"), "xx");
  EXPECT_EQ(expand_filter("{user}", ")(uid=*"), "\\29\\28uid=\\2a");
}

TEST(ExpandFilter, InjectionStaysInsideTheAssertionValue) {
  EXPECT_EQ(expand_filter("(&(objectClass=posixAccount)(uid={user}))", "admin)(|(uid=*"),
            "(&(objectClass=posixAccount)(uid=admin\\29\\28|\\28uid=\\2a))");
  EXPECT_EQ(expand_filter("(uid={user})", "x\0y"sv), "(uid=x\\00y)");
}

TEST(ExpandFilter, TemplateWithoutPlaceholderIsUnchanged) {
  EXPECT_EQ(expand_filter("(objectClass=posixAccount)", "alice"), "(objectClass=posixAccount)");
  EXPECT_EQ(expand_filter("", "alice"), "");
  EXPECT_EQ(expand_filter("{usr} {User} {user", "alice"), "{usr} {User} {user");
}

TEST(ExpandFilter, PlaceholderInsideUserIsNotExpandedAgain) {
  EXPECT_EQ(expand_filter("(uid={user})", "{user}"), "(uid={user})");
  EXPECT_EQ(expand_filter("{{user}}", "a"), "{a}");
  EXPECT_EQ(expand_filter("(uid={user})", ""), "(uid=)");
}

TEST(EscapeDnValue, PlainValueIsUnchanged) {
  EXPECT_EQ(escape_dn_value("alice"), "alice");
  EXPECT_EQ(escape_dn_value("Alice Smith"), "Alice Smith");
  EXPECT_EQ(escape_dn_value("a#b"), "a#b");
  EXPECT_EQ(escape_dn_value("*()"), "*()");
  EXPECT_EQ(escape_dn_value(""), "");
}

TEST(EscapeDnValue, SpecialCharactersGetABackslash) {
  EXPECT_EQ(escape_dn_value(","), "\\,");
  EXPECT_EQ(escape_dn_value("+"), "\\+");
  EXPECT_EQ(escape_dn_value("\""), "\\\"");
  EXPECT_EQ(escape_dn_value("\\"), "\\\\");
  EXPECT_EQ(escape_dn_value("<"), "\\<");
  EXPECT_EQ(escape_dn_value(">"), "\\>");
  EXPECT_EQ(escape_dn_value(";"), "\\;");
  EXPECT_EQ(escape_dn_value("="), "\\=");
  EXPECT_EQ(escape_dn_value("alice,ou=admins,dc=example"), "alice\\,ou\\=admins\\,dc\\=example");
  EXPECT_EQ(escape_dn_value("a+cn=b"), "a\\+cn\\=b");
}

TEST(EscapeDnValue, LeadingAndTrailingPositions) {
  EXPECT_EQ(escape_dn_value(" alice"), "\\ alice");
  EXPECT_EQ(escape_dn_value("alice "), "alice\\ ");
  EXPECT_EQ(escape_dn_value("#alice"), "\\#alice");
  EXPECT_EQ(escape_dn_value("alice#"), "alice#");
  EXPECT_EQ(escape_dn_value(" "), "\\ ");
  EXPECT_EQ(escape_dn_value("  "), "\\ \\ ");
  EXPECT_EQ(escape_dn_value("   "), "\\  \\ ");
  EXPECT_EQ(escape_dn_value("#"), "\\#");
}

TEST(EscapeDnValue, NulControlAndNonAsciiBytesBecomeHexPairs) {
  EXPECT_EQ(escape_dn_value("\0"sv), "\\00");
  EXPECT_EQ(escape_dn_value("a\0b"sv), "a\\00b");
  EXPECT_EQ(escape_dn_value("a\nb"), "a\\0ab");
  EXPECT_EQ(escape_dn_value("\xff"), "\\ff");
  EXPECT_EQ(escape_dn_value("j\xc3\xbcrgen"), "j\\c3\\bcrgen");
}

}  // namespace
}  // namespace x2gojump
