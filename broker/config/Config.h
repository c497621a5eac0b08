#pragma once
// The broker's configuration (/etc/x2gojump/broker.toml), parsed and validated in one place.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "broker/policy/Cidr.h"
#include "broker/routing/Router.h"

namespace x2gojump {

enum class GroupStyle { PosixMemberUid, GroupOfNamesMember, MemberOf };

struct ListenAddress {
  std::string host;  // numeric IPv4 or IPv6 address ("0.0.0.0", "::", "127.0.0.1")
  std::uint16_t port = 22;
  bool operator==(const ListenAddress&) const = default;
};

struct LdapConfig {
  std::vector<std::string> uris;   // tried in order (failover); ldap:// or ldaps://
  bool starttls = false;           // StartTLS on ldap:// URIs; failure refuses the login
  std::string ca_file;             // CA bundle for ldaps/StartTLS; empty = system default
  std::string base_dn;
  std::string user_base;           // defaults to base_dn
  std::string user_filter = "(&(objectClass=posixAccount)(uid={user}))";
  std::string group_base;          // defaults to base_dn
  std::vector<GroupStyle> group_styles{GroupStyle::PosixMemberUid, GroupStyle::GroupOfNamesMember,
                                       GroupStyle::MemberOf};
  std::string bind_dn;             // optional service account for the DN search
  std::string bind_password;       // read from bind_password_file; never logged
  std::chrono::milliseconds connect_timeout{3000};
  std::chrono::milliseconds operation_timeout{5000};
  bool operator==(const LdapConfig&) const = default;  // a reload compares the running one
};

struct ServerConfig {
  std::string name;        // unique; the X2Go host name agents report
  std::string address;     // host name or IP the broker connects to
  std::uint16_t port = 22;
  double weight = 1.0;     // > 0
  std::string host_key;    // optional pin, OpenSSH public key line "ssh-ed25519 AAAA... [comment]"
  std::string agent_token; // read from agent_token_file; empty = no agent may report; never logged
  int max_users = 0;       // users with sessions at which the server takes no new placements; 0 = no limit
};

// The HTTP(S) listener agents push snapshots to ([agent_api]).
struct AgentApiConfig {
  std::vector<ListenAddress> listen;  // empty = the API is disabled
  std::string tls_cert_file;          // PEM; required unless allow_plain_http
  std::string tls_key_file;
  bool allow_plain_http = false;      // only for loopback tests and trusted networks
  std::size_t max_body_bytes = 1024 * 1024;
  std::chrono::milliseconds read_timeout{5000};
  bool operator==(const AgentApiConfig&) const = default;
};

// Server health ([health]): agent heartbeats plus the broker's own SSH-banner probes.
struct HealthConfig {
  std::chrono::seconds heartbeat_interval{5};  // the agents' heartbeat period
  int stale_after_intervals = 3;               // missed heartbeats before a server is stale
  std::chrono::seconds probe_interval{5};
  std::chrono::milliseconds probe_timeout{2000};
  int down_after_failures = 2;                 // consecutive failed probes before down
  std::chrono::seconds failure_penalty{180};   // deprioritised after a backend connect/login failure
};

// One [[pool]]: who may use which servers (docs/acl.md). Users and groups compare ASCII
// case-insensitively, as LDAP's uid and cn do.
struct PoolConfig {
  std::string name;                       // unique, [A-Za-z0-9._-]{1,64}
  std::vector<std::string> servers;       // names of [[server]] entries
  std::vector<std::string> allow_groups;  // LDAP group cn values
  std::vector<std::string> allow_users;   // "*" = every authenticated user
  std::vector<Cidr> allow_networks;       // empty = any source address
  std::vector<std::string> deny_groups;
  std::vector<std::string> deny_users;
  std::vector<Cidr> deny_networks;
  bool deny_wins = true;             // false: an allow_users entry (not "*") beats group/network denies
  bool resume_outside_pool = false;  // members may resume their sessions on servers outside their pools
};

// The admin interfaces ([admin], docs/operations.md). Without an [admin] table there is no
// admin listener and no control socket; with one, listen and control_socket default to these.
struct AdminConfig {
  static constexpr const char* kDefaultControlSocket = "/run/x2gojump/control.sock";

