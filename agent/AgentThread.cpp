#include "agent/AgentThread.h"

#include <boost/asio/post.hpp>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

namespace x2gojump {

AgentThread::AgentThread(AgentConfig config)
    : agent_(std::make_unique<Agent>(io_, std::move(config))) {}

AgentThread::~AgentThread() {
  stopping_ = true;
  if (thread_.joinable()) {
    boost::asio::post(io_, [this] {
      agent_->stop();
      watchdog_.stop();
      io_.stop();
    });
    thread_.join();
  }
  // The agent goes before io_ (declared first), which then drops what is still queued unrun.
  agent_.reset();
}

void AgentThread::start() {
  thread_ = std::thread([this] { run(); });
}

std::string AgentThread::failure() const { return failed_ ? failure_ : std::string(); }

void AgentThread::run() {
  std::string error;
  try {
    boost::asio::post(io_, [this] {
      agent_->start();
      watchdog_.start();
    });
    io_.run();
    if (!stopping_) error = "the event loop ended unexpectedly";
  } catch (const std::exception& e) {
    error = e.what();
  }
  if (error.empty()) return;
  failure_ = error;
  failed_ = true;
  ::kill(::getpid(), SIGTERM);
}

}  // namespace x2gojump
