#pragma once
// Keeps SIGPIPE from killing the process while libldap writes to a socket the peer has closed
// (libldap uses write(), not send(MSG_NOSIGNAL)), without touching the process-wide disposition.
#include <signal.h>

namespace x2gojump {

// Blocks SIGPIPE in the calling thread for its lifetime; on destruction discards a SIGPIPE raised
// meanwhile and restores the previous mask. The write itself still fails with EPIPE.
class SigpipeGuard {
 public:
  SigpipeGuard();
  ~SigpipeGuard();
  SigpipeGuard(const SigpipeGuard&) = delete;
  SigpipeGuard& operator=(const SigpipeGuard&) = delete;

 private:
  sigset_t previous_mask_;
  bool was_pending_ = false;
};

}  // namespace x2gojump
