// The dashboard body in CloudWatch's dashboard body structure: widgets of type "metric" on a
// 24-column grid, metrics as [namespace, name, dimension, value, ..., {options}].
#include "deploy/dashboard.h"

#include <cctype>

namespace slipway::deploy {

using nlohmann::json;

namespace {

constexpr int kWidth = 8, kHeight = 6, kColumns = 24;
constexpr int kPeriodSeconds = 60;
constexpr const char* kElb = "AWS/ApplicationELB";

json Annotations(const DashboardService& s) {
  json vertical = json::array();
  for (const auto& r : s.releases) vertical.push_back({{"label", r.label}, {"value", r.time}});
  return {{"vertical", vertical}};
}

struct Grid {
  int x = 0, y = 0;
  json widgets = json::array();
  void Place(json widget) {
    if (x + kWidth > kColumns) {
      x = 0;
      y += kHeight;
    }
    widget["x"] = x;
    widget["y"] = y;
    widget["width"] = kWidth;
    widget["height"] = kHeight;
    widgets.push_back(std::move(widget));
    x += kWidth;
  }
  void NewRow() {
    if (x > 0) {
      x = 0;
      y += kHeight;
    }
  }
};

json Graph(const DashboardSource& src, const DashboardService& s, const std::string& title,
           json metrics, const std::string& stat) {
  json properties{
      {"title", s.name + ": " + title}, {"view", "timeSeries"}, {"region", src.region},
      {"period", kPeriodSeconds},       {"stat", stat},         {"metrics", std::move(metrics)},
      {"annotations", Annotations(s)}};
  return {{"type", "metric"}, {"properties", std::move(properties)}};
}

}  // namespace

std::string DashboardName(const std::string& app, const std::string& environment) {
  std::string name = app + "-" + environment;
  for (char& c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') c = '-';
  }
  return name;
}

json DashboardBody(const DashboardSource& src) {
  Grid grid;
  for (const auto& s : src.services) {
    grid.NewRow();
    if (!s.target_group.empty()) {
      auto group = [&](const char* name, json options) {
        return json{kElb,          name,           "LoadBalancer", src.load_balancer,
                    "TargetGroup", s.target_group, options};
      };
      grid.Place(Graph(src, s, "requests and 5XX",
                       {group("RequestCount", {{"label", "requests"}}),
                        group("HTTPCode_Target_5XX_Count", {{"label", "target 5XX"}}),
                        // ALB counts its own 5XX per load balancer only.
                        {kElb,
                         "HTTPCode_ELB_5XX_Count",
                         "LoadBalancer",
                         src.load_balancer,
                         {{"label", "load balancer 5XX (all services)"}}}},
                       "Sum"));
      grid.Place(Graph(src, s, "response time (s)",
                       {group("TargetResponseTime", {{"stat", "p50"}, {"label", "p50"}}),
                        group("TargetResponseTime", {{"stat", "p99"}, {"label", "p99"}})},
                       "p50"));
      grid.Place(Graph(src, s, "targets",
                       {group("HealthyHostCount", {{"label", "healthy"}}),
                        group("UnHealthyHostCount", {{"label", "unhealthy"}})},
                       "Minimum"));
    }
    auto ecs = [&](const char* name_space, const char* name, json options) {
      return json{name_space, name, "ClusterName", src.cluster, "ServiceName", s.name, options};
    };
    grid.Place(Graph(src, s, "CPU and memory (%)",
                     {ecs("AWS/ECS", "CPUUtilization", {{"label", "CPU"}}),
                      ecs("AWS/ECS", "MemoryUtilization", {{"label", "memory"}})},
                     "Average"));
    grid.Place(Graph(src, s, "running tasks",
                     {ecs("ECS/ContainerInsights", "RunningTaskCount", {{"label", "running"}})},
                     "Average"));
  }
  return {{"widgets", grid.widgets}};
}

}  // namespace slipway::deploy
