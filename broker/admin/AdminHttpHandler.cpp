#include "broker/admin/AdminHttpHandler.h"

#include <spdlog/spdlog.h>

#include "broker/admin/StatusMetrics.h"
#include "broker/admin/StatusPage.h"
#include "broker/metrics/BrokerMetrics.h"

namespace x2gojump {
namespace {

ApiResponse typed(std::string body, std::string_view content_type) {
  ApiResponse response{200, std::move(body), {}};
  response.headers.emplace_back("Content-Type", std::string(content_type));
  return response;
}

}  // namespace

ApiResponse AdminHttpHandler::handle(const ApiRequest& request, std::int64_t) const {
  std::string_view path = request.target.substr(0, request.target.find('?'));
  if (path != "/" && path != "/metrics" && path != "/api/status") {
    return error_response(404, "not found");
  }
  if (request.method != "GET") {
    ApiResponse response = error_response(405, "method not allowed");
    response.headers.emplace_back("Allow", "GET");
    return response;
  }
  try {
    const StatusReport report = source_.collect();
    if (path == "/metrics") {
      std::vector<MetricFamily> families = metrics().collect();
      for (MetricFamily& family : status_metrics(report)) families.push_back(std::move(family));
      return typed(render_prometheus(families), kPrometheusContentType);
    }
    if (path == "/api/status") {
      return typed(to_json(report).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                   "application/json");
    }
    ApiResponse page = typed(render_status_page(report), "text/html; charset=utf-8");
    page.headers.emplace_back("Content-Security-Policy", std::string(kStatusPageCsp));
    page.headers.emplace_back("X-Content-Type-Options", "nosniff");
    page.headers.emplace_back("Referrer-Policy", "no-referrer");
    return page;
  } catch (const std::exception& e) {
    spdlog::error("admin: [{}] {} failed: {}", request.peer, path, e.what());
    return error_response(500, "state store unavailable");
  }
}

}  // namespace x2gojump
