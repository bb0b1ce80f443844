// The reconciler's circuit breaker and rollback, driven tick by tick on a fake clock with real
// processes (the exec runtime running /bin/sh). Services here have no load balancer, so the data
// plane only receives empty routing tables.
#include <gtest/gtest.h>

#include <filesystem>
#include <thread>

#include "engine/control_plane.h"

namespace slipway::engine {
namespace {

using nlohmann::json;

class NoListeners final : public DataPlane {
 public:
  Result<void> OpenListener(const std::string&, int) override { return {}; }
  void Publish(std::shared_ptr<const RoutingTable>) override {}
  void Check(const HealthCheckSpec&, std::function<void(HealthCheckResult)>) override {}
};

class ReconcilerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("slipway-reconciler-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    store_ = std::move(*Store::Open((dir_ / "engine.db").string()));
    logs_ = std::move(*LogService::Open((dir_ / "logs.db").string()));
    control_ = std::make_unique<ControlPlane>(clock_, runtime_, data_plane_, *store_, *logs_,
                                              ControlPlaneOptions{dir_.string(), "127.0.0.1", {{"PATH", "/usr/bin:/bin"}}});
    Ecs("CreateCluster", {{"clusterName", "c"}});
  }
  void TearDown() override {
    control_->Shutdown(Millis(100));
    std::filesystem::remove_all(dir_);
  }

