#pragma once
// The report an agent pushes to the brokers: a full snapshot of one X2Go host (not a delta, so a
// lost or repeated report heals itself). Versioned JSON; parsing is strict and bounded.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace x2gojump {

struct SnapshotSession {
  std::string session_id;        // X2Go session name
  std::string user;
  char status = 'R';             // 'R' running or 'S' suspended
  int display = 0;
  std::int64_t created = 0;      // unix seconds
  std::int64_t last_change = 0;  // unix seconds
};

struct HostLoad {
  double load1 = 0, load5 = 0, load15 = 0;
  int cpus = 1;
  std::uint64_t mem_total_kb = 0;
  std::uint64_t mem_available_kb = 0;
};

struct Snapshot {
  static constexpr int kVersion = 1;
  std::string server;            // the X2Go host's name as configured on the broker
  std::uint64_t sequence = 0;    // strictly increasing per agent, also across agent restarts
  std::int64_t generated_at = 0; // unix seconds
  HostLoad load;
  std::vector<SnapshotSession> sessions;
  std::vector<std::string> host_keys;  // OpenSSH public key lines of the host
};

struct SnapshotLimits {
  std::size_t max_sessions = 10000;
  std::size_t max_string_bytes = 512;
  std::size_t max_host_keys = 8;
};

// Serialises to the wire format (JSON object with "version": 1).
std::string to_json(const Snapshot& snapshot);

struct SnapshotParse {
  std::optional<Snapshot> snapshot;  // set iff error is empty
  std::string error;                 // a reason fit for an HTTP 400 body
};

// Parses and validates body: unknown fields, wrong types, out-of-range values, oversized arrays or
// strings, bad statuses and duplicate session ids are errors. Never throws.
SnapshotParse parse_snapshot(std::string_view body, const SnapshotLimits& limits = {});

// The load figure least-load routing compares (lower is better), from an agent's HostLoad.
double load_score(const HostLoad& load);

}  // namespace x2gojump
