#include "common/Privileges.h"

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <vector>

namespace x2gojump {
namespace {

[[noreturn]] void fail(const std::string& step) {
  throw std::runtime_error("cannot drop privileges: " + step + ": " + std::strerror(errno));
}

struct Account {
  std::string name;
  uid_t uid;
  gid_t gid;
};

Account look_up(const std::string& user) {
  struct passwd entry {};
  struct passwd* found = nullptr;
  std::vector<char> buffer(16384);
  errno = 0;
  int rc = ::getpwnam_r(user.c_str(), &entry, buffer.data(), buffer.size(), &found);
  if (found == nullptr) {
    throw std::runtime_error("cannot drop privileges: user \"" + user + "\"" +
                             (rc != 0 ? std::string(": ") + std::strerror(rc) : " does not exist"));
  }
  if (entry.pw_uid == 0) {
    throw std::runtime_error("cannot drop privileges: user \"" + user + "\" has uid 0");
  }
  return {entry.pw_name, entry.pw_uid, entry.pw_gid};
}

// Only root-owned regular files change hands, through a descriptor opened without following
// symlinks, so a path swapped for a link cannot give away some other file.
void hand_over_file(const std::string& path, const Account& account) {
  int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) {
    if (errno == ENOENT) return;
    fail("open " + path);
  }
  struct stat info {};
  bool ok = ::fstat(fd, &info) == 0;
  if (ok && S_ISREG(info.st_mode) && info.st_uid == 0) {
    ok = ::fchown(fd, account.uid, account.gid) == 0;
  }
  int saved = errno;
  ::close(fd);
  errno = saved;
  if (!ok) fail("chown " + path + " to " + account.name);
}

void verify(const Account& account) {
  uid_t ruid, euid, suid;
  gid_t rgid, egid, sgid;
  if (::getresuid(&ruid, &euid, &suid) != 0 || ::getresgid(&rgid, &egid, &sgid) != 0) {
    fail("getresuid");
  }
  if (ruid != account.uid || euid != account.uid || suid != account.uid ||
      rgid != account.gid || egid != account.gid || sgid != account.gid) {
    throw std::runtime_error("cannot drop privileges: ids did not change to " + account.name);
  }
  // The kernel must now refuse the way back; if it does not, running on would be a lie.
  if (::setuid(0) == 0 || ::seteuid(0) == 0 || ::setgid(0) == 0) {
    throw std::runtime_error("cannot drop privileges: root could be regained after switching to " +
                             account.name);
  }
}

}  // namespace

void drop_privileges(const std::string& user, const std::vector<std::string>& hand_over) {
  const Account account = look_up(user);
  for (const std::string& path : hand_over) hand_over_file(path, account);
  // Groups first: once the uid changed, setgroups and setgid are no longer allowed.
  if (::initgroups(account.name.c_str(), account.gid) != 0) fail("initgroups");
  if (::setresgid(account.gid, account.gid, account.gid) != 0) fail("setresgid");
  if (::setresuid(account.uid, account.uid, account.uid) != 0) fail("setresuid");
  verify(account);
}

std::string private_file_problem(const std::string& path, bool allow_group) {
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) {
    if (errno == ENOENT) return {};
    return "cannot stat " + path + ": " + std::strerror(errno);
  }
  const mode_t forbidden = allow_group ? S_IRWXO : (S_IRWXG | S_IRWXO);
  if ((info.st_mode & forbidden) == 0) return {};
  char mode[8];
  std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(info.st_mode & 07777));
  return path + " is accessible by " + (allow_group ? "others" : "group or others") + " (mode " +
         mode + "; chmod " + (allow_group ? "o-rwx" : "go-rwx") + " " + path + ")";
}

}  // namespace x2gojump
