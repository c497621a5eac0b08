#pragma once
// Relays every channel and global request between the client's session (front, we are the server)
// and the backend's session (back, we are the client) once both are authenticated.
//
// libssh 0.10 answers requests synchronously, so requests that need the backend's answer are taken
// from the message queue (pull mode) and executed one at a time from a FIFO: that keeps libssh's
// one-pending-request limits and the reply order RFC 4254 requires. Data moves between paired
// channels bounded by the destination's window, so memory per channel stays bounded.
#include <libssh/callbacks.h>
#include <libssh/libssh.h>

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "broker/ssh/Libssh.h"

namespace x2gojump {

struct RelayCounters {
  std::uint64_t bytes_to_backend = 0;
  std::uint64_t bytes_to_client = 0;
  std::uint64_t channels_opened = 0;
};

class ChannelBridge {
 public:
  // front/back/event are borrowed; they must outlive the bridge. chunk_bytes bounds one read.
  ChannelBridge(ssh_session front, ssh_session back, ssh_event event, std::size_t chunk_bytes,
                std::string log_prefix);
  ~ChannelBridge();
  ChannelBridge(const ChannelBridge&) = delete;
  ChannelBridge& operator=(const ChannelBridge&) = delete;

  // Takes queued messages, advances pending requests and moves data. Returns true if anything
  // changed, so the caller polls again before waiting for the sockets.
  bool pump();

  // True if the request at the head of the queue has waited for an answer longer than limit: a
  // peer that stopped answering would otherwise hold every later request forever.
  bool stuck(std::chrono::steady_clock::time_point now, std::chrono::steady_clock::duration limit) const;

  // True while the client's socket must not be read (a global request is pending; see .cpp).
  bool front_frozen() const { return frozen_; }

  const RelayCounters& counters() const { return counters_; }
  void count(bool to_backend, std::uint32_t bytes) {
    (to_backend ? counters_.bytes_to_backend : counters_.bytes_to_client) += bytes;
  }

  struct ChannelPair;
  struct Op;

  // Used by queued operations.
  ssh_session front_session() const { return front_; }
  ssh_session back_session() const { return back_; }
  const std::string& log_prefix() const { return log_prefix_; }
  void adopt(int kind, ssh_channel front, ssh_channel back);

 private:
  bool drain_front_messages();
  bool drain_back_messages();
  void dispatch_front(MessagePtr message);
  bool run_ops();
  bool move_data();
  bool move_pair(ChannelPair& pair);
  bool finish_pair(ChannelPair& pair);
  bool send_exit(ChannelPair& pair);
  bool pipe(ssh_channel src, ssh_channel dst, bool is_stderr, bool& readable, std::string& rest,
            std::uint64_t& counter);
  void push_op(std::unique_ptr<Op> op);
  ChannelPair& add_pair(int kind, ssh_channel front, ssh_channel back);
  void freeze_front();
  void thaw_front_if_done();
  // Adds what counters_ grew by since the last call to the process-wide metrics.
  void publish_counters();

  static ssh_channel on_backend_agent_open(ssh_session session, void* userdata);

  ssh_session front_;
  ssh_session back_;
  ssh_event event_;
  std::size_t chunk_bytes_;
  std::string log_prefix_;
  std::chrono::steady_clock::time_point head_since_;
  bool frozen_ = false;
  bool agent_requested_ = false;
  int pending_global_ops_ = 0;
  ssh_callbacks_struct back_callbacks_{};
  std::deque<std::unique_ptr<Op>> ops_;
  std::vector<std::unique_ptr<ChannelPair>> pairs_;
  std::unordered_map<ssh_channel, ChannelPair*> by_front_;
  std::map<int, std::string> forward_addresses_;  // bound port -> address the client asked for
  RelayCounters counters_;
  RelayCounters published_;  // the part of counters_ already in the metrics

  friend struct Op;
};

}  // namespace x2gojump
