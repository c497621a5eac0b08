#pragma once
// Where x2gojumpctl finds the broker's control socket when --socket is not given.
#include <string>

namespace x2gojump {

// The [admin] control_socket of the broker configuration at config_path (relative paths taken
// from its directory, as the broker does). A missing file gives the default socket; a file
// without [admin], with control_socket = "" or that cannot be parsed throws std::runtime_error
// with a message for the user. Reads only the [admin] table, so the rest of the file may hold
// keys this x2gojumpctl does not know.
std::string control_socket_path(const std::string& config_path);

}  // namespace x2gojump
