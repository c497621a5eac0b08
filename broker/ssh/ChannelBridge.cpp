#include "broker/ssh/ChannelBridge.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstring>

#include "broker/metrics/BrokerMetrics.h"

namespace x2gojump {
namespace {

enum ChannelKind { kSession, kDirectTcpip, kForwardedTcpip, kAuthAgent };

const char* kind_name(int kind) {
  switch (kind) {
    case kSession: return "session";
    case kDirectTcpip: return "direct-tcpip";
    case kForwardedTcpip: return "forwarded-tcpip";
    default: return "auth-agent";
  }
}

const char* or_empty(const char* s) { return s != nullptr ? s : ""; }

}  // namespace

// One relayed channel: the client's end and the backend's end.
struct ChannelBridge::ChannelPair {
  ChannelBridge* bridge = nullptr;
  int kind = kSession;
  ssh_channel front = nullptr;
  ssh_channel back = nullptr;
  ssh_channel_callbacks_struct front_cb{};
  ssh_channel_callbacks_struct back_cb{};

  // Requests from the client for this channel that are queued or in flight. Client data and EOF
  // wait until they are done, or an exec could reach the backend after the data meant for it.
  int pending_requests = 0;

  // Set by libssh's data callbacks, so a pump reads only channels that have something buffered.
  bool up_readable = true;
  bool down_readable = true;
  bool down_err_readable = true;

  // Bytes read but not yet accepted by the destination (only during a rekey).
  std::string up_rest, down_rest, down_err_rest;

  bool front_closed = false;  // the client sent CLOSE
  bool back_closed = false;   // the backend sent CLOSE
  bool front_eof_sent = false;
  bool back_eof_sent = false;

  bool has_exit_status = false;
  bool exit_sent = false;
  int exit_status = 0;
  std::string exit_signal;  // empty = none
  bool exit_core = false;
  std::string exit_errmsg;

  // Signals and auth-agent-req arrive by callback and carry no reply; they still go through the
  // queue so they reach the backend in order with the channel's other requests.
  void queue_notice(std::string signal);
};

// A request that needs the other side's answer before the client (or backend) gets a reply.
struct ChannelBridge::Op {
  virtual ~Op() = default;
  // Re-called with the same state until it returns true (libssh's SSH_AGAIN contract).
  virtual bool step(ChannelBridge& bridge) = 0;
  virtual bool is_global() const { return false; }
};

namespace {

using Pair = ChannelBridge::ChannelPair;
using Op = ChannelBridge::Op;

// libssh hands over everything buffered for the channel each time a data packet arrives. Writing it
// straight to the partner channel here saves a copy and a read call per packet; whatever the
// partner's window (or a pending request, or a rekey) does not take stays in libssh's buffer and
// is moved later by pump(), in order.
int on_data(void* data, uint32_t len, int is_stderr, void* userdata, bool from_client) {
  auto* pair = static_cast<Pair*>(userdata);
  bool& readable = from_client ? pair->up_readable : is_stderr ? pair->down_err_readable : pair->down_readable;
  readable = true;
  ssh_channel dst = from_client ? pair->back : pair->front;
  const std::string& rest = from_client ? pair->up_rest : is_stderr ? pair->down_err_rest : pair->down_rest;
  bool blocked = from_client ? (pair->pending_requests > 0 || pair->bridge->front_frozen() ||
                                pair->back_closed || pair->back_eof_sent)
                             : (pair->front_closed || pair->front_eof_sent);
  if (blocked || !rest.empty()) return 0;
  std::uint32_t n = std::min(len, ssh_channel_window_size(dst));
  if (n == 0) return 0;
  int written = is_stderr ? ssh_channel_write_stderr(dst, data, n) : ssh_channel_write(dst, data, n);
  if (written <= 0) return 0;
  pair->bridge->count(from_client, static_cast<std::uint32_t>(written));
  if (static_cast<std::uint32_t>(written) == len) readable = false;
  return written;
}

int on_front_data(ssh_session, ssh_channel, void* data, uint32_t len, int is_stderr, void* userdata) {
  return on_data(data, len, is_stderr, userdata, true);
}
int on_back_data(ssh_session, ssh_channel, void* data, uint32_t len, int is_stderr, void* userdata) {
  return on_data(data, len, is_stderr, userdata, false);
}
void on_front_close(ssh_session, ssh_channel, void* userdata) {
  static_cast<Pair*>(userdata)->front_closed = true;
}
void on_back_close(ssh_session, ssh_channel, void* userdata) {
  static_cast<Pair*>(userdata)->back_closed = true;
}
void on_front_signal(ssh_session, ssh_channel, const char* signal, void* userdata) {
  if (signal != nullptr && *signal != '\0') static_cast<Pair*>(userdata)->queue_notice(signal);
}
void on_front_agent_request(ssh_session, ssh_channel, void* userdata) {
  static_cast<Pair*>(userdata)->queue_notice("");
}
void on_back_exit_status(ssh_session, ssh_channel, int status, void* userdata) {
  auto* pair = static_cast<Pair*>(userdata);
  pair->has_exit_status = true;
  pair->exit_status = status;
}
void on_back_exit_signal(ssh_session, ssh_channel, const char* signal, int core, const char* errmsg,
                         const char*, void* userdata) {
  auto* pair = static_cast<Pair*>(userdata);
  pair->exit_signal = or_empty(signal);
  pair->exit_core = core != 0;
  pair->exit_errmsg = or_empty(errmsg);
}

// --- Requests from the client -------------------------------------------------------------

struct OpenFromClient : Op {
  MessagePtr message;
  ssh_channel back = nullptr;

