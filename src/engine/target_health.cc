// The ALB's target health transitions (see target_health.h for the rules).
#include "engine/target_health.h"

#include <algorithm>

namespace slipway::engine {

TargetHealth ApplyCheckResult(const TargetHealth& before, const HealthCheckPolicy& policy,
                              const HealthCheckResult& result) {
  TargetHealth after = before;
  // Streaks only matter up to the larger threshold; capping them keeps a steady target unchanged.
  const int cap = std::max(policy.healthy_threshold, policy.unhealthy_threshold);
  if (result.ok) {
    after.ok_streak = std::min(before.ok_streak + 1, cap);
    after.fail_streak = 0;
    const bool recovered = before.state == "unhealthy" && after.ok_streak >= policy.healthy_threshold;
    if (before.state == "initial" || recovered) after.state = "healthy";
    if (after.state == "healthy") after.reason = after.description = "";
    return after;
  }
  after.fail_streak = std::min(before.fail_streak + 1, cap);
  after.ok_streak = 0;
  if (after.fail_streak >= policy.unhealthy_threshold) {
    after.state = "unhealthy";
    after.reason = result.reason;
    after.description = result.description;
  } else if (before.state == "initial") {
    after.reason = "Elb.InitialHealthChecking";
    after.description = "Initial health checks in progress";
  } else if (before.state == "unhealthy") {
    after.reason = result.reason;
    after.description = result.description;
  }
  return after;
}

}  // namespace slipway::engine
