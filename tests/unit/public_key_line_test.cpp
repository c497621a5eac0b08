#include "common/PublicKeyLine.h"

#include <gtest/gtest.h>

namespace x2gojump {
namespace {

// ssh-ed25519 blob: "\0\0\0\x0bssh-ed25519" + 32 key bytes.
const std::string kEd25519 =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl";

TEST(DecodeBase64, RoundTripsPaddedText) {
  EXPECT_EQ(decode_base64("aGVsbG8="), "hello");
  EXPECT_EQ(decode_base64("aGVsbA=="), "hell");
  EXPECT_EQ(decode_base64("aGVs"), "hel");
}

TEST(DecodeBase64, RejectsWhatOpensshNeverWrites) {
  EXPECT_FALSE(decode_base64(""));
  EXPECT_FALSE(decode_base64("aGVsbG8"));     // unpadded
  EXPECT_FALSE(decode_base64("aGV$bG8="));    // alphabet
  EXPECT_FALSE(decode_base64("aGVsbG9="));    // non-zero leftover bits
  EXPECT_FALSE(decode_base64("a==="));        // too much padding
  EXPECT_FALSE(decode_base64("aG=s"));        // padding inside
}

TEST(PublicKeyLine, AcceptsKeyWithAndWithoutComment) {
  EXPECT_EQ(public_key_line_error(kEd25519), "");
  EXPECT_EQ(public_key_line_error(kEd25519 + " root@x2go-host-1"), "");
  EXPECT_EQ(public_key_line_error("ssh-ed25519\t" + kEd25519.substr(12)), "");
}

TEST(PublicKeyLine, SaysWhatIsWrong) {
  EXPECT_EQ(public_key_line_error("ssh-ed25519"), "expected \"type base64 [comment]\"");
  EXPECT_EQ(public_key_line_error("ssh-dss AAAA"), "unsupported key type \"ssh-dss\"");
  EXPECT_EQ(public_key_line_error("ssh-ed25519 "), "missing base64 key data");
  EXPECT_EQ(public_key_line_error("ssh-ed25519 ***"), "key data is not valid base64");
  EXPECT_EQ(public_key_line_error("ssh-rsa" + kEd25519.substr(11)),
            "key data does not match key type \"ssh-rsa\"");
  EXPECT_EQ(public_key_line_error(kEd25519 + " evil\ncomment"), "contains control characters");
}

TEST(PublicKeyLine, BlobHoldingOnlyTheTypeNameIsNotAKey) {
  EXPECT_NE(public_key_line_error("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5"), "");
}

}  // namespace
}  // namespace x2gojump
