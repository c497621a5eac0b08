#pragma once
// A scratch directory with the files fuzzed configurations may name (secrets with safe and unsafe
// modes, an empty one, a CA bundle), so that the loaders' file checks are reached. Removed at exit.
#include <string>
#include <string_view>

namespace x2gojump::fuzz {

// The secret texts the files hold; no error message may ever contain them.
inline constexpr std::string_view kBindPassword = "fuzz-bind-password-Secret1";
inline constexpr std::string_view kToken = "fuzz-token-0123456789abcdefSecret2";

// Creates the directory on first use and returns its path (no trailing '/').
const std::string& scratch_directory();

// True if text could name a path under /dev, /proc or /sys, where opening a file can block or have
// side effects; such inputs are skipped rather than handed to a loader that opens the files named.
bool names_special_files(std::string_view text);

}  // namespace x2gojump::fuzz
