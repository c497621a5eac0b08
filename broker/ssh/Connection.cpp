#include "broker/ssh/Connection.h"

#include <spdlog/spdlog.h>
#include <string.h>
#include <unistd.h>

#include "broker/auth/LoginName.h"
#include "broker/ssh/SocketReadAhead.h"

namespace x2gojump {
namespace {

constexpr int kAuthMethods = SSH_AUTH_METHOD_PASSWORD | SSH_AUTH_METHOD_INTERACTIVE;
// Bounds the work done for one connection before others on the same thread get a turn.
constexpr int kRoundsPerWakeup = 32;
constexpr int kPollsPerRound = 64;

// The texts clients show the user; x2goclient and OpenSSH print USERAUTH_BANNER messages.
constexpr const char* kLoginIncorrect = "x2gojump: login incorrect";
constexpr const char* kAccountLocked = "x2gojump: account locked";
constexpr const char* kInvalidUser = "x2gojump: invalid user name";
constexpr const char* kDirectoryDown = "x2gojump: directory unavailable, try again later";
constexpr const char* kBackendRefused = "x2gojump: the X2Go server refused the login";
constexpr const char* kNoServer = "x2gojump: no X2Go server available";
constexpr const char* kNotAuthorized = "x2gojump: you are not allowed to use any X2Go server";

void wipe(std::string& secret) {
  explicit_bzero(secret.data(), secret.size());
  secret.clear();
}

// The stable word for a refusal in metrics and the audit log.
const char* refusal_reason(const std::string& banner) {
  if (banner == kLoginIncorrect) return "bad-credentials";
  if (banner == kAccountLocked) return "account-locked";
  if (banner == kInvalidUser) return "invalid-user";
  if (banner == kDirectoryDown) return "directory-unavailable";
  if (banner == kBackendRefused) return "backend-refused";
  if (banner == kNoServer) return "no-server";
  if (banner == kNotAuthorized) return "not-authorized";
  return "other";
}

}  // namespace

Connection::Connection(boost::asio::io_context& io, ConnectionContext& context, ssh_bind bind,
                       int fd, std::string peer_address)
    : io_(io),
      context_(context),
      config_(context.login.config()),
      peer_(std::move(peer_address)),
      peer_ip_(parse_ip_address(peer_)),
      log_prefix_("[" + peer_ + "]"),
      audit_(context.audit, peer_),
      started_(std::chrono::steady_clock::now()),
      front_(ssh_new()),
      event_(ssh_event_new()),
      front_watch_(io),
      back_watch_(io),
      grace_timer_(io),
      tick_timer_(io) {
  // context_.active and context_.unauthenticated were counted in at accept; this object counts
  // them out (counting in here would lag behind accept and let a burst overshoot the caps).
  if (ssh_bind_accept_fd(bind, front_.get(), fd) != SSH_OK) {
    spdlog::warn("{} cannot set up session: {}", log_prefix_, ssh_get_error(bind));
    ::close(fd);
    state_ = State::Closed;
    release_unauthenticated_slot();
    --context_.active;
  }
}

// Only the broker's shutdown drops a connection that has not closed itself.
Connection::~Connection() { close("broker shutting down"); }

void Connection::start() {
  if (state_ == State::Closed) return;
  ssh_session front = front_.get();
  ssh_set_blocking(front, 0);
  ssh_set_auth_methods(front, kAuthMethods);
  // The first call creates the session's poll handle, which the event needs.
  if (ssh_handle_key_exchange(front) == SSH_ERROR) {
    close(std::string("key exchange failed: ") + ssh_get_error(front));
    return;
  }
  ssh_event_add_session(event_.get(), front);
  watch_session(front_watch_, front);

  grace_timer_.expires_after(config().limits.login_grace_time);
  grace_timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
    if (ec || self->state_ == State::Relaying) return;
    // A client still typing is its own doing; one waiting for LDAP or a backend is not.
    if (!self->login_pending_) self->penalise(PenaltyEvent::GraceExceeded);
    self->close("login grace time exceeded");
  });
  process();
}

// The watched descriptor is a dup of libssh's, so closing it would not take it out of the epoll
// set (the file stays open through libssh): release it from the reactor first, then close it.
void Connection::stop_watching(Watch& watch) {
  if (watch.descriptor.is_open()) ::close(watch.descriptor.release());
  watch.reading = watch.writing = false;
}

void Connection::watch_session(Watch& watch, ssh_session session) {
  stop_watching(watch);
  // Asio gets its own descriptor for readiness only; libssh owns and closes the original.
  int fd = ::dup(ssh_get_fd(session));
  if (fd >= 0) watch.descriptor.assign(fd);
}

