#pragma once
// x2gojumpctl's side of the control socket: one request, one response (ControlProtocol.h).
#include <chrono>
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

#include "broker/admin/ControlProtocol.h"

namespace x2gojump {

// The broker could not be reached or did not answer; what() is the message for the user.
struct ControlUnreachable : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Sends request to the broker at socket_path and returns its parsed response (an object with
// "ok"). Throws ControlUnreachable when the socket cannot be connected to, the broker closes
// without answering, answers garbage or takes longer than timeout.
nlohmann::json call_broker(const std::string& socket_path, const ControlRequest& request,
                           std::chrono::milliseconds timeout);

}  // namespace x2gojump
