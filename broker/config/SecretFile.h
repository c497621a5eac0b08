#pragma once
// Reads a secret (LDAP bind password, agent token) from a file. Internal to xj_config.
#include <string>

namespace x2gojump::config_detail {

// Reads the whole file at path into *secret, dropping one trailing "\n" or "\r\n". Fails if the
// file is not a regular file, is world-readable (or has any group/other bit when owner_only),
// is empty, is over 4 KiB or cannot be read. Returns an empty string on success, else a message;
// the message never contains file contents.
std::string read_secret_file(const std::string& path, std::string* secret, bool owner_only = false);

}  // namespace x2gojump::config_detail
