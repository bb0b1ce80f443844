// The reconciler's circuit breaker and rollback, driven tick by tick on a fake clock with real
// processes (the exec runtime running /bin/sh). Services here have no load balancer, so the data
// plane only receives empty routing tables.
#include <gtest/gtest.h>

#include <filesystem>
#include <set>
#include <thread>

#include "engine/control_plane.h"
#include "engine/runtime/supervisor_files.h"
#include "engine/sqlite_util.h"
#include "engine/testing/inert_data_plane.h"

namespace slipway::engine {
namespace {

using nlohmann::json;

class ReconcilerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    static int test_number = 0;
    dir_ = std::filesystem::temp_directory_path() /
           ("slipway-reconciler-" + std::to_string(::getpid()) + "-" + std::to_string(++test_number));
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
                                              Options());
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
    // A supervisor the test left (e.g. one the engine never recorded) may still be writing its
    // exit record: wait for every supervisor lock to be free before removing the directory.
    std::error_code ec;
    for (int i = 0; i < 100; ++i) {
      bool held = false;
      for (const auto& f : std::filesystem::recursive_directory_iterator(dir_, ec)) {
        held = held || (f.path().extension() == ".lock" && LockHeld(f.path().string()));
      }
      if (!held) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    std::filesystem::remove_all(dir_, ec);
    EXPECT_FALSE(ec) << "removing " << dir_ << ": " << ec.message();
  }

