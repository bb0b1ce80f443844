// The environment's CloudWatch dashboard: per service, the load balancer's traffic, errors,
// latency and healthy targets, ECS's CPU, memory and running tasks, and a marker per release.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "aws/aws_client.h"
#include "base/result.h"
#include "config/config.h"

namespace slipway::deploy {

/// A release drawn as a vertical line on the service's graphs.
struct ReleaseMarker {
  std::string time;   ///< ISO-8601 UTC, when the release finished (or started, while in flight)
  std::string label;  ///< e.g. "demo-web:7 released"
};

/// One service's metrics, as CloudWatch names them.
struct DashboardService {
  std::string name;          ///< the ECS service name
  std::string target_group;  ///< "targetgroup/name/id"; empty when the group does not exist yet
  std::vector<ReleaseMarker> releases;  ///< oldest first
};

/// Everything the dashboard body is drawn from.
struct DashboardSource {
  std::string region;
  std::string cluster;
  std::string load_balancer;  ///< "app/name/id"
  std::vector<DashboardService> services;
};

/// Release markers kept per service: the newest ones.
inline constexpr size_t kMaxReleaseMarkers = 20;

/// The dashboard's name for `app` and `environment`: "<app>-<environment>", with characters a
/// dashboard name may not hold (only letters, digits, '-' and '_') replaced by '-'.
std::string DashboardName(const std::string& app, const std::string& environment);

/// The dashboard body: a row of five graphs per service (requests and 5XX counts; response time
/// p50 and p99; healthy and unhealthy targets; CPU and memory percent; running tasks), each with
/// the service's release markers. A service without a target group gets only its ECS graphs.
/// RunningTaskCount is ECS/ContainerInsights': on AWS it needs Container Insights on the cluster.
nlohmann::json DashboardBody(const DashboardSource& source);

/// Reads what the body needs: the load balancer's and target groups' ARN suffixes (ELBv2), and
/// each service's releases (the release records). Fails naming what is missing when the
/// environment was never released (its load balancer does not exist).
[[nodiscard]] Result<DashboardSource> ReadDashboardSource(
    aws::AwsClient& client, const config::Config& cfg, const config::Environment& env,
    const std::map<std::string, std::string>& vars);

}  // namespace slipway::deploy