  std::vector<ListenAddress> listen;  // HTTP: /metrics, status page; empty = none
  std::string control_socket;         // Unix socket for x2gojumpctl; empty = none
  std::string control_socket_group;   // group given access (mode 0660); empty = the broker's own
  std::string audit_log = "stdout";   // "stdout", a file (appended), or "" (memory only)
};

struct LimitsConfig {
  std::chrono::seconds login_grace_time{30};   // whole pre-auth phase, incl. backend login
  int max_startups_begin = 10;                 // MaxStartups start:rate:full
  int max_startups_rate = 30;                  // percent
  int max_startups_full = 100;
  int max_auth_attempts = 6;
  int max_connections = 10000;
  std::size_t channel_buffer_bytes = 256 * 1024;  // per direction per channel, in the relay
  std::chrono::milliseconds backend_connect_timeout{5000};
  std::chrono::milliseconds backend_auth_timeout{15000};
  std::chrono::seconds keepalive_interval{30};    // 0 disables
  std::chrono::seconds placement_ttl{300};        // sticky user -> server after the last connection
  // Per source (an IPv4 /source_ipv4_prefix or IPv6 /source_ipv6_prefix network): at most
  // max_startups_per_source unauthenticated connections (0 = no limit), and penalties
  // (broker/net/SourcePenalty.h): seconds added per refused password and per login grace timeout;
  // new connections are refused once penalty_min is pending, never longer than penalty_max.
  int max_startups_per_source = 10;
  int source_ipv4_prefix = 32;
  int source_ipv6_prefix = 64;
  std::chrono::seconds penalty_auth_failure{5};     // 0 disables
  std::chrono::seconds penalty_grace_exceeded{10};  // 0 disables
  std::chrono::seconds penalty_min{15};
  std::chrono::seconds penalty_max{600};
  int penalty_max_sources = 65536;
  // Loopback by default: a local proxy or health check would share one penalty for everyone.
  std::vector<Cidr> penalty_exempt{*Cidr::parse("127.0.0.0/8"), *Cidr::parse("::1")};
};

struct BrokerConfig {
  std::vector<ListenAddress> listen{{"0.0.0.0", 22}};
  std::vector<std::string> host_keys;   // private key files (ed25519, rsa, ecdsa)
  std::string state_db = "/var/lib/x2gojump/state.db";
  int threads = 0;                      // event-loop threads; 0 = number of CPUs
  std::string log_level = "info";
  FallbackStrategy fallback = FallbackStrategy::SourceIp;
  bool accept_new_backend_host_keys = false;  // trust-on-first-use for servers without a pin
  std::string user;  // started as root: switch to this user once listeners and keys are open
  LdapConfig ldap;
  std::vector<ServerConfig> servers;
  std::vector<PoolConfig> pools;        // empty = every authenticated user may use every server
  LimitsConfig limits;
  AgentApiConfig agent_api;
  HealthConfig health;
  AdminConfig admin;
};

struct ConfigError {
  std::string file;
  int line = 0;      // 0 when not tied to a line
  std::string key;   // dotted path, e.g. "server[2].port" (array indices count from 0)
  std::string message;
  // "file:line: key: message"; ":line" is left out when line is 0 and "key: " when key is empty
  // (unreadable file, TOML syntax error).
  std::string to_string() const;
};

struct ConfigResult {
  std::optional<BrokerConfig> config;  // set iff errors is empty
  std::vector<ConfigError> errors;
};

// Parses TOML text; file_name is used in errors and to resolve relative paths (password files).
ConfigResult parse_broker_config(std::string_view text, std::string_view file_name);

// Reads and parses the file at path. A missing/unreadable file is an error, not an exception.
ConfigResult load_broker_config(const std::string& path);

}  // namespace x2gojump
