#pragma once
// The admin listener's requests (GET only, no authentication: bind it to loopback or a
// management network):
//   /            the status page (HTML)
//   /metrics     Prometheus text format 0.0.4
//   /api/status  the status report as JSON
// Other paths 404, other methods 405.
#include "broker/admin/StatusSource.h"
#include "broker/agentapi/HttpHandler.h"

namespace x2gojump {

class AdminHttpHandler : public HttpHandler {
 public:
  explicit AdminHttpHandler(const StatusSource& source) : source_(source) {}

  ApiResponse handle(const ApiRequest& request, std::int64_t now) const override;

 private:
  const StatusSource& source_;
};

}  // namespace x2gojump
