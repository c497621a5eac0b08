#pragma once
// Process-wide logging: spdlog to stderr (journald captures it under systemd).
#include <spdlog/spdlog.h>
#include <string_view>

namespace x2gojump {

// Configures the default logger once at start-up. level: trace|debug|info|warn|error.
void init_logging(std::string_view level);

}  // namespace x2gojump
