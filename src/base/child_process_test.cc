#include "base/child_process.h"

#include <gtest/gtest.h>

#include <csignal>
#include <cstdio>
#include <fstream>
#include <sstream>

namespace slipway {

TEST(ChildProcess, ReportsExitCodeAndCapturesOutput) {
  std::string out = testing::TempDir() + "/child_out.log";
  std::remove(out.c_str());
  auto child = ChildProcess::Spawn(
      {.argv = {"/bin/sh", "-c", "echo hello $WHO; exit 3"}, .env = {{"WHO", "world"}},
       .output_path = out});
  ASSERT_TRUE(child) << child.error().message;
  ExitStatus st = child->Wait();
  EXPECT_EQ(st.code, 3);
  std::ifstream f(out);
  std::stringstream ss;
  ss << f.rdbuf();
  EXPECT_EQ(ss.str(), "hello world\n");
}

TEST(ChildProcess, SignalReachesTheProcessGroupAndCodeIs128PlusSignal) {
  auto child = ChildProcess::Spawn({.argv = {"/bin/sh", "-c", "sleep 30 & wait"}});
  ASSERT_TRUE(child);
  EXPECT_FALSE(child->Poll().has_value());
  child->Signal(SIGTERM);
  ExitStatus st = child->Wait();
  EXPECT_EQ(st.signal, SIGTERM);
  EXPECT_EQ(st.code, 143);
}

TEST(ChildProcess, SpawnOfMissingProgramIsAnError) {
  auto child = ChildProcess::Spawn({.argv = {"/nonexistent/program"}});
  // posix_spawn reports exec failure either synchronously or as exit code 127.
  if (child) {
    EXPECT_EQ(child->Wait().code, 127);
  }
}

TEST(ChildProcess, AnOutputFileInAMissingDirectoryIsNamedAsSuch) {
  auto child = ChildProcess::Spawn({.argv = {"/bin/true"}, .output_path = "/nonexistent-dir/out.log"});
  ASSERT_FALSE(child);
  EXPECT_EQ(child.error().message, "spawn /bin/true: cannot write its output under /nonexistent-dir/: No such file or directory");
}

TEST(RunCommand, ReturnsCombinedOutput) {
  auto r = RunCommand({"/bin/sh", "-c", "echo out; echo err >&2"});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status.code, 0);
  EXPECT_EQ(r->output, "out\nerr\n");
}

}  // namespace slipway
