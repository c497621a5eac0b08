#include "broker/ssh/HostKeyCheck.h"

#include <gtest/gtest.h>

#include "broker/ssh/Libssh.h"

namespace x2gojump {
namespace {

KeyPtr generate(enum ssh_keytypes_e type, int bits) {
  ssh_key key = nullptr;
  EXPECT_EQ(ssh_pki_generate(type, bits, &key), SSH_OK);
  return KeyPtr(key);
}

TEST(HostKeyCheck, OwnPublicLineMatches) {
  KeyPtr key = generate(SSH_KEYTYPE_ED25519, 0);
  std::string line = public_key_line(key.get());
  ASSERT_EQ(line.rfind("ssh-ed25519 ", 0), 0u) << line;
  EXPECT_TRUE(matches_pin(key.get(), line));
  EXPECT_TRUE(matches_pin(key.get(), line + " comment with spaces"));
}

TEST(HostKeyCheck, OtherKeyDoesNotMatch) {
  KeyPtr a = generate(SSH_KEYTYPE_ED25519, 0);
  KeyPtr b = generate(SSH_KEYTYPE_ED25519, 0);
  EXPECT_FALSE(matches_pin(a.get(), public_key_line(b.get())));
}

TEST(HostKeyCheck, DifferentTypeDoesNotMatch) {
  KeyPtr ed = generate(SSH_KEYTYPE_ED25519, 0);
  KeyPtr ec = generate(SSH_KEYTYPE_ECDSA_P256, 256);
  EXPECT_FALSE(matches_pin(ed.get(), public_key_line(ec.get())));
}

TEST(HostKeyCheck, MalformedPinsNeverMatch) {
  KeyPtr key = generate(SSH_KEYTYPE_ED25519, 0);
  std::string line = public_key_line(key.get());
  std::string b64 = line.substr(line.find(' ') + 1);
  EXPECT_FALSE(matches_pin(key.get(), ""));
  EXPECT_FALSE(matches_pin(key.get(), "ssh-ed25519"));
  EXPECT_FALSE(matches_pin(key.get(), "ssh-ed25519 !!!notbase64"));
  EXPECT_FALSE(matches_pin(key.get(), "ssh-rsa " + b64));
  EXPECT_FALSE(matches_pin(key.get(), "ssh-ed25519 " + b64.substr(0, b64.size() - 8)));
}

TEST(HostKeyCheck, FingerprintLooksLikeOpenSsh) {
  KeyPtr key = generate(SSH_KEYTYPE_ED25519, 0);
  EXPECT_EQ(fingerprint(key.get()).rfind("SHA256:", 0), 0u);
}

}  // namespace
}  // namespace x2gojump
