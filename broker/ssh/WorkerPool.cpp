#include "broker/ssh/WorkerPool.h"

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <stdexcept>

namespace x2gojump {

WorkerPool::WorkerPool(int threads, const std::vector<std::string>& host_key_files,
                       ConnectionContext& context)
    : context_(context) {
  for (int i = 0; i < threads; ++i) {
    auto worker = std::make_unique<Worker>();
    worker->bind.reset(ssh_bind_new());
    bool no = false;
    ssh_bind_options_set(worker->bind.get(), SSH_BIND_OPTIONS_PROCESS_CONFIG, &no);
    for (const std::string& file : host_key_files) {
      ssh_key key = nullptr;
      if (ssh_pki_import_privkey_file(file.c_str(), nullptr, nullptr, nullptr, &key) != SSH_OK) {
        throw std::runtime_error("cannot load host key " + file);
      }
      // IMPORT_KEY takes ownership of the key.
      if (ssh_bind_options_set(worker->bind.get(), SSH_BIND_OPTIONS_IMPORT_KEY, key) != SSH_OK) {
        ssh_key_free(key);
        throw std::runtime_error("cannot use host key " + file + ": " + ssh_get_error(worker->bind.get()));
      }
    }
    workers_.push_back(std::move(worker));
  }
}

WorkerPool::~WorkerPool() { stop(); }

void WorkerPool::start() {
  for (std::size_t i = 0; i < workers_.size(); ++i) {
    Worker* worker = workers_[i].get();
    worker->thread = std::thread([worker, i] {
      pthread_setname_np(pthread_self(), ("x2gojump-io" + std::to_string(i)).c_str());
      worker->io.run();
    });
  }
}

void WorkerPool::stop() {
  for (auto& worker : workers_) {
    worker->guard.reset();
    worker->io.stop();
  }
  for (auto& worker : workers_) {
    if (worker->thread.joinable()) worker->thread.join();
  }
}

void WorkerPool::close_connections() { workers_.clear(); }

void WorkerPool::dispatch(int fd, std::string peer_address) {
  Worker& worker = *workers_[next_++ % workers_.size()];
  boost::asio::post(worker.io, [this, &worker, fd, peer = std::move(peer_address)]() mutable {
    auto connection = std::make_shared<Connection>(worker.io, context_, worker.bind.get(), fd, std::move(peer));
    connection->start();
  });
}

}  // namespace x2gojump