void Connection::arm(Watch& watch, ssh_session session) {
  if (session == nullptr || !watch.descriptor.is_open()) return;
  auto self = shared_from_this();
  if (!watch.reading) {
    watch.reading = true;
    watch.descriptor.async_wait(boost::asio::posix::stream_descriptor::wait_read,
                                [self, &watch](const boost::system::error_code& ec) {
                                  watch.reading = false;
                                  if (!ec) self->process();
                                });
  }
  if (!watch.writing && (ssh_get_poll_flags(session) & SSH_WRITE_PENDING)) {
    watch.writing = true;
    watch.descriptor.async_wait(boost::asio::posix::stream_descriptor::wait_write,
                                [self, &watch](const boost::system::error_code& ec) {
                                  watch.writing = false;
                                  if (!ec) self->process();
                                });
  }
}

// Asio waits are edge-triggered and libssh reads at most 4 KiB per poll, so every wake-up drains
// the sockets completely before waiting again; otherwise bytes could sit unread with no new edge.
void Connection::process() {
  for (int round = 0; round < kRoundsPerWakeup; ++round) {
    if (state_ == State::Closed) return;
    bool progress = poll_sessions();
    if (state_ == State::Closed) return;
    progress |= advance();
    if (state_ == State::Closed) return;
    if (!progress) {
      arm(front_watch_, front_.get());
      ssh_session back = back_ ? back_.get() : backend_login_ ? backend_login_->session() : nullptr;
      arm(back_watch_, back);
      return;
    }
  }
  boost::asio::post(io_, [self = shared_from_this()] { self->process(); });
}

bool Connection::poll_sessions() {
  bool progress = false;
  for (int i = 0; i < kPollsPerRound; ++i) {
    if (ssh_event_dopoll(event_.get(), 0) != SSH_OK) break;
    progress = true;
  }
  // The backend first: when its socket fails, libssh 0.10 can leave the client's session in its
  // error state within the same poll (no message, the client's socket still fine), and the
  // backend's error is the one that says what happened.
  if (back_ && (ssh_get_status(back_.get()) & (SSH_CLOSED | SSH_CLOSED_ERROR))) {
    close(std::string("backend connection lost: ") + ssh_get_error(back_.get()));
  } else if (ssh_get_status(front_.get()) & (SSH_CLOSED | SSH_CLOSED_ERROR)) {
    close("client disconnected");
  }
  return progress;
}

bool Connection::advance() {
  switch (state_) {
    case State::KeyExchange: {
      int rc = ssh_handle_key_exchange(front_.get());
      if (rc == SSH_AGAIN) return false;
      if (rc != SSH_OK) {
        close(std::string("key exchange failed: ") + ssh_get_error(front_.get()));
        return false;
      }
      state_ = State::Authenticating;
      return true;
    }
    case State::Authenticating:
      if (backend_login_) return step_backend();
      return handle_auth_messages();
    case State::Relaying:
      return bridge_->pump();
    case State::Closed:
      return false;
  }
  return false;
}

bool Connection::handle_auth_messages() {
  bool progress = false;
  while (state_ == State::Authenticating && !login_pending_) {
    ssh_message raw = ssh_message_get(front_.get());
    if (raw == nullptr) break;
    progress = true;
    MessagePtr message(raw);
    if (ssh_message_type(raw) == SSH_REQUEST_AUTH) {
      on_auth_request(std::move(message));
    } else {
      ssh_message_reply_default(raw);  // accepts the ssh-userauth service, refuses the rest
    }
  }
  return progress;
}

void Connection::on_auth_request(MessagePtr message) {
  ssh_message m = message.get();
  switch (ssh_message_subtype(m)) {
    case SSH_AUTH_METHOD_PASSWORD:
      begin_login(std::move(message), ssh_message_auth_user(m) ? ssh_message_auth_user(m) : "",
                  ssh_message_auth_password(m) ? ssh_message_auth_password(m) : "");
      return;
    case SSH_AUTH_METHOD_INTERACTIVE:
      if (!ssh_message_auth_kbdint_is_response(m)) {
        // x2goclient answers only prompts that start with "Password:".
        kbdint_user_ = ssh_message_auth_user(m) ? ssh_message_auth_user(m) : "";
        const char* prompts[] = {"Password: "};
        char echo[] = {0};
        ssh_message_auth_interactive_request(m, "", "", 1, prompts, echo);
        return;
      }
      if (ssh_userauth_kbdint_getnanswers(front_.get()) != 1) {
        begin_login(std::move(message), kbdint_user_, "");
        return;
      }
      begin_login(std::move(message), kbdint_user_,
                  ssh_userauth_kbdint_getanswer(front_.get(), 0) ? ssh_userauth_kbdint_getanswer(front_.get(), 0) : "");
      return;
    default:
      ssh_message_auth_set_methods(m, kAuthMethods);
      ssh_message_reply_default(m);
      return;
  }
}

