#include "broker/ssh/HostKeyCheck.h"

#include <sstream>

#include "broker/ssh/Libssh.h"

namespace x2gojump {

std::string public_key_line(ssh_key key) {
  char* b64 = nullptr;
  if (ssh_pki_export_pubkey_base64(key, &b64) != SSH_OK) return {};
  std::string line = std::string(ssh_key_type_to_char(ssh_key_type(key))) + " " + b64;
  ssh_string_free_char(b64);
  return line;
}

std::string fingerprint(ssh_key key) {
  unsigned char* hash = nullptr;
  size_t len = 0;
  if (ssh_get_publickey_hash(key, SSH_PUBLICKEY_HASH_SHA256, &hash, &len) != SSH_OK) return {};
  char* text = ssh_get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, hash, len);
  ssh_clean_pubkey_hash(&hash);
  if (text == nullptr) return {};
  std::string out(text);
  ssh_string_free_char(text);
  return out;
}

namespace {

// The public key of an OpenSSH public key line; null if there is none.
KeyPtr import_key_line(std::string_view line) {
  std::istringstream fields{std::string(line)};
  std::string type, b64;
  if (!(fields >> type >> b64)) return nullptr;
  ssh_key raw = nullptr;
  if (ssh_pki_import_pubkey_base64(b64.c_str(), ssh_key_type_from_name(type.c_str()), &raw) != SSH_OK) {
    return nullptr;
  }
  return KeyPtr(raw);
}

}  // namespace

std::string fingerprint_of_line(std::string_view line) {
  KeyPtr key = import_key_line(line);
  return key ? fingerprint(key.get()) : std::string();
}

bool matches_pin(ssh_key key, std::string_view pin) {
  KeyPtr pinned = import_key_line(pin);
  return pinned && ssh_key_cmp(key, pinned.get(), SSH_KEY_CMP_PUBLIC) == 0;
}

}  // namespace x2gojump