  json Ecs(const std::string& op, const json& r) {
    auto out = control_->HandleEcs(op, r);
    EXPECT_TRUE(out) << op << ": " << (out ? "" : out.error().message);
    return out ? *out : json();
  }
  // A task definition whose one container runs `script` under /bin/sh.
  ControlPlaneOptions Options() const {
    ControlPlaneOptions o{dir_.string(), "127.0.0.1", {{"PATH", "/usr/bin:/bin"}}};
    o.max_tasks = max_tasks_;
    return o;
  }
  // A task definition whose one container runs `script` under /bin/sh; `extra` adds to it.
  std::string Register(const std::string& script, const json& extra = json::object()) {
    json container{{"name", "app"}, {"image", "x"}, {"entryPoint", {"/bin/sh", "-c", script}}};
    container.update(extra);
    json td{{"family", "app"}, {"containerDefinitions", {container}}};
    return Ecs("RegisterTaskDefinition", td)["taskDefinition"]["taskDefinitionArn"];
  }
  // Runs one task of `td` and ticks until it has stopped; returns it as DescribeTasks shows it.
  json RunToStop(const std::string& td, int max_ticks = 3000) {
    const std::string arn = Ecs("RunTask", {{"cluster", "c"}, {"taskDefinition", td}})["tasks"][0]["taskArn"];
    json task;
    TickUntil([&] {
      task = Ecs("DescribeTasks", {{"cluster", "c"}, {"tasks", {arn}}})["tasks"][0];
      return task["lastStatus"] == "STOPPED";
    }, max_ticks);
    return task;
  }
  json Service() { return Ecs("DescribeServices", {{"cluster", "c"}, {"services", {"s"}}})["services"][0]; }
  std::vector<std::string> Messages() {
    std::vector<std::string> out;
    const json service = Service();
    for (const auto& e : service["events"]) out.push_back(e["message"]);
    return out;
  }
  // Ticks (a tenth of a fake second each, with a real pause so processes can run and exit) until
  // `done`. The fake clock runs at most five times faster than the real one, so a container that
  // crashes at start (a real process, however busy the machine) exits long before it has been up
  // for the 3 s that count a task without health checks as healthy.
  bool TickUntil(const std::function<bool()>& done, int max_ticks = 3000) {
    for (int i = 0; i < max_ticks; ++i) {
      control_->Tick();
      if (done()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      clock_.Advance(Millis(100));
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
  int max_tasks_ = 128;
  InertDataPlane data_plane_;
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
  TickUntil([] { return false; }, 50);
  size_t before = launched();
  TickUntil([] { return false; }, 100);
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
  // Every stopped task of the failed deployment says why: the ones that crashed with their exit
  // code (enough of them to trip the breaker), any still starting at the rollback as stopped by the
  // scheduler.
  json stopped = Ecs("ListTasks", {{"cluster", "c"}, {"startedBy", bad_id}, {"desiredStatus", "STOPPED"}});
  json tasks = Ecs("DescribeTasks", {{"cluster", "c"}, {"tasks", stopped["taskArns"]}})["tasks"];
  int crashed = 0;
  for (const auto& t : tasks) {
    if (t["stopCode"] == "EssentialContainerExited") {
      ++crashed;
      EXPECT_EQ(t["containers"][0]["exitCode"], 3);
    } else {
      EXPECT_EQ(t["stopCode"], "ServiceSchedulerInitiated") << t.dump();
    }
  }
  EXPECT_GE(crashed, CircuitBreakerThreshold(2));
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
  TickUntil([] { return false; }, 50);
  EXPECT_TRUE(Steady());
  EXPECT_EQ(TaskIds(Ecs("ListTasks", {{"cluster", "c"}})["taskArns"]), running);
  EXPECT_TRUE(Ecs("ListTasks", {{"cluster", "c"}, {"desiredStatus", "STOPPED"}})["taskArns"].empty());
}

TEST_F(ReconcilerTest, ARepeatedCreateServiceWithItsClientTokenReturnsTheSameServiceEvenAfterARestart) {
  const json create{{"cluster", "c"}, {"serviceName", "s"}, {"taskDefinition", Register("exec sleep 600")},
                    {"desiredCount", 0}, {"clientToken", "r1-s"}};
  const json first = Ecs("CreateService", create);
  Crash();
  // Given the reply was lost, the same request again: the same service, one deployment.
  const json again = Ecs("CreateService", create);
  EXPECT_EQ(again["service"]["serviceArn"], first["service"]["serviceArn"]);
  EXPECT_EQ(again["service"]["deployments"].size(), 1u);
  EXPECT_EQ(again["service"]["deployments"][0]["id"], first["service"]["deployments"][0]["id"]);
  // Another token (or none) for an existing service is still refused, as ECS refuses it.
  json other = create;
  other["clientToken"] = "r2-s";
  EXPECT_FALSE(control_->HandleEcs("CreateService", other));
  other.erase("clientToken");
  EXPECT_FALSE(control_->HandleEcs("CreateService", other));
}

TEST_F(ReconcilerTest, ARepeatedRunTaskWithItsClientTokenReturnsTheTasksItStarted) {
  const json run{{"cluster", "c"}, {"taskDefinition", Register("exec sleep 600")}, {"count", 2},
                 {"clientToken", "r1-migrate"}};
  const json first = Ecs("RunTask", run);
  ASSERT_EQ(first["tasks"].size(), 2u);
  Crash();
  const json again = Ecs("RunTask", run);
  ASSERT_EQ(again["tasks"].size(), 2u);
  std::set<std::string> a, b;
  for (const auto& t : first["tasks"]) a.insert(t["taskArn"]);
  for (const auto& t : again["tasks"]) b.insert(t["taskArn"]);
  EXPECT_EQ(a, b);
  EXPECT_EQ(Ecs("ListTasks", {{"cluster", "c"}})["taskArns"].size(), 2u);
  // Without the token, RunTask starts new tasks.
  json fresh = run;
  fresh.erase("clientToken");
  fresh["count"] = 1;
  Ecs("RunTask", fresh);
  EXPECT_EQ(Ecs("ListTasks", {{"cluster", "c"}})["taskArns"].size(), 3u);
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
  TickUntil([] { return false; }, 50);
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

TEST_F(ReconcilerTest, TaskOutputShipsInBoundedChunksAsUtf8Events) {
  // 600 KiB on one line, 600 KB of short lines of two-byte characters, 300 KB of them on one line,
  // then a line that is not UTF-8: more than a tick's chunk each, most unshipped when it stops.
  const json awslogs{{"logConfiguration",
                      {{"logDriver", "awslogs"},
                       {"options", {{"awslogs-group", "/t"}, {"awslogs-region", "us-east-1"},
                                    {"awslogs-stream-prefix", "p"}, {"awslogs-create-group", "true"}}}}}};
  std::string accented;
  for (int i = 0; i < 100; ++i) accented += "\xc3\xa9";
  json task = RunToStop(Register("head -c 614400 /dev/zero | tr '\\000' a; echo; yes '" + accented +
                                     "' | head -n 3000; head -c 150000 /dev/zero | tr '\\000' x | sed 's/x/\xc3\xa9/g'; echo;"
                                     "printf 'caf\\351\\n'",
                                 awslogs));
  ASSERT_EQ(task["lastStatus"], "STOPPED");
  const std::string id = task["taskArn"].get<std::string>().substr(task["taskArn"].get<std::string>().rfind('/') + 1);
  // What is left after the task stopped ships a chunk per tick, until the last line is there.
  ApiResult events;
  ASSERT_TRUE(TickUntil([&] {
    events = logs_->Handle("GetLogEvents", {{"logGroupName", "/t"}, {"logStreamName", "p/app/" + id},
                                            {"startFromHead", true}, {"limit", 10000}}, 0);
    return events && !(*events)["events"].empty() &&
           (*events)["events"].back()["message"].get<std::string>().substr(0, 3) == "caf";
  }, 100)) << (events ? std::to_string((*events)["events"].size()) + " events" : events.error().message);
  size_t a = 0, whole_accented = 0, split_accented = 0, other = 0;
  std::string last;
  for (const auto& e : (*events)["events"]) {
    const std::string m = e["message"];
    EXPECT_LE(m.size(), 256u * 1024) << "an event larger than a shipping chunk";
    if (m.find_first_not_of('a') == std::string::npos) {
      a += m.size();
    } else if (m == accented) {
      ++whole_accented;
    } else if (m.find_first_not_of(accented) == std::string::npos) {
      split_accented += m.size();
    } else {
      ++other;
    }
    last = m;
  }
  EXPECT_EQ(a, 614400u) << "bytes of the long line were lost or doubled";
  EXPECT_EQ(whole_accented, 3000u) << "short lines were split at chunk ends, or characters cut";
  EXPECT_EQ(split_accented, 300000u) << "a long line of two-byte characters was cut inside a character";
  EXPECT_EQ(other, 1u) << "events that are neither whole lines nor the last";
  EXPECT_EQ(last.substr(0, 20), "caf\xef\xbf\xbd") << last.size() << " bytes; events: " << (*events)["events"].size();
  EXPECT_NO_THROW((void)events->dump()) << "an event that is not UTF-8 makes every reply fail";
}

TEST_F(ReconcilerTest, StopTaskWaitsTheContainersStopTimeoutThenKills) {
  // The container says when it ignores SIGTERM; stopping it before that would test the shell.
  const auto ready = dir_ / "ignoring-term";
  const std::string script = "trap '' TERM; : > " + ready.string() + "; while :; do sleep 0.1; done";
  const std::string arn = Ecs("RunTask", {{"cluster", "c"}, {"taskDefinition", Register(script, {{"stopTimeout", 2}})}})
                              ["tasks"][0]["taskArn"];
  auto task = [&] { return Ecs("DescribeTasks", {{"cluster", "c"}, {"tasks", {arn}}})["tasks"][0]; };
  ASSERT_TRUE(TickUntil([&] { return task()["lastStatus"] == "RUNNING" && std::filesystem::exists(ready); }));
  Ecs("StopTask", {{"cluster", "c"}, {"task", arn}});
  int ticks = 0;
  ASSERT_TRUE(TickUntil([&] { return ++ticks, task()["lastStatus"] == "STOPPED"; }, 300));
  EXPECT_GE(ticks, 20) << "killed before its 2 s stopTimeout: " << task()["containers"].dump().substr(0, 800);
  EXPECT_LT(ticks, 100) << "the 30 s default applied, not the container's 2 s";
  EXPECT_EQ(task()["containers"][0]["exitCode"], 137) << task().dump();
}

TEST_F(ReconcilerTest, AFixedHostPortInThePoolIsHeldForItsTask) {
  const std::string td = Register("exec sleep 600", {{"portMappings", {{{"containerPort", 80}, {"hostPort", 29999}}}}});
  const std::string first = Ecs("RunTask", {{"cluster", "c"}, {"taskDefinition", td}})["tasks"][0]["taskArn"];
  ASSERT_TRUE(TickUntil([&] {
    return Ecs("DescribeTasks", {{"cluster", "c"}, {"tasks", {first}}})["tasks"][0]["lastStatus"] == "RUNNING";
  }));
  json second = RunToStop(td);
  EXPECT_EQ(second["stopCode"], "TaskFailedToStart");
  EXPECT_NE(second["stoppedReason"].get<std::string>().find("host port 29999 is in use by task"), std::string::npos)
      << second["stoppedReason"];
}

TEST_F(ReconcilerTest, TheTaskLimitCountsTasksAliveInARolloutNotOnlyDesiredCounts) {
  max_tasks_ = 4;
  Crash();
  Ecs("CreateService", {{"cluster", "c"}, {"serviceName", "s"}, {"taskDefinition", Register("exec sleep 600")},
                        {"desiredCount", 2}, {"deploymentConfiguration", kBreaker}});
  ASSERT_TRUE(TickUntil([&] { return Steady(); }));
  Ecs("UpdateService", {{"cluster", "c"}, {"service", "s"}, {"taskDefinition", Register("exec sleep 601")}});
  ASSERT_TRUE(TickUntil([&] { return Service()["runningCount"] == 4; }));
  auto refused = control_->HandleEcs("RunTask", {{"cluster", "c"}, {"taskDefinition", Register("exec sleep 602")}});
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, "LimitExceededException");
}

TEST_F(ReconcilerTest, TasksOnTheirWayOutLeaveRoomToAskButNotToLaunch) {
  max_tasks_ = 2;
  Crash();
  // Each container says when it ignores SIGTERM; stopping it before that would test the shell.
  const auto ready = dir_ / "ready";
  std::filesystem::create_directories(ready);
  const std::string stubborn = Register("trap '' TERM; : > " + ready.string() + "/$$; while :; do sleep 0.1; done",
                                        {{"stopTimeout", 5}});
  Ecs("CreateService", {{"cluster", "c"}, {"serviceName", "s"}, {"taskDefinition", stubborn}, {"desiredCount", 2}});
  ASSERT_TRUE(TickUntil([&] {
    auto files = std::filesystem::directory_iterator(ready);
    return Service()["runningCount"] == 2 && std::distance(begin(files), end(files)) == 2;
  }));
  Ecs("UpdateService", {{"cluster", "c"}, {"service", "s"}, {"desiredCount", 0}});
  control_->Tick();
  // Both are stopping (they ignore SIGTERM for 5 s): a new task is accepted, and waits for room.
  auto run = control_->HandleEcs("RunTask", {{"cluster", "c"}, {"taskDefinition", Register("exec sleep 600")}});
  ASSERT_TRUE(run) << run.error().message;
  const std::string arn = (*run)["tasks"][0]["taskArn"];
  auto status = [&](const std::string& task) {
    return Ecs("DescribeTasks", {{"cluster", "c"}, {"tasks", {task}}})["tasks"][0]["lastStatus"].get<std::string>();
  };
  bool launched_early = false;
  ASSERT_TRUE(TickUntil([&] {
    const json service = Service();
    const json tasks = Ecs("ListTasks", {{"cluster", "c"}, {"serviceName", "s"}, {"desiredStatus", "STOPPED"}});
    int alive = 0;
    for (const auto& t : tasks["taskArns"]) alive += status(t) != "STOPPED";
    launched_early = launched_early || (alive == 2 && status(arn) != "PROVISIONING");
    return status(arn) == "RUNNING";
  }));
  EXPECT_FALSE(launched_early) << "a task was launched while the limit's worth of tasks were still alive";
}

TEST_F(ReconcilerTest, AWriteThatCannotBeCommittedIsRefusedAndUndone) {
  // Another writer holds the database: the engine's commit times out.
  auto other = OpenDatabase((dir_ / "engine.db").string(), "");
  ASSERT_TRUE(other);
  ASSERT_EQ(sqlite3_exec(other->get(), "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
  json td{{"family", "undone"}, {"containerDefinitions", {{{"name", "app"}, {"image", "x"}}}}};
  auto r = control_->HandleEcs("RegisterTaskDefinition", td);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, "ServerException");
  ASSERT_EQ(sqlite3_exec(other->get(), "ROLLBACK", nullptr, nullptr, nullptr), SQLITE_OK);
  auto described = control_->HandleEcs("DescribeTaskDefinition", {{"taskDefinition", "undone"}});
  EXPECT_FALSE(described) << "a write answered with an error was applied anyway";
  control_->Tick();  // nothing of it is committed later either
  Crash();
  EXPECT_FALSE(control_->HandleEcs("DescribeTaskDefinition", {{"taskDefinition", "undone"}}));
}

TEST_F(ReconcilerTest, AFailedWriteToATargetGroupKeepsItsTargetsAndOnlyUndoesItsOwnChange) {
  auto created = control_->HandleElb("CreateTargetGroup", {{"Name", "tg"}, {"Protocol", "HTTP"}, {"Port", "80"},
                                                           {"TargetType", "ip"}, {"VpcId", "vpc-local"}});
  ASSERT_TRUE(created) << created.error().message;
  const size_t at = created->find("<TargetGroupArn>") + 16;
  const std::string arn = created->substr(at, created->find("</TargetGroupArn>") - at);
  ASSERT_TRUE(control_->HandleElb("RegisterTargets", {{"TargetGroupArn", arn}, {"Targets.member.1.Id", "127.0.0.1"},
                                                      {"Targets.member.1.Port", "20001"}}));
  // Another writer holds the database: the attribute change cannot be committed.
  auto other = OpenDatabase((dir_ / "engine.db").string(), "");
  ASSERT_TRUE(other);
  ASSERT_EQ(sqlite3_exec(other->get(), "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
  auto modified = control_->HandleElb("ModifyTargetGroupAttributes",
                                      {{"TargetGroupArn", arn}, {"Attributes.member.1.Key", "deregistration_delay.timeout_seconds"},
                                       {"Attributes.member.1.Value", "7"}});
  ASSERT_EQ(sqlite3_exec(other->get(), "ROLLBACK", nullptr, nullptr, nullptr), SQLITE_OK);
  ASSERT_FALSE(modified);
  EXPECT_EQ(modified.error().code, "InternalFailure");
  auto health = control_->HandleElb("DescribeTargetHealth", {{"TargetGroupArn", arn}});
  ASSERT_TRUE(health) << health.error().message;
  EXPECT_NE(health->find("127.0.0.1"), std::string::npos) << "undoing the change dropped the group's targets";
  auto attributes = control_->HandleElb("DescribeTargetGroupAttributes", {{"TargetGroupArn", arn}});
  ASSERT_TRUE(attributes);
  EXPECT_EQ(attributes->find("<Value>7</Value>"), std::string::npos) << "the refused change was kept";
}

TEST_F(ReconcilerTest, AFailedCallNeverUndoesWhatTheReconcilerDid) {
  const std::string arn = Ecs("RunTask", {{"cluster", "c"}, {"taskDefinition", Register("exec sleep 600")}})
                              ["tasks"][0]["taskArn"];
  // Another writer holds the database: the tick starts the task but cannot commit that.
  auto other = OpenDatabase((dir_ / "engine.db").string(), "");
  ASSERT_TRUE(other);
  ASSERT_EQ(sqlite3_exec(other->get(), "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
  control_->Tick();
  auto refused = control_->HandleEcs("DescribeTasks", {{"cluster", "c"}, {"tasks", {arn}}});
  ASSERT_EQ(sqlite3_exec(other->get(), "ROLLBACK", nullptr, nullptr, nullptr), SQLITE_OK);
  ASSERT_FALSE(refused) << "answered although the engine's state could not be saved";
  EXPECT_EQ(refused.error().code, "ServerException");
  // The started task is still known as started: undoing the tick would start it a second time.
  EXPECT_NE(Ecs("DescribeTasks", {{"cluster", "c"}, {"tasks", {arn}}})["tasks"][0]["lastStatus"], "PROVISIONING");
}

TEST_F(ReconcilerTest, AnImageOnlyContainerStopsSayingTheContainerRuntimeIsNeeded) {
  json td{{"family", "image-only"},
          {"containerDefinitions", {{{"name", "web"}, {"image", "registry.example/web:v9"}}}}};
  const std::string arn = Ecs("RegisterTaskDefinition", td)["taskDefinition"]["taskDefinitionArn"];
  json task = RunToStop(arn);
  EXPECT_EQ(task["stopCode"], "TaskFailedToStart");
  const std::string reason = task["stoppedReason"];
  EXPECT_EQ(reason.rfind("CannotStartContainerError: ", 0), 0u) << reason;
  EXPECT_NE(reason.find("registry.example/web:v9"), std::string::npos) << reason;
  EXPECT_NE(reason.find("container runtime"), std::string::npos) << reason;
  EXPECT_EQ(task["containers"][0]["reason"], reason);
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

TEST_F(ReconcilerTest, ADeregisteredRevisionKeepsItsTasksButStartsNothingNew) {
  const std::string v1 = Register("exec sleep 600");
  const std::string v2 = Register("exec sleep 601");
  const std::string task = Ecs("RunTask", {{"cluster", "c"}, {"taskDefinition", v1}})["tasks"][0]["taskArn"];
  ASSERT_TRUE(TickUntil([&] {
    return Ecs("DescribeTasks", {{"cluster", "c"}, {"tasks", {task}}})["tasks"][0]["lastStatus"] == "RUNNING";
  }));
  Ecs("CreateService", {{"cluster", "c"}, {"serviceName", "s"}, {"taskDefinition", v2}, {"desiredCount", 0}});

  auto bare = control_->HandleEcs("DeregisterTaskDefinition", {{"taskDefinition", "app"}});
  ASSERT_FALSE(bare) << "a family without a revision was deregistered";
  EXPECT_EQ(bare.error().code, "ClientException");
  const json gone = Ecs("DeregisterTaskDefinition", {{"taskDefinition", "app:1"}})["taskDefinition"];
  EXPECT_EQ(gone["status"], "INACTIVE");
  EXPECT_TRUE(gone["deregisteredAt"].is_number());
  EXPECT_EQ(Ecs("DeregisterTaskDefinition", {{"taskDefinition", v1}})["taskDefinition"]["status"], "INACTIVE")
      << "deregistering twice is not an error";

  for (const auto& [op, request] : std::vector<std::pair<std::string, json>>{
           {"RunTask", {{"cluster", "c"}, {"taskDefinition", v1}}},
           {"CreateService", {{"cluster", "c"}, {"serviceName", "s2"}, {"taskDefinition", v1}}},
           {"UpdateService", {{"cluster", "c"}, {"service", "s"}, {"taskDefinition", v1}}}}) {
    auto refused = control_->HandleEcs(op, request);
    ASSERT_FALSE(refused) << op << " used an INACTIVE revision";
    EXPECT_EQ(refused.error().message, "TaskDefinition is inactive") << op;
  }
  // The family alone now means its newest ACTIVE revision; the task that runs v1 goes on.
  EXPECT_EQ(Ecs("DescribeTaskDefinition", {{"taskDefinition", "app"}})["taskDefinition"]["revision"], 2);
  control_->Tick();
  EXPECT_EQ(Ecs("DescribeTasks", {{"cluster", "c"}, {"tasks", {task}}})["tasks"][0]["lastStatus"], "RUNNING");

  // Only a deregistered revision can be deleted; the answer says which failed and why.
  const json deleted = Ecs("DeleteTaskDefinitions", {{"taskDefinitions", {v1, v2, "app:9"}}});
  ASSERT_EQ(deleted["taskDefinitions"].size(), 1u) << deleted.dump();
  EXPECT_EQ(deleted["taskDefinitions"][0]["status"], "DELETE_IN_PROGRESS");
  ASSERT_EQ(deleted["failures"].size(), 2u) << deleted.dump();
  EXPECT_EQ(deleted["failures"][0]["arn"], v2);
  EXPECT_EQ(deleted["failures"][0]["reason"], "TASK_DEFINITION_IS_ACTIVE");
  EXPECT_EQ(deleted["failures"][1]["reason"], "TASK_DEFINITION_NOT_FOUND");
  auto again = control_->HandleEcs("DeregisterTaskDefinition", {{"taskDefinition", v1}});
  ASSERT_FALSE(again);

  // A DELETE_IN_PROGRESS revision starts nothing new either.
  auto create = control_->HandleEcs("CreateService", {{"cluster", "c"}, {"serviceName", "s3"}, {"taskDefinition", v1}});
  ASSERT_FALSE(create);
  EXPECT_EQ(create.error().message, "TaskDefinition is inactive");
  for (const json& many : {json::array(), json(std::vector<std::string>(11, v2))}) {
    auto refused = control_->HandleEcs("DeleteTaskDefinitions", {{"taskDefinitions", many}});
    EXPECT_FALSE(refused) << many.size() << " revisions in one call";
  }
  // References are read strictly: no lenient numbers, no other region's or account's ARNs.
  for (const std::string ref : {"app:2abc", "app: 2", "app:+2", "app:4294967298", "x/app:2",
                                "arn:aws:ecs:eu-west-1:999999999999:task-definition/app:2"}) {
    EXPECT_FALSE(control_->HandleEcs("DescribeTaskDefinition", {{"taskDefinition", ref}})) << ref;
  }
  EXPECT_TRUE(control_->HandleEcs("DescribeTaskDefinition", {{"taskDefinition", "app:2"}}));

  // Durable, and a family's revision numbers are never reused.
  Crash();
  EXPECT_EQ(Ecs("DescribeTaskDefinition", {{"taskDefinition", v1}})["taskDefinition"]["status"], "DELETE_IN_PROGRESS");
  EXPECT_EQ(Ecs("ListTaskDefinitions", {{"status", "DELETE_IN_PROGRESS"}})["taskDefinitionArns"], json::array({v1}));
  EXPECT_EQ(Ecs("ListTaskDefinitions", json::object())["taskDefinitionArns"], json::array({v2}));
  const std::string v3 = Register("exec sleep 602");
  EXPECT_EQ(v3.substr(v3.rfind(':')), ":3");
}

TEST_F(ReconcilerTest, TaskDefinitionsArePagedAndAPageNeverShiftsWhenRevisionsChange) {
  std::vector<std::string> arns;
  for (int i = 0; i < 5; ++i) arns.push_back(Register("exec sleep 600"));
  // Pages of two; the revision listed first is deregistered after the first page.
  auto list = [&](const std::string& sort) {
    std::vector<std::string> seen;
    json request{{"familyPrefix", "app"}, {"sort", sort}, {"maxResults", 2}};
    for (int page = 0; page < 10; ++page) {
      const json r = Ecs("ListTaskDefinitions", request);
      EXPECT_LE(r["taskDefinitionArns"].size(), 2u);
      for (const auto& a : r["taskDefinitionArns"]) seen.push_back(a);
      if (page == 0) Ecs("DeregisterTaskDefinition", {{"taskDefinition", seen.front()}});
      if (!r.contains("nextToken")) break;
      request["nextToken"] = r["nextToken"];
    }
    return seen;
  };
  EXPECT_EQ(list("ASC"), arns);
  EXPECT_EQ(list("DESC"), (std::vector<std::string>{arns[4], arns[3], arns[2], arns[1]}));
  EXPECT_EQ(Ecs("ListTaskDefinitions", {{"status", "INACTIVE"}})["taskDefinitionArns"], json::array({arns[0], arns[4]}));
  for (const json& bad : {json{{"maxResults", 0}}, json{{"maxResults", 101}}, json{{"nextToken", "garbage"}}}) {
    auto refused = control_->HandleEcs("ListTaskDefinitions", bad);
    ASSERT_FALSE(refused) << bad.dump();
    EXPECT_EQ(refused.error().code, "InvalidParameterException") << bad.dump();
  }
}

TEST_F(ReconcilerTest, ServiceDeploymentsRecordEachDeploymentAndHowItEnded) {
  const std::string good = Register("exec sleep 600");
  Ecs("CreateService", {{"cluster", "c"}, {"serviceName", "s"}, {"taskDefinition", good}, {"desiredCount", 1},
                        {"deploymentConfiguration", kBreaker}, {"tags", {{{"key", "team"}, {"value", "shop"}}}}});
  ASSERT_TRUE(TickUntil([&] { return Steady(); }));
  const std::string good_revision_of = Service()["deployments"][0]["id"];
  Ecs("UpdateService", {{"cluster", "c"}, {"service", "s"}, {"taskDefinition", Register("exit 1")}});
  ASSERT_TRUE(TickUntil([&] {
    return Steady() && Service()["deployments"][0]["id"] == good_revision_of;  // rolled back
  }));
  const json list = Ecs("ListServiceDeployments", {{"cluster", "c"}, {"service", "s"}});
  ASSERT_EQ(list["serviceDeployments"].size(), 2u) << list.dump();
  const json& bad = list["serviceDeployments"][0];
  const json& first = list["serviceDeployments"][1];
  EXPECT_EQ(first["status"], "SUCCESSFUL");
  EXPECT_EQ(bad["status"], "ROLLBACK_SUCCESSFUL");
  EXPECT_EQ(Service()["currentServiceDeployment"], bad["serviceDeploymentArn"]);
  const std::string arn = bad["serviceDeploymentArn"];
  EXPECT_EQ(arn.find("arn:aws:ecs:us-east-1:000000000000:service-deployment/c/s/"), 0u) << arn;
  EXPECT_EQ(arn.size() - arn.rfind('/') - 1, 21u) << arn;

  const json described = Ecs("DescribeServiceDeployments", {{"serviceDeploymentArns", {arn, arn + "x"}}});
  ASSERT_EQ(described["serviceDeployments"].size(), 1u);
  EXPECT_EQ(described["failures"][0]["reason"], "MISSING");
  const json& d = described["serviceDeployments"][0];
  EXPECT_EQ(d["deploymentCircuitBreaker"]["status"], "TRIGGERED");
  EXPECT_GE(d["deploymentCircuitBreaker"]["failureCount"].get<int>(), 3);
  EXPECT_EQ(d["rollback"]["serviceRevisionArn"], first["targetServiceRevisionArn"]);
  EXPECT_EQ(d["sourceServiceRevisions"][0]["arn"], first["targetServiceRevisionArn"]);
  EXPECT_TRUE(d["finishedAt"].is_number());

  const json revisions = Ecs("DescribeServiceRevisions", {{"serviceRevisionArns", {first["targetServiceRevisionArn"]}}});
  ASSERT_EQ(revisions["serviceRevisions"].size(), 1u);
  EXPECT_EQ(revisions["serviceRevisions"][0]["taskDefinition"], good);
  EXPECT_EQ(revisions["serviceRevisions"][0]["containerImages"][0]["containerName"], "app");

  // Filters and pages.
  EXPECT_EQ(Ecs("ListServiceDeployments", {{"cluster", "c"}, {"service", "s"}, {"status", {"SUCCESSFUL"}}})
                ["serviceDeployments"].size(), 1u);
  const json page = Ecs("ListServiceDeployments", {{"cluster", "c"}, {"service", "s"}, {"maxResults", 1}});
  ASSERT_EQ(page["serviceDeployments"].size(), 1u);
  const json next = Ecs("ListServiceDeployments", {{"cluster", "c"}, {"service", "s"}, {"nextToken", page["nextToken"]}});
  ASSERT_EQ(next["serviceDeployments"].size(), 1u);
  EXPECT_EQ(next["serviceDeployments"][0]["serviceDeploymentArn"], first["serviceDeploymentArn"]);
  EXPECT_FALSE(next.contains("nextToken"));

  // Tags given at creation are the service's, and DescribeServices shows them when asked.
  const json tagged = Ecs("DescribeServices", {{"cluster", "c"}, {"services", {"s"}}, {"include", {"TAGS"}}});
  EXPECT_EQ(tagged["services"][0]["tags"], json::parse(R"([{"key":"team","value":"shop"}])"));
  EXPECT_FALSE(Service().contains("tags"));

  // All of it survives a restart.
  Crash();
  EXPECT_EQ(Ecs("ListServiceDeployments", {{"cluster", "c"}, {"service", "s"}}), list);
  Ecs("CreateCluster", {{"clusterName", "b"}});
  EXPECT_EQ(Ecs("ListClusters", {{"maxResults", 1}})["clusterArns"].size(), 1u);
  const json clusters = Ecs("ListClusters", json::object());
  EXPECT_EQ(clusters["clusterArns"].size(), 2u);
  const json after = Ecs("ListClusters", {{"maxResults", 1}, {"nextToken", Ecs("ListClusters", {{"maxResults", 1}})["nextToken"]}});
  EXPECT_EQ(after["clusterArns"], json::array({clusters["clusterArns"][1]}));
}

TEST_F(ReconcilerTest, TheConsoleSnapshotShowsLiveTasksFirstAndStaysWithinItsLimits) {
  const std::string td = Register("sleep 60");
  Ecs("CreateService", {{"cluster", "c"}, {"serviceName", "s"}, {"taskDefinition", td}, {"desiredCount", 3}});
  ASSERT_TRUE(TickUntil([&] { return Steady(); }));
  // One task stops and is replaced, so there are live and stopped tasks to order.
  const std::string stopped = Ecs("ListTasks", {{"cluster", "c"}})["taskArns"][0];
  Ecs("StopTask", {{"cluster", "c"}, {"task", stopped}});
  ASSERT_TRUE(TickUntil([&] {
    return Steady() && !Ecs("ListTasks", {{"cluster", "c"}, {"desiredStatus", "STOPPED"}})["taskArns"].empty() &&
           Ecs("DescribeTasks", {{"cluster", "c"}, {"tasks", {stopped}}})["tasks"][0]["lastStatus"] == "STOPPED";
  }));

  ConsoleLimits limits;
  limits.tasks = 3;
  limits.events_per_service = 2;
  const json snapshot = control_->ConsoleSnapshot(limits);

  ASSERT_EQ(snapshot["services"].size(), 1u);
  EXPECT_EQ(snapshot["services"][0]["serviceName"], "s");
  EXPECT_EQ(snapshot["services"][0]["events"].size(), 2u);
  ASSERT_EQ(snapshot["tasks"].size(), 3u);
  for (const auto& t : snapshot["tasks"]) EXPECT_EQ(t["lastStatus"], "RUNNING");
  EXPECT_EQ(control_->ConsoleSnapshot({})["tasks"].size(), 4u);
  EXPECT_EQ(control_->ConsoleSnapshot({})["tasks"][3]["taskArn"], stopped);
  ASSERT_EQ(snapshot["releases"].size(), 1u);
  EXPECT_EQ(snapshot["releases"][0]["taskDefinition"], td);
  EXPECT_EQ(snapshot["releases"][0]["status"], "SUCCESSFUL");
}

}  // namespace
}  // namespace slipway::engine
