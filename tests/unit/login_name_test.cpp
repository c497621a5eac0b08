#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "broker/auth/LoginName.h"

namespace x2gojump {
namespace {

using namespace std::string_view_literals;

class ValidLoginName : public ::testing::TestWithParam<std::string_view> {};

TEST_P(ValidLoginName, Accepted) { EXPECT_TRUE(is_valid_login_name(GetParam())); }

INSTANTIATE_TEST_SUITE_P(LoginName, ValidLoginName,
                         ::testing::Values("a"sv, "Z"sv, "0"sv, "_"sv, "alice"sv, "Alice.Smith"sv,
                                           "bob-2"sv, "_svc"sv, "a.b_c-d"sv, "9lives"sv, "a-"sv,
                                           "a."sv, "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"sv));

class InvalidLoginName : public ::testing::TestWithParam<std::string_view> {};

TEST_P(InvalidLoginName, Rejected) { EXPECT_FALSE(is_valid_login_name(GetParam())); }

INSTANTIATE_TEST_SUITE_P(
    LoginName, InvalidLoginName,
    ::testing::Values(""sv, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456"sv, "-alice"sv, ".alice"sv, "-"sv, "."sv,
                      "*"sv, "al*ce"sv, ")(uid=*"sv, "alice)(|(uid=*"sv, "ali\0ce"sv, "alice\0"sv,
                      "\0"sv, "al ice"sv, " alice"sv, "alice "sv, "j\xc3\xbcrgen"sv, "\xff"sv,
                      "a/b"sv, "../etc"sv, "alice@example.org"sv, "$alice"sv, "alice$"sv,
                      "alice\n"sv, "ali\nce"sv, "alice\t"sv, "a\\b"sv, "a,b"sv, "a=b"sv, "a:b"sv,
                      "a+b"sv, "a#b"sv, "a\"b"sv, "a'b"sv, "a;b"sv, "a<b"sv, "a>b"sv, "a\x7f"sv));

TEST(LoginName, LengthBoundaryIsExactly32Bytes) {
  EXPECT_TRUE(is_valid_login_name(std::string(32, 'a')));
  EXPECT_FALSE(is_valid_login_name(std::string(33, 'a')));
  EXPECT_FALSE(is_valid_login_name(std::string(1000, 'a')));
}

TEST(LoginName, EveryByteOutsideThePortableSetIsRejected) {
  for (int byte = 0; byte < 256; ++byte) {
    const char c = static_cast<char>(byte);
    const bool portable = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                          c == '.' || c == '_' || c == '-';
    const std::string middle = std::string("a") + c + "b";
    EXPECT_EQ(is_valid_login_name(middle), portable) << "byte " << byte;
  }
}

}  // namespace
}  // namespace x2gojump
