#pragma once
// The host's SSH public keys, reported so brokers can pin them without manual copying.
#include <string>
#include <vector>

namespace x2gojump {

// Reads the first key line ("type base64 [comment]") of each OpenSSH public key file and returns
// "type base64", comment dropped. Missing, unreadable or malformed files are skipped with one
// entry in *problems each; keys beyond SnapshotLimits::max_host_keys too.
std::vector<std::string> read_host_keys(const std::vector<std::string>& files,
                                        std::vector<std::string>* problems);

}  // namespace x2gojump
