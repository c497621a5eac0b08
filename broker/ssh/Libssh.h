#pragma once
// RAII ownership of libssh handles. Channels are not wrapped: their lifetime is tied to the
// session and managed by ChannelBridge (libssh may keep a channel alive after ssh_channel_free).
#include <libssh/libssh.h>
#include <libssh/server.h>

#include <memory>

namespace x2gojump {

struct SessionDeleter { void operator()(ssh_session s) const { ssh_free(s); } };
struct EventDeleter { void operator()(ssh_event e) const { ssh_event_free(e); } };
struct MessageDeleter { void operator()(ssh_message m) const { ssh_message_free(m); } };
struct KeyDeleter { void operator()(ssh_key k) const { ssh_key_free(k); } };
struct BindDeleter { void operator()(ssh_bind b) const { ssh_bind_free(b); } };

using SessionPtr = std::unique_ptr<ssh_session_struct, SessionDeleter>;
using EventPtr = std::unique_ptr<ssh_event_struct, EventDeleter>;
using MessagePtr = std::unique_ptr<ssh_message_struct, MessageDeleter>;
using KeyPtr = std::unique_ptr<ssh_key_struct, KeyDeleter>;
using BindPtr = std::unique_ptr<ssh_bind_struct, BindDeleter>;

}  // namespace x2gojump
