// The target health state machine, as a table of check sequences.
#include "engine/target_health.h"

#include <gtest/gtest.h>

#include <vector>

namespace slipway::engine {
namespace {

const HealthCheckResult kPass{.ok = true};
const HealthCheckResult kCode500{.reason = "Target.ResponseCodeMismatch",
                                 .description = "Health checks failed with these codes: [500]"};
const HealthCheckResult kTimeout{.reason = "Target.Timeout", .description = "Request timed out"};

struct Case {
  const char* name;
  HealthCheckPolicy policy;
  std::vector<HealthCheckResult> results;
  std::string state, reason;
};

TEST(TargetHealth, FollowsTheAlbRulesForEachSequenceOfChecks) {
  const HealthCheckPolicy alb{30, 5, 2};  // the ALB's defaults
  const HealthCheckPolicy demo{5, 2, 3};
  const std::vector<Case> cases = {
      {"a new target is initial until checked", alb, {}, "initial", "Elb.RegistrationInProgress"},
      {"one pass makes a new target healthy", alb, {kPass}, "healthy", ""},
      {"one failure keeps a new target initial", alb, {kCode500}, "initial", "Elb.InitialHealthChecking"},
      {"threshold failures make a new target unhealthy", alb, {kCode500, kTimeout}, "unhealthy", "Target.Timeout"},
      {"a pass between failures resets the count", alb, {kCode500, kPass, kCode500}, "healthy", ""},
      {"a healthy target survives failures below the threshold", demo, {kPass, kCode500, kCode500}, "healthy", ""},
      {"a healthy target turns unhealthy at the threshold", demo, {kPass, kCode500, kCode500, kCode500}, "unhealthy",
       "Target.ResponseCodeMismatch"},
      {"an unhealthy target needs healthy-threshold passes", alb,
       {kCode500, kCode500, kPass, kPass, kPass, kPass}, "unhealthy", "Target.ResponseCodeMismatch"},
      {"an unhealthy target recovers at healthy-threshold passes", alb,
       {kCode500, kCode500, kPass, kPass, kPass, kPass, kPass}, "healthy", ""},
      {"a failure restarts an unhealthy target's recovery", demo, {kCode500, kCode500, kCode500, kPass, kTimeout, kPass},
       "unhealthy", "Target.Timeout"},
      {"an unhealthy target reports its latest failure", demo, {kCode500, kCode500, kCode500, kTimeout}, "unhealthy",
       "Target.Timeout"},
  };
  for (const Case& c : cases) {
    TargetHealth h;
    for (const auto& r : c.results) h = ApplyCheckResult(h, c.policy, r);
    EXPECT_EQ(h.state, c.state) << c.name;
    EXPECT_EQ(h.reason, c.reason) << c.name;
  }
}

TEST(TargetHealth, ASteadyTargetDoesNotChangeFromCheckToCheck) {
  const HealthCheckPolicy p{5, 2, 2};
  TargetHealth h;
  for (int i = 0; i < 5; ++i) h = ApplyCheckResult(h, p, kPass);
  EXPECT_EQ(ApplyCheckResult(h, p, kPass), h);
}

TEST(TargetHealth, ChecksRunAtTheConfiguredInterval) {
  const HealthCheckPolicy p{10, 5, 2};
  EXPECT_DOUBLE_EQ(NextCheckAt(100.0, p), 110.0);
}

}  // namespace
}  // namespace slipway::engine
