#include "broker/config/SecretFile.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace x2gojump::config_detail {
namespace {

// Secrets are short; a bigger file is a wrong path (a key, a log) rather than a secret.
constexpr std::size_t kMaxSecretBytes = 4096;

std::string cannot_read(const std::string& path, int error) {
  return "cannot read " + path + ": " + std::strerror(error);
}

}  // namespace

std::string read_secret_file(const std::string& path, std::string* secret, bool owner_only) {
  // O_NONBLOCK: a FIFO at path must be refused below (not a regular file), not wait for a writer.
  int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) return cannot_read(path, errno);
  // Checks run on the opened descriptor so the file cannot be swapped between check and read.
  struct stat info {};
  std::string error;
  std::string content;
  if (::fstat(fd, &info) != 0) {
    error = cannot_read(path, errno);
  } else if (!S_ISREG(info.st_mode)) {
    error = path + " is not a regular file";
  } else if ((info.st_mode & (owner_only ? (S_IRWXG | S_IRWXO) : S_IROTH)) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(info.st_mode & 07777));
    error = owner_only ? path + " must not be accessible by group or others (mode " + mode + ", use 0600)"
                       : path + " must not be world-readable (mode " + mode + ")";
  } else {
    char buffer[1024];
    while (error.empty()) {
      ssize_t n = ::read(fd, buffer, sizeof buffer);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) error = cannot_read(path, errno);
      if (n <= 0) break;
      content.append(buffer, static_cast<std::size_t>(n));
      if (content.size() > kMaxSecretBytes) error = path + " is too large for a secret file (over 4 KiB)";
    }
  }
  ::close(fd);
  if (!error.empty()) return error;
  if (content.ends_with("\r\n")) {
    content.resize(content.size() - 2);
  } else if (content.ends_with('\n')) {
    content.pop_back();
  }
  if (content.empty()) return path + " is empty";
  *secret = std::move(content);
  return {};
}

}  // namespace x2gojump::config_detail
