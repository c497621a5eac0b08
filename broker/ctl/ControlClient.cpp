#include "broker/ctl/ControlClient.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace x2gojump {
namespace {

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

[[noreturn]] void unreachable(const std::string& socket_path, int error) {
  if (error == EACCES || error == EPERM) {
    throw ControlUnreachable("x2gojumpctl: permission denied on " + socket_path +
                             ": run it as root or as a member of the socket's group");
  }
  throw ControlUnreachable("x2gojumpctl: cannot reach the broker at " + socket_path +
                           ": is x2gojump-broker running? (" + std::strerror(error) + ")");
}

}  // namespace

nlohmann::json call_broker(const std::string& socket_path, const ControlRequest& request,
                           std::chrono::milliseconds timeout) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (socket_path.size() >= sizeof address.sun_path) {
    throw ControlUnreachable("x2gojumpctl: socket path too long: " + socket_path);
  }
  std::memcpy(address.sun_path, socket_path.c_str(), socket_path.size() + 1);
  Fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (fd.get() < 0) unreachable(socket_path, errno);
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
    unreachable(socket_path, errno);
  }
  const std::string line = control_request_line(request) + "\n";
  for (std::size_t sent = 0; sent < line.size();) {
    ssize_t n = ::send(fd.get(), line.data() + sent, line.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) unreachable(socket_path, errno);
    sent += static_cast<std::size_t>(n);
  }

  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::string response;
  char buffer[65536];
  while (response.find('\n') == std::string::npos) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    pollfd p{fd.get(), POLLIN, 0};
    int ready = left.count() > 0 ? ::poll(&p, 1, static_cast<int>(left.count())) : 0;
    if (ready < 0 && errno == EINTR) continue;
    if (ready == 0) {
      throw ControlUnreachable("x2gojumpctl: the broker at " + socket_path + " did not answer within " +
                               std::to_string(timeout.count() / 1000) + " s");
    }
    ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw ControlUnreachable("x2gojumpctl: the broker at " + socket_path + " closed the connection");
    response.append(buffer, static_cast<std::size_t>(n));
    if (response.size() > kMaxControlResponseBytes) {
      throw ControlUnreachable("x2gojumpctl: the broker's answer is too large");
    }
  }
  response.resize(response.find('\n'));
  nlohmann::json json = nlohmann::json::parse(response, nullptr, false);
  if (!json.is_object() || !json.contains("ok") || !json["ok"].is_boolean()) {
    throw ControlUnreachable("x2gojumpctl: the broker at " + socket_path + " sent an invalid answer");
  }
  return json;
}

}  // namespace x2gojump
