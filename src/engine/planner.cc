// Rolling update as ECS does it: launch within maximumPercent, stop within minimumHealthyPercent.
#include "engine/planner.h"

#include <algorithm>

namespace slipway::engine {

int MaxTasks(int desired, int maximum_percent) { return desired * maximum_percent / 100; }

int MinHealthyTasks(int desired, int minimum_healthy_percent) {
  return (desired * minimum_healthy_percent + 99) / 100;
}

Plan PlanRollingUpdate(const PlanInput& in) {
  Plan plan;
  const int max_tasks = MaxTasks(in.desired_count, in.maximum_percent);
  const int min_healthy = MinHealthyTasks(in.desired_count, in.minimum_healthy_percent);

  int active = 0, healthy = 0, primary_active = 0, old_alive = 0;
  bool in_flight = false;  // a task is starting or stopping, so waiting is progress
  std::vector<const PlannedTask*> old_healthy, primary_unhealthy_or_starting, primary_healthy;
  for (const auto& t : in.tasks) {
    const bool primary = t.deployment_id == in.primary_deployment_id;
    if (!primary) ++old_alive;
    if (t.phase == TaskPhase::kStarting || t.phase == TaskPhase::kStopping) in_flight = true;
    if (t.phase == TaskPhase::kStopping) continue;
    ++active;
    if (t.phase == TaskPhase::kHealthy) ++healthy;
    if (t.phase == TaskPhase::kUnhealthy) {
      // An unhealthy task never serves; replace it whichever deployment owns it.
      plan.stops.push_back({t.id, StopCause::kUnhealthy});
      continue;
    }
    if (primary) {
      ++primary_active;
      (t.phase == TaskPhase::kHealthy ? primary_healthy : primary_unhealthy_or_starting).push_back(&t);
    } else if (t.phase == TaskPhase::kHealthy) {
      old_healthy.push_back(&t);
    } else {
      // Old tasks still starting will never be needed: the primary replaces them.
      plan.stops.push_back({t.id, StopCause::kReplaced});
    }
  }
  int remaining = active - static_cast<int>(plan.stops.size());

  // Scale in the primary beyond desired, the not-yet-healthy ones first.
  int excess = primary_active - in.desired_count;
  for (auto* group : {&primary_unhealthy_or_starting, &primary_healthy}) {
    for (const PlannedTask* t : *group) {
      if (excess <= 0) break;
      if (t->phase == TaskPhase::kHealthy && healthy - 1 < min_healthy) break;
      plan.stops.push_back({t->id, StopCause::kScaleIn});
      if (t->phase == TaskPhase::kHealthy) --healthy;
      --excess;
      --remaining;
      --primary_active;
    }
  }

  // Stop old healthy tasks as long as enough healthy tasks remain.
  for (const PlannedTask* t : old_healthy) {
    if (healthy - 1 < min_healthy) break;
    plan.stops.push_back({t->id, StopCause::kReplaced});
    --healthy;
    --remaining;
  }

  int want = in.desired_count - primary_active;
  int room = max_tasks - remaining;
  plan.start = std::max(0, std::min(want, room));

  bool progressing = plan.start > 0 || !plan.stops.empty();
  bool done = primary_active == in.desired_count && old_alive == 0 &&
              static_cast<int>(primary_healthy.size()) == in.desired_count;
  plan.steady = done && plan.stops.empty();
  plan.blocked = !progressing && !done && !in_flight && want > 0 && room <= 0;
  return plan;
}

}  // namespace slipway::engine
