#include "octohub/core/metrics.h"

#include <catch2/catch.hpp>

using octohub::Metrics;

TEST_CASE("counters, gauges and histograms render in Prometheus text format", "[unit]") {
  Metrics metrics;
  metrics.Declare("jobs_total", Metrics::Type::kCounter, "jobs done");
  metrics.Declare("queue", Metrics::Type::kGauge, "waiting");
  metrics.Declare("latency_seconds", Metrics::Type::kHistogram, "how long");
  metrics.Add("jobs_total", {{"kind", "a\"b"}}, 2);
  metrics.Add("jobs_total", {{"kind", "a\"b"}});
  metrics.Set("queue", {}, 7);
  metrics.Observe("latency_seconds", {{"route", "/x"}}, 0.003);
  metrics.Observe("latency_seconds", {{"route", "/x"}}, 20);
  metrics.Add("undeclared", {}, 1);  // ignored
  const std::string text = metrics.Render();
  CHECK_THAT(text, Catch::Contains("# TYPE jobs_total counter\njobs_total{kind=\"a\\\"b\"} 3\n"));
  CHECK_THAT(text, Catch::Contains("queue 7\n"));
  CHECK_THAT(text, Catch::Contains("latency_seconds_bucket{route=\"/x\",le=\"0.0025\"} 0\n"));
  CHECK_THAT(text, Catch::Contains("latency_seconds_bucket{route=\"/x\",le=\"0.005\"} 1\n"));
  CHECK_THAT(text, Catch::Contains("latency_seconds_bucket{route=\"/x\",le=\"+Inf\"} 2\n"));
  CHECK_THAT(text, Catch::Contains("latency_seconds_count{route=\"/x\"} 2\n"));
  CHECK_THAT(text, !Catch::Contains("undeclared"));
}
