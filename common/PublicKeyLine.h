#pragma once
// OpenSSH public key lines ("ssh-ed25519 AAAA... comment"), as found in configs, agent reports and
// /etc/ssh/ssh_host_*_key.pub. One set of rules for the broker's config, the agent and the agent API.
#include <optional>
#include <string>
#include <string_view>

namespace x2gojump {

// Strict padded RFC 4648 base64 (what OpenSSH writes); nullopt for anything else.
std::optional<std::string> decode_base64(std::string_view text);

// Empty if line is "type base64[ comment]" with a supported type, a key blob that starts with
// its own type name (catches pasting the wrong half of a line) followed by key data, and no
// control characters; otherwise why not, in words fit for a config error.
std::string public_key_line_error(std::string_view line);

}  // namespace x2gojump