  explicit OpenFromClient(MessagePtr m) : message(std::move(m)) {}

  bool step(ChannelBridge& bridge) override;
};

struct ChannelRequest : Op {
  MessagePtr message;
  Pair* pair;

  ChannelRequest(MessagePtr m, Pair* p) : message(std::move(m)), pair(p) {}

  bool step(ChannelBridge&) override {
    ssh_message m = message.get();
    int rc = SSH_ERROR;
    switch (ssh_message_subtype(m)) {
      case SSH_CHANNEL_REQUEST_PTY:
        rc = ssh_channel_request_pty_size(pair->back, or_empty(ssh_message_channel_request_pty_term(m)),
                                          ssh_message_channel_request_pty_width(m),
                                          ssh_message_channel_request_pty_height(m));
        break;
      case SSH_CHANNEL_REQUEST_EXEC:
        rc = ssh_channel_request_exec(pair->back, or_empty(ssh_message_channel_request_command(m)));
        break;
      case SSH_CHANNEL_REQUEST_SHELL:
        rc = ssh_channel_request_shell(pair->back);
        break;
      case SSH_CHANNEL_REQUEST_ENV:
        rc = ssh_channel_request_env(pair->back, or_empty(ssh_message_channel_request_env_name(m)),
                                     or_empty(ssh_message_channel_request_env_value(m)));
        break;
      case SSH_CHANNEL_REQUEST_SUBSYSTEM:
        rc = ssh_channel_request_subsystem(pair->back,
                                           or_empty(ssh_message_channel_request_subsystem(m)));
        break;
      case SSH_CHANNEL_REQUEST_WINDOW_CHANGE:
        rc = ssh_channel_change_pty_size(pair->back, ssh_message_channel_request_pty_width(m),
                                         ssh_message_channel_request_pty_height(m));
        break;
      default:  // x11-req and unknown requests: refused, as the backend would not see them anyway
        break;
    }
    if (rc == SSH_AGAIN) return false;
    if (!pair->front_closed) {
      if (rc == SSH_OK) {
        ssh_message_channel_request_reply_success(m);
      } else {
        ssh_message_reply_default(m);
      }
    }
    --pair->pending_requests;
    return true;
  }
};

// Requests that arrive by channel callback rather than as messages: no reply to relay.
struct ChannelNotice : Op {
  Pair* pair;
  std::string signal;  // empty = auth-agent-req

  ChannelNotice(Pair* p, std::string s) : pair(p), signal(std::move(s)) {}

  bool step(ChannelBridge&) override {
    int rc = signal.empty() ? ssh_channel_request_auth_agent(pair->back)
                            : ssh_channel_request_send_signal(pair->back, signal.c_str());
    if (rc == SSH_AGAIN) return false;
    --pair->pending_requests;
    return true;
  }
};

struct GlobalForward : Op {
  MessagePtr message;
  std::map<int, std::string>& addresses;
  int bound = 0;

  GlobalForward(MessagePtr m, std::map<int, std::string>& a)
      : message(std::move(m)), addresses(a), bound(ssh_message_global_request_port(message.get())) {}

  bool is_global() const override { return true; }

