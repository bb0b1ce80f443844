// The dashboard body's structure: which metrics each service's graphs draw, by which dimensions,
// and the release markers on them.
#include "deploy/dashboard.h"

#include <gtest/gtest.h>

#include <set>

namespace slipway::deploy {
namespace {

using nlohmann::json;

DashboardSource Source() {
  DashboardSource src{"eu-west-1", "shop-prod", "app/shop-prod/50dc6c495c0c9188", {}};
  src.services.push_back({"shop-prod-web",
                          "targetgroup/shop-prod-web/73e2d6bc24d8a067",
                          {{"2026-12-01T10:00:00Z", "shop-web:6 released"},
                           {"2026-12-02T11:00:00Z", "shop-web:7 failed"}}});
  src.services.push_back({"shop-prod-worker", "", {}});
  return src;
}

// Every metric line of the body: (title, namespace, name, dimensions as "k=v,k=v", stat or "").
std::set<std::string> MetricLines(const json& body) {
  std::set<std::string> out;
  for (const auto& w : body["widgets"]) {
    const json& p = w["properties"];
    for (const auto& m : p["metrics"]) {
      std::string line = p["title"].get<std::string>() + " | " + m[0].get<std::string>() + " " +
                         m[1].get<std::string>();
      size_t i = 2;
      for (; i + 1 < m.size() && m[i].is_string(); i += 2)
        line += " " + m[i].get<std::string>() + "=" + m[i + 1].get<std::string>();
      if (i < m.size() && m[i].contains("stat")) line += " " + m[i]["stat"].get<std::string>();
      out.insert(line);
    }
  }
  return out;
}

TEST(DashboardBody, DrawsEachServicesLoadBalancerAndEcsMetricsByCloudWatchsDimensions) {
  const auto lines = MetricLines(DashboardBody(Source()));
  const std::string lb = "LoadBalancer=app/shop-prod/50dc6c495c0c9188";
  const std::string group = lb + " TargetGroup=targetgroup/shop-prod-web/73e2d6bc24d8a067";
  const std::string web = "ClusterName=shop-prod ServiceName=shop-prod-web";
  for (const std::string& want : {
           "shop-prod-web: requests and 5XX | AWS/ApplicationELB RequestCount " + group,
           "shop-prod-web: requests and 5XX | AWS/ApplicationELB HTTPCode_Target_5XX_Count " +
               group,
           "shop-prod-web: requests and 5XX | AWS/ApplicationELB HTTPCode_ELB_5XX_Count " + lb,
           "shop-prod-web: response time (s) | AWS/ApplicationELB TargetResponseTime " + group +
               " p50",
           "shop-prod-web: response time (s) | AWS/ApplicationELB TargetResponseTime " + group +
               " p99",
           "shop-prod-web: targets | AWS/ApplicationELB HealthyHostCount " + group,
           "shop-prod-web: CPU and memory (%) | AWS/ECS CPUUtilization " + web,
           "shop-prod-web: CPU and memory (%) | AWS/ECS MemoryUtilization " + web,
           "shop-prod-web: running tasks | ECS/ContainerInsights RunningTaskCount " + web,
       }) {
    EXPECT_TRUE(lines.count(want)) << "missing: " << want;
  }
}

TEST(DashboardBody, AServiceWithoutATargetGroupGetsOnlyItsEcsGraphs) {
  int worker_graphs = 0;
  const json body = DashboardBody(Source());
  for (const auto& w : body["widgets"]) {
    const std::string title = w["properties"]["title"];
    if (title.rfind("shop-prod-worker: ", 0) != 0) continue;
    ++worker_graphs;
    EXPECT_EQ(w["properties"]["metrics"][0][0].get<std::string>().rfind("AWS/ApplicationELB", 0),
              std::string::npos)
        << title;
  }
  EXPECT_EQ(worker_graphs, 2);
}

TEST(DashboardBody, MarksEachReleaseOnTheServicesGraphsOnly) {
  const json body = DashboardBody(Source());
  for (const auto& w : body["widgets"]) {
    const json& p = w["properties"];
    const json& vertical = p["annotations"]["vertical"];
    if (p["title"].get<std::string>().rfind("shop-prod-web: ", 0) == 0) {
      ASSERT_EQ(vertical.size(), 2u) << p["title"];
      EXPECT_EQ(vertical[1]["value"], "2026-12-02T11:00:00Z");
      EXPECT_EQ(vertical[1]["label"], "shop-web:7 failed");
    } else {
      EXPECT_TRUE(vertical.empty()) << p["title"];
    }
  }
}

TEST(DashboardBody, WidgetsFitTheGridWithoutOverlapping) {
  std::set<std::pair<int, int>> cells;
  const json body = DashboardBody(Source());
  for (const auto& w : body["widgets"]) {
    EXPECT_EQ(w["type"], "metric");
    EXPECT_EQ(w["properties"]["region"], "eu-west-1");
    const int x = w["x"], y = w["y"], width = w["width"], height = w["height"];
    EXPECT_LE(x + width, 24);
    for (int i = x; i < x + width; ++i) {
      for (int j = y; j < y + height; ++j)
        EXPECT_TRUE(cells.insert({i, j}).second) << "overlap at " << i << "," << j;
    }
  }
}

TEST(DashboardName, IsAppDashEnvironmentInTheCharactersCloudWatchAllows) {
  EXPECT_EQ(DashboardName("shop", "prod"), "shop-prod");
  EXPECT_EQ(DashboardName("my.app", "dev 2"), "my-app-dev-2");
}

}  // namespace
}  // namespace slipway::deploy
