#pragma once
// Runs a helper program (x2golistsessions_root) and captures its standard output, bounded in time
// and size, without a shell.
#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

namespace x2gojump {

struct CommandLimits {
  std::chrono::milliseconds timeout{10000};
  std::size_t max_output = 4 * 1024 * 1024;
};

// Runs argv (argv[0] an absolute path) in its own process group with stdin from /dev/null,
// stderr inherited and default signal dispositions, and collects stdout into *out. Returns an
// empty string when the program exited with status 0, else the reason (spawn failure, non-zero
// exit, signal, timeout or too much output; the last two kill the whole process group). The
// message never contains the output, which may hold session cookies. Blocks the calling thread.
std::string run_command(const std::vector<std::string>& argv, const CommandLimits& limits,
                        std::string* out);

}  // namespace x2gojump