  bool step(ChannelBridge& bridge) override;
};

}  // namespace

// --- Bridge ----------------------------------------------------------------------------------

ChannelBridge::ChannelBridge(ssh_session front, ssh_session back, ssh_event event,
                             std::size_t chunk_bytes, std::string log_prefix)
    : front_(front),
      back_(back),
      event_(event),
      chunk_bytes_(chunk_bytes),
      log_prefix_(std::move(log_prefix)) {
  ssh_callbacks_init(&back_callbacks_);
  back_callbacks_.userdata = this;
  back_callbacks_.channel_open_request_auth_agent_function = &ChannelBridge::on_backend_agent_open;
  ssh_set_callbacks(back_, &back_callbacks_);
}

ChannelBridge::~ChannelBridge() {
  // The sessions are freed right after us; they free the channels. Only make sure libssh can no
  // longer call into pairs that are about to disappear.
  for (auto& pair : pairs_) {
    ssh_remove_channel_callbacks(pair->front, &pair->front_cb);
    ssh_remove_channel_callbacks(pair->back, &pair->back_cb);
  }
  back_callbacks_.channel_open_request_auth_agent_function = nullptr;
  publish_counters();
}

bool ChannelBridge::stuck(std::chrono::steady_clock::time_point now,
                          std::chrono::steady_clock::duration limit) const {
  return !ops_.empty() && now - head_since_ > limit;
}

bool ChannelBridge::pump() {
  bool progress = false;
  progress |= drain_front_messages();
  progress |= drain_back_messages();
  progress |= run_ops();
  progress |= move_data();
  publish_counters();
  return progress;
}

// Once per pump rather than per packet: two relaxed adds at most, and none while idle.
void ChannelBridge::publish_counters() {
  if (counters_.bytes_to_backend != published_.bytes_to_backend) {
    metrics().bytes_up.add(counters_.bytes_to_backend - published_.bytes_to_backend);
    published_.bytes_to_backend = counters_.bytes_to_backend;
  }
  if (counters_.bytes_to_client != published_.bytes_to_client) {
    metrics().bytes_down.add(counters_.bytes_to_client - published_.bytes_to_client);
    published_.bytes_to_client = counters_.bytes_to_client;
  }
}

bool ChannelBridge::drain_front_messages() {
  bool progress = false;
  // While frozen, ssh_message_get would read the client's socket (see freeze_front).
  while (!frozen_) {
    ssh_message raw = ssh_message_get(front_);
    if (raw == nullptr) break;
    progress = true;
    dispatch_front(MessagePtr(raw));
  }
  return progress;
}

void ChannelBridge::dispatch_front(MessagePtr message) {
  ssh_message m = message.get();
  switch (ssh_message_type(m)) {
    case SSH_REQUEST_CHANNEL_OPEN:
      if (ssh_message_subtype(m) == SSH_CHANNEL_SESSION ||
          ssh_message_subtype(m) == SSH_CHANNEL_DIRECT_TCPIP) {
        push_op(std::make_unique<OpenFromClient>(std::move(message)));
        return;
      }
      break;
    case SSH_REQUEST_CHANNEL: {
      auto it = by_front_.find(ssh_message_channel_request_channel(m));
      if (it != by_front_.end()) {
        ++it->second->pending_requests;
        push_op(std::make_unique<ChannelRequest>(std::move(message), it->second));
        return;
      }
      break;
    }
    case SSH_REQUEST_GLOBAL:
      if (ssh_message_subtype(m) == SSH_GLOBAL_REQUEST_TCPIP_FORWARD ||
          ssh_message_subtype(m) == SSH_GLOBAL_REQUEST_CANCEL_TCPIP_FORWARD) {
        push_op(std::make_unique<GlobalForward>(std::move(message), forward_addresses_));
        return;
      }
      break;
    default:
      break;
  }
  ssh_message_reply_default(m);
}

namespace {

struct OpenToClient : Op {
  MessagePtr back_message;   // forwarded-tcpip: the backend's open, answered once the client has
  ssh_channel back = nullptr;  // auth-agent: already accepted on the backend
  ssh_channel front = nullptr;

