#include "broker/agentapi/HttpHandler.h"

#include <nlohmann/json.hpp>

namespace x2gojump {

ApiResponse error_response(unsigned status, std::string_view reason) {
  // Reasons may quote what a client sent; "replace" keeps invalid UTF-8 from throwing.
  nlohmann::json body{{"error", reason}};
  return ApiResponse{status, body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), {}};
}

}  // namespace x2gojump
