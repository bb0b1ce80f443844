// The engine's CloudWatch subset: dashboards (kept in SQLite) and the metrics the engine records,
// served over awsJson1.0 (target prefix GraniteServiceVersion20100801) and Query (2010-08-01).
#pragma once

#include <cstdint>
#include <string>

#include "engine/api_types.h"
#include "engine/metrics/dashboards.h"
#include "engine/metrics/time_series.h"

namespace slipway::engine {

/// Dashboards one engine keeps at most.
inline constexpr int64_t kMaxDashboards = 5000;
/// Bytes of dashboard bodies one engine keeps at most, all together: a few hundred dashboards
/// of the 1 MiB each may have, far more than a release's few small ones.
inline constexpr int64_t kMaxDashboardBytes = int64_t{256} << 20;

/// How much a CloudWatchService keeps at most.
struct DashboardLimits {
  int64_t dashboards = kMaxDashboards;
  int64_t bytes = kMaxDashboardBytes;
};

/// Serves PutDashboard, GetDashboard, ListDashboards, DeleteDashboards, ListMetrics and
/// GetMetricData. Requests arrive as JSON whatever their protocol (the Query front converts
/// them, timestamps as epoch seconds), already checked against botocore's input shapes; answers
/// are the output shapes as JSON, which CloudWatchXml words for Query clients.
class CloudWatchService {
 public:
  /// Dashboard ARNs carry no region: CloudWatch dashboards are global.
  CloudWatchService(DashboardStore& dashboards, MetricStore& metrics, DashboardLimits limits = {})
      : dashboards_(dashboards), metrics_(metrics), limits_(limits) {}

  /// Serves `op` at wall time `now_ms` (epoch milliseconds).
  ApiResult Handle(const std::string& op, const nlohmann::json& request, int64_t now_ms);

 private:
  using Handler = ApiResult (CloudWatchService::*)(const nlohmann::json&, int64_t);
  struct Op {
    const char* name;
    Handler handle;
  };
  static const Op kOps[];

  ApiResult PutDashboard(const nlohmann::json& r, int64_t now_ms);
  ApiResult GetDashboard(const nlohmann::json& r, int64_t now_ms);
  ApiResult ListDashboards(const nlohmann::json& r, int64_t now_ms);
  ApiResult DeleteDashboards(const nlohmann::json& r, int64_t now_ms);
  ApiResult ListMetrics(const nlohmann::json& r, int64_t now_ms);
  ApiResult GetMetricData(const nlohmann::json& r, int64_t now_ms);

  DashboardStore& dashboards_;
  MetricStore& metrics_;
  DashboardLimits limits_;
};

/// The Query protocol's XML for a CloudWatch result (the inner XML of <ActionResult>): members
/// as elements, lists as <member> items, and timestamps (LastModified, Timestamps) in ISO 8601.
std::string CloudWatchXml(const nlohmann::json& result);

}  // namespace slipway::engine
