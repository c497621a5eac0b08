#pragma once
// Backend host key pinning: the broker never talks to a backend whose key it cannot verify.
#include <libssh/libssh.h>

#include <string>
#include <string_view>

namespace x2gojump {

// OpenSSH public key line ("type base64 [comment]") of key; empty on failure.
std::string public_key_line(ssh_key key);

// SHA256 fingerprint as OpenSSH prints it ("SHA256:..."); empty on failure.
std::string fingerprint(ssh_key key);

// SHA256 fingerprint ("SHA256:...", as ssh-keygen -l prints it) of an OpenSSH public key line
// ("type base64 [comment]"); empty if the line holds no valid key.
std::string fingerprint_of_line(std::string_view line);

// True iff key equals the public key in pin (an OpenSSH public key line).
bool matches_pin(ssh_key key, std::string_view pin);

}  // namespace x2gojump
