// The exec runtime's memory limits, with real processes: the cgroup path (where this machine lets
// the engine create one) and the resident-set watchdog.
#include "engine/runtime.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

namespace slipway::engine {
namespace {

// Allocates and touches 16 MiB every 10 ms, up to 1 GiB, then exits 0.
const std::vector<std::string> kHog = {
    "/usr/bin/python3", "-c",
    "import time\nblocks=[]\nfor i in range(64):\n  blocks.append(bytearray(16<<20)); time.sleep(0.01)\n"};

std::optional<ContainerExit> RunUntilExit(ExecRuntime& rt, long long limit) {
  auto started = rt.Start({"t1", "hog", kHog, {{"PATH", "/usr/bin:/bin"}}, "", "/dev/null", limit});
  EXPECT_TRUE(started) << (started ? "" : started.error().message);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    for (auto& exit : rt.Reap()) return exit;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return std::nullopt;
}

TEST(ExecRuntime, TheWatchdogKillsAContainerPastItsLimitAsOutOfMemory) {
  ExecRuntime rt(/*use_cgroups=*/false);
  EXPECT_NE(rt.MemoryEnforcement().find("watchdog"), std::string::npos);
  auto exit = RunUntilExit(rt, 64LL << 20);
  ASSERT_TRUE(exit);
  EXPECT_TRUE(exit->out_of_memory);
  EXPECT_EQ(exit->status.code, 137);
}

TEST(ExecRuntime, ACgroupLimitIsEnforcedByTheKernelWhereAvailable) {
  ExecRuntime rt;
  if (rt.MemoryEnforcement().find("cgroup") == std::string::npos) {
    GTEST_SKIP() << "no writable cgroup memory controller here: " << rt.MemoryEnforcement();
  }
  auto exit = RunUntilExit(rt, 64LL << 20);
  ASSERT_TRUE(exit);
  EXPECT_TRUE(exit->out_of_memory);
  EXPECT_EQ(exit->status.code, 137);
}

TEST(ExecRuntime, AContainerWithinItsLimitIsNotReportedOutOfMemory) {
  ExecRuntime rt;
  auto exit = RunUntilExit(rt, 4LL << 30);
  ASSERT_TRUE(exit);
  EXPECT_FALSE(exit->out_of_memory);
  EXPECT_EQ(exit->status.code, 0);
}

}  // namespace
}  // namespace slipway::engine
