#pragma once
// A small fixed set of event-loop threads. Each owns an io_context and its own ssh_bind (host keys),
// and every connection lives on exactly one of them for its whole life.
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "broker/ssh/Connection.h"
#include "broker/ssh/Libssh.h"

namespace x2gojump {

class WorkerPool {
 public:
  // Loads the host keys into one ssh_bind per thread; throws std::runtime_error naming a key file
  // that cannot be loaded.
  WorkerPool(int threads, const std::vector<std::string>& host_key_files, ConnectionContext& context);
  ~WorkerPool();

  // Starts a Connection for the accepted socket fd on the next thread (round robin).
  void dispatch(int fd, std::string peer_address);

  void start();
  void stop();  // stops the loops and joins the threads
  // Destroys the stopped loops and with them the connections they still hold, each of which logs
  // and audits its end. Call after stop(), and after the blocking pool has finished (its tasks
  // post to these loops), while the ConnectionContext's parts (audit log, login service) exist.
  void close_connections();

 private:
  struct Worker {
    boost::asio::io_context io{1};
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard{io.get_executor()};
    BindPtr bind;
    std::thread thread;
  };

  ConnectionContext& context_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::atomic<std::size_t> next_{0};
};

}  // namespace x2gojump
