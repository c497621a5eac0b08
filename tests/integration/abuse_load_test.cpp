// Load: 500 concurrent forwarded TCP streams (direct-tcpip channels) through the broker, spread
// over 10 SSH connections from 10 client addresses (so over both backends), each stream moving
// its own random payload to an echo server behind the backends and back. Every stream is open end
// to end before any payload moves (500 channels at once), and each one's echo must match its
// SHA-256 exactly: zero corruption, zero loss, no stream stuck.
//
// Why this shape: it is what an X2Go farm's broker carries (a few SSH connections per user, each
// with NX and forwarded channels), and 500 channels are far more than 2 cores need to show
// cross-talk, window or EOF bugs; 500 separate SSH logins would mostly measure key exchanges.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "tests/fixtures/EchoServer.h"
#include "tests/fixtures/LocalUsers.h"
#include "tests/fixtures/RawClient.h"
#include "tests/fixtures/Testbed.h"

namespace x2gojump::test {
namespace {

using std::chrono::seconds;
using Clock = std::chrono::steady_clock;

constexpr int kConnections = 10;
constexpr int kStreamsPerConnection = 50;
constexpr int kStreams = kConnections * kStreamsPerConnection;
constexpr std::size_t kPayloadBytes = 512 * 1024;

class Sha256 {
 public:
  Sha256() : ctx_(EVP_MD_CTX_new()) { EVP_DigestInit_ex(ctx_, EVP_sha256(), nullptr); }
  ~Sha256() { EVP_MD_CTX_free(ctx_); }
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void update(const char* data, std::size_t n) { EVP_DigestUpdate(ctx_, data, n); }
  std::string hex() {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned len = 0;
    EVP_DigestFinal_ex(ctx_, md, &len);
    static const char* digits = "0123456789abcdef";
    std::string out;
    for (unsigned i = 0; i < len; ++i) {
      out += digits[md[i] >> 4];
      out += digits[md[i] & 15];
    }
    return out;
  }

 private:
  EVP_MD_CTX* ctx_;
};

// Lets every stream wait until all of them are open; gives up at the deadline.
class Gate {
 public:
  explicit Gate(int total) : total_(total) {}
  bool arrive_and_wait(Clock::time_point deadline) {
    std::unique_lock lock(mutex_);
    ++arrived_;
    cv_.notify_all();
    return cv_.wait_until(lock, deadline, [this] { return arrived_ >= total_; });
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  int total_;
  int arrived_ = 0;
};

struct StreamResult {
  bool opened = false;
  bool all_open_at_once = false;
  std::uint64_t received = 0;
  std::string sent_sha, received_sha;
  std::string error;
};

bool read_exact(int fd, std::string& out, std::size_t n, Clock::time_point deadline) {
  while (out.size() < n) {
    pollfd p{fd, POLLIN, 0};
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0 || ::poll(&p, 1, static_cast<int>(left)) <= 0) return false;
    char buf[256];
    ssize_t r = ::read(fd, buf, std::min(sizeof buf, n - out.size()));
    if (r <= 0) return false;
    out.append(buf, static_cast<std::size_t>(r));
  }
  return true;
}

// One stream: open and prove the channel with a hello, wait for all, then send the payload while
// reading the echo (both at once, or the windows would fill up), half-close, read to EOF.
void run_stream(int index, std::uint16_t port, Gate& gate, Clock::time_point deadline, StreamResult& result) {
  int fd = tcp_connect(port, "", seconds(30));
  if (fd < 0) {
    result.error = "connect failed";
    gate.arrive_and_wait(deadline);
    return;
  }
  const std::string hello = "stream-" + std::to_string(100000 + index) + "\n";
  std::string echoed;
  result.opened = send_all(fd, hello) && read_exact(fd, echoed, hello.size(), deadline) && echoed == hello;
  if (!result.opened) result.error = "hello not echoed: " + echoed;
  result.all_open_at_once = gate.arrive_and_wait(deadline);
  if (!result.opened) {
    ::close(fd);
    return;
  }

  std::mt19937_64 gen(static_cast<std::uint64_t>(index) * 7919 + 1);
  std::string payload(kPayloadBytes, '\0');
  for (std::size_t i = 0; i + 8 <= payload.size(); i += 8) {
    std::uint64_t v = gen();
    std::memcpy(&payload[i], &v, 8);
  }
  Sha256 sent_hash, received_hash;
  sent_hash.update(payload.data(), payload.size());
  result.sent_sha = sent_hash.hex();

  std::size_t sent = 0;
  bool eof = false;
  char buf[32768];
  while (!eof) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) {
      result.error = "deadline: sent " + std::to_string(sent) + ", received " + std::to_string(result.received);
      break;
    }
    pollfd p{fd, static_cast<short>(POLLIN | (sent < payload.size() ? POLLOUT : 0)), 0};
    if (::poll(&p, 1, static_cast<int>(std::min<long long>(left, 1000))) < 0) continue;
    if ((p.revents & POLLOUT) && sent < payload.size()) {
      ssize_t w = ::send(fd, payload.data() + sent, std::min<std::size_t>(payload.size() - sent, 65536),
                         MSG_NOSIGNAL | MSG_DONTWAIT);
      if (w > 0) sent += static_cast<std::size_t>(w);
      if (sent == payload.size()) ::shutdown(fd, SHUT_WR);
    }
    if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t r = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
      if (r > 0) {
        received_hash.update(buf, static_cast<std::size_t>(r));
        result.received += static_cast<std::uint64_t>(r);
      } else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
        eof = true;
      }
    }
  }
  result.received_sha = received_hash.hex();
  ::close(fd);
}

