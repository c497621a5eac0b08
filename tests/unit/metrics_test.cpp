// Prometheus text format and the counters behind /metrics.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <thread>
#include <vector>

#include "broker/metrics/BrokerMetrics.h"
#include "broker/metrics/Metric.h"
#include "broker/metrics/PrometheusText.h"

namespace x2gojump {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(PrometheusText, FamilyWithoutLabels) {
  MetricFamily family{"x_total", "Things done.", MetricType::Counter, {{{}, 42}}};
  EXPECT_EQ(render_prometheus({family}),
            "# HELP x_total Things done.\n"
            "# TYPE x_total counter\n"
            "x_total 42\n");
}

TEST(PrometheusText, GaugeWithLabelsInOrder) {
  MetricFamily family{"x_state", "State.", MetricType::Gauge,
                      {{{{"server", "b1"}, {"state", "up"}}, 1}, {{{"server", "b2"}, {"state", "up"}}, 0}}};
  EXPECT_EQ(render_prometheus({family}),
            "# HELP x_state State.\n"
            "# TYPE x_state gauge\n"
            "x_state{server=\"b1\",state=\"up\"} 1\n"
            "x_state{server=\"b2\",state=\"up\"} 0\n");
}

TEST(PrometheusText, LabelValuesAreEscaped) {
  MetricFamily family{"x", "h", MetricType::Gauge, {{{{"v", "a\\b\"c\nd"}}, 1}}};
  EXPECT_THAT(render_prometheus({family}), HasSubstr("x{v=\"a\\\\b\\\"c\\nd\"} 1\n"));
}

TEST(PrometheusText, HelpIsEscapedButKeepsQuotes) {
  MetricFamily family{"x", "say \"hi\"\\\nbye", MetricType::Gauge, {}};
  EXPECT_EQ(render_prometheus({family}), "# HELP x say \"hi\"\\\\\\nbye\n# TYPE x gauge\n");
}

TEST(PrometheusText, ValueSpelling) {
  auto one = [](double v) {
    std::string text = render_prometheus({{"x", "h", MetricType::Gauge, {{{}, v}}}});
    return text.substr(text.rfind("x ") + 2);
  };
  EXPECT_EQ(one(0), "0\n");
  EXPECT_EQ(one(-3), "-3\n");
  EXPECT_EQ(one(0.25), "0.25\n");
  EXPECT_EQ(one(1234567890123.0), "1234567890123\n");
  EXPECT_EQ(one(std::numeric_limits<double>::quiet_NaN()), "NaN\n");
  EXPECT_EQ(one(std::numeric_limits<double>::infinity()), "+Inf\n");
  EXPECT_EQ(one(-std::numeric_limits<double>::infinity()), "-Inf\n");
  EXPECT_EQ(one(1e20), "1e+20\n");
}

TEST(CounterFamily, CountsPerLabelSetAndKeepsReferences) {
  CounterFamily family("x_total", "h", {"result", "reason"});
  Counter& ok = family.with({"success", "ok"});
  family.with({"failure", "bad"}).add(2);
  ok.add();
  EXPECT_EQ(&family.with({"success", "ok"}), &ok);
  for (int i = 0; i < 100; ++i) family.with({"failure", "r" + std::to_string(i)});
  ok.add();  // still valid after many insertions
  MetricFamily collected = family.collect();
  ASSERT_EQ(collected.samples.size(), 102u);
  EXPECT_EQ(collected.samples[0].labels,
            (std::vector<std::pair<std::string, std::string>>{{"result", "failure"}, {"reason", "bad"}}));
  EXPECT_EQ(collected.samples[0].value, 2);
  EXPECT_EQ(collected.samples.back().labels[0].second, "success");
  EXPECT_EQ(collected.samples.back().value, 2);
}

TEST(CounterFamily, WrongNumberOfValuesThrows) {
  CounterFamily family("x_total", "h", {"a"});
  EXPECT_THROW(family.with({}), std::invalid_argument);
  EXPECT_THROW(family.with({"1", "2"}), std::invalid_argument);
}

TEST(Counter, ConcurrentAddsAreNotLost) {
  Counter counter;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 100000; ++i) counter.add();
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(counter.value(), 400000u);
  EXPECT_EQ(counter.add_fetch(), 400001u);
}

TEST(BrokerMetrics, KnownLabelSetsStartAtZero) {
  std::string text = render_prometheus(metrics().collect());
  EXPECT_THAT(text, HasSubstr("# TYPE x2gojump_connections_total counter\n"));
  EXPECT_THAT(text, HasSubstr("x2gojump_relay_bytes_total{direction=\"up\"} "));
  EXPECT_THAT(text, HasSubstr("x2gojump_relay_bytes_total{direction=\"down\"} "));
  EXPECT_THAT(text, HasSubstr("x2gojump_channels_total{type=\"direct-tcpip\"} "));
  EXPECT_THAT(text, HasSubstr("x2gojump_config_reloads_total{result=\"failure\"} "));
  EXPECT_THAT(text, HasSubstr("# TYPE x2gojump_agent_reports_rejected_total counter\n"));
}

TEST(BrokerMetrics, AgentReportsAreCountedByStatus) {
  const auto accepted = metrics().agent_reports_accepted.value();
  const auto stale = metrics().agent_reports_rejected.with({"stale-sequence"}).value();
  const auto unauthorized = metrics().agent_reports_rejected.with({"unauthorized"}).value();
  count_agent_report(200);
  count_agent_report(409);
  count_agent_report(409);
  count_agent_report(401);
  EXPECT_EQ(metrics().agent_reports_accepted.value(), accepted + 1);
  EXPECT_EQ(metrics().agent_reports_rejected.with({"stale-sequence"}).value(), stale + 2);
  EXPECT_EQ(metrics().agent_reports_rejected.with({"unauthorized"}).value(), unauthorized + 1);
  EXPECT_THAT(render_prometheus(metrics().collect()),
              HasSubstr("x2gojump_agent_reports_rejected_total{reason=\"stale-sequence\"} "));
}

TEST(BrokerMetrics, OutputHasNoEmptyOrMalformedLines) {
  std::string text = render_prometheus(metrics().collect());
  ASSERT_FALSE(text.empty());
  EXPECT_EQ(text.back(), '\n');
  EXPECT_THAT(text, Not(HasSubstr("\n\n")));
}

}  // namespace
}  // namespace x2gojump
