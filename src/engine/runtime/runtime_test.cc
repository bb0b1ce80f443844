// The exec runtime with real processes under real supervisors: memory limits (cgroup and
// watchdog), start errors, and containers that outlive one runtime and are adopted by the next.
#include "engine/runtime/runtime.h"

#include <gtest/gtest.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <thread>

#include "engine/runtime/supervisor_files.h"

namespace slipway::engine {
namespace {

namespace fs = std::filesystem;

// Allocates and touches 16 MiB every 10 ms, up to 1 GiB, then exits 0.
const std::vector<std::string> kHog = {
    "/usr/bin/python3", "-c",
    "import time\nblocks=[]\nfor i in range(64):\n  blocks.append(bytearray(16<<20)); time.sleep(0.01)\n"};

class TaskDir {
 public:
  TaskDir() : path_(fs::temp_directory_path() / ("slipway-runtime-" + std::to_string(::getpid()) + "-" +
                                                 std::to_string(counter_++))) {
    fs::create_directories(path_);
  }
  ~TaskDir() { fs::remove_all(path_); }
  std::string str() const { return path_.string(); }

 private:
  static inline int counter_ = 0;
  fs::path path_;
};

std::optional<ContainerExit> WaitForExit(ExecRuntime& rt, int seconds = 30) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (std::chrono::steady_clock::now() < deadline) {
    for (auto& exit : rt.Reap()) return exit;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return std::nullopt;
}

std::optional<ContainerExit> RunUntilExit(ExecRuntime& rt, const TaskDir& dir, long long limit) {
  auto started = rt.Start({"t1", "hog", kHog, {{"PATH", "/usr/bin:/bin"}}, "", dir.str(), limit});
  EXPECT_TRUE(started) << (started ? "" : started.error().message);
  return WaitForExit(rt);
}

// Waits until the supervisor has recorded its container.
std::optional<SupervisorRecord> WaitForRecord(const std::string& dir, const std::string& name) {
  for (int i = 0; i < 500; ++i) {
    if (auto r = ReadSupervisorRecord(SupervisorPath(dir, name))) return r;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return std::nullopt;
}

TEST(ExecRuntime, TheWatchdogKillsAContainerPastItsLimitAsOutOfMemory) {
  TaskDir dir;
  ExecRuntime rt(/*use_cgroups=*/false);
  EXPECT_NE(rt.MemoryEnforcement().find("watchdog"), std::string::npos);
  auto exit = RunUntilExit(rt, dir, 64LL << 20);
  ASSERT_TRUE(exit);
  EXPECT_TRUE(exit->out_of_memory);
  EXPECT_EQ(exit->status.code, 137);
}

TEST(ExecRuntime, ACgroupLimitIsEnforcedByTheKernelWhereAvailable) {
  TaskDir dir;
  ExecRuntime rt;
  if (rt.MemoryEnforcement().find("cgroup") == std::string::npos) {
    GTEST_SKIP() << "no writable cgroup memory controller here: " << rt.MemoryEnforcement();
  }
  auto exit = RunUntilExit(rt, dir, 64LL << 20);
  ASSERT_TRUE(exit);
  EXPECT_TRUE(exit->out_of_memory);
  EXPECT_EQ(exit->status.code, 137);
}

TEST(ExecRuntime, AContainerWithinItsLimitIsNotReportedOutOfMemory) {
  TaskDir dir;
  ExecRuntime rt;
  auto exit = RunUntilExit(rt, dir, 4LL << 30);
  ASSERT_TRUE(exit);
  EXPECT_FALSE(exit->out_of_memory);
  EXPECT_EQ(exit->status.code, 0);
}

TEST(ExecRuntime, AProgramThatCannotBeExecutedFailsToStartWithTheReason) {
  TaskDir dir;
  ExecRuntime rt;
  ASSERT_TRUE(rt.Start({"t1", "app", {"/nonexistent/app"}, {}, "", dir.str(), 0}));
  auto exit = WaitForExit(rt);
  ASSERT_TRUE(exit);
  EXPECT_TRUE(exit->failed_to_start);
  EXPECT_EQ(exit->reason, "CannotStartContainerError: exec /nonexistent/app: No such file or directory");
}

TEST(ExecRuntime, AContainerSeesItsEnvironmentAndWritesToItsLog) {
  TaskDir dir;
  ExecRuntime rt;
  ASSERT_TRUE(rt.Start({"t1", "app", {"/bin/sh", "-c", "echo hello $GREETING; exit 3"}, {{"GREETING", "world"}}, "",
                        dir.str(), 0}));
  auto exit = WaitForExit(rt);
  ASSERT_TRUE(exit);
  EXPECT_EQ(exit->status.code, 3);
  std::ifstream log(LogPath(dir.str(), "app"));
  std::string line;
  std::getline(log, line);
  EXPECT_EQ(line, "hello world");
}

TEST(ExecRuntime, AContainerOutlivesItsRuntimeAndIsAdoptedByTheNext) {
  TaskDir dir;
  pid_t container = 0;
  {
    ExecRuntime first;
    ASSERT_TRUE(first.Start({"t1", "app", {"/bin/sleep", "60"}, {}, "", dir.str(), 0}));
    auto record = WaitForRecord(dir.str(), "app");
    ASSERT_TRUE(record);
    container = record->container_pid;
  }  // the first runtime is gone, as after an engine crash
  ASSERT_NE(ProcessStartTime(container), 0u) << "the container died with its runtime";

  ExecRuntime second;
  EXPECT_EQ(second.Adopt("t1", "app", dir.str()), Adoption::kAdopted);
  EXPECT_TRUE(second.Reap().empty());
  second.Signal("t1", SIGTERM);
  auto exit = WaitForExit(second);
  ASSERT_TRUE(exit);
  EXPECT_EQ(exit->task_id, "t1");
  EXPECT_EQ(exit->status.signal, SIGTERM);
  EXPECT_EQ(ProcessStartTime(container), 0u);
}

TEST(ExecRuntime, AContainerThatEndedWhileNoRuntimeWatchedIsReportedOnAdoption) {
  TaskDir dir;
  {
    ExecRuntime first;
    ASSERT_TRUE(first.Start({"t1", "app", {"/bin/sh", "-c", "exit 7"}, {}, "", dir.str(), 0}));
    for (int i = 0; i < 500 && !fs::exists(ExitPath(dir.str(), "app")); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  ExecRuntime second;
  EXPECT_EQ(second.Adopt("t1", "app", dir.str()), Adoption::kEnded);
  auto exits = second.Reap();
  ASSERT_EQ(exits.size(), 1u);
  EXPECT_EQ(exits[0].status.code, 7);
}

TEST(ExecRuntime, NothingToAdoptWhereNoSupervisorEverRan) {
  TaskDir dir;
  ExecRuntime rt;
  EXPECT_EQ(rt.Adopt("t1", "app", dir.str()), Adoption::kNotStarted);
}

TEST(ExecRuntime, AKilledSupervisorTakesItsContainerWithIt) {
  TaskDir dir;
  ExecRuntime rt;
  ASSERT_TRUE(rt.Start({"t1", "app", {"/bin/sleep", "60"}, {}, "", dir.str(), 0}));
  auto record = WaitForRecord(dir.str(), "app");
  ASSERT_TRUE(record);
  ::kill(record->supervisor_pid, SIGKILL);
  auto exit = WaitForExit(rt);
  ASSERT_TRUE(exit);
  EXPECT_FALSE(exit->reason.empty());
  for (int i = 0; i < 100 && ProcessStartTime(record->container_pid) != 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(ProcessStartTime(record->container_pid), 0u) << "the container runs on unsupervised";
}

TEST(ExecRuntime, ASupervisorHoldsNoDescriptorOfTheEngine) {
  TaskDir dir;
  // A descriptor this process holds without close-on-exec, as a listening socket might.
  int leaked = ::open("/dev/null", O_RDONLY);
  ASSERT_GE(leaked, 0);
  ExecRuntime rt;
  ASSERT_TRUE(rt.Start({"t1", "app", {"/bin/sleep", "60"}, {}, "", dir.str(), 0}));
  auto record = WaitForRecord(dir.str(), "app");
  ASSERT_TRUE(record);
  for (pid_t pid : {record->supervisor_pid, record->container_pid}) {
    std::vector<std::string> fds;
    for (const auto& fd : fs::directory_iterator("/proc/" + std::to_string(pid) + "/fd")) {
      fds.push_back(fd.path().filename().string());
    }
    // The container has stdin, stdout and stderr; the supervisor adds only its own lock file.
    for (const auto& fd : fds) {
      if (fd == "0" || fd == "1" || fd == "2") continue;
      std::error_code ec;
      const std::string target = fs::read_symlink("/proc/" + std::to_string(pid) + "/fd/" + fd, ec).string();
      EXPECT_TRUE(pid == record->supervisor_pid && target == LockPath(dir.str(), "app"))
          << "pid " << pid << " holds fd " << fd << " -> " << target;
    }
  }
  ::close(leaked);
  rt.Signal("t1", SIGKILL);
  ASSERT_TRUE(WaitForExit(rt));
}

TEST(ExecRuntime, EmptyCgroupsOfDeadEnginesAreRemovedAndOccupiedOnesKept) {
  ExecRuntime rt;
  const std::string mode = rt.MemoryEnforcement();
  if (mode.find("cgroup v1") == std::string::npos) GTEST_SKIP() << "needs a writable cgroup v1 memory controller: " << mode;
  // A pid that no longer runs: a child that has exited and been reaped.
  const pid_t dead = ::fork();
  if (dead == 0) ::_exit(0);
  ::waitpid(dead, nullptr, 0);
  const std::string root = "/sys/fs/cgroup/memory/slipway-engine-" + std::to_string(dead);
  ASSERT_TRUE(fs::create_directory(root));
  ASSERT_TRUE(fs::create_directory(root + "/empty"));
  ASSERT_TRUE(fs::create_directory(root + "/occupied"));
  auto sleeper = ChildProcess::Spawn({.argv = {"/bin/sleep", "30"}});
  ASSERT_TRUE(sleeper);
  std::ofstream(root + "/occupied/cgroup.procs") << sleeper->pid();

  EXPECT_GE(rt.RemoveStaleCgroups(), 1);
  EXPECT_FALSE(fs::exists(root + "/empty"));
  EXPECT_TRUE(fs::exists(root + "/occupied")) << "a cgroup a running container is in was removed";
  sleeper->Signal(SIGKILL);
  sleeper->Wait();
  for (int i = 0; i < 100 && rt.RemoveStaleCgroups() == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_FALSE(fs::exists(root));
}

}  // namespace
}  // namespace slipway::engine
