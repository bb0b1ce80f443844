// Builds the console's graphs with the CloudWatch operations the engine serves: ListMetrics finds
// what was recorded, GetMetricData reads it.
#include "engine/console/console_metrics.h"

#include <string>

namespace slipway::engine {

namespace {

using json = nlohmann::json;

/// One graph: a metric per dimension set found, with the statistic it is read with.
struct Chart {
  const char* id;
  const char* title;
  const char* unit;
  const char* name_space;
  const char* metric;
  const char* stat;
  /// The dimension whose value labels a series (and which a metric must have to be shown).
  const char* label_dimension;
  double scale;  ///< multiplies each value (seconds to milliseconds)
};

constexpr Chart kCharts[] = {
    {"requests", "Requests per 10 s", "requests", "AWS/ApplicationELB", "RequestCount", "Sum", "TargetGroup", 1},
    {"errors", "Target 5XX per 10 s", "responses", "AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", "Sum",
     "TargetGroup", 1},
    {"latency", "Response time p99", "ms", "AWS/ApplicationELB", "TargetResponseTime", "p99", "TargetGroup", 1000},
    {"tasks", "Running tasks", "tasks", "ECS/ContainerInsights", "RunningTaskCount", "Average", "ServiceName", 1},
    {"cpu", "CPU utilization", "%", "AWS/ECS", "CPUUtilization", "Average", "ServiceName", 1},
    {"memory", "Memory utilization", "%", "AWS/ECS", "MemoryUtilization", "Average", "ServiceName", 1},
};

constexpr int64_t kPeriod = 10;

/// "targetgroup/web/0123" reads as "web"; other values as they are.
std::string LabelOf(const std::string& value) {
  if (value.starts_with("targetgroup/")) {
    const size_t end = value.find('/', 12);
    return value.substr(12, end == std::string::npos ? std::string::npos : end - 12);
  }
  return value;
}

json ChartJson(CloudWatchService& cloudwatch, const Chart& chart, int64_t now_ms, int64_t start, int64_t end) {
  json out{{"id", chart.id}, {"title", chart.title}, {"unit", chart.unit}, {"series", json::array()}};
  auto listed = cloudwatch.Handle("ListMetrics", {{"Namespace", chart.name_space}, {"MetricName", chart.metric}}, now_ms);
  if (!listed) return out;
  json queries = json::array();
  std::vector<std::string> labels;
  for (const auto& m : listed->value("Metrics", json::array())) {
    if (queries.size() >= kMaxConsoleSeries) break;
    std::string label;
    for (const auto& d : m.value("Dimensions", json::array())) {
      if (d.value("Name", "") == chart.label_dimension) label = LabelOf(d.value("Value", ""));
    }
    if (label.empty()) continue;
    labels.push_back(label);
    queries.push_back({{"Id", "m" + std::to_string(queries.size())},
                       {"MetricStat", {{"Metric", m}, {"Period", kPeriod}, {"Stat", chart.stat}}}});
  }
  if (queries.empty()) return out;
  json request{{"MetricDataQueries", queries}, {"StartTime", start}, {"EndTime", end},
               {"ScanBy", "TimestampAscending"}};
  auto data = cloudwatch.Handle("GetMetricData", request, now_ms);
  if (!data) return out;
  const auto& results = (*data)["MetricDataResults"];
  for (size_t i = 0; i < results.size() && i < labels.size(); ++i) {
    json values = json::array();
    for (const auto& v : results[i]["Values"]) values.push_back(v.get<double>() * chart.scale);
    out["series"].push_back({{"label", labels[i]}, {"timestamps", results[i]["Timestamps"]}, {"values", values}});
  }
  return out;
}

}  // namespace

json ConsoleMetrics(CloudWatchService& cloudwatch, int64_t now_ms, int minutes) {
  const int64_t end = now_ms / 1000 - (now_ms / 1000) % kPeriod + kPeriod;
  const int64_t start = end - int64_t{minutes} * 60;
  json charts = json::array();
  for (const auto& chart : kCharts) charts.push_back(ChartJson(cloudwatch, chart, now_ms, start, end));
  return {{"period", kPeriod}, {"start", start}, {"end", end}, {"charts", charts}};
}

}  // namespace slipway::engine
