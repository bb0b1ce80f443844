// The rollout verdict: completed only on ECS's own word, and a rollback is a failure.
#include "deploy/rollout.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "deploy/fake_ecs_test.h"

namespace slipway::deploy {
namespace {

using nlohmann::json;

aws::Deployment Dep(const std::string& id, const std::string& status, const std::string& state) {
  return {.id = id, .status = status, .rollout_state = state, .rollout_state_reason = "r-" + state};
}

aws::Service Judged(int running, int desired, std::vector<aws::Deployment> deployments,
                    std::vector<aws::ServiceEvent> events = {}) {
  aws::Service s;
  s.running_count = running;
  s.desired_count = desired;
  s.deployments = std::move(deployments);
  s.events = std::move(events);
  return s;
}

TEST(JudgeRollout, Table) {
  struct Case {
    const char* name;
    aws::Service service;
    RolloutStatus want;
  };
  const std::vector<Case> cases = {
      {"in progress while old deployment remains",
       Judged(4, 2, {Dep("new", "PRIMARY", "IN_PROGRESS"), Dep("old", "ACTIVE", "COMPLETED")}),
       RolloutStatus::kInProgress},
      {"completed, sole and counts match", Judged(2, 2, {Dep("new", "PRIMARY", "COMPLETED")}),
       RolloutStatus::kCompleted},
      {"completed and sole, but fewer tasks running than desired",
       Judged(1, 2, {Dep("new", "PRIMARY", "COMPLETED")}), RolloutStatus::kInProgress},
      {"one deployment and running == desired is not enough without COMPLETED",
       Judged(2, 2, {Dep("new", "PRIMARY", "IN_PROGRESS")}), RolloutStatus::kInProgress},
      {"circuit breaker failed our deployment",
       Judged(2, 2, {Dep("old", "PRIMARY", "IN_PROGRESS"), Dep("new", "ACTIVE", "FAILED")}),
       RolloutStatus::kFailed},
      {"another deployment took over", Judged(2, 2, {Dep("newer", "PRIMARY", "IN_PROGRESS"), Dep("new", "ACTIVE", "IN_PROGRESS")}),
       RolloutStatus::kFailed},
      {"rolled back and stable again is still a failure", Judged(2, 2, {Dep("old", "PRIMARY", "COMPLETED")}),
       RolloutStatus::kFailed},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(JudgeRollout(c.service, "new").status, c.want);
  }
}

TEST(JudgeRollout, AFailedDeploymentGivesECSsReason) {
  RolloutVerdict v = JudgeRollout(Judged(2, 2, {Dep("old", "PRIMARY", "IN_PROGRESS"), Dep("new", "ACTIVE", "FAILED")}), "new");
  EXPECT_EQ(v.status, RolloutStatus::kFailed);
  EXPECT_EQ(v.reason, "r-FAILED");
}

TEST(JudgeRollout, AVanishedDeploymentIsExplainedFromTheServiceEvents) {
  aws::Service service = Judged(2, 2, {Dep("old", "PRIMARY", "COMPLETED")},
                                {{.id = "2", .message = "(service web) rolling back to deployment old."},
                                 {.id = "1", .message = "(service web) (deployment new) deployment failed: tasks failed to start."}});
  RolloutVerdict v = JudgeRollout(service, "new");
  EXPECT_EQ(v.status, RolloutStatus::kFailed);
  EXPECT_EQ(v.reason, "ECS deployment circuit breaker: tasks failed to start. ECS rolled the service back.");
}

json WireDep(const std::string& id, const std::string& status, const std::string& state) {
  return {{"id", id}, {"status", status}, {"rolloutState", state}, {"rolloutStateReason", "r-" + state}};
}

json Service(const std::string& state, int running, std::vector<json> events) {
  return {{"serviceName", "web"}, {"status", "ACTIVE"}, {"runningCount", running}, {"desiredCount", 2},
          {"deployments", {WireDep("new", "PRIMARY", state)}}, {"events", events}};
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

TEST(WatchRollout, ShowsEveryLookAtTheServiceAfterItsEvents) {
  int describes = 0;
  FakeEcsTransport t([&](const std::string&, const json&) -> Result<aws::HttpResponse> {
    if (++describes == 1) return Reply({{"services", {Service("IN_PROGRESS", 1, {Event("1", "started")})}}});
    return Reply({{"services", {Service("COMPLETED", 2, {Event("2", "steady"), Event("1", "started")})}}});
  });
  FakeClock clock;
  aws::AwsClient client(t, clock, {"AKID", "SECRET", ""}, {"us-east-1", "http://x"});
  std::vector<std::string> heard;
  auto v = WatchRollout(
      client, clock, "c", "web", "new", Millis(600'000), [&](const std::string& e) { heard.push_back("event " + e); },
      nullptr, "", [&](const aws::Service& s) { heard.push_back("look " + std::to_string(s.running_count)); });
  ASSERT_TRUE(v) << v.error().message;
  EXPECT_EQ(heard, (std::vector<std::string>{"look 1", "event steady", "look 2"}));
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
    RolloutVerdict v = JudgeServiceDeployment({.arn = "arn:sd/1", .status = c.status, .status_reason = "why"});
    EXPECT_EQ(v.status, c.want) << c.status;
    EXPECT_EQ(v.reason, c.reason) << c.status;
  }
}

TEST(JudgeServiceDeployment, SaysWhatHappenedWhenECSGivesNoReason) {
  EXPECT_EQ(JudgeServiceDeployment({.status = "ROLLBACK_SUCCESSFUL"}).reason,
            "the service deployment failed. ECS rolled the service back.");
  EXPECT_EQ(JudgeServiceDeployment({.status = "STOPPED"}).reason, "the service deployment was stopped");
  EXPECT_EQ(JudgeServiceDeployment({}).reason, "the service deployment is unknown");
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
