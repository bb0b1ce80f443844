// Folds the proxy's per-thread counters, task counts and use, and target health into the metric
// store.
#include "engine/metrics/collector.h"

#include <cmath>

namespace slipway::engine {

namespace {

constexpr const char* kContainerInsights = "ECS/ContainerInsights";
constexpr const char* kApplicationElb = "AWS/ApplicationELB";

Statistics Sample(double value) {
  Statistics s;
  s.Add(value);
  return s;
}

}  // namespace

void MetricCollector::Tick() {
  const auto now = static_cast<int64_t>(std::floor(EpochSeconds(clock_.WallNow())));
  const int64_t boundary = now - now % kCollectSeconds;
  if (boundary <= last_boundary_) return;
  last_boundary_ = boundary;
  const int64_t interval_start = boundary - kCollectSeconds;
  for (const auto& sample : meter_.Collect()) store_.Add(sample.key, interval_start, sample.samples);
  for (const auto& counts : control_.TaskCounts()) {
    auto key = [&counts](const char* name) {
      return MetricKey{kContainerInsights, name, {{"ClusterName", counts.cluster}, {"ServiceName", counts.service}}};
    };
    store_.Add(key("RunningTaskCount"), interval_start, Sample(counts.running));
    store_.Add(key("PendingTaskCount"), interval_start, Sample(counts.pending));
    store_.Add(key("DesiredTaskCount"), interval_start, Sample(counts.desired));
  }
  for (const auto& sample : utilization_.Sample(control_.TaskUse(), static_cast<double>(boundary))) {
    store_.Add(sample.key, interval_start, sample.samples);
  }
  for (const auto& health : control_.TargetHealth()) {
    auto key = [&health](const char* name) {
      return MetricKey{kApplicationElb, name,
                       {{"LoadBalancer", ArnResource(health.load_balancer_arn)},
                        {"TargetGroup", ArnResource(health.target_group_arn)}}};
    };
    store_.Add(key("HealthyHostCount"), interval_start, Sample(health.healthy));
    store_.Add(key("UnHealthyHostCount"), interval_start, Sample(health.unhealthy));
  }
  store_.Prune(now);
}

}  // namespace slipway::engine
