#pragma once
// The broker's own liveness check of a backend, HAProxy-style: connect and read the SSH
// identification line (RFC 4253 4.2). Cheaper than a login and proves sshd itself answers.
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

namespace x2gojump {

struct ProbeResult {
  bool ok = false;
  std::string detail;  // the banner line when ok, else why the probe failed; printable ASCII only
};

// Resolves host, connects to port and reads up to 256 bytes until "\n", all within timeout; then
// closes without sending anything. ok iff that line starts with "SSH-2.0-" or "SSH-1.99-".
// done runs exactly once, on io (never inside this call). Safe with io run by several threads.
void probe_ssh_banner(boost::asio::io_context& io, const std::string& host, std::uint16_t port,
                      std::chrono::milliseconds timeout, std::function<void(ProbeResult)> done);

}  // namespace x2gojump
