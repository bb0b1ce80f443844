#include "deploy/diagnose.h"

#include <gtest/gtest.h>

#include "deploy/fake_ecs_test.h"

namespace slipway::deploy {
namespace {

TaskFacts Stopped(const std::string& reason, std::optional<int> exit_code, std::vector<std::string> log) {
  TaskFacts t;
  t.task_id = "abc";
  t.stopped_reason = reason;
  t.stop_code = "EssentialContainerExited";
  t.started_at = 100;
  t.stopped_at = 101;
  t.containers.push_back({"web", exit_code, "", 8080, 0, 128});
  t.log_lines = std::move(log);
  return t;
}

bool AnyContains(const std::vector<std::string>& hints, const std::string& text) {
  for (const auto& h : hints) {
    if (h.find(text) != std::string::npos) return true;
  }
  return false;
}

TEST(Hints, NamesTheMissingEnvironmentVariableFromTheLog) {
  auto hints = Hints(Stopped("Essential container in task exited", 1,
                             {"starting", "error: required environment variable DATABASE_URL is not set"}));
  ASSERT_EQ(hints.size(), 1u);
  EXPECT_TRUE(AnyContains(hints, "environment variable DATABASE_URL")) << hints[0];
  EXPECT_TRUE(AnyContains(Hints(Stopped("x", 1, {"KeyError: 'SECRET_KEY'"})), "SECRET_KEY"));
  EXPECT_TRUE(AnyContains(Hints(Stopped("x", 1, {"REDIS_HOST is required"})), "REDIS_HOST"));
}

TEST(Hints, ReportsOutOfMemoryWithTheLimit) {
  TaskFacts t = Stopped("Essential container in task exited", 137, {"allocated 128 MiB"});
  t.containers[0].reason = "OutOfMemoryError: Container killed due to memory usage";
  auto hints = Hints(t);
  EXPECT_TRUE(AnyContains(hints, "ran out of memory (limit 128 MiB)"));
}

TEST(Hints, SpotsAPortMismatchAndExecFormatError) {
  EXPECT_TRUE(AnyContains(Hints(Stopped("Task failed ELB health checks in (target-group arn)", 0,
                                        {"server listening on port 3000"})),
                          "listens on port 3000 but the task definition maps containerPort 8080"));
  EXPECT_FALSE(AnyContains(Hints(Stopped("x", 0, {"server listening on port 8080"})), "listens on port"));
  // On the local engine the app is given a host port; listening there is right too.
  TaskFacts local = Stopped("x", 0, {"server listening on 0.0.0.0:41234"});
  local.containers[0].host_port = 41234;
  EXPECT_FALSE(AnyContains(Hints(local), "listens on port"));
  EXPECT_TRUE(AnyContains(Hints(Stopped("x", 1, {"exec /app: exec format error"})), "linux/amd64"));
}

TEST(Hints, FallsBackToCrashAtStartAndSaysNothingWithoutEvidence) {
  EXPECT_TRUE(AnyContains(Hints(Stopped("Essential container in task exited", 1, {"boom"})), "crashes at startup"));
  TaskFacts replaced = Stopped("Scaling activity initiated by (deployment ecs-svc/1)", 0, {"stopped cleanly"});
  replaced.stop_code = "ServiceSchedulerInitiated";
  EXPECT_TRUE(Hints(replaced).empty());
}

TEST(FormatTasks, ShowsTasksThatFailedAlikeOnce) {
  TaskFacts a = Stopped("Essential container in task exited", 1, {"boom"});
  TaskFacts b = a;
  b.task_id = "def";
  TaskFacts c = Stopped("Essential container in task exited", 137, {"allocated 128 MiB"});
  c.task_id = "ghi";
  std::string text = FormatTasks({a, b, c});
  EXPECT_NE(text.find("task abc"), std::string::npos);
  EXPECT_EQ(text.find("task def"), std::string::npos);
  EXPECT_NE(text.find("the same for 1 more task(s): def"), std::string::npos);
  EXPECT_NE(text.find("task ghi"), std::string::npos);
}

TEST(TailLog, ReadsTheLastLinesOfTheStream) {
  nlohmann::json sent;
  FakeEcsTransport t([&](const std::string& op, const nlohmann::json& body) -> Result<aws::HttpResponse> {
    if (op != "GetLogEvents") return Fail("unexpected " + op);
    sent = body;
    return Reply({{"events",
                   {{{"timestamp", 1}, {"message", "listening on :3000"}}, {{"timestamp", 2}, {"message", "killed"}}}},
                  {"nextForwardToken", "f/2"},
                  {"nextBackwardToken", "b/1"}});
  });
  FakeClock clock;
  aws::AwsClient client(t, clock, {"AKID", "SECRET", ""}, {"us-east-1", "http://x"});
  auto lines = TailLog(client, "/ecs/demo", "web/web/abc", 2);
  ASSERT_TRUE(lines) << lines.error().message;
  EXPECT_EQ(*lines, (std::vector<std::string>{"listening on :3000", "killed"}));
  EXPECT_EQ(sent, nlohmann::json({{"logGroupName", "/ecs/demo"}, {"logStreamName", "web/web/abc"}, {"limit", 2},
                                  {"startFromHead", false}}));
}

TEST(TailLog, AStreamThatDoesNotExistHasNoLines) {
  FakeEcsTransport t([&](const std::string&, const nlohmann::json&) -> Result<aws::HttpResponse> {
    return aws::HttpResponse{
        400, R"({"__type":"ResourceNotFoundException","message":"The specified log stream does not exist."})"};
  });
  FakeClock clock;
  aws::AwsClient client(t, clock, {"AKID", "SECRET", ""}, {"us-east-1", "http://x"});
  auto lines = TailLog(client, "/ecs/demo", "web/web/abc", 20);
  ASSERT_TRUE(lines) << lines.error().message;
  EXPECT_TRUE(lines->empty());
}

}  // namespace
}  // namespace slipway::deploy
