// Counters, gauges and histograms in Prometheus' text exposition format. Thread-safe; one
// registry per process, handed to whoever records into it (nullptr = record nothing).
#pragma once

#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace octohub {

using MetricLabels = std::vector<std::pair<std::string, std::string>>;

class Metrics {
 public:
  enum class Type { kCounter, kGauge, kHistogram };

  // Declares a family; recording into an undeclared name is ignored.
  void Declare(const std::string& name, Type type, const std::string& help);

  void Add(const std::string& name, const MetricLabels& labels, double amount = 1);  // counter
  void Set(const std::string& name, const MetricLabels& labels, double value);       // gauge
  void Observe(const std::string& name, const MetricLabels& labels, double value);   // histogram

  std::string Render() const;

 private:
  struct Series {
    double value = 0;             // counter or gauge
    std::vector<double> buckets;  // histogram: cumulative counts per bound
    double sum = 0;
    double count = 0;
  };
  struct Family {
    Type type;
    std::string help;
    std::map<std::string, Series> series;  // by rendered label set
  };
  Series* Find(const std::string& name, const MetricLabels& labels, Type type);

  mutable std::mutex mutex_;
  std::map<std::string, Family> families_;
};

// Seconds: from 1 ms to 10 s, for request and search latencies.
const std::vector<double>& LatencyBuckets();

}  // namespace octohub
