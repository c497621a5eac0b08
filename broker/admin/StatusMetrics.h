#pragma once
// The metrics read at scrape time rather than counted: connections open now and each server's
// state, load, sessions and report age (x2gojump_server_*). Pure.
#include <vector>

#include "broker/admin/StatusReport.h"
#include "broker/metrics/PrometheusText.h"

namespace x2gojump {

std::vector<MetricFamily> status_metrics(const StatusReport& report);

}  // namespace x2gojump