TEST(Load, FiveHundredConcurrentStreamsZeroCorruption) {
  raise_fd_limit(8192);  // 500 client sockets + 500 echo sockets in this process
  Testbed tb(TestbedOptions{.limits_extra = "placement_ttl_s = 0\n"});
  EchoServer echo;
  const Testbed::FdBaseline broker_fds = tb.broker_fds_at_rest();
  std::vector<std::unique_ptr<SshMaster>> masters;
  std::vector<std::uint16_t> ports;
  for (int c = 0; c < kConnections; ++c) {
    SshOptions o{.source_address = "127.0.0." + std::to_string(2 + c)};
    masters.push_back(std::make_unique<SshMaster>(tb.broker_client(), "xjalice", test_user("xjalice").password,
                                                  tb.dir().file("ctl-" + std::to_string(c)), o));
    std::uint16_t port = free_port();
    auto r = masters.back()->control(
        "forward", {"-L", "127.0.0.1:" + std::to_string(port) + ":127.0.0.1:" + std::to_string(echo.port())});
    ASSERT_EQ(r.exit_code, 0) << describe(r) << masters.back()->master_stderr();
    ports.push_back(port);
  }
  std::set<std::string> backends;
  for (auto& m : masters) backends.insert(m->run("echo $X2GOJUMP_BACKEND").out);

  Gate gate(kStreams);
  std::vector<StreamResult> results(kStreams);
  const auto start = Clock::now();
  const auto deadline = start + seconds(180);
  {
    std::vector<std::jthread> threads;
    for (int i = 0; i < kStreams; ++i) {
      threads.emplace_back(run_stream, i, ports[static_cast<std::size_t>(i % kConnections)], std::ref(gate),
                           deadline, std::ref(results[static_cast<std::size_t>(i)]));
    }
  }
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();

  int opened = 0, at_once = 0, intact = 0;
  std::uint64_t bytes = 0;
  for (int i = 0; i < kStreams; ++i) {
    const StreamResult& r = results[static_cast<std::size_t>(i)];
    opened += r.opened;
    at_once += r.all_open_at_once;
    bytes += r.received;
    bool ok = r.opened && r.received == kPayloadBytes && r.received_sha == r.sent_sha;
    intact += ok;
    EXPECT_TRUE(ok) << "stream " << i << ": opened=" << r.opened << " received=" << r.received
                    << " sha match=" << (r.received_sha == r.sent_sha) << " " << r.error;
  }
  std::printf("[ figures  ] %d streams over %d SSH connections (%zu backends): %d opened, all %d open at "
              "once: %s; %d intact; %.1f MiB each way in %.1f s (%.1f MiB/s each way)\n",
              kStreams, kConnections, backends.size(), opened, kStreams, at_once == kStreams ? "yes" : "no",
              intact, static_cast<double>(bytes) / (1 << 20), elapsed,
              static_cast<double>(bytes) / (1 << 20) / elapsed);
  EXPECT_EQ(at_once, kStreams) << "not all streams were open at the same time";
  EXPECT_EQ(intact, kStreams);
  EXPECT_GE(echo.connections(), kStreams);
  for (auto& m : masters) EXPECT_TRUE(m->alive()) << m->master_stderr();
  EXPECT_TRUE(tb.broker().running());
  // Everything the 10 connections and 500 channels held is given back.
  masters.clear();
  tb.expect_broker_fds_back_to(broker_fds);
  if (HasFailure()) std::fprintf(stderr, "%s\n", tb.diagnostics().c_str());
}

}  // namespace
}  // namespace x2gojump::test
