#pragma once
// The control socket protocol between x2gojumpctl and the broker: one JSON object per line each
// way, request then response, on a Unix stream socket. Pure; shared by both sides.
//
//   {"command":"servers"}                                  -> {"ok":true,"servers":[...]}
//   {"command":"sessions","user":"U","server":"S"}        -> {"ok":true,"sessions":[...]}
//   {"command":"explain","user":"U","from":"ADDR"}        -> {"ok":true,"explain":{...}}
//   {"command":"drain"|"undrain"|"trust-hostkey","server":"S"} -> {"ok":true,"changed":bool,...}
//   any failure                                            -> {"ok":false,"error":"..."}
// Filters and "from" are optional; unknown keys and commands are errors.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace x2gojump {

inline constexpr std::size_t kMaxControlRequestBytes = 4096;  // one line, newline included
inline constexpr std::size_t kMaxControlResponseBytes = 64 * 1024 * 1024;

enum class ControlCommand { Servers, Sessions, Explain, Drain, Undrain, TrustHostKey };

// "servers", "sessions", "explain", "drain", "undrain", "trust-hostkey".
std::string_view to_string(ControlCommand command);

struct ControlRequest {
  ControlCommand command = ControlCommand::Servers;
  std::string user;    // sessions (filter), explain (required)
  std::string server;  // sessions (filter), drain, undrain, trust-hostkey (required)
  std::string from;    // explain: the source address to assume (optional)
  bool operator==(const ControlRequest&) const = default;
};

struct ParsedControlRequest {
  std::optional<ControlRequest> request;
  std::string error;  // set iff request is not
};

// Parses one request line (without its newline). Checks types, required and unknown keys, and
// that names hold no control characters and fit in 256 bytes. Never throws.
ParsedControlRequest parse_control_request(std::string_view line);

// The request as one line, without the newline: what parse_control_request reads.
std::string control_request_line(const ControlRequest& request);

// {"ok":true} merged with fields (an object), as one line without the newline.
std::string control_ok_line(const nlohmann::json& fields);
// {"ok":false,"error":message} as one line without the newline.
std::string control_error_line(std::string_view message);

}  // namespace x2gojump