  bool step(ChannelBridge& bridge) override;
};

}  // namespace

bool ChannelBridge::drain_back_messages() {
  bool progress = false;
  for (;;) {
    ssh_message raw = ssh_message_get(back_);
    if (raw == nullptr) break;
    progress = true;
    MessagePtr message(raw);
    if (ssh_message_type(raw) == SSH_REQUEST_CHANNEL_OPEN &&
        ssh_message_subtype(raw) == SSH_CHANNEL_FORWARDED_TCPIP) {
      auto op = std::make_unique<OpenToClient>();
      op->back_message = std::move(message);
      push_op(std::move(op));
    } else {
      ssh_message_reply_default(raw);
    }
  }
  return progress;
}

ssh_channel ChannelBridge::on_backend_agent_open(ssh_session, void* userdata) {
  auto* bridge = static_cast<ChannelBridge*>(userdata);
  // Only a client that asked for agent forwarding gets agent channels.
  if (!bridge->agent_requested_) return nullptr;
  auto op = std::make_unique<OpenToClient>();
  op->back = ssh_channel_new(bridge->back_);
  if (op->back == nullptr) return nullptr;
  ssh_channel back = op->back;
  bridge->push_op(std::move(op));
  return back;
}

void ChannelBridge::push_op(std::unique_ptr<Op> op) {
  if (ops_.empty()) head_since_ = std::chrono::steady_clock::now();
  if (op->is_global()) {
    ++pending_global_ops_;
    freeze_front();
  }
  ops_.push_back(std::move(op));
}

// libssh answers a client's keepalive@openssh.com global request at once, while our reply to an
// earlier tcpip-forward is still waiting for the backend; the client would pair the replies wrongly.
// So while a global request is pending we read nothing from the client (writes still go out).
void ChannelBridge::freeze_front() {
  if (frozen_) return;
  frozen_ = true;
  ssh_event_remove_session(event_, front_);
}

void ChannelBridge::thaw_front_if_done() {
  if (!frozen_ || pending_global_ops_ > 0) return;
  frozen_ = false;
  ssh_event_add_session(event_, front_);
}

bool ChannelBridge::run_ops() {
  bool progress = false;
  while (!ops_.empty()) {
    Op& op = *ops_.front();
    if (!op.step(*this)) break;
    bool global = op.is_global();
    ops_.pop_front();
    head_since_ = std::chrono::steady_clock::now();
    progress = true;
    if (global) {
      --pending_global_ops_;
      thaw_front_if_done();
    }
  }
  return progress;
}

ChannelBridge::ChannelPair& ChannelBridge::add_pair(int kind, ssh_channel front, ssh_channel back) {
  auto pair = std::make_unique<ChannelPair>();
  pair->bridge = this;
  pair->kind = kind;
  pair->front = front;
  pair->back = back;

  ssh_callbacks_init(&pair->front_cb);
  pair->front_cb.userdata = pair.get();
  pair->front_cb.channel_data_function = on_front_data;
  pair->front_cb.channel_close_function = on_front_close;
  pair->front_cb.channel_signal_function = on_front_signal;
  pair->front_cb.channel_auth_agent_req_function = on_front_agent_request;
  ssh_set_channel_callbacks(front, &pair->front_cb);

  ssh_callbacks_init(&pair->back_cb);
  pair->back_cb.userdata = pair.get();
  pair->back_cb.channel_data_function = on_back_data;
  pair->back_cb.channel_close_function = on_back_close;
  pair->back_cb.channel_exit_status_function = on_back_exit_status;
  pair->back_cb.channel_exit_signal_function = on_back_exit_signal;
  ssh_set_channel_callbacks(back, &pair->back_cb);

  ChannelPair& ref = *pair;
  by_front_[front] = pair.get();
  pairs_.push_back(std::move(pair));
  ++counters_.channels_opened;
  metrics().channels.with({kind_name(kind)}).add();
  spdlog::debug("{} channel {} opened ({} open)", log_prefix_, kind_name(kind), pairs_.size());
  return ref;
}

void ChannelBridge::ChannelPair::queue_notice(std::string signal) {
  if (signal.empty()) bridge->agent_requested_ = true;
  ++pending_requests;
  bridge->push_op(std::make_unique<ChannelNotice>(this, std::move(signal)));
}

namespace {

bool OpenFromClient::step(ChannelBridge& bridge) {
  ssh_message m = message.get();
  bool session = ssh_message_subtype(m) == SSH_CHANNEL_SESSION;
  if (back == nullptr) back = ssh_channel_new(bridge.back_session());
  int rc = SSH_ERROR;
  if (back != nullptr) {
    rc = session ? ssh_channel_open_session(back)
                 : ssh_channel_open_forward(back,
                                            or_empty(ssh_message_channel_request_open_destination(m)),
                                            ssh_message_channel_request_open_destination_port(m),
                                            or_empty(ssh_message_channel_request_open_originator(m)),
                                            ssh_message_channel_request_open_originator_port(m));
  }
  if (rc == SSH_AGAIN) return false;
  ssh_channel front = rc == SSH_OK ? ssh_message_channel_request_open_reply_accept(m) : nullptr;
  if (front == nullptr) {
    // libssh 0.10 can only say "administratively prohibited"; the backend's reason is logged.
    if (rc != SSH_OK) ssh_message_reply_default(m);
    spdlog::info("{} backend refused {} channel: {}", bridge.log_prefix(),
                 session ? "session" : "direct-tcpip", ssh_get_error(bridge.back_session()));
    if (back != nullptr) ssh_channel_free(back);
    return true;
  }
  bridge.adopt(session ? kSession : kDirectTcpip, front, back);
  return true;
}

bool GlobalForward::step(ChannelBridge& bridge) {
  ssh_message m = message.get();
  int port = ssh_message_global_request_port(m);
  std::string address = or_empty(ssh_message_global_request_address(m));
  int rc;
  if (ssh_message_subtype(m) == SSH_GLOBAL_REQUEST_TCPIP_FORWARD) {
    rc = ssh_channel_listen_forward(bridge.back_session(), address.c_str(), port, &bound);
    if (rc == SSH_AGAIN) return false;
    if (rc == SSH_OK) {
      addresses[port == 0 ? bound : port] = address;
      ssh_message_global_request_reply_success(m, static_cast<uint16_t>(bound));
      return true;
    }
  } else {
    // X2Go cancels with an empty bind address; the backend only matches the address it bound,
    // so cancel with the one the client used when it asked for the forward.
    auto known = addresses.find(port);
    if (address.empty() && known != addresses.end()) address = known->second;
    rc = ssh_channel_cancel_forward(bridge.back_session(), address.c_str(), port);
    if (rc == SSH_AGAIN) return false;
    if (rc == SSH_OK) {
      addresses.erase(port);
      ssh_message_global_request_reply_success(m, 0);
      return true;
    }
  }
  ssh_message_reply_default(m);
  return true;
}

bool OpenToClient::step(ChannelBridge& bridge) {
  if (front == nullptr) front = ssh_channel_new(bridge.front_session());
  int rc = SSH_ERROR;
  if (front != nullptr) {
    if (back_message) {
      ssh_message m = back_message.get();
      // The client matches reverse channels by the address and port it asked to forward.
      rc = ssh_channel_open_reverse_forward(front,
                                            or_empty(ssh_message_channel_request_open_destination(m)),
                                            ssh_message_channel_request_open_destination_port(m),
                                            or_empty(ssh_message_channel_request_open_originator(m)),
                                            ssh_message_channel_request_open_originator_port(m));
    } else {
      rc = ssh_channel_open_auth_agent(front);
    }
  }
  if (rc == SSH_AGAIN) return false;
  if (rc == SSH_OK && back_message) back = ssh_message_channel_request_open_reply_accept(back_message.get());
  if (rc != SSH_OK || back == nullptr) {
    if (back_message) {
      ssh_message_reply_default(back_message.get());
    } else if (back != nullptr) {
      ssh_channel_close(back);
      ssh_channel_free(back);
    }
    if (front != nullptr) ssh_channel_free(front);
    return true;
  }
  bridge.adopt(back_message ? kForwardedTcpip : kAuthAgent, front, back);
  return true;
}

}  // namespace

void ChannelBridge::adopt(int kind, ssh_channel front, ssh_channel back) { add_pair(kind, front, back); }

bool ChannelBridge::move_data() {
  bool progress = false;
  for (std::size_t i = 0; i < pairs_.size();) {
    ChannelPair& pair = *pairs_[i];
    progress |= move_pair(pair);
    if (finish_pair(pair)) {
      by_front_.erase(pair.front);
      ssh_remove_channel_callbacks(pair.front, &pair.front_cb);
      ssh_remove_channel_callbacks(pair.back, &pair.back_cb);
      // ssh_channel_free sends CLOSE where we have not, and libssh keeps the channel until the
      // peer's CLOSE arrives.
      ssh_channel_free(pair.front);
      ssh_channel_free(pair.back);
      pairs_[i] = std::move(pairs_.back());
      pairs_.pop_back();
      progress = true;
      continue;
    }
    ++i;
  }
  return progress;
}

// Moves buffered bytes from src to dst, never more than dst's window, so a slow reader stops the
// writer through the SSH windows instead of through our memory.
bool ChannelBridge::pipe(ssh_channel src, ssh_channel dst, bool is_stderr, bool& readable,
                         std::string& rest, std::uint64_t& counter) {
  bool progress = false;
  for (int round = 0; round < 8; ++round) {
    if (!rest.empty()) {
      std::uint32_t window = ssh_channel_window_size(dst);
      std::size_t len = std::min<std::size_t>(rest.size(), window);
      if (len == 0) break;
      int written = is_stderr ? ssh_channel_write_stderr(dst, rest.data(), len)
                              : ssh_channel_write(dst, rest.data(), len);
      if (written <= 0) break;
      rest.erase(0, written);
      counter += written;
      progress = true;
      if (!rest.empty()) break;
      continue;
    }
    if (!readable) break;
    std::uint32_t window = ssh_channel_window_size(dst);
    if (window == 0) break;
    // One buffer per event-loop thread, not per connection: idle connections cost no buffer.
    thread_local std::vector<char> scratch;
    if (scratch.size() < chunk_bytes_) scratch.resize(chunk_bytes_);
    std::size_t want = std::min<std::size_t>(chunk_bytes_, window);
    int n = ssh_channel_read_nonblocking(src, scratch.data(), want, is_stderr);
    if (n <= 0) {  // 0: nothing buffered; SSH_EOF/SSH_ERROR: seen through is_eof / session state
      readable = false;
      break;
    }
    int written = is_stderr ? ssh_channel_write_stderr(dst, scratch.data(), n)
                            : ssh_channel_write(dst, scratch.data(), n);
    if (written < 0) break;
    if (written < n) rest.assign(scratch.data() + written, n - written);  // rekey in progress
    counter += written;
    progress = true;
  }
  return progress;
}

bool ChannelBridge::move_pair(ChannelPair& pair) {
  bool progress = false;
  if (!pair.front_closed && !pair.front_eof_sent) {
    progress |= pipe(pair.back, pair.front, false, pair.down_readable, pair.down_rest,
                     counters_.bytes_to_client);
    progress |= pipe(pair.back, pair.front, true, pair.down_err_readable, pair.down_err_rest,
                     counters_.bytes_to_client);
    progress |= send_exit(pair);
    // A session's EOF waits for its exit-status, as sshd's effectively does: OpenSSH clients
    // close the channel once they have seen EOF, and would miss a later exit-status.
    bool exit_known = pair.kind != kSession || pair.exit_sent || pair.back_closed;
    if (exit_known && pair.down_rest.empty() && pair.down_err_rest.empty() &&
        ssh_channel_is_eof(pair.back)) {
      ssh_channel_send_eof(pair.front);
      pair.front_eof_sent = true;
      progress = true;
    }
  }
  if (!frozen_ && pair.pending_requests == 0 && !pair.back_closed && !pair.back_eof_sent) {
    progress |= pipe(pair.front, pair.back, false, pair.up_readable, pair.up_rest,
                     counters_.bytes_to_backend);
    if (pair.up_rest.empty() && ssh_channel_is_eof(pair.front)) {
      ssh_channel_send_eof(pair.back);
      pair.back_eof_sent = true;
      progress = true;
    }
  }
  return progress;
}

// exit-status goes to the client as soon as the output that preceded it has been delivered.
bool ChannelBridge::send_exit(ChannelPair& pair) {
  if (pair.exit_sent || pair.front_closed) return false;
  if (!pair.has_exit_status && pair.exit_signal.empty()) return false;
  bool drained = !pair.down_readable && !pair.down_err_readable && pair.down_rest.empty() &&
                 pair.down_err_rest.empty();
  if (!drained) return false;
  if (pair.has_exit_status) ssh_channel_request_send_exit_status(pair.front, pair.exit_status);
  if (!pair.exit_signal.empty()) {
    ssh_channel_request_send_exit_signal(pair.front, pair.exit_signal.c_str(), pair.exit_core,
                                         pair.exit_errmsg.c_str(), "");
  }
  pair.exit_sent = true;
  return true;
}

// A pair ends when either side has closed and everything owed to the other side was delivered.
bool ChannelBridge::finish_pair(ChannelPair& pair) {
  if (pair.pending_requests > 0) return false;
  if (pair.front_closed) {
    if (!pair.back_closed && !pair.back_eof_sent && pair.up_rest.empty()) {
      ssh_channel_send_eof(pair.back);
      pair.back_eof_sent = true;
    }
    return true;
  }
  if (pair.back_closed && pair.front_eof_sent) {
    send_exit(pair);
    ssh_channel_close(pair.front);
    return true;
  }
  return false;
}

}  // namespace x2gojump