void Connection::begin_login(MessagePtr message, std::string user, std::string password) {
  pending_auth_ = std::move(message);
  login_pending_ = true;
  user_ = std::move(user);
  password_ = std::move(password);
  if (!is_valid_login_name(user_)) {
    penalise(PenaltyEvent::AuthFailure);
    refuse(kInvalidUser, "invalid user name");
    return;
  }
  auto self = shared_from_this();
  context_.login.login(user_, password_, peer_, io_.get_executor(),
                       [self](LoginDecision decision) { self->on_login_decided(std::move(decision)); });
}

void Connection::on_login_decided(LoginDecision decision) {
  if (state_ == State::Closed) return;
  switch (decision.status) {
    case LoginStatus::Ok:
      if (decision.candidates.empty()) {
        refuse(kNoServer, decision.detail.empty() ? "no usable server" : decision.detail);
        break;
      }
      candidates_ = std::move(decision.candidates);
      next_candidate_ = 0;
      try_next_backend();
      break;
    case LoginStatus::BadCredentials:
      penalise(PenaltyEvent::AuthFailure);
      refuse(kLoginIncorrect, decision.detail);
      break;
    case LoginStatus::AccountLocked:
      refuse(kAccountLocked, decision.detail);
      break;
    case LoginStatus::DirectoryUnavailable:
      refuse(kDirectoryDown, "directory unavailable: " + decision.detail);
      break;
    case LoginStatus::NotAuthorized:
      refuse(kNotAuthorized, decision.detail);
      break;
  }
  process();
}

void Connection::try_next_backend() {
  stop_watching(back_watch_);
  backend_login_.reset();
  if (next_candidate_ >= candidates_.size()) {
    refuse(kNoServer, "no candidate server accepted the connection");
    return;
  }
  const LimitsConfig& limits = config().limits;
  std::weak_ptr<Connection> weak = weak_from_this();
  backend_login_ = std::make_unique<BackendLogin>(
      io_, candidates_[next_candidate_++], user_,
      BackendLogin::Settings{limits.backend_connect_timeout, limits.backend_auth_timeout,
                             config().accept_new_backend_host_keys},
      [weak] {
        if (auto self = weak.lock()) self->process();
      });
  backend_login_->start(&password_);
}

bool Connection::step_backend() {
  BackendLogin& attempt = *backend_login_;
  BackendLogin::Outcome outcome = attempt.step(event_.get());
  switch (outcome) {
    case BackendLogin::Outcome::Pending:
      if (attempt.session() != nullptr && !back_watch_.descriptor.is_open() &&
          ssh_get_fd(attempt.session()) >= 0) {
        watch_session(back_watch_, attempt.session());
        return true;
      }
      return false;
    case BackendLogin::Outcome::Success:
      if (!attempt.learned_key().empty()) {
        context_.login.learn_host_key(attempt.target().server, attempt.learned_key());
      }
      back_ = attempt.release_session();
      accept_login();
      return true;
    case BackendLogin::Outcome::Refused:
      refuse(kBackendRefused, attempt.target().server + ": " + attempt.detail());
      return true;
    case BackendLogin::Outcome::Unreachable:
    case BackendLogin::Outcome::HostKeyMismatch:
      spdlog::warn("{} backend {} ({}:{}) not usable: {}", log_prefix_, attempt.target().server,
                   attempt.target().address, attempt.target().port, attempt.detail());
      context_.login.record_backend_failure(attempt.target().server);
      audit_.backend_failed(user_, attempt.target().server,
                            outcome == BackendLogin::Outcome::Unreachable ? "unreachable"
                                                                          : "host-key-mismatch",
                            attempt.detail());
      try_next_backend();
      return true;
  }
  return false;
}

void Connection::refuse(const std::string& banner, const std::string& reason) {
  std::string text = banner + "\n";
  ssh_string wire = ssh_string_from_char(text.c_str());
  ssh_send_issue_banner(front_.get(), wire);
  ssh_string_free(wire);
  if (pending_auth_) {
    ssh_message_auth_set_methods(pending_auth_.get(), kAuthMethods);
    ssh_message_reply_default(pending_auth_.get());
    pending_auth_.reset();
  }
  wipe(password_);
  login_pending_ = false;
  if (backend_login_) {
    stop_watching(back_watch_);
    backend_login_.reset();
  }
  ++failed_attempts_;
  spdlog::info("{} login refused user={} reason=\"{}\"", log_prefix_, user_, reason);
  audit_.login_refused(user_, refusal_reason(banner), reason);
  if (failed_attempts_ >= config().limits.max_auth_attempts) {
    close("too many authentication failures");
  }
}

