// Moves what the engine counted into its metric store every 10 seconds of wall time: the proxy's
// request counters, the services' task counts and their tasks' CPU and memory, and the target
// groups' health counts.
#pragma once

#include <cstdint>

#include "base/clock.h"
#include "engine/control_plane.h"
#include "engine/metrics/request_meter.h"
#include "engine/metrics/time_series.h"
#include "engine/metrics/utilization.h"

namespace slipway::engine {

/// How often counters are folded into the store: CloudWatch's high-resolution step.
inline constexpr int64_t kCollectSeconds = 10;

/// The engine's metric collection. Not thread-safe: the engine's loop calls Tick().
class MetricCollector {
 public:
  MetricCollector(MetricStore& store, RequestMeter& meter, ControlPlane& control, Clock& clock)
      : store_(store), meter_(meter), control_(control), clock_(clock) {}

  /// Collects once the wall clock has crossed a 10-second boundary since the last collection;
  /// cheap otherwise, so call it often. What was counted over the interval just ended is
  /// stored at that interval's start, and the task counts as sampled then:
  /// ECS/ContainerInsights RunningTaskCount, PendingTaskCount and DesiredTaskCount per
  /// ClusterName and ServiceName; AWS/ECS CPUUtilization and MemoryUtilization (UtilizationMeter);
  /// AWS/ApplicationELB HealthyHostCount and UnHealthyHostCount per LoadBalancer and TargetGroup.
  void Tick();

 private:
  MetricStore& store_;
  RequestMeter& meter_;
  ControlPlane& control_;
  Clock& clock_;
  UtilizationMeter utilization_;
  int64_t last_boundary_ = 0;
};

}  // namespace slipway::engine
