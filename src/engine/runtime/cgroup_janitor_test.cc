// cgroup removal on a fake cgroup file system: v1 hierarchies as directories, and a "busy"
// cgroup as one rmdir refuses (here: a directory holding a file, as a real one holds a process).
#include "engine/runtime/cgroup_janitor.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>

namespace slipway::engine {
namespace {

namespace fs = std::filesystem;

class FakeCgroupFs : public ::testing::Test {
 protected:
  FakeCgroupFs()
      : root_(fs::temp_directory_path() / ("slipway-cgroupfs-" + std::to_string(::getpid()) + "-" +
                                           ::testing::UnitTest::GetInstance()->current_test_info()->name())) {
    fs::remove_all(root_);
    for (const char* h : {"memory", "cpu", "pids"}) fs::create_directories(root_ / h);
  }
  ~FakeCgroupFs() override { fs::remove_all(root_); }

  // A task's cgroups as podman makes them: the task's, conmon's and the container's, in every hierarchy.
  void MakeTask(const std::string& base, const std::string& task) const {
    for (const char* h : {"memory", "cpu", "pids"}) {
      fs::create_directories(root_ / h / base / task / "conmon");
      fs::create_directories(root_ / h / base / task / "libpod-abc");
    }
  }
  // A process lingers in the task's container cgroup (memory hierarchy), or has left it.
  void Busy(const std::string& base, const std::string& task) const {
    std::ofstream(root_ / "memory" / base / task / "libpod-abc" / "member") << "1";
  }
  void Leave(const std::string& base, const std::string& task) const {
    fs::remove(root_ / "memory" / base / task / "libpod-abc" / "member");
  }
  bool Exists(const std::string& relative) const {
    for (const char* h : {"memory", "cpu", "pids"}) {
      if (fs::exists(root_ / h / relative)) return true;
    }
    return false;
  }
  std::string fs_root() const { return root_.string(); }

