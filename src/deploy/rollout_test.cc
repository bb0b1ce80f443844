// The rollout verdict: completed only on ECS's own word, and a rollback is a failure.
#include "deploy/rollout.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace slipway::deploy {
namespace {

using nlohmann::json;

json Dep(const std::string& id, const std::string& status, const std::string& state) {
  return {{"id", id}, {"status", status}, {"rolloutState", state}, {"rolloutStateReason", "r-" + state}};
}

TEST(JudgeRollout, Table) {
  struct Case {
    const char* name;
    json service;
    RolloutStatus want;
  };
  const std::vector<Case> cases = {
      {"in progress while old deployment remains",
       {{"runningCount", 4}, {"desiredCount", 2},
        {"deployments", {Dep("new", "PRIMARY", "IN_PROGRESS"), Dep("old", "ACTIVE", "COMPLETED")}}},
       RolloutStatus::kInProgress},
      {"completed, sole and counts match",
       {{"runningCount", 2}, {"desiredCount", 2}, {"deployments", {Dep("new", "PRIMARY", "COMPLETED")}}},
       RolloutStatus::kCompleted},
      {"one deployment and running == desired is not enough without COMPLETED",
       {{"runningCount", 2}, {"desiredCount", 2}, {"deployments", {Dep("new", "PRIMARY", "IN_PROGRESS")}}},
       RolloutStatus::kInProgress},
      {"circuit breaker failed our deployment",
       {{"runningCount", 2}, {"desiredCount", 2},
        {"deployments", {Dep("old", "PRIMARY", "IN_PROGRESS"), Dep("new", "ACTIVE", "FAILED")}}},
       RolloutStatus::kFailed},
      {"rolled back and stable again is still a failure",
       {{"runningCount", 2}, {"desiredCount", 2}, {"deployments", {Dep("old", "PRIMARY", "COMPLETED")}}},
       RolloutStatus::kFailed},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(JudgeRollout(c.service, "new").status, c.want);
  }
}

TEST(JudgeRollout, AVanishedDeploymentIsExplainedFromTheServiceEvents) {
  json service{{"runningCount", 2}, {"desiredCount", 2}, {"deployments", {Dep("old", "PRIMARY", "COMPLETED")}},
               {"events", {{{"id", "2"}, {"message", "(service web) rolling back to deployment old."}},
                           {{"id", "1"}, {"message", "(service web) (deployment new) deployment failed: tasks failed to start."}}}}};
  RolloutVerdict v = JudgeRollout(service, "new");
  EXPECT_EQ(v.status, RolloutStatus::kFailed);
  EXPECT_EQ(v.reason, "ECS deployment circuit breaker: tasks failed to start. ECS rolled the service back.");
}

}  // namespace
}  // namespace slipway::deploy
