#include "tests/fuzz/FuzzFiles.h"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace x2gojump::fuzz {
namespace {

void write_file(const std::filesystem::path& path, std::string_view content, mode_t mode) {
  std::ofstream(path) << content;
  ::chmod(path.c_str(), mode);
}

// Owns the directory: created with its files on first use, removed when the process exits.
struct ScratchDirectory {
  ScratchDirectory()
      : path(std::filesystem::temp_directory_path() / ("xj-fuzz-" + std::to_string(::getpid()))) {
    std::filesystem::create_directories(path);
    write_file(path / "bind-password", std::string(kBindPassword) + "\n", 0600);
    write_file(path / "agent-token", std::string(kToken) + "\n", 0600);
    write_file(path / "world-readable", std::string(kToken) + "\n", 0644);
    write_file(path / "empty", "", 0600);
    write_file(path / "ca.pem", "-----BEGIN CERTIFICATE-----\n", 0644);
  }
  ~ScratchDirectory() {
    std::error_code ignored;
    std::filesystem::remove_all(path, ignored);
  }
  std::filesystem::path path;
};

}  // namespace

const std::string& scratch_directory() {
  static const ScratchDirectory directory;
  static const std::string path = directory.path.string();
  return path;
}

bool names_special_files(std::string_view text) {
  for (std::string_view word : {"dev", "proc", "sys"}) {
    if (text.find(word) != std::string_view::npos) return true;
  }
  // TOML escapes and line-ending backslashes could spell those words in a string.
  for (std::size_t i = 0; i + 1 < text.size(); ++i) {
    if (text[i] == '\\' && std::string_view("uU \t\r\n").find(text[i + 1]) != std::string_view::npos) {
      return true;
    }
  }
  return false;
}

}  // namespace x2gojump::fuzz
