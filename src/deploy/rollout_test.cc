// The rollout verdict: completed only on ECS's own word, and a rollback is a failure.
#include "deploy/rollout.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "deploy/fake_ecs_test.h"

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

json Service(const std::string& state, int running, std::vector<json> events) {
  return {{"serviceName", "web"}, {"status", "ACTIVE"}, {"runningCount", running}, {"desiredCount", 2},
          {"deployments", {Dep("new", "PRIMARY", state)}}, {"events", events}};
}

json Event(const std::string& id, const std::string& message) { return {{"id", id}, {"message", message}}; }

TEST(WatchRollout, KeepsWatchingWhileTheEndpointRestartsAndReportsTheEnd) {
  // Given a rollout in progress, an endpoint that refuses for a while, and then a finished rollout.
  int describes = 0;
  FakeEcsTransport t([&](const std::string&, const json&) -> Result<aws::HttpResponse> {
    ++describes;
    if (describes == 1) return Reply({{"services", {Service("IN_PROGRESS", 1, {Event("1", "started")})}}});
    if (describes <= 8) return Refused();
    return Reply({{"services", {Service("COMPLETED", 2, {Event("2", "steady"), Event("1", "started")})}}});
  });
  FakeClock clock;
  aws::AwsClient client(t, clock, {"AKID", "SECRET", ""}, {"us-east-1", "http://x"});
  std::vector<std::string> events;
  auto v = WatchRollout(client, clock, "c", "web", "new", Millis(600'000),
                        [&](const std::string& e) { events.push_back(e); });
  ASSERT_TRUE(v) << v.error().message;
  EXPECT_EQ(v->status, RolloutStatus::kCompleted);
  EXPECT_EQ(events, std::vector<std::string>{"steady"});
}

TEST(WatchRollout, GivesUpWithTheClientsErrorWhenTheEndpointStaysDown) {
  FakeEcsTransport t([&](const std::string&, const json&) { return Refused(); });
  FakeClock clock;
  aws::AwsClient client(t, clock, {"AKID", "SECRET", ""}, {"us-east-1", "http://x"});
  auto v = WatchRollout(client, clock, "c", "web", "new", Millis(600'000), [](const std::string&) {});
  ASSERT_FALSE(v);
  EXPECT_EQ(v.error().code, aws::kEndpointUnreachable);
}

TEST(WatchRollout, StopsWatchingWhenCancelledAndLeavesTheRolloutInProgress) {
  CancelToken cancel;
  int describes = 0;
  FakeEcsTransport t([&](const std::string&, const json&) {
    if (++describes == 3) cancel.Cancel();
    return Reply({{"services", {Service("IN_PROGRESS", 1, {})}}});
  });
  FakeClock clock;
  aws::AwsClient client(t, clock, {"AKID", "SECRET", ""}, {"us-east-1", "http://x"});
  auto v = WatchRollout(client, clock, "c", "web", "new", Millis(600'000), [](const std::string&) {}, &cancel);
  ASSERT_TRUE(v) << v.error().message;
  EXPECT_EQ(v->status, RolloutStatus::kInProgress);
  EXPECT_EQ(v->reason, kWatchInterrupted);
  EXPECT_EQ(describes, 3);
}

TEST(JudgeServiceDeployment, Table) {
  struct Case {
    const char* status;
    RolloutStatus want;
    const char* reason;
  };
  const std::vector<Case> cases = {
      {"PENDING", RolloutStatus::kInProgress, ""},
      {"IN_PROGRESS", RolloutStatus::kInProgress, ""},
      {"SUCCESSFUL", RolloutStatus::kCompleted, "why"},
      {"ROLLBACK_REQUESTED", RolloutStatus::kFailed, "why ECS is rolling the service back."},
      {"ROLLBACK_IN_PROGRESS", RolloutStatus::kFailed, "why ECS is rolling the service back."},
      {"ROLLBACK_SUCCESSFUL", RolloutStatus::kFailed, "why ECS rolled the service back."},
      {"ROLLBACK_FAILED", RolloutStatus::kFailed, "why ECS's rollback failed too."},
      {"STOPPED", RolloutStatus::kFailed, "why"},
      {"STOP_REQUESTED", RolloutStatus::kFailed, "why"},
      {"SOMETHING_NEW", RolloutStatus::kFailed, "the service deployment is SOMETHING_NEW"},
  };
  for (const auto& c : cases) {
    RolloutVerdict v = JudgeServiceDeployment({{"status", c.status}, {"statusReason", "why"}});
    EXPECT_EQ(v.status, c.want) << c.status;
    EXPECT_EQ(v.reason, c.reason) << c.status;
  }
}

TEST(WatchRollout, TakesTheVerdictFromTheServiceDeploymentWhenTheEndpointHasTheApi) {
  // DescribeServices alone would wait: the deployment is still IN_PROGRESS there.
  int asked = 0;
  FakeEcsTransport t([&](const std::string& op, const json& body) -> Result<aws::HttpResponse> {
    if (op == "DescribeServiceDeployments") {
      EXPECT_EQ(body["serviceDeploymentArns"], json::array({"arn:sd/1"}));
      return Reply({{"serviceDeployments",
                     {{{"serviceDeploymentArn", "arn:sd/1"},
                       {"status", ++asked < 3 ? "IN_PROGRESS" : "ROLLBACK_SUCCESSFUL"},
                       {"statusReason", "tasks failed."}}}},
                    {"failures", json::array()}});
    }
    return Reply({{"services", {Service("IN_PROGRESS", 1, {})}}});
  });
  FakeClock clock;
  aws::AwsClient client(t, clock, {"AKID", "SECRET", ""}, {"us-east-1", "http://x"});
  auto v = WatchRollout(client, clock, "c", "web", "new", Millis(600'000), [](const std::string&) {}, nullptr, "arn:sd/1");
  ASSERT_TRUE(v) << v.error().message;
  EXPECT_EQ(v->status, RolloutStatus::kFailed);
  EXPECT_EQ(v->reason, "tasks failed. ECS rolled the service back.");
  EXPECT_EQ(asked, 3);
}

TEST(WatchRollout, FallsBackToDescribeServicesWhereTheEndpointLacksTheApi) {
  int describes = 0;
  FakeEcsTransport t([&](const std::string& op, const json&) -> Result<aws::HttpResponse> {
    if (op == "DescribeServiceDeployments") {
      return aws::HttpResponse{400, R"({"__type":"UnknownOperationException","message":"no"})"};
    }
    return Reply({{"services", {Service(++describes < 3 ? "IN_PROGRESS" : "COMPLETED", 2, {})}}});
  });
  FakeClock clock;
  aws::AwsClient client(t, clock, {"AKID", "SECRET", ""}, {"us-east-1", "http://x"});
  auto v = WatchRollout(client, clock, "c", "web", "new", Millis(600'000), [](const std::string&) {}, nullptr, "arn:sd/1");
  ASSERT_TRUE(v) << v.error().message;
  EXPECT_EQ(v->status, RolloutStatus::kCompleted);
  EXPECT_EQ(std::count(t.ops.begin(), t.ops.end(), "DescribeServiceDeployments"), 1) << "asked again after it was refused";
}

TEST(WatchRollout, NeverTakesAnotherServiceDeploymentsVerdict) {
  // An answer about a deployment other than the one asked for (an earlier, finished one) must not
  // end the watch: the rollout is judged from DescribeServices instead.
  int describes = 0;
  FakeEcsTransport t([&](const std::string& op, const json&) -> Result<aws::HttpResponse> {
    if (op == "DescribeServiceDeployments") {
      return Reply({{"serviceDeployments", {{{"serviceDeploymentArn", "arn:sd/0"}, {"status", "SUCCESSFUL"}}}},
                    {"failures", json::array()}});
    }
    return Reply({{"services", {Service(++describes < 3 ? "IN_PROGRESS" : "COMPLETED", 2, {})}}});
  });
  FakeClock clock;
  aws::AwsClient client(t, clock, {"AKID", "SECRET", ""}, {"us-east-1", "http://x"});
  auto v = WatchRollout(client, clock, "c", "web", "new", Millis(600'000), [](const std::string&) {}, nullptr, "arn:sd/1");
  ASSERT_TRUE(v) << v.error().message;
  EXPECT_EQ(v->status, RolloutStatus::kCompleted);
  EXPECT_EQ(describes, 3) << "judged complete before DescribeServices said so";
}

}  // namespace
}  // namespace slipway::deploy
