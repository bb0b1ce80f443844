// ALB target health as a pure state machine: what one health-check result does to a target, and
// when its next check is due. No clock, no I/O; LoadBalancing drives it.
#pragma once

#include <string>

#include "engine/data_plane.h"

namespace slipway::engine {

/// A target group's health-check settings that decide state changes and pacing.
struct HealthCheckPolicy {
  double interval_seconds = 30;
  int healthy_threshold = 5;
  int unhealthy_threshold = 2;
};

/// A registered target's health, as DescribeTargetHealth reports it, plus its streaks.
struct TargetHealth {
  std::string state = "initial";  ///< initial | healthy | unhealthy
  std::string reason = "Elb.RegistrationInProgress";
  std::string description = "Target registration is in progress";
  int ok_streak = 0;    ///< consecutive passing checks
  int fail_streak = 0;  ///< consecutive failing checks

  bool operator==(const TargetHealth&) const = default;
};

/// Seconds after registration at which a new target's first check runs (an ALB reports a new
/// target healthy about a second after registration when it passes).
inline constexpr double kFirstCheckDelaySeconds = 1.0;

/// The health after one check result:
///  - a new (initial) target becomes healthy at its first passing check;
///  - any target becomes unhealthy after unhealthy_threshold consecutive failures (until then an
///    initial target reports Elb.InitialHealthChecking and a healthy one stays healthy);
///  - an unhealthy target becomes healthy after healthy_threshold consecutive successes.
TargetHealth ApplyCheckResult(const TargetHealth& before, const HealthCheckPolicy& policy,
                              const HealthCheckResult& result);

/// When the check after one that started at `started_at` is due: checks run every interval,
/// whatever their results.
inline double NextCheckAt(double started_at, const HealthCheckPolicy& policy) {
  return started_at + policy.interval_seconds;
}

}  // namespace slipway::engine
