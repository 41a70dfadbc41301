#include "octohub/core/metrics.h"

#include <cmath>
#include <cstdio>

namespace octohub {
namespace {

std::string Escape(std::string_view value) {
  std::string out;
  for (char c : value) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

std::string LabelText(const MetricLabels& labels) {
  std::string out;
  for (const auto& [key, value] : labels) {
    out += (out.empty() ? "" : ",") + key + "=\"" + Escape(value) + "\"";
  }
  return out;
}

std::string Number(double value) {
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%.15g", value);
  return buffer;
}

const char* TypeName(Metrics::Type type) {
  switch (type) {
    case Metrics::Type::kCounter:
      return "counter";
    case Metrics::Type::kGauge:
      return "gauge";
    case Metrics::Type::kHistogram:
      return "histogram";
  }
  return "untyped";
}

}  // namespace

const std::vector<double>& LatencyBuckets() {
  static const std::vector<double> kBuckets = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                               0.25,  0.5,    1,     2.5,  5,     10};
  return kBuckets;
}

void Metrics::Declare(const std::string& name, Type type, const std::string& help) {
  std::lock_guard lock(mutex_);
  families_.try_emplace(name, Family{type, help, {}});
}

Metrics::Series* Metrics::Find(const std::string& name, const MetricLabels& labels, Type type) {
  auto family = families_.find(name);
  if (family == families_.end() || family->second.type != type) return nullptr;
  Series& series = family->second.series[LabelText(labels)];
  if (type == Type::kHistogram && series.buckets.empty()) {
    series.buckets.assign(LatencyBuckets().size(), 0);
  }
  return &series;
}

void Metrics::Add(const std::string& name, const MetricLabels& labels, double amount) {
  std::lock_guard lock(mutex_);
  if (Series* series = Find(name, labels, Type::kCounter)) series->value += amount;
}

void Metrics::Set(const std::string& name, const MetricLabels& labels, double value) {
  std::lock_guard lock(mutex_);
  if (Series* series = Find(name, labels, Type::kGauge)) series->value = value;
}

void Metrics::Observe(const std::string& name, const MetricLabels& labels, double value) {
  std::lock_guard lock(mutex_);
  Series* series = Find(name, labels, Type::kHistogram);
  if (series == nullptr) return;
  const auto& bounds = LatencyBuckets();
  for (size_t i = 0; i < bounds.size(); ++i) {
    if (value <= bounds[i]) series->buckets[i] += 1;
  }
  series->sum += value;
  series->count += 1;
}

std::string Metrics::Render() const {
  std::lock_guard lock(mutex_);
  std::string out;
  for (const auto& [name, family] : families_) {
    out += "# HELP " + name + " " + family.help + "\n";
    out += "# TYPE " + name + " " + TypeName(family.type) + "\n";
    for (const auto& [labels, series] : family.series) {
      auto braces = [&](const std::string& extra) {
        std::string all = labels;
        if (!extra.empty()) all += (all.empty() ? "" : ",") + extra;
        return all.empty() ? std::string() : "{" + all + "}";
      };
      if (family.type != Type::kHistogram) {
        out += name + braces("") + " " + Number(series.value) + "\n";
        continue;
      }
      const auto& bounds = LatencyBuckets();
      for (size_t i = 0; i < bounds.size(); ++i) {
        out += name + "_bucket" + braces("le=\"" + Number(bounds[i]) + "\"") + " " +
               Number(series.buckets[i]) + "\n";
      }
      out += name + "_bucket" + braces("le=\"+Inf\"") + " " + Number(series.count) + "\n";
      out += name + "_sum" + braces("") + " " + Number(series.sum) + "\n";
      out += name + "_count" + braces("") + " " + Number(series.count) + "\n";
    }
  }
  return out;
}

}  // namespace octohub
