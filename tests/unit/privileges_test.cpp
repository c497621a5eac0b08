// The privilege drop runs in a forked child (it cannot be undone); the child reports what it sees
// through its exit code and a pipe.
#include <gtest/gtest.h>
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <functional>
#include <string>

#include "common/Privileges.h"

namespace x2gojump {
namespace {

// A private temp dir with files of chosen modes.
class Files {
 public:
  Files() {
    char dir[] = "/tmp/xj-priv-XXXXXX";
    if (::mkdtemp(dir) == nullptr) throw std::runtime_error("mkdtemp");
    dir_ = dir;
    ::chmod(dir, 0755);  // the user the tests switch to must reach the files
  }
  ~Files() { std::system(("rm -rf '" + dir_ + "'").c_str()); }
  std::string make(const std::string& name, mode_t mode) {
    std::string path = dir_ + "/" + name;
    std::ofstream(path) << "secret\n";
    ::chmod(path.c_str(), mode);
    return path;
  }
  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
};

// Runs body in a child; the child's message (empty = success) comes back through a pipe.
std::string in_child(const std::function<std::string()>& body) {
  int fds[2];
  if (::pipe(fds) != 0) return "pipe failed";
  pid_t pid = ::fork();
  if (pid == 0) {
    ::close(fds[0]);
    std::string message;
    try {
      message = body();
    } catch (const std::exception& e) {
      message = std::string("exception: ") + e.what();
    }
    (void)!::write(fds[1], message.data(), message.size());
    ::_exit(0);
  }
  ::close(fds[1]);
  std::string message;
  char buffer[512];
  for (ssize_t n; (n = ::read(fds[0], buffer, sizeof buffer)) > 0;) message.append(buffer, n);
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (!WIFEXITED(status)) return "child died";
  return message;
}

TEST(DropPrivileges, SwitchesEveryIdAndCannotGoBack) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root";
  const passwd* nobody = ::getpwnam("nobody");
  ASSERT_NE(nobody, nullptr);
  const uid_t uid = nobody->pw_uid;
  const gid_t gid = nobody->pw_gid;
  std::string result = in_child([&]() -> std::string {
    drop_privileges("nobody");
    uid_t r, e, s;
    gid_t rg, eg, sg;
    ::getresuid(&r, &e, &s);
    ::getresgid(&rg, &eg, &sg);
    if (r != uid || e != uid || s != uid) return "uid not switched";
    if (rg != gid || eg != gid || sg != gid) return "gid not switched";
    gid_t groups[64];
    int count = ::getgroups(64, groups);
    for (int i = 0; i < count; ++i) {
      if (groups[i] == 0) return "still in group root";
    }
    if (::setuid(0) == 0 || ::seteuid(0) == 0) return "regained root";
    if (::setgroups(0, nullptr) == 0) return "could still set groups";
    return "";
  });
  EXPECT_EQ(result, "");
}

TEST(DropPrivileges, HandsRootOwnedFilesToTheUser) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root";
  Files files;
  std::string db = files.make("state.db", 0600);
  std::string missing = files.dir() + "/state.db-wal";
  const passwd* nobody = ::getpwnam("nobody");
  ASSERT_NE(nobody, nullptr);
  const uid_t uid = nobody->pw_uid;
  EXPECT_EQ(in_child([&]() -> std::string {
              drop_privileges("nobody", {db, missing});
              // The user may now write the file root created.
              std::ofstream out(db, std::ios::app);
              return out ? "" : "cannot write the handed-over file";
            }),
            "");
  struct stat info {};
  ASSERT_EQ(::stat(db.c_str(), &info), 0);
  EXPECT_EQ(info.st_uid, uid);
  EXPECT_EQ(info.st_mode & 07777, 0600u);
}

TEST(DropPrivileges, LeavesSymlinksAndOtherOwnersAlone) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root";
  Files files;
  std::string target = files.make("target", 0600);
  std::string link = files.dir() + "/link";
  ASSERT_EQ(::symlink(target.c_str(), link.c_str()), 0);
  std::string result = in_child([&] {
    drop_privileges("nobody", {link});
    return std::string("dropped");
  });
  EXPECT_NE(result.find("cannot drop privileges: open " + link), std::string::npos) << result;
  struct stat info {};
  ASSERT_EQ(::stat(target.c_str(), &info), 0);
  EXPECT_EQ(info.st_uid, 0u);
}

TEST(DropPrivileges, RefusesUnknownUsersAndRoot) {
  // Both are refused before anything changes, so no child is needed.
  try {
    drop_privileges("xj-no-such-user");
    FAIL() << "no exception";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "cannot drop privileges: user \"xj-no-such-user\" does not exist");
  }
  try {
    drop_privileges("root");
    FAIL() << "no exception";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "cannot drop privileges: user \"root\" has uid 0");
  }
}

TEST(PrivateFile, AcceptsPrivateAndMissingFiles) {
  Files files;
  EXPECT_EQ(private_file_problem(files.make("a", 0600), false), "");
  EXPECT_EQ(private_file_problem(files.make("b", 0400), false), "");
  EXPECT_EQ(private_file_problem(files.make("c", 0640), true), "");
  EXPECT_EQ(private_file_problem(files.make("d", 0660), true), "");
  EXPECT_EQ(private_file_problem(files.dir() + "/missing", false), "");
}

TEST(PrivateFile, RefusesAccessByOthersAndUnlessAllowedByTheGroup) {
  Files files;
  std::string group_readable = files.make("g", 0640);
  EXPECT_EQ(private_file_problem(group_readable, false),
            group_readable + " is accessible by group or others (mode 0640; chmod go-rwx " +
                group_readable + ")");
  std::string world_readable = files.make("w", 0604);
  EXPECT_EQ(private_file_problem(world_readable, true),
            world_readable + " is accessible by others (mode 0604; chmod o-rwx " + world_readable +
                ")");
  EXPECT_NE(private_file_problem(files.make("x", 0602), true), "");   // world-writable
  EXPECT_NE(private_file_problem(files.make("y", 0601), true), "");   // even execute only
  EXPECT_NE(private_file_problem(files.make("z", 0620), false), "");  // group-writable
}

}  // namespace
}  // namespace x2gojump
