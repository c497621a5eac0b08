#pragma once
// Choosing and comparing the host keys an agent reports. Pure.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace x2gojump {

// "type base64" of an OpenSSH public key line: the comment and extra blanks dropped, so keys
// compare by value.
std::string key_without_comment(std::string_view line);

// The key the broker's SSH client will be offered by that host, so a learned pin matches what
// the backend presents: libssh prefers ssh-ed25519, then ECDSA (521, 384, 256), then RSA. The
// earliest key of the best type wins; nullopt if keys holds none of these types. Returned
// without comment.
std::optional<std::string> preferred_host_key(const std::vector<std::string>& keys);

// True if one of keys equals key, comments ignored.
bool contains_host_key(const std::vector<std::string>& keys, std::string_view key);

}  // namespace x2gojump
