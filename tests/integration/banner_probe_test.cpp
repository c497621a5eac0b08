// BannerProbe against a real sshd, a closed port, a listener that never speaks and servers that
// send something other than an SSH identification line.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "broker/health/BannerProbe.h"
#include "tests/fixtures/SshdBackend.h"
#include "tests/fixtures/TestEnv.h"

namespace x2gojump {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

using test::LoopbackSocket;

// Accepts one connection, sends reply, then closes at once (close_after_reply) or waits for the
// peer to close (or the test to end).
class OneShotServer {
 public:
  explicit OneShotServer(std::string reply, bool close_after_reply = false)
      : listener_(true), reply_(std::move(reply)), close_after_reply_(close_after_reply) {
    if (::pipe2(wake_, O_CLOEXEC) != 0) throw std::runtime_error("pipe");
    thread_ = std::thread([this] { serve(); });
  }
  ~OneShotServer() {
    [[maybe_unused]] auto n = ::write(wake_[1], "x", 1);
    thread_.join();
    ::close(wake_[0]);
    ::close(wake_[1]);
  }
  std::uint16_t port() const { return listener_.port(); }

 private:
  bool wait_readable(int fd) {
    pollfd fds[2] = {{fd, POLLIN, 0}, {wake_[0], POLLIN, 0}};
    return ::poll(fds, 2, 30000) > 0 && !(fds[1].revents & POLLIN);
  }
  void serve() {
    if (!wait_readable(listener_.fd())) return;
    const int fd = ::accept4(listener_.fd(), nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) return;
    if (!reply_.empty()) [[maybe_unused]] auto n = ::send(fd, reply_.data(), reply_.size(), MSG_NOSIGNAL);
    char buffer[256];
    while (!close_after_reply_ && wait_readable(fd) && ::read(fd, buffer, sizeof buffer) > 0) {
    }
    ::close(fd);
  }

