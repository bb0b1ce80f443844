// RunStreamed with real child processes.
#include "build/streamed.h"

#include <gtest/gtest.h>

namespace slipway::build {
namespace {

std::string Log(const char* name) { return testing::TempDir() + "/" + name; }

TEST(RunStreamed, PassesOnEveryLineAndTheExitCode) {
  std::vector<std::string> lines;
  auto r = RunStreamed({"/bin/sh", "-c", "echo one; echo two >&2; printf three; exit 3"}, {}, Log("streamed1.log"),
                       [&](const std::string& l) { lines.push_back(l); }, nullptr);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->status.code, 3);
  EXPECT_FALSE(r->cancelled);
  EXPECT_EQ(lines, (std::vector<std::string>{"one", "two", "three"}));
  EXPECT_EQ(r->last_lines, lines);
}

TEST(RunStreamed, KeepsOnlyTheLastLinesAndAddsTheEnvironment) {
  std::vector<std::string> lines;
  auto r = RunStreamed({"/bin/sh", "-c", "for i in $(seq 1 40); do echo \"$WORD $i\"; done"}, {{"WORD", "line"}},
                       Log("streamed2.log"), [&](const std::string& l) { lines.push_back(l); }, nullptr);
  ASSERT_TRUE(r);
  EXPECT_EQ(lines.size(), 40u);
  ASSERT_EQ(r->last_lines.size(), kKeptLines);
  EXPECT_EQ(r->last_lines.back(), "line 40");
  EXPECT_EQ(r->last_lines.front(), "line 26");
}

TEST(RunStreamed, ACancelStopsTheCommand) {
  CancelToken cancel;
  cancel.Cancel();
  auto r = RunStreamed({"/bin/sleep", "60"}, {}, Log("streamed3.log"), [](const std::string&) {}, &cancel);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->cancelled);
  EXPECT_NE(r->status.code, 0);
}

TEST(RunStreamed, AProgramThatDoesNotExistIsAnError) {
  auto r = RunStreamed({"/nonexistent/builder"}, {}, Log("streamed4.log"), [](const std::string&) {}, nullptr);
  EXPECT_TRUE(!r || r->status.code == 127) << (r ? "" : r.error().message);
}

}  // namespace
}  // namespace slipway::build
