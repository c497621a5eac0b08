#include "agent/config/TokenFile.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace x2gojump {
namespace {

// Matches the broker's rule for agent_token_file, so a token accepted here is accepted there.
constexpr std::size_t kMinTokenBytes = 16;
// A bigger file is a wrong path (a key, a log), not a token.
constexpr std::size_t kMaxTokenBytes = 4096;

std::string read_all(int fd, const std::string& path, std::string* content) {
  char buffer[1024];
  for (;;) {
    ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return "cannot read " + path + ": " + std::strerror(errno);
    if (n == 0) return {};
    content->append(buffer, static_cast<std::size_t>(n));
    if (content->size() > kMaxTokenBytes)
      return path + " is too large for a token file (over 4 KiB)";
  }
}

std::string check_open_file(int fd, const std::string& path) {
  struct stat info {};
  if (::fstat(fd, &info) != 0) return "cannot stat " + path + ": " + std::strerror(errno);
  if (!S_ISREG(info.st_mode)) return path + " is not a regular file";
  if ((info.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(info.st_mode & 07777));
    return path + " must not be accessible by group or others (mode " + mode + ", use 0600)";
  }
  return {};
}

}  // namespace

std::string read_token_file(const std::string& path, std::string* token) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) return "cannot read " + path + ": " + std::strerror(errno);
  // Checks run on the opened descriptor so the file cannot be swapped between check and read.
  std::string content;
  std::string error = check_open_file(fd, path);
  if (error.empty()) error = read_all(fd, path, &content);
  ::close(fd);
  if (!error.empty()) return error;
  if (content.ends_with("\r\n")) {
    content.resize(content.size() - 2);
  } else if (content.ends_with('\n')) {
    content.pop_back();
  }
  if (content.size() < kMinTokenBytes) {
    return path + ": token must be at least " + std::to_string(kMinTokenBytes) + " bytes";
  }
  for (char c : content) {
    if (c <= ' ' || c > '~')
      return path + ": token may only contain printable ASCII without spaces";
  }
  *token = std::move(content);
  return {};
}

}  // namespace x2gojump