  fs::path root_;
  const SteadyTime t0_ = std::chrono::steady_clock::now();
};

TEST_F(FakeCgroupFs, AnEndedTasksCgroupsGoInEveryHierarchyAndNoOtherTasks) {
  MakeTask("slipway-podman-aaaa0001", "task1");
  MakeTask("slipway-podman-aaaa0001", "task2");
  CgroupJanitor j("slipway-podman-aaaa0001", fs_root());
  EXPECT_TRUE(j.Remove("task1", t0_));
  EXPECT_FALSE(Exists("slipway-podman-aaaa0001/task1"));
  EXPECT_TRUE(Exists("slipway-podman-aaaa0001/task2"));
  EXPECT_TRUE(j.Pending().empty());
}

TEST_F(FakeCgroupFs, ABusyCgroupIsRetriedLaterUntilItGoes) {
  MakeTask("slipway-podman-aaaa0001", "task1");
  Busy("slipway-podman-aaaa0001", "task1");
  CgroupJanitor j("slipway-podman-aaaa0001", fs_root());
  EXPECT_FALSE(j.Remove("task1", t0_));
  EXPECT_EQ(j.Pending(), std::vector<std::string>{"task1"});
  // The other hierarchies' copies went already; the busy one stays.
  EXPECT_FALSE(fs::exists(root_ / "cpu/slipway-podman-aaaa0001/task1"));
  EXPECT_TRUE(fs::exists(root_ / "memory/slipway-podman-aaaa0001/task1"));

  Leave("slipway-podman-aaaa0001", "task1");
  EXPECT_EQ(j.Retry(t0_), 0) << "retried before its time";
  EXPECT_TRUE(Exists("slipway-podman-aaaa0001/task1"));
  EXPECT_EQ(j.Retry(t0_ + CgroupJanitor::kFirstRetry), 1);
  EXPECT_FALSE(Exists("slipway-podman-aaaa0001/task1"));
  EXPECT_TRUE(j.Pending().empty());
  EXPECT_TRUE(j.GivenUp().empty());
}

TEST_F(FakeCgroupFs, ACgroupBusyThroughEveryAttemptIsGivenUpButRemovedAtStop) {
  MakeTask("slipway-podman-aaaa0001", "task1");
  Busy("slipway-podman-aaaa0001", "task1");
  CgroupJanitor j("slipway-podman-aaaa0001", fs_root());
  EXPECT_FALSE(j.Remove("task1", t0_));
  SteadyTime now = t0_;
  int retries = 0;
  for (; retries < 100 && !j.Pending().empty(); ++retries) {
    now += std::chrono::hours(1);
    EXPECT_EQ(j.Retry(now), 0);
  }
  EXPECT_EQ(retries, CgroupJanitor::kMaxAttempts - 1) << "attempts are bounded";
  EXPECT_EQ(j.GivenUp(), std::vector<std::string>{"task1"}) << "not forgotten";
  // No longer retried, even once free...
  Leave("slipway-podman-aaaa0001", "task1");
  EXPECT_EQ(j.Retry(now + std::chrono::hours(100)), 0);
  EXPECT_TRUE(Exists("slipway-podman-aaaa0001/task1"));
  // ...but engine stop removes it with the rest.
  EXPECT_TRUE(j.RemoveAll());
  EXPECT_FALSE(Exists("slipway-podman-aaaa0001"));
  EXPECT_TRUE(j.GivenUp().empty());
}

TEST_F(FakeCgroupFs, EngineStopRemovesItsTreeOnlyAndReportsWhatIsBusy) {
  MakeTask("slipway-exec-aaaa0001", "t1-web");
  MakeTask("slipway-exec-aaaa0001", "t2-web");
  MakeTask("slipway-exec-bbbb0002", "t3-web");  // another engine's (another data dir)
  MakeTask("slipway-engine-4242", "t4-web");
  Busy("slipway-exec-aaaa0001", "t2-web");
  CgroupJanitor j("slipway-exec-aaaa0001", fs_root());
  EXPECT_FALSE(j.RemoveAll(2, Millis(1)));
  EXPECT_TRUE(Exists("slipway-exec-aaaa0001/t2-web"));
  EXPECT_FALSE(Exists("slipway-exec-aaaa0001/t1-web"));
  Leave("slipway-exec-aaaa0001", "t2-web");
  EXPECT_TRUE(j.RemoveAll());
  EXPECT_FALSE(Exists("slipway-exec-aaaa0001"));
  EXPECT_TRUE(Exists("slipway-exec-bbbb0002/t3-web"));
  EXPECT_TRUE(Exists("slipway-engine-4242/t4-web"));
}

TEST_F(FakeCgroupFs, AtStartOnlyThisDataDirsCgroupsOfTasksThatNoLongerRunGo) {
  MakeTask("slipway-podman-aaaa0001", "gone1");
  MakeTask("slipway-podman-aaaa0001", "gone2");
  MakeTask("slipway-podman-aaaa0001", "live");
  MakeTask("slipway-podman-bbbb0002", "gone1");  // the same task name under another engine
  Busy("slipway-podman-aaaa0001", "gone2");
  CgroupJanitor j("slipway-podman-aaaa0001", fs_root());
  const std::set<std::string> live = {"live"};
  EXPECT_EQ(j.RemoveLeftovers([&live](const std::string& n) { return live.count(n) > 0; }, t0_), 1);
  EXPECT_FALSE(Exists("slipway-podman-aaaa0001/gone1"));
  EXPECT_TRUE(Exists("slipway-podman-aaaa0001/live"));
  EXPECT_TRUE(Exists("slipway-podman-bbbb0002/gone1"));
  // The busy one is retried like any other.
  EXPECT_EQ(j.Pending(), std::vector<std::string>{"gone2"});
  Leave("slipway-podman-aaaa0001", "gone2");
  EXPECT_EQ(j.Retry(t0_ + std::chrono::hours(1)), 1);
  EXPECT_FALSE(Exists("slipway-podman-aaaa0001/gone2"));
}

TEST_F(FakeCgroupFs, NamesThatLeaveTheEnginesCgroupAreIgnored) {
  MakeTask("slipway-podman-bbbb0002", "x");
  CgroupJanitor j("slipway-podman-aaaa0001", fs_root());
  EXPECT_TRUE(j.Remove("../slipway-podman-bbbb0002", t0_));
  EXPECT_TRUE(j.Remove("", t0_));
  EXPECT_TRUE(Exists("slipway-podman-bbbb0002/x"));
}

}  // namespace
}  // namespace slipway::engine
