#include "broker/ssh/BackendLogin.h"

#include <boost/asio/connect.hpp>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include "broker/ssh/HostKeyCheck.h"

namespace x2gojump {
namespace {

// AES-GCM first on the backend hop: AES-NI makes it the cheapest cipher for a relay that
// decrypts and encrypts every byte.
constexpr const char* kBackendCiphers =
    "aes128-gcm@openssh.com,aes256-gcm@openssh.com,chacha20-poly1305@openssh.com,aes128-ctr,"
    "aes256-ctr";

}  // namespace

BackendLogin::BackendLogin(boost::asio::io_context& io, BackendTarget target, std::string user,
                           Settings settings, std::function<void()> wake)
    : io_(io),
      target_(std::move(target)),
      user_(std::move(user)),
      settings_(settings),
      wake_(std::move(wake)),
      resolver_(io),
      socket_(io),
      deadline_(io) {}

BackendLogin::~BackendLogin() {
  deadline_.cancel();
  resolver_.cancel();
  boost::system::error_code ignored;
  socket_.close(ignored);
  // libssh closes fd_ when the session is freed; an event must not keep a freed session.
  if (session_ && in_event_) ssh_event_remove_session(event_, session_.get());
}

void BackendLogin::start(const std::string* password) {
  password_ = password;
  deadline_.expires_after(settings_.connect_timeout);
  deadline_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    timed_out_ = true;
    resolver_.cancel();
    boost::system::error_code ignored;
    socket_.close(ignored);
    wake_();
  });
  resolver_.async_resolve(
      target_.address, std::to_string(target_.port),
      [this](const boost::system::error_code& ec, boost::asio::ip::tcp::resolver::results_type results) {
        if (ec == boost::asio::error::operation_aborted) return;  // we are being destroyed
        if (ec) {
          connect_failed_ = true;
          detail_ = "cannot resolve " + target_.address + ": " + ec.message();
          wake_();
          return;
        }
        boost::asio::async_connect(socket_, results,
                                   [this](const boost::system::error_code& cec,
                                          const boost::asio::ip::tcp::endpoint&) { on_connected(cec); });
      });
}

void BackendLogin::on_connected(const boost::system::error_code& ec) {
  if (ec == boost::asio::error::operation_aborted) return;  // destroyed, or the deadline closed it
  if (ec) {
    if (!timed_out_) {
      connect_failed_ = true;
      detail_ = "connect to " + target_.address + ":" + std::to_string(target_.port) + " failed: " +
                ec.message();
    }
    wake_();
    return;
  }
  socket_.set_option(boost::asio::ip::tcp::no_delay(true));
  socket_.set_option(boost::asio::socket_base::keep_alive(true));
  // libssh owns the descriptor from here on; release() also takes it out of asio's epoll set.
  fd_ = socket_.release();

  ssh_session raw = ssh_new();
  session_.reset(raw);
  int no = 0;
  ssh_options_set(raw, SSH_OPTIONS_FD, &fd_);
  ssh_options_set(raw, SSH_OPTIONS_HOST, target_.address.c_str());
  ssh_options_set(raw, SSH_OPTIONS_USER, user_.c_str());
  ssh_options_set(raw, SSH_OPTIONS_PROCESS_CONFIG, &no);
  ssh_options_set(raw, SSH_OPTIONS_KNOWNHOSTS, "/dev/null");
  ssh_options_set(raw, SSH_OPTIONS_GLOBAL_KNOWNHOSTS, "/dev/null");
  ssh_options_set(raw, SSH_OPTIONS_CIPHERS_C_S, kBackendCiphers);
  ssh_options_set(raw, SSH_OPTIONS_CIPHERS_S_C, kBackendCiphers);
  ssh_set_blocking(raw, 0);
  deadline_.expires_after(settings_.auth_timeout);
  deadline_.async_wait([this](const boost::system::error_code& dec) {
    if (dec) return;
    timed_out_ = true;
    wake_();
  });
  wake_();
}

BackendLogin::Outcome BackendLogin::fail(Outcome outcome, std::string detail) {
  detail_ = std::move(detail);
  deadline_.cancel();
  return outcome;
}

BackendLogin::Outcome BackendLogin::step(ssh_event event) {
  if (timed_out_) return fail(Outcome::Unreachable, "timed out");
  if (connect_failed_) return fail(Outcome::Unreachable, detail_);
  if (!session_) return Outcome::Pending;
  ssh_session s = session_.get();

  if (!handshake_done_) {
    event_ = event;
    int rc = ssh_connect(s);
    if (!in_event_ && rc != SSH_ERROR) {
      // Only after the first ssh_connect does the session have a poll handle to add.
      in_event_ = ssh_event_add_session(event, s) == SSH_OK;
    }
    if (rc == SSH_AGAIN) return Outcome::Pending;
    if (rc != SSH_OK) return fail(Outcome::Unreachable, std::string("SSH handshake failed: ") + ssh_get_error(s));
    handshake_done_ = true;
    Outcome key = verify_host_key();
    if (key != Outcome::Pending) return key;
  }

  int rc = ssh_userauth_password(s, nullptr, password_->c_str());
  switch (rc) {
    case SSH_AUTH_AGAIN:
      return Outcome::Pending;
    case SSH_AUTH_SUCCESS:
      deadline_.cancel();
      in_event_ = false;  // the session stays in the event under its new owner
      return Outcome::Success;
    case SSH_AUTH_DENIED:
    case SSH_AUTH_PARTIAL:
      return fail(Outcome::Refused, "backend refused the password");
    default:
      return fail(Outcome::Unreachable, std::string("backend authentication failed: ") + ssh_get_error(s));
  }
}

BackendLogin::Outcome BackendLogin::verify_host_key() {
  ssh_key raw = nullptr;
  if (ssh_get_server_publickey(session_.get(), &raw) != SSH_OK) {
    return fail(Outcome::Unreachable, "backend sent no host key");
  }
  KeyPtr key(raw);
  if (target_.pinned_key.empty()) {
    if (!settings_.accept_new_host_key) {
      return fail(Outcome::HostKeyMismatch, "no pinned host key (got " + fingerprint(key.get()) + ")");
    }
    learned_key_ = public_key_line(key.get());
    spdlog::warn("backend {}: trusting host key {} on first use", target_.server, fingerprint(key.get()));
    return Outcome::Pending;
  }
  if (!matches_pin(key.get(), target_.pinned_key)) {
    return fail(Outcome::HostKeyMismatch, "host key " + fingerprint(key.get()) + " does not match the pin");
  }
  return Outcome::Pending;
}

}  // namespace x2gojump
