#pragma once
// What an HTTP listener (HttpListener, HttpSession) does with a request, without any network I/O.
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace x2gojump {

struct ApiRequest {
  std::string_view method;         // as sent, e.g. "POST" (methods are case-sensitive)
  std::string_view target;         // request target, e.g. "/v1/snapshot"; a query is ignored
  std::string_view authorization;  // the Authorization header's value, empty if absent
  std::string_view body;
  std::string_view peer;           // client address, for logs only
};

struct ApiResponse {
  unsigned status = 200;
  std::string body;  // JSON unless a Content-Type header says otherwise
  std::vector<std::pair<std::string, std::string>> headers;  // besides Server; may replace Content-Type
};

// {"error": reason} with the given status, for responses decided outside handle() (413, 431).
ApiResponse error_response(unsigned status, std::string_view reason);

class HttpHandler {
 public:
  virtual ~HttpHandler() = default;
  // Decides the response to request, received at now (unix seconds). Runs on a thread pool;
  // must be thread-safe and must not throw.
  virtual ApiResponse handle(const ApiRequest& request, std::int64_t now) const = 0;
  // Told about a request refused before it reached handle() (400, 413, 431).
  virtual void refused(unsigned status) const { (void)status; }
};

}  // namespace x2gojump