// Only the client's own failures count: an unavailable directory or backend is not its doing.
void Connection::penalise(PenaltyEvent event) {
  if (context_.penalties == nullptr || !peer_ip_) return;
  auto enforced = context_.penalties->record(*peer_ip_, event, SourcePenalty::Clock::now());
  if (enforced.count() > 0) {
    spdlog::warn("{} source refused for {} s: {}", log_prefix_, enforced.count(),
                 event == PenaltyEvent::AuthFailure ? "failed logins" : "login grace time exceeded");
  }
}

void Connection::accept_login() {
  const BackendTarget& target = backend_login_->target();
  spdlog::info("{} login ok user={} server={} reason={}", log_prefix_, user_, target.server,
               to_string(target.reason));
  context_.login.record_placement(user_, target.server);
  audit_.login_accepted(user_, target.server, to_string(target.reason), next_candidate_ - 1);
  backend_login_.reset();
  ssh_message_auth_reply_success(pending_auth_.get(), 0);
  pending_auth_.reset();
  wipe(password_);
  login_pending_ = false;
  state_ = State::Relaying;
  grace_timer_.cancel();
  release_unauthenticated_slot();
  bridge_ = std::make_unique<ChannelBridge>(front_.get(), back_.get(), event_.get(),
                                            config().limits.channel_buffer_bytes, log_prefix_);
  // Bulk data from here on: larger socket reads than libssh's 4 KiB (see SocketReadAhead.h).
  read_ahead::register_fd(ssh_get_fd(front_.get()));
  read_ahead::register_fd(ssh_get_fd(back_.get()));
  last_keepalive_ = std::chrono::steady_clock::now();
  schedule_tick();
}

// Every few seconds while relaying: a queued request the backend or client stopped answering ends
// the connection (its replies could never be ordered again), and every keepalive_interval an
// SSH_MSG_IGNORE keeps NATs and load balancers from dropping idle NX sessions; dead peers are found
// by TCP keepalive. (A keepalive global request would collide with relayed tcpip-forwards.)
void Connection::schedule_tick() {
  constexpr auto kTick = std::chrono::seconds(5);
  tick_timer_.expires_after(kTick);
  tick_timer_.async_wait([self = shared_from_this(), kTick](const boost::system::error_code& ec) {
    if (ec || self->state_ != State::Relaying) return;
    auto now = std::chrono::steady_clock::now();
    const LimitsConfig& limits = self->config().limits;
    if (self->bridge_->stuck(now, limits.backend_auth_timeout)) {
      self->close("a request got no answer within the backend timeout");
      return;
    }
    auto keepalive = limits.keepalive_interval;
    if (keepalive.count() > 0 && now - self->last_keepalive_ >= keepalive) {
      self->last_keepalive_ = now;
      ssh_send_ignore(self->front_.get(), "");
      ssh_send_ignore(self->back_.get(), "");
    }
    self->process();
    self->schedule_tick();
  });
}

void Connection::release_unauthenticated_slot() {
  if (counted_unauthenticated_) {
    counted_unauthenticated_ = false;
    --context_.unauthenticated;
    if (context_.startups != nullptr && peer_ip_) context_.startups->remove(*peer_ip_);
  }
}

void Connection::close(const std::string& reason) {
  if (state_ == State::Closed) return;
  bool relayed = state_ == State::Relaying;
  state_ = State::Closed;
  grace_timer_.cancel();
  tick_timer_.cancel();
  stop_watching(front_watch_);
  stop_watching(back_watch_);
  backend_login_.reset();
  if (relayed) {
    auto seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
    spdlog::info("{} connection closed user={} reason=\"{}\" duration_s={:.1f} bytes_up={} bytes_down={}",
                 log_prefix_, user_, reason, seconds, bridge_->counters().bytes_to_backend,
                 bridge_->counters().bytes_to_client);
    audit_.closed(reason, std::chrono::steady_clock::now() - started_,
                  bridge_->counters().bytes_to_backend, bridge_->counters().bytes_to_client);
  } else {
    spdlog::debug("{} connection closed before login: {}", log_prefix_, reason);
  }
  bridge_.reset();
  if (back_) {
    ssh_event_remove_session(event_.get(), back_.get());
    // libssh 0.10's ssh_disconnect neither closes a socket it got through SSH_OPTIONS_FD (as
    // BackendLogin's) nor remembers it afterwards, so every relayed connection leaked its backend
    // descriptor. Declaring the descriptor libssh's own makes ssh_disconnect close it, once.
    const int not_user_supplied = -1;
    ssh_options_set(back_.get(), SSH_OPTIONS_FD, &not_user_supplied);
    ssh_disconnect(back_.get());
  }
  if (front_) {
    ssh_event_remove_session(event_.get(), front_.get());
    ssh_disconnect(front_.get());
  }
  wipe(password_);
  pending_auth_.reset();
  release_unauthenticated_slot();
  --context_.active;
}

}  // namespace x2gojump