  json Ecs(const std::string& op, const json& r) {
    auto out = control_->HandleEcs(op, r);
    EXPECT_TRUE(out) << op << ": " << (out ? "" : out.error().message);
    return out ? *out : json();
  }
  // A task definition whose one container runs `script` under /bin/sh.
  std::string Register(const std::string& script) {
    json td{{"family", "app"},
            {"containerDefinitions", {{{"name", "app"}, {"image", "x"}, {"entryPoint", {"/bin/sh", "-c", script}}}}}};
    return Ecs("RegisterTaskDefinition", td)["taskDefinition"]["taskDefinitionArn"];
  }
  json Service() { return Ecs("DescribeServices", {{"cluster", "c"}, {"services", {"s"}}})["services"][0]; }
  std::vector<std::string> Messages() {
    std::vector<std::string> out;
    const json service = Service();
    for (const auto& e : service["events"]) out.push_back(e["message"]);
    return out;
  }
  // Ticks (one fake second each, with a real pause so processes can run and exit) until `done`.
  bool TickUntil(const std::function<bool()>& done, int max_ticks = 200) {
    for (int i = 0; i < max_ticks; ++i) {
      control_->Tick();
      if (done()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      clock_.Advance(Millis(1000));
    }
    return false;
  }
  bool Steady() {
    json s = Service();
    return s["deployments"].size() == 1 && s["deployments"][0]["rolloutState"] == "COMPLETED" &&
           s["runningCount"] == s["desiredCount"];
  }

  std::filesystem::path dir_;
  FakeClock clock_;
  ExecRuntime runtime_;
  NoListeners data_plane_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<LogService> logs_;
  std::unique_ptr<ControlPlane> control_;
};

const json kBreaker{{"deploymentCircuitBreaker", {{"enable", true}, {"rollback", true}}},
                    {"maximumPercent", 200}, {"minimumHealthyPercent", 100}};

TEST_F(ReconcilerTest, AFirstDeploymentThatCrashesFailsAndLaunchesNothingMore) {
  Ecs("CreateService", {{"cluster", "c"}, {"serviceName", "s"}, {"taskDefinition", Register("exit 1")},
                        {"desiredCount", 2}, {"deploymentConfiguration", kBreaker}});
  ASSERT_TRUE(TickUntil([&] { return Service()["deployments"][0]["rolloutState"] == "FAILED"; }));
  json d = Service()["deployments"][0];
  EXPECT_EQ(d["rolloutStateReason"], "ECS deployment circuit breaker: tasks failed to start.");
  EXPECT_GE(d["failedTasks"].get<int>(), CircuitBreakerThreshold(2));
  // Nothing to roll back to: the FAILED deployment stays and starts no more tasks.
  auto launched = [&] { return Ecs("ListTasks", {{"cluster", "c"}, {"desiredStatus", "STOPPED"}})["taskArns"].size(); };
  TickUntil([] { return false; }, 5);
  size_t before = launched();
  TickUntil([] { return false; }, 10);
  EXPECT_EQ(launched(), before);
  EXPECT_EQ(Service()["deployments"].size(), 1u);
  EXPECT_EQ(Service()["runningCount"], 0);
}

TEST_F(ReconcilerTest, ACrashingUpdateRollsBackToTheLastCompletedDeploymentUnderItsOwnId) {
  const std::string good = Register("exec sleep 600");
  Ecs("CreateService", {{"cluster", "c"}, {"serviceName", "s"}, {"taskDefinition", good},
                        {"desiredCount", 2}, {"deploymentConfiguration", kBreaker}});
  ASSERT_TRUE(TickUntil([&] { return Steady(); }));
  const std::string good_id = Service()["deployments"][0]["id"];

  json updated = Ecs("UpdateService", {{"cluster", "c"}, {"service", "s"}, {"taskDefinition", Register("exit 3")}});
  const std::string bad_id = updated["service"]["deployments"][0]["id"];
  ASSERT_NE(bad_id, good_id);
  ASSERT_TRUE(TickUntil([&] { return Service()["deployments"][0]["id"] == good_id; }));
  EXPECT_EQ(Service()["taskDefinition"], good);
  auto messages = Messages();
  EXPECT_NE(std::find(messages.begin(), messages.end(), "(service s) (deployment " + bad_id + ") deployment failed: tasks failed to start."),
            messages.end());
  EXPECT_NE(std::find(messages.begin(), messages.end(), "(service s) rolling back to deployment " + good_id + "."),
            messages.end());
  // The old tasks never stopped (minimumHealthyPercent 100), so the rollback completes and the
  // failed deployment leaves the list.
  ASSERT_TRUE(TickUntil([&] { return Steady(); }));
  EXPECT_EQ(Service()["deployments"][0]["id"], good_id);
  EXPECT_EQ(Service()["deployments"][0]["rolloutStateReason"], "ECS deployment " + good_id + " completed.");
  // Every stopped task of the failed deployment says why, with its exit code.
  json stopped = Ecs("ListTasks", {{"cluster", "c"}, {"startedBy", bad_id}, {"desiredStatus", "STOPPED"}});
  ASSERT_FALSE(stopped["taskArns"].empty());
  json tasks = Ecs("DescribeTasks", {{"cluster", "c"}, {"tasks", stopped["taskArns"]}})["tasks"];
  for (const auto& t : tasks) {
    EXPECT_EQ(t["stopCode"], "EssentialContainerExited");
    EXPECT_EQ(t["containers"][0]["exitCode"], 3);
  }
}

TEST_F(ReconcilerTest, AHealthyTaskResetsTheFailureCount) {
  // Every other task crashes: a healthy one in between keeps the count from reaching 3.
  std::string marker = (dir_ / "flip").string();
  const std::string flaky = Register("if [ -e " + marker + " ]; then rm " + marker + "; exec sleep 600; else touch " + marker + "; exit 1; fi");
  Ecs("CreateService", {{"cluster", "c"}, {"serviceName", "s"}, {"taskDefinition", flaky},
                        {"desiredCount", 1}, {"deploymentConfiguration", kBreaker}});
  ASSERT_TRUE(TickUntil([&] { return Steady(); }));
  json d = Service()["deployments"][0];
  EXPECT_EQ(d["rolloutState"], "COMPLETED");
  EXPECT_EQ(d["failedTasks"], 0);
}

TEST_F(ReconcilerTest, CountsBeyondTheIntegerRangeAreSerializationErrors) {
  const std::string td = Register("exec sleep 600");
  auto create = control_->HandleEcs("CreateService", {{"cluster", "c"}, {"serviceName", "s"},
                                                      {"taskDefinition", td}, {"desiredCount", 1e30}});
  ASSERT_FALSE(create);
  EXPECT_EQ(create.error().code, "SerializationException");
  auto run = control_->HandleEcs("RunTask", {{"cluster", "c"}, {"taskDefinition", td}, {"count", -1e30}});
  ASSERT_FALSE(run);
  EXPECT_EQ(run.error().code, "SerializationException");
  Ecs("CreateService", {{"cluster", "c"}, {"serviceName", "s"}, {"taskDefinition", td}, {"desiredCount", 0}});
  auto update = control_->HandleEcs(
      "UpdateService", {{"cluster", "c"}, {"service", "s"}, {"desiredCount", 4294967297},
                        {"deploymentConfiguration", {{"maximumPercent", 1e10}}}});
  ASSERT_FALSE(update);
  EXPECT_EQ(update.error().code, "SerializationException");
  EXPECT_EQ(Service()["desiredCount"], 0);
}

}  // namespace
}  // namespace slipway::engine
