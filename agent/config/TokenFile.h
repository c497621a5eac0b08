#pragma once
// Reads the bearer token an agent presents to one broker.
#include <string>

namespace x2gojump {

// Reads the token at path into *token, dropping one trailing "\n" or "\r\n". The file must be a
// regular file without any group or other permission bits (0600 or 0400), and the token at least
// 16 bytes of printable ASCII without spaces (it travels in an HTTP header). Returns an empty
// string on success, else a message that never contains the file's contents.
std::string read_token_file(const std::string& path, std::string* token);

}  // namespace x2gojump
