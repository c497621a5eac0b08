// glibc's fortified inline recv()/poll() wrappers would clash with the definitions below.
#undef _FORTIFY_SOURCE
#include "broker/ssh/SocketReadAhead.h"

#include <dlfcn.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

namespace x2gojump::read_ahead {
namespace {

// 64 KiB per system call: 16 of libssh's reads, and small enough to stay in the L2 cache.
constexpr std::size_t kChunk = 64 * 1024;
constexpr int kMaxFd = 1 << 20;

// Registered descriptors of this thread with buffered bytes: poll() looks at its argument only
// when this is non-zero, so every other poll() in the process costs one thread-local load. Its
// address also identifies the thread that owns a slot.
thread_local int t_buffered = 0;
// Chunks of drained slots, reused by the next read on this thread.
thread_local std::vector<std::unique_ptr<char[]>> t_spare;

struct Slot {
  int* owner = &t_buffered;
  std::unique_ptr<char[]> data;  // only while bytes are buffered: idle connections hold nothing
  std::size_t begin = 0;
  std::size_t end = 0;

  bool buffered() const { return begin != end; }
};

// Indexed by descriptor. Zero-initialised, so only the pages of descriptors in use are touched.
std::atomic<Slot*> g_slots[kMaxFd];

using RecvFn = ssize_t (*)(int, void*, std::size_t, int);
using PollFn = int (*)(pollfd*, nfds_t, int);
using CloseFn = int (*)(int);

RecvFn real_recv() {
  static const RecvFn fn = reinterpret_cast<RecvFn>(dlsym(RTLD_NEXT, "recv"));
  return fn;
}
PollFn real_poll() {
  static const PollFn fn = reinterpret_cast<PollFn>(dlsym(RTLD_NEXT, "poll"));
  return fn;
}
CloseFn real_close() {
  static const CloseFn fn = reinterpret_cast<CloseFn>(dlsym(RTLD_NEXT, "close"));
  return fn;
}

bool disabled() {
  static const bool off = [] {
    const char* v = std::getenv("X2GOJUMP_NO_READAHEAD");
    return v != nullptr && *v != '\0' && std::strcmp(v, "0") != 0;
  }();
  return off;
}

// The slot of fd if this thread registered it.
Slot* own_slot(int fd) {
  if (fd < 0 || fd >= kMaxFd) return nullptr;
  Slot* slot = g_slots[fd].load(std::memory_order_acquire);
  return slot != nullptr && slot->owner == &t_buffered ? slot : nullptr;
}

void release(Slot& slot) {
  slot.begin = slot.end = 0;
  if (slot.data && t_spare.size() < 4) t_spare.push_back(std::move(slot.data));
  slot.data.reset();
}

ssize_t buffered_recv(Slot& slot, int fd, void* out, std::size_t len) {
  if (!slot.buffered()) {
    if (len >= kChunk) return real_recv()(fd, out, len, 0);
    if (!slot.data) {
      if (t_spare.empty()) {
        slot.data.reset(new char[kChunk]);
      } else {
        slot.data = std::move(t_spare.back());
        t_spare.pop_back();
      }
    }
    ssize_t n = real_recv()(fd, slot.data.get(), kChunk, 0);
    if (n <= 0) {
      release(slot);
      return n;
    }
    slot.end = static_cast<std::size_t>(n);
    ++t_buffered;
  }
  std::size_t n = std::min(len, slot.end - slot.begin);
  std::memcpy(out, slot.data.get() + slot.begin, n);
  slot.begin += n;
  if (!slot.buffered()) {
    --t_buffered;
    release(slot);
  }
  return static_cast<ssize_t>(n);
}

void forget(int fd) {
  if (fd < 0 || fd >= kMaxFd || g_slots[fd].load(std::memory_order_relaxed) == nullptr) return;
  Slot* slot = g_slots[fd].exchange(nullptr, std::memory_order_acq_rel);
  if (slot == nullptr) return;
  // Only the owner's count is ours to fix; a foreign close happens only at shutdown.
  if (slot->owner == &t_buffered && slot->buffered()) --t_buffered;
  delete slot;
}

}  // namespace

void register_fd(int fd) {
  if (disabled() || fd < 0 || fd >= kMaxFd) return;
  real_recv();  // resolve now, not during the first relayed byte
  real_poll();
  real_close();
  forget(fd);
  g_slots[fd].store(new Slot, std::memory_order_release);
}

}  // namespace x2gojump::read_ahead

namespace ra = x2gojump::read_ahead;

// These replace libc's recv(), poll() and close() for the whole process (symbol interposition);
// anything but a descriptor registered by the calling thread is passed through unchanged.
extern "C" ssize_t recv(int fd, void* buf, std::size_t len, int flags) {
  ra::Slot* slot = ra::own_slot(fd);
  if (slot == nullptr || flags != 0) return ra::real_recv()(fd, buf, len, flags);
  return ra::buffered_recv(*slot, fd, buf, len);
}

// While a registered socket in the set has buffered bytes, it is reported readable at once and the
// system call is skipped; the others are looked at on the next call, once the buffer is drained
// (at most 16 of libssh's reads later).
extern "C" int poll(pollfd* fds, nfds_t nfds, int timeout) {
  if (ra::t_buffered > 0) {
    int ready = 0;
    for (nfds_t i = 0; i < nfds; ++i) {
      ra::Slot* slot = ra::own_slot(fds[i].fd);
      bool buffered = slot != nullptr && slot->buffered() && (fds[i].events & POLLIN);
      fds[i].revents = buffered ? POLLIN : 0;
      ready += buffered;
    }
    if (ready > 0) return ready;
  }
  return ra::real_poll()(fds, nfds, timeout);
}

// Buffered bytes must never reach the next socket that gets the same number.
extern "C" int close(int fd) {
  ra::forget(fd);
  return ra::real_close()(fd);
}