  LoopbackSocket listener_;
  std::string reply_;
  bool close_after_reply_;
  int wake_[2] = {-1, -1};
  std::thread thread_;
};

struct Timed {
  ProbeResult result;
  Clock::duration elapsed;
};

Timed probe(std::uint16_t port, std::chrono::milliseconds timeout = 2000ms,
            const std::string& host = "127.0.0.1") {
  boost::asio::io_context io;
  std::optional<ProbeResult> result;
  const auto start = Clock::now();
  probe_ssh_banner(io, host, port, timeout, [&](ProbeResult r) {
    EXPECT_FALSE(result.has_value()) << "done ran twice";
    result = std::move(r);
  });
  EXPECT_FALSE(result.has_value()) << "done ran inside probe_ssh_banner";
  io.run();  // returns once the probe has no work left
  EXPECT_TRUE(result.has_value());
  return {result.value_or(ProbeResult{}), Clock::now() - start};
}

TEST(BannerProbe, RealSshdAnswers) {
  test::TempDir dir("xj-probe");
  test::SshdBackend sshd("probe1", dir.file("probe1"));
  const Timed t = probe(sshd.port());
  EXPECT_TRUE(t.result.ok) << t.result.detail;
  EXPECT_EQ(t.result.detail.rfind("SSH-2.0-OpenSSH", 0), 0u) << t.result.detail;
  EXPECT_EQ(t.result.detail.find('\r'), std::string::npos);

  sshd.stop();
  const Timed stopped = probe(sshd.port());
  EXPECT_FALSE(stopped.result.ok);
  EXPECT_EQ(stopped.result.detail.rfind("connect failed", 0), 0u) << stopped.result.detail;
}

TEST(BannerProbe, ClosedPortFailsFast) {
  LoopbackSocket bound_not_listening(false);
  const Timed t = probe(bound_not_listening.port(), 5000ms);
  EXPECT_FALSE(t.result.ok);
  EXPECT_EQ(t.result.detail.rfind("connect failed: ", 0), 0u) << t.result.detail;
  EXPECT_LT(t.elapsed, 1s);
}

TEST(BannerProbe, SilentServerTimesOut) {
  LoopbackSocket silent(true);  // the kernel completes the handshake; nobody ever writes
  const Timed t = probe(silent.port(), 300ms);
  EXPECT_FALSE(t.result.ok);
  EXPECT_EQ(t.result.detail, "no banner within 300 ms");
  EXPECT_GE(t.elapsed, 300ms);
  EXPECT_LT(t.elapsed, 2s);
}

TEST(BannerProbe, GarbageIsNotABanner) {
  OneShotServer http("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
  const Timed t = probe(http.port());
  EXPECT_FALSE(t.result.ok);
  EXPECT_EQ(t.result.detail, "not an SSH banner: \"HTTP/1.1 400 Bad Request\"");
}

TEST(BannerProbe, ControlBytesInTheDetailAreMasked) {
  OneShotServer evil(std::string("\x1b[31mSSH-2.0-fake") + '\0' + "x\n");
  const Timed t = probe(evil.port());
  EXPECT_FALSE(t.result.ok);
  EXPECT_EQ(t.result.detail, "not an SSH banner: \"?[31mSSH-2.0-fake?x\"");
}

TEST(BannerProbe, AcceptsSsh2AndSsh199Only) {
  for (const char* good : {"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n", "SSH-2.0-x\n", "SSH-1.99-Old_1.0\r\n"}) {
    OneShotServer server(good);
    const Timed t = probe(server.port());
    EXPECT_TRUE(t.result.ok) << good << ": " << t.result.detail;
  }
  for (const char* bad : {"SSH-1.5-Ancient\r\n", "SSH-2.0\r\n", "ssh-2.0-lower\r\n", " SSH-2.0-x\r\n",
                          "\r\n", "220 smtp.example ESMTP\r\n"}) {
    OneShotServer server(bad);
    const Timed t = probe(server.port());
    EXPECT_FALSE(t.result.ok) << bad;
    EXPECT_EQ(t.result.detail.rfind("not an SSH banner", 0), 0u) << t.result.detail;
  }
}

TEST(BannerProbe, LineMustEndWithin256Bytes) {
  OneShotServer long_line("SSH-2.0-" + std::string(300, 'a') + "\r\n");
  Timed t = probe(long_line.port());
  EXPECT_FALSE(t.result.ok);
  EXPECT_EQ(t.result.detail, "no line end in the first 256 bytes");

  OneShotServer fits("SSH-2.0-" + std::string(256 - 8 - 2, 'a') + "\r\n");  // exactly 256 bytes
  t = probe(fits.port());
  EXPECT_TRUE(t.result.ok) << t.result.detail;
  EXPECT_EQ(t.result.detail.size(), 100u);  // the detail is cut for the log
}

TEST(BannerProbe, ALineWithoutItsEndIsNoBanner) {
  OneShotServer waits("SSH-2.0-no-newline");
  Timed t = probe(waits.port(), 300ms);
  EXPECT_FALSE(t.result.ok);
  EXPECT_EQ(t.result.detail, "no banner within 300 ms");

  OneShotServer closes("SSH-2.0-no-newline", true);
  t = probe(closes.port());
  EXPECT_FALSE(t.result.ok);
  EXPECT_EQ(t.result.detail, "closed before a banner");

  OneShotServer silent_close("", true);
  t = probe(silent_close.port());
  EXPECT_FALSE(t.result.ok);
  EXPECT_EQ(t.result.detail, "closed before a banner");
}

TEST(BannerProbe, ManyConcurrentProbesOnOneIoContext) {
  test::TempDir dir("xj-probe");
  test::SshdBackend sshd("probe2", dir.file("probe2"));
  LoopbackSocket closed(false);
  LoopbackSocket silent(true);
  boost::asio::io_context io;
  std::vector<std::optional<ProbeResult>> results(30);
  for (std::size_t i = 0; i < results.size(); ++i) {
    const std::uint16_t port = i % 3 == 0 ? sshd.port() : i % 3 == 1 ? closed.port() : silent.port();
    probe_ssh_banner(io, "127.0.0.1", port, 500ms, [&results, i](ProbeResult r) { results[i] = std::move(r); });
  }
  const auto start = Clock::now();
  io.run();
  EXPECT_LT(Clock::now() - start, 3s);  // concurrently, not 10 x 500 ms one after another
  for (std::size_t i = 0; i < results.size(); ++i) {
    ASSERT_TRUE(results[i].has_value()) << i;
    EXPECT_EQ(results[i]->ok, i % 3 == 0) << i << ": " << results[i]->detail;
  }
}

TEST(BannerProbe, ResolvesHostNames) {
  test::TempDir dir("xj-probe");
  test::SshdBackend sshd("probe3", dir.file("probe3"));
  const Timed by_name = probe(sshd.port(), 2000ms, "localhost");
  // /etc/hosts: ::1 and 127.0.0.1; sshd listens on one of them and the probe tries each.
  EXPECT_TRUE(by_name.result.ok) << by_name.result.detail;
}

}  // namespace
}  // namespace x2gojump
