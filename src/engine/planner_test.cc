// Table tests of the rolling-update planner against ECS's maximumPercent/minimumHealthyPercent rules.
#include "engine/control_plane.h"
#include "engine/planner.h"

#include <gtest/gtest.h>

namespace slipway::engine {
namespace {

using P = TaskPhase;

PlannedTask T(std::string id, std::string dep, P phase) { return {std::move(id), std::move(dep), phase}; }

int StopsWithCause(const Plan& p, StopCause c) {
  int n = 0;
  for (const auto& s : p.stops) n += s.cause == c;
  return n;
}

TEST(Planner, BoundsRoundAsEcsDoes) {
  EXPECT_EQ(MaxTasks(3, 150), 4);         // rounded down
  EXPECT_EQ(MinHealthyTasks(3, 50), 2);   // rounded up
  EXPECT_EQ(MinHealthyTasks(2, 100), 2);
  EXPECT_EQ(MaxTasks(2, 200), 4);
}

struct Case {
  const char* name;
  int desired, max_pct, min_pct;
  std::vector<PlannedTask> tasks;
  int want_start;
  int want_replaced;
  bool want_blocked;
  bool want_steady;
};

TEST(Planner, RollingUpdateTable) {
  const std::vector<Case> cases = {
      {"new service launches desired count", 2, 200, 100, {}, 2, 0, false, false},
      {"max 200 min 100: surge all new first",
       2, 200, 100, {T("o1", "old", P::kHealthy), T("o2", "old", P::kHealthy)}, 2, 0, false, false},
      {"max 200 min 100: new starting, wait",
       2, 200, 100,
       {T("o1", "old", P::kHealthy), T("o2", "old", P::kHealthy), T("n1", "new", P::kStarting),
        T("n2", "new", P::kStarting)}, 0, 0, false, false},
      {"max 200 min 100: new healthy, stop both old",
       2, 200, 100,
       {T("o1", "old", P::kHealthy), T("o2", "old", P::kHealthy), T("n1", "new", P::kHealthy),
        T("n2", "new", P::kHealthy)}, 0, 2, false, false},
      {"max 200 min 100: one new healthy, stop one old",
       2, 200, 100,
       {T("o1", "old", P::kHealthy), T("o2", "old", P::kHealthy), T("n1", "new", P::kHealthy),
        T("n2", "new", P::kStarting)}, 0, 1, false, false},
      {"max 100 min 50: stop one old first, then start one",
       2, 100, 50, {T("o1", "old", P::kHealthy), T("o2", "old", P::kHealthy)}, 1, 1, false, false},
      {"max 100 min 50: new starting, old draining, wait (not blocked)",
       2, 100, 50,
       {T("o1", "old", P::kStopping), T("o2", "old", P::kHealthy), T("n1", "new", P::kStarting)},
       0, 0, false, false},
      {"max 150 min 100 with 4 tasks: surge two at a time",
       4, 150, 100,
       {T("o1", "old", P::kHealthy), T("o2", "old", P::kHealthy), T("o3", "old", P::kHealthy),
        T("o4", "old", P::kHealthy)}, 2, 0, false, false},
      {"max 100 min 100: no room either way is blocked",
       2, 100, 100, {T("o1", "old", P::kHealthy), T("o2", "old", P::kHealthy)}, 0, 0, true, false},
      {"old tasks draining keep the deployment from steady",
       2, 200, 100,
       {T("o1", "old", P::kStopping), T("n1", "new", P::kHealthy), T("n2", "new", P::kHealthy)},
       0, 0, false, false},
      {"all new healthy and no old task left is steady",
       2, 200, 100, {T("n1", "new", P::kHealthy), T("n2", "new", P::kHealthy)}, 0, 0, false, true},
      {"a crashed task is replaced", 2, 200, 100, {T("n1", "new", P::kHealthy)}, 1, 0, false, false},
      {"min 0 allows stopping every old task at once",
       2, 100, 0, {T("o1", "old", P::kHealthy), T("o2", "old", P::kHealthy)}, 2, 2, false, false},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    Plan p = PlanRollingUpdate({c.desired, c.max_pct, c.min_pct, "new", c.tasks});
    EXPECT_EQ(p.start, c.want_start);
    EXPECT_EQ(StopsWithCause(p, StopCause::kReplaced), c.want_replaced);
    EXPECT_EQ(p.blocked, c.want_blocked);
    EXPECT_EQ(p.steady, c.want_steady);
  }
}

TEST(Planner, UnhealthyTasksAreStoppedAndReplacedWithinMaximum) {
  // Given two primary tasks, one failing its health check.
  Plan p = PlanRollingUpdate(
      {2, 200, 100, "new", {T("n1", "new", P::kHealthy), T("n2", "new", P::kUnhealthy)}});
  ASSERT_EQ(p.stops.size(), 1u);
  EXPECT_EQ(p.stops[0].task_id, "n2");
  EXPECT_EQ(p.stops[0].cause, StopCause::kUnhealthy);
  EXPECT_EQ(p.start, 1);
}

TEST(Planner, ScaleInStopsNotYetHealthyTasksFirst) {
  Plan p = PlanRollingUpdate({1, 200, 100, "new",
                              {T("n1", "new", P::kHealthy), T("n2", "new", P::kStarting),
                               T("n3", "new", P::kHealthy)}});
  ASSERT_EQ(StopsWithCause(p, StopCause::kScaleIn), 2);
  EXPECT_EQ(p.stops[0].task_id, "n2");
}

TEST(CircuitBreaker, ThresholdIsHalfTheDesiredCountClampedTo3And200) {
  // clamp(ceil(0.5 x desiredCount), 3, 200), the rule ECS has used since January 2024.
  const std::vector<std::pair<int, int>> cases = {{0, 3}, {1, 3}, {2, 3}, {6, 3}, {7, 4}, {25, 13}, {400, 200}, {1000, 200}};
  for (const auto& [desired, want] : cases) EXPECT_EQ(CircuitBreakerThreshold(desired), want) << desired;
}

}  // namespace
}  // namespace slipway::engine
