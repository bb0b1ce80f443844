// The lines a release draws on a terminal: one per service, what each says, and when a
// terminal gets them at all.
#include "cli/rollout_view.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include "base/unique_fd.h"
#include "cli/screen_test.h"

namespace slipway::cli {
namespace {

using Rows = std::vector<std::string>;
using std::chrono::seconds;

deploy::ServiceProgress Web(int running, const std::string& phase = "rolling out") {
  deploy::ServiceProgress p;
  p.service = "demo-dev-web";
  p.revision = "demo-web:5";
  p.phase = phase;
  p.running = running;
  p.desired = 2;
  p.healthy = running;
  p.targets = 2 + running;
  p.event = "(service demo-dev-web) has started 2 tasks: (task 1a2b).";
  return p;
}

TEST(FormatServiceLine, SaysRunningOfDesiredHealthElapsedAndTheLatestEvent) {
  EXPECT_EQ(FormatServiceLine(Web(1), Millis(75'000), 12),
            "demo-dev-web  demo-web:5    rolling out  1/2 running  1/3 healthy  1:15  has started "
            "2 tasks: (task 1a2b).");
}

TEST(FormatServiceLine, AServiceWithoutALoadBalancerHasNoHealth) {
  deploy::ServiceProgress p;
  p.service = "worker";
  p.revision = "demo-worker:2";
  p.phase = "completed";
  p.running = p.desired = 1;
  EXPECT_EQ(FormatServiceLine(p, Millis(3'723'000), 8),
            "worker    demo-worker:2  completed    1/1 running  1:02:03");
}

TEST(RolloutView, DrawsOneLinePerServiceUnderTheProgressLines) {
  ScreenTerminal t(200);
  FakeClock clock;
  RolloutView view(t, clock);
  view.Print("12:00:00  releasing demo in dev");
  view.Show(Web(0));
  deploy::ServiceProgress api = Web(0);
  api.service = "demo-dev-api";
  api.targets = api.healthy = -1;
  api.event.clear();
  view.Show(api);
  clock.Advance(seconds(5));
  view.Show(Web(1));
  view.Print("12:00:05  rolling out demo-dev-api");
  auto rows = t.rows();
  ASSERT_EQ(rows.size(), 5u);
  EXPECT_EQ(rows[0], "12:00:00  releasing demo in dev");
  EXPECT_EQ(rows[1], "12:00:05  rolling out demo-dev-api");
  EXPECT_EQ(
      rows[2].rfind(
          "  demo-dev-web  demo-web:5    rolling out  1/2 running  1/3 healthy  0:05  has started",
          0),
      0u)
      << rows[2];
  EXPECT_EQ(rows[3], "  demo-dev-api  demo-web:5    rolling out  0/2 running  0:05");
  EXPECT_EQ(rows[4], "");
}

TEST(RolloutView, ADoneServiceKeepsTheTimeItTook) {
  ScreenTerminal t(200);
  FakeClock clock;
  RolloutView view(t, clock);
  view.Show(Web(0));
  clock.Advance(seconds(12));
  auto done = Web(2, "completed");
  done.done = true;
  view.Show(done);
  clock.Advance(seconds(30));
  view.Print("verify GET /: 200 ok");
  EXPECT_NE(t.rows()[1].find("completed    2/2 running  2/4 healthy  0:12  "), std::string::npos)
      << t.rows()[1];
}

TEST(RolloutView, FinishLeavesTheFinalFrameAndTheCursorUnderIt) {
  ScreenTerminal t(200);
  FakeClock clock;
  RolloutView view(t, clock);
  view.Show(Web(1));
  auto done = Web(2, "completed");
  done.done = true;
  view.Show(done);
  view.Finish();
  t.Write("released dev in 9.0 s\n");  // the report, printed as it is today
  auto rows = t.rows();
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_NE(rows[0].find("completed"), std::string::npos);
  EXPECT_EQ(rows[1], "released dev in 9.0 s");
}

TEST(RolloutView, AfterAnInterruptTheBlockIsDrawnUnderTheHandlersMessage) {
  ScreenTerminal t(200);
  FakeClock clock;
  CancelToken cancel;
  RolloutView view(t, clock, &cancel);
  view.Show(Web(1));
  // The signal handler cancels and writes its own line to the terminal.
  cancel.Cancel();
  t.Write("\ninterrupted: stopping at the next safe point\n");
  view.Show(Web(1, "interrupted"));
  auto rows = t.rows();
  ASSERT_EQ(rows.size(), 5u);
  EXPECT_NE(rows[0].find("rolling out"), std::string::npos);
  EXPECT_EQ(rows[2], "interrupted: stopping at the next safe point");
  EXPECT_NE(rows[3].find("interrupted"), std::string::npos);
}

// The environment variables WantsLiveView reads, set for one test and put back after it.
class LiveViewEnv : public ::testing::Test {
 protected:
  void SetUp() override {
    Save("TERM");
    Save("CI");
    ::setenv("TERM", "xterm-256color", 1);
    ::unsetenv("CI");
    pty_ = UniqueFd(::posix_openpt(O_RDWR | O_NOCTTY));
    ASSERT_TRUE(pty_.valid());
  }
  void TearDown() override {
    for (const auto& [name, value] : saved_) {
      if (value) {
        ::setenv(name.c_str(), value->c_str(), 1);
      } else {
        ::unsetenv(name.c_str());
      }
    }
  }
  void Save(const std::string& name) {
    const char* v = std::getenv(name.c_str());
    saved_.emplace_back(name, v ? std::optional<std::string>(v) : std::nullopt);
  }
  UniqueFd pty_;
  std::vector<std::pair<std::string, std::optional<std::string>>> saved_;
};

TEST_F(LiveViewEnv, ATerminalGetsTheLiveView) { EXPECT_TRUE(WantsLiveView(pty_.get(), false)); }

TEST_F(LiveViewEnv, JsonOutputNeverDoes) { EXPECT_FALSE(WantsLiveView(pty_.get(), true)); }

TEST_F(LiveViewEnv, APipeDoesNot) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  UniqueFd read_end(fds[0]), write_end(fds[1]);
  EXPECT_FALSE(WantsLiveView(write_end.get(), false));
}

TEST_F(LiveViewEnv, ADumbTerminalDoesNot) {
  ::setenv("TERM", "dumb", 1);
  EXPECT_FALSE(WantsLiveView(pty_.get(), false));
}

TEST_F(LiveViewEnv, CiDoesNotUnlessItSaysFalse) {
  ::setenv("CI", "true", 1);
  EXPECT_FALSE(WantsLiveView(pty_.get(), false));
  ::setenv("CI", "false", 1);
  EXPECT_TRUE(WantsLiveView(pty_.get(), false));
}

}  // namespace
}  // namespace slipway::cli
