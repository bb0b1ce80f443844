// The rolling-update step planner: which tasks to start and stop next. Pure; no I/O.
#pragma once

#include <string>
#include <vector>

namespace slipway::engine {

/// Where a service task stands, as the planner needs to know it.
enum class TaskPhase {
  kStarting,   ///< launched, not yet counted healthy
  kHealthy,    ///< running and passing every health check that applies
  kUnhealthy,  ///< running but failing a health check past the grace period
  kStopping,   ///< draining or stopping; no longer counts
};

/// One task of the service: which deployment launched it and its phase.
struct PlannedTask {
  std::string id;
  std::string deployment_id;
  TaskPhase phase = TaskPhase::kStarting;
};

/// The service's shape: desired count, deploymentConfiguration and its live tasks.
struct PlanInput {
  int desired_count = 0;
  int maximum_percent = 200;
  int minimum_healthy_percent = 100;
  std::string primary_deployment_id;
  std::vector<PlannedTask> tasks;
};

/// Why a task is to be stopped.
enum class StopCause { kUnhealthy, kScaleIn, kReplaced };

struct PlannedStop {
  std::string task_id;
  StopCause cause;
};

/// The next step: how many primary tasks to launch and which tasks to stop.
struct Plan {
  int start = 0;
  std::vector<PlannedStop> stops;
  /// The configuration forbids any progress (e.g. maximumPercent 100 with minimumHealthy 100).
  bool blocked = false;
  /// The primary deployment runs desired healthy tasks and no older task is left.
  bool steady = false;
};

/// Upper bound on running tasks: floor(desired * maximumPercent / 100).
int MaxTasks(int desired, int maximum_percent);
/// Lower bound on healthy tasks: ceil(desired * minimumHealthyPercent / 100).
int MinHealthyTasks(int desired, int minimum_healthy_percent);

/// Computes the next step of an ECS-style rolling update.
Plan PlanRollingUpdate(const PlanInput& input);

}  // namespace slipway::engine
