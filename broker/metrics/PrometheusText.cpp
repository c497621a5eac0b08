#include "broker/metrics/PrometheusText.h"

#include <fmt/format.h>

#include <cmath>

namespace x2gojump {
namespace {

void append_escaped(std::string& out, std::string_view text, bool quotes) {
  for (char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '"' && quotes) {
      out += "\\\"";
    } else {
      out += c;
    }
  }
}

void append_value(std::string& out, double value) {
  if (std::isnan(value)) {
    out += "NaN";
  } else if (std::isinf(value)) {
    out += value > 0 ? "+Inf" : "-Inf";
  } else if (value == std::trunc(value) && std::fabs(value) < 1e15) {
    out += fmt::format("{}", static_cast<long long>(value));
  } else {
    out += fmt::format("{}", value);
  }
}

}  // namespace

std::string render_prometheus(const std::vector<MetricFamily>& families) {
  std::string out;
  for (const MetricFamily& family : families) {
    out += "# HELP " + family.name + " ";
    append_escaped(out, family.help, false);
    out += "\n# TYPE " + family.name + (family.type == MetricType::Counter ? " counter\n" : " gauge\n");
    for (const MetricSample& sample : family.samples) {
      out += family.name;
      if (!sample.labels.empty()) {
        out += '{';
        for (std::size_t i = 0; i < sample.labels.size(); ++i) {
          if (i > 0) out += ',';
          out += sample.labels[i].first + "=\"";
          append_escaped(out, sample.labels[i].second, true);
          out += '"';
        }
        out += '}';
      }
      out += ' ';
      append_value(out, sample.value);
      out += '\n';
    }
  }
  return out;
}

}  // namespace x2gojump
