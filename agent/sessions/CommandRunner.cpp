#include "agent/sessions/CommandRunner.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

extern char** environ;

namespace x2gojump {
namespace {

using Clock = std::chrono::steady_clock;

// posix_spawn's attribute and file-action objects, destroyed on every path.
struct SpawnSetup {
  posix_spawnattr_t attributes;
  posix_spawn_file_actions_t actions;
  SpawnSetup() {
    posix_spawnattr_init(&attributes);
    posix_spawn_file_actions_init(&actions);
  }
  ~SpawnSetup() {
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attributes);
  }
};

// The agent ignores SIGPIPE and dispositions set to SIG_IGN survive exec; the child gets the
// defaults back, an empty signal mask and its own process group (so a timeout kills its helpers).
int prepare(SpawnSetup* setup, int stdout_fd) {
  sigset_t defaults;
  sigemptyset(&defaults);
  for (int sig : {SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGCHLD}) sigaddset(&defaults, sig);
  sigset_t empty;
  sigemptyset(&empty);
  int rc = posix_spawnattr_setflags(
      &setup->attributes, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
  if (rc == 0) rc = posix_spawnattr_setpgroup(&setup->attributes, 0);
  if (rc == 0) rc = posix_spawnattr_setsigdefault(&setup->attributes, &defaults);
  if (rc == 0) rc = posix_spawnattr_setsigmask(&setup->attributes, &empty);
  if (rc == 0) {
    rc = posix_spawn_file_actions_addopen(&setup->actions, 0, "/dev/null", O_RDONLY, 0);
  }
  if (rc == 0) rc = posix_spawn_file_actions_adddup2(&setup->actions, stdout_fd, 1);
  return rc;
}

std::string describe_status(int status) {
  if (WIFEXITED(status)) {
    return WEXITSTATUS(status) == 0 ? std::string()
                                    : "exited with status " + std::to_string(WEXITSTATUS(status));
  }
  if (WIFSIGNALED(status)) return "killed by signal " + std::to_string(WTERMSIG(status));
  return "ended with wait status " + std::to_string(status);
}

// Reads the pipe until EOF; returns a reason when the deadline passes or the output is too big.
std::string drain(int fd, Clock::time_point deadline, std::size_t max_output, std::string* out) {
  char buffer[65536];
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return "timed out";
    pollfd entry{fd, POLLIN, 0};
    int ready = ::poll(&entry, 1, static_cast<int>(left.count()) + 1);
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0) return std::string("poll failed: ") + std::strerror(errno);
    if (ready == 0) continue;
    ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n < 0) return std::string("read failed: ") + std::strerror(errno);
    if (n == 0) return {};
    if (out->size() + static_cast<std::size_t>(n) > max_output) {
      return "printed more than " + std::to_string(max_output) + " bytes";
    }
    out->append(buffer, static_cast<std::size_t>(n));
  }
}

// Waits for pid until the deadline. A child that closed stdout but keeps running is polled rather
// than waited for, so the deadline holds.
bool reap(pid_t pid, Clock::time_point deadline, int* status) {
  for (;;) {
    pid_t done = ::waitpid(pid, status, WNOHANG);
    if (done == pid) return true;
    if (done < 0 && errno != EINTR) return false;
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

}  // namespace

std::string run_command(const std::vector<std::string>& argv, const CommandLimits& limits,
                        std::string* out) {
  if (argv.empty() || !argv[0].starts_with('/')) return "program must be an absolute path";
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) return std::string("pipe: ") + std::strerror(errno);

  std::vector<char*> args;
  for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);

  SpawnSetup setup;
  pid_t pid = -1;
  int rc = prepare(&setup, pipe_fds[1]);
  if (rc == 0)
    rc = posix_spawn(&pid, args[0], &setup.actions, &setup.attributes, args.data(), environ);
  ::close(pipe_fds[1]);
  if (rc != 0) {
    ::close(pipe_fds[0]);
    return "cannot run " + argv[0] + ": " + std::strerror(rc);
  }

  auto deadline = Clock::now() + limits.timeout;
  out->clear();
  std::string error = drain(pipe_fds[0], deadline, limits.max_output, out);
  ::close(pipe_fds[0]);
  int status = 0;
  if (error.empty() && !reap(pid, deadline, &status)) error = "timed out";
  if (!error.empty()) {
    ::kill(-pid, SIGKILL);
    ::waitpid(pid, &status, 0);
    out->clear();
    return argv[0] + " " + error;
  }
  error = describe_status(status);
  if (!error.empty()) {
    out->clear();
    return argv[0] + " " + error;
  }
  return {};
}

}  // namespace x2gojump
