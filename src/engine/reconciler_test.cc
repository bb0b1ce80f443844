// The reconciler's circuit breaker and rollback, driven tick by tick on a fake clock with real
// processes (the exec runtime running /bin/sh). Services here have no load balancer, so the data
// plane only receives empty routing tables.
#include <gtest/gtest.h>

#include <filesystem>
#include <set>
#include <thread>

#include "engine/control_plane.h"
#include "engine/runtime/supervisor_files.h"

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
    logs_ = std::move(*LogService::Open((dir_ / "logs.db").string()));
    Open();
    Ecs("CreateCluster", {{"clusterName", "c"}});
  }
  // A fresh store, runtime and control plane over the same data dir, as an engine start makes.
  void Open() {
    store_ = std::move(*Store::Open((dir_ / "engine.db").string()));
    runtime_ = std::make_unique<ExecRuntime>();
    control_ = std::make_unique<ControlPlane>(clock_, *runtime_, data_plane_, *store_, *logs_,
                                              ControlPlaneOptions{dir_.string(), "127.0.0.1", {{"PATH", "/usr/bin:/bin"}}});
    auto loaded = control_->Load();
    ASSERT_TRUE(loaded) << loaded.error().message;
    summary_ = *loaded;
  }
  // The engine dies (nothing is stopped), `edit` may change what it left on disk, and it starts again.
  void Crash(const std::function<void(Store&)>& edit = nullptr) {
    control_.reset();
    runtime_.reset();
    if (edit) edit(*store_);
    Open();
  }
  void TearDown() override {
    if (control_) control_->Shutdown(Millis(100));
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
  std::unique_ptr<ExecRuntime> runtime_;
  LoadSummary summary_;
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

std::set<std::string> TaskIds(const json& arns) {
  std::set<std::string> out;
  for (const auto& a : arns) out.insert(a.get<std::string>().substr(a.get<std::string>().rfind('/') + 1));
  return out;
}

TEST_F(ReconcilerTest, ARestartedEngineAdoptsRunningTasksInsteadOfStartingNewOnes) {
  Ecs("CreateService", {{"cluster", "c"}, {"serviceName", "s"}, {"taskDefinition", Register("exec sleep 600")},
                        {"desiredCount", 2}, {"deploymentConfiguration", kBreaker}});
  ASSERT_TRUE(TickUntil([&] { return Steady(); }));
  const auto running = TaskIds(Ecs("ListTasks", {{"cluster", "c"}})["taskArns"]);
  ASSERT_EQ(running.size(), 2u);

  Crash();
  EXPECT_EQ(summary_.adopted_tasks, 2);
  TickUntil([] { return false; }, 5);
  EXPECT_TRUE(Steady());
  EXPECT_EQ(TaskIds(Ecs("ListTasks", {{"cluster", "c"}})["taskArns"]), running);
  EXPECT_TRUE(Ecs("ListTasks", {{"cluster", "c"}, {"desiredStatus", "STOPPED"}})["taskArns"].empty());
}

TEST_F(ReconcilerTest, AContainerStartedBeforeItWasRecordedIsAdoptedNotStartedTwice) {
  Ecs("CreateService", {{"cluster", "c"}, {"serviceName", "s"}, {"taskDefinition", Register("exec sleep 600")},
                      {"desiredCount", 1}, {"deploymentConfiguration", kBreaker}});
  ASSERT_TRUE(TickUntil([&] { return Steady(); }));
  const std::string id = *TaskIds(Ecs("ListTasks", {{"cluster", "c"}})["taskArns"]).begin();
  const std::string task_dir = (dir_ / "tasks" / id).string();
  auto record = ReadSupervisorRecord(SupervisorPath(task_dir, "app"));
  ASSERT_TRUE(record);

  // The engine died after starting the container but before recording it as running.
  Crash([&](Store& store) {
    bool migrated = false;
    State state = *store.Load(&migrated);
    Task& t = state.tasks.at(id);
    t.last_status = "PENDING";
    for (auto& c : t.containers) c.last_status = "PENDING";
    ASSERT_TRUE(store.Commit(state, {{ObjectKind::kTask, id}}));
  });
  TickUntil([] { return false; }, 5);
  EXPECT_TRUE(Steady());
  EXPECT_EQ(TaskIds(Ecs("ListTasks", {{"cluster", "c"}})["taskArns"]), std::set<std::string>{id});
  EXPECT_TRUE(Ecs("ListTasks", {{"cluster", "c"}, {"desiredStatus", "STOPPED"}})["taskArns"].empty());
  auto after = ReadSupervisorRecord(SupervisorPath(task_dir, "app"));
  ASSERT_TRUE(after);
  EXPECT_EQ(after->container_pid, record->container_pid);
  EXPECT_NE(ProcessStartTime(record->container_pid), 0u) << "the container was killed";
}

TEST_F(ReconcilerTest, AStoppedTaskIsKeptForAnHourThenRemovedWithItsDirectory) {
  json run = Ecs("RunTask", {{"cluster", "c"}, {"taskDefinition", Register("echo done")}});
  const std::string arn = run["tasks"][0]["taskArn"];
  const std::string id = arn.substr(arn.rfind('/') + 1);
  auto status = [&] {
    json tasks = Ecs("DescribeTasks", {{"cluster", "c"}, {"tasks", {arn}}})["tasks"];
    return tasks.empty() ? std::string("MISSING") : tasks[0]["lastStatus"].get<std::string>();
  };
  ASSERT_TRUE(TickUntil([&] { return status() == "STOPPED"; }));
  EXPECT_TRUE(std::filesystem::exists(dir_ / "tasks" / id));
  clock_.Advance(Millis(3'500'000));
  control_->Tick();
  EXPECT_EQ(status(), "STOPPED") << "ECS shows a stopped task for about an hour";
  clock_.Advance(Millis(200'000));
  control_->Tick();
  EXPECT_EQ(status(), "MISSING");
  EXPECT_FALSE(std::filesystem::exists(dir_ / "tasks" / id));
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
