#pragma once
// The Prometheus text exposition format, version 0.0.4. Pure.
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace x2gojump {

enum class MetricType { Counter, Gauge };

struct MetricSample {
  std::vector<std::pair<std::string, std::string>> labels;  // name, value
  double value = 0;
};

struct MetricFamily {
  std::string name;  // [a-zA-Z_:][a-zA-Z0-9_:]*
  std::string help;
  MetricType type = MetricType::Counter;
  std::vector<MetricSample> samples;
};

// The Content-Type of render_prometheus's output.
inline constexpr std::string_view kPrometheusContentType = "text/plain; version=0.0.4; charset=utf-8";

// "# HELP", "# TYPE" and one line per sample for each family, in order. Label values are escaped
// (backslash, double quote, newline), HELP text too (backslash, newline); values are written
// exactly for integers and shortest round-trip otherwise, with NaN, +Inf and -Inf spelled as
// Prometheus expects.
std::string render_prometheus(const std::vector<MetricFamily>& families);

}  // namespace x2gojump
