// The migration task: interrupted, it is stopped rather than left running unattended.
#include "deploy/migration.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "deploy/fake_ecs_test.h"

namespace slipway::deploy {
namespace {

using nlohmann::json;

// The demo-dev cluster, and its web service whose migration runs `migrate` in the web container.
config::Environment Env() {
  config::Environment env;
  env.cluster = "demo-dev";
  return env;
}

config::ServiceSpec Web() {
  config::ServiceSpec svc;
  svc.name = "web";
  svc.migrate_command = {"migrate"};
  svc.migrate_container = "web";
  svc.migrate_timeout_seconds = 600;
  return svc;
}

// A task definition whose web container logs to CloudWatch Logs (/ecs/demo, prefix web).
json WebLoggingToAwslogs() {
  return {{"containerDefinitions",
           {{{"name", "web"},
             {"logConfiguration",
              {{"logDriver", "awslogs"},
               {"options", {{"awslogs-group", "/ecs/demo"}, {"awslogs-stream-prefix", "web"}}}}}}}}};
}

TEST(RunMigration, AnInterruptStopsTheMigrationTaskAndSaysSo) {
  CancelToken cancel;
  int describes = 0;
  std::string stop_reason;
  FakeEcsTransport t([&](const std::string& op, const json& body) -> Result<aws::HttpResponse> {
    if (op == "RunTask") return Reply({{"tasks", {{{"taskArn", "arn:task/demo-dev/abc123"}}}}});
    if (op == "DescribeTasks") {
      if (++describes == 2) cancel.Cancel();  // Ctrl-C while the migration runs
      return Reply({{"tasks", {{{"lastStatus", "RUNNING"}}}}});
    }
    if (op == "StopTask") {
      stop_reason = body.value("reason", "");
      return Reply({{"task", json::object()}});
    }
    return Fail("unexpected " + op);
  });
  FakeClock clock;
  aws::AwsClient client(t, clock, {"AKID", "SECRET", ""}, {"us-east-1", "http://x"});
  const config::Environment env = Env();
  const config::ServiceSpec svc = Web();
  MigrationProgress progress;
  auto m = RunMigration(client, clock, env, svc, "arn:td/demo-web:5", {{"containerDefinitions", json::array()}}, "token",
                        json(), [](const std::string&) {}, &cancel, progress);
  ASSERT_TRUE(m) << m.error().message;
  EXPECT_EQ(m->status, MigrationResult::Status::kInterrupted);
  EXPECT_EQ(m->detail, "its task abc123 was stopped");
  EXPECT_EQ(stop_reason, "slipway: release interrupted");
  EXPECT_EQ(progress.task_id, "abc123");
  EXPECT_EQ(std::count(t.ops.begin(), t.ops.end(), "DescribeTasks"), 2);
}

TEST(RunMigration, StreamsItsLogFromWhereTheLastReadEnded) {
  int describes = 0;
  std::vector<json> reads;  // GetLogEvents bodies
  FakeEcsTransport t([&](const std::string& op, const json& body) -> Result<aws::HttpResponse> {
    if (op == "RunTask") return Reply({{"tasks", {{{"taskArn", "arn:task/demo-dev/abc123"}}}}});
    if (op == "DescribeTasks") {
      if (++describes == 1) return Reply({{"tasks", {{{"lastStatus", "RUNNING"}}}}});
      return Reply({{"tasks", {{{"lastStatus", "STOPPED"}, {"containers", {{{"name", "web"}, {"exitCode", 0}}}}}}}});
    }
    if (op == "GetLogEvents") {
      reads.push_back(body);
      if (reads.size() == 1) {
        return Reply({{"events", {{{"timestamp", 1}, {"message", "applying 0001"}}}}, {"nextForwardToken", "f/1"}});
      }
      // A reply without a forward token: the next read starts where the last one ended.
      if (reads.size() == 2) return Reply({{"events", {{{"timestamp", 2}, {"message", "applying 0002"}}}}});
      return Reply({{"events", json::array()}, {"nextForwardToken", "f/1"}});
    }
    return Fail("unexpected " + op);
  });
  FakeClock clock;
  aws::AwsClient client(t, clock, {"AKID", "SECRET", ""}, {"us-east-1", "http://x"});
  const config::Environment env = Env();
  const config::ServiceSpec svc = Web();
  const json td = WebLoggingToAwslogs();
  std::vector<std::string> lines;
  MigrationProgress progress;
  auto m = RunMigration(client, clock, env, svc, "arn:td/demo-web:5", td, "token", json(),
                        [&](const std::string& line) { lines.push_back(line); }, nullptr, progress);
  ASSERT_TRUE(m) << m.error().message;
  EXPECT_EQ(m->status, MigrationResult::Status::kSucceeded);
  EXPECT_EQ(progress.tail, (std::vector<std::string>{"applying 0001", "applying 0002"}));
  EXPECT_NE(std::find(lines.begin(), lines.end(), "  migrate | applying 0002"), lines.end());
  ASSERT_EQ(reads.size(), 3u);
  EXPECT_EQ(reads[0],
            json({{"logGroupName", "/ecs/demo"}, {"logStreamName", "web/web/abc123"}, {"startFromHead", true}}));
  EXPECT_EQ(reads[1].value("nextToken", ""), "f/1");
  EXPECT_EQ(reads[2].value("nextToken", ""), "f/1");
}

TEST(RunMigration, ReadsTheWholeLogOnceTheTaskStopped) {
  // The task stops at once, leaving three pages of log: all of them are read, and the reads stop
  // where CloudWatch Logs hands back the same forward token.
  int reads = 0;
  FakeEcsTransport t([&](const std::string& op, const json& body) -> Result<aws::HttpResponse> {
    if (op == "RunTask") return Reply({{"tasks", {{{"taskArn", "arn:task/demo-dev/abc123"}}}}});
    if (op == "DescribeTasks") {
      return Reply({{"tasks", {{{"lastStatus", "STOPPED"}, {"containers", {{{"name", "web"}, {"exitCode", 1}}}}}}}});
    }
    if (op == "GetLogEvents") {
      ++reads;
      const std::string from = body.value("nextToken", "");
      const int page = from.empty() ? 0 : std::stoi(from.substr(2));
      if (page >= 4) return Reply({{"events", json::array()}, {"nextForwardToken", from}});
      return Reply({{"events", {{{"timestamp", page}, {"message", "line " + std::to_string(page)}}}},
                    {"nextForwardToken", "f/" + std::to_string(page + 1)}});
    }
    return Fail("unexpected " + op);
  });
  FakeClock clock;
  aws::AwsClient client(t, clock, {"AKID", "SECRET", ""}, {"us-east-1", "http://x"});
  const config::Environment env = Env();
  const config::ServiceSpec svc = Web();
  const json td = WebLoggingToAwslogs();
  MigrationProgress progress;
  auto m = RunMigration(client, clock, env, svc, "arn:td/demo-web:5", td, "token", json(),
                        [](const std::string&) {}, nullptr, progress);
  ASSERT_TRUE(m) << m.error().message;
  EXPECT_EQ(m->status, MigrationResult::Status::kFailed);
  EXPECT_EQ(progress.tail, (std::vector<std::string>{"line 0", "line 1", "line 2", "line 3"}));
  EXPECT_EQ(reads, 5);  // one while polling, then pages 1 to 3 and the empty end
}

}  // namespace
}  // namespace slipway::deploy
