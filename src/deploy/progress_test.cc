// A rollout's live state: the new deployment's counts, the latest event, and target health.
#include "deploy/progress.h"

#include <gtest/gtest.h>

namespace slipway::deploy {
namespace {

aws::Service Rolling() {
  aws::Service s;
  s.desired_count = 2;
  s.running_count = 3;
  aws::Deployment fresh{.id = "new", .status = "PRIMARY"};
  fresh.desired_count = 2;
  fresh.running_count = 1;
  aws::Deployment old{.id = "old", .status = "ACTIVE"};
  old.desired_count = 2;
  old.running_count = 2;
  s.deployments = {fresh, old};
  s.events = {{.id = "e2", .message = "(service web) has started 1 tasks: (task b)."},
              {.id = "e1", .message = "(service web) has started 1 tasks: (task a)."}};
  return s;
}

TEST(Observe, ShowsTheNewDeploymentsCountsNotTheWholeServices) {
  ServiceProgress p;
  Observe(Rolling(), "new", p);
  EXPECT_EQ(p.running, 1);
  EXPECT_EQ(p.desired, 2);
}

TEST(Observe, KeepsTheNewestEvent) {
  ServiceProgress p;
  Observe(Rolling(), "new", p);
  EXPECT_EQ(p.event, "(service web) has started 1 tasks: (task b).");
}

TEST(Observe, KeepsTheLastCountsWhenTheDeploymentIsGone) {
  // Given a deployment seen with 1 of 2 tasks, that ECS then rolled back.
  ServiceProgress p;
  Observe(Rolling(), "new", p);
  aws::Service after = Rolling();
  after.deployments.erase(after.deployments.begin());
  Observe(after, "new", p);
  // Then the line still shows its 1 of 2, not the old revision's 2 running.
  EXPECT_EQ(p.running, 1);
  EXPECT_EQ(p.desired, 2);
}

TEST(CountTargets, CountsHealthyOfThoseNotLeaving) {
  ServiceProgress p;
  CountTargets({{"a", 1, "healthy"},
                {"b", 2, "initial"},
                {"c", 3, "draining"},
                {"d", 4, "healthy"},
                {"e", 5, "unused"},
                {"f", 6, "unhealthy"}},
               p);
  EXPECT_EQ(p.healthy, 2);
  EXPECT_EQ(p.targets, 4);
}

TEST(CountTargets, NoTargetsIsZeroOfZeroNotUnknown) {
  ServiceProgress p;
  CountTargets({}, p);
  EXPECT_EQ(p.healthy, 0);
  EXPECT_EQ(p.targets, 0);
}

}  // namespace
}  // namespace slipway::deploy
