// The console's gate: no token, a wrong one and the right one, through each way it may arrive.
#include "engine/console/console.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <sys/stat.h>

namespace slipway::engine {
namespace {

const std::string kToken(64, 'a');

class ConsoleTest : public ::testing::Test {
 protected:
  ApiHttpResponse Get(const std::string& target, std::vector<std::pair<std::string, std::string>> headers = {}) {
    headers.emplace_back("Host", "127.0.0.1:4580");
    return console_.Handle({"GET", target, headers, ""});
  }
  static std::string HeaderOf(const ApiHttpResponse& r, const std::string& name) {
    for (const auto& [k, v] : r.headers) {
      if (k == name) return v;
    }
    return "";
  }

  int metrics_minutes_ = 0;
  Console console_{kToken,
                   {.state = [] { return nlohmann::json{{"services", nlohmann::json::array()}}; },
                    .metrics = [this](int minutes) {
                      metrics_minutes_ = minutes;
                      return nlohmann::json{{"charts", nlohmann::json::array()}};
                    }}};
};

TEST_F(ConsoleTest, ServesOnlyPathsUnderConsole) {
  EXPECT_TRUE(Console::Serves("/console"));
  EXPECT_TRUE(Console::Serves("/console?token=x"));
  EXPECT_TRUE(Console::Serves("/console/api/state"));
  EXPECT_FALSE(Console::Serves("/"));
  EXPECT_FALSE(Console::Serves("/consoles"));
  EXPECT_FALSE(Console::Serves("/?Action=DescribeLoadBalancers"));
}

TEST_F(ConsoleTest, RefusesEveryPathWithoutTheToken) {
  for (const char* path : {"/console", "/console/api/state", "/console/api/metrics", "/console/static/console.js",
                           "/console/nothing"}) {
    const auto r = Get(path);
    EXPECT_EQ(r.status, 401) << path;
    EXPECT_EQ(r.body.find("services"), std::string::npos) << path;
    EXPECT_NE(HeaderOf(r, "Content-Security-Policy").find("frame-ancestors 'none'"), std::string::npos);
  }
}

TEST_F(ConsoleTest, RefusesAWrongTokenWhereverItArrives) {
  const std::string wrong(64, 'b');
  EXPECT_EQ(Get("/console?token=" + wrong).status, 403);
  EXPECT_EQ(Get("/console?token=" + kToken.substr(1)).status, 403);
  EXPECT_EQ(Get("/console/api/state", {{"Authorization", "Bearer " + wrong}}).status, 403);
  EXPECT_EQ(Get("/console/api/state", {{"Cookie", "slipway_console_4580=" + wrong}}).status, 403);
  // A cookie for another engine's port opens nothing here.
  EXPECT_EQ(Get("/console/api/state", {{"Cookie", "slipway_console_4581=" + kToken}}).status, 401);
}

TEST_F(ConsoleTest, TokenInTheUrlBecomesAStrictCookieAndLeavesTheAddressBar) {
  const auto r = Get("/console?token=" + kToken);
  EXPECT_EQ(r.status, 303);
  EXPECT_EQ(HeaderOf(r, "Location"), "/console");
  EXPECT_EQ(HeaderOf(r, "Set-Cookie"), "slipway_console_4580=" + kToken + "; Path=/console; HttpOnly; SameSite=Strict");
}

TEST_F(ConsoleTest, CookieOrBearerTokenOpensThePageAndItsData) {
  const auto page = Get("/console", {{"Cookie", "other=1; slipway_console_4580=" + kToken}});
  EXPECT_EQ(page.status, 200);
  EXPECT_NE(page.content_type.find("text/html"), std::string::npos);
  EXPECT_NE(page.body.find("static/console.js"), std::string::npos);
  EXPECT_EQ(page.body.find("<script>"), std::string::npos);  // no inline script: the CSP forbids it
  EXPECT_EQ(HeaderOf(page, "X-Content-Type-Options"), "nosniff");
  const auto state = Get("/console/api/state", {{"Authorization", "Bearer " + kToken}});
  EXPECT_EQ(state.status, 200);
  EXPECT_EQ(state.content_type, "application/json");
  EXPECT_EQ(nlohmann::json::parse(state.body)["services"], nlohmann::json::array());
  const auto script = Get("/console/static/uPlot.iife.min.js", {{"Authorization", "Bearer " + kToken}});
  EXPECT_EQ(script.status, 200);
  EXPECT_GT(script.body.size(), 10'000u);
}

TEST_F(ConsoleTest, BoundsWhatARequestMayAsk) {
  const std::vector<std::pair<std::string, std::string>> auth = {{"Authorization", "Bearer " + kToken}};
  EXPECT_EQ(Get("/console/api/metrics?minutes=999", auth).status, 400);
  EXPECT_EQ(Get("/console/api/metrics?minutes=-1", auth).status, 400);
  EXPECT_EQ(Get("/console/api/metrics?minutes=90", auth).status, 200);
  EXPECT_EQ(metrics_minutes_, kMaxConsoleMinutes);
  EXPECT_EQ(Get("/console/api/metrics", auth).status, 200);
  EXPECT_EQ(metrics_minutes_, kDefaultConsoleMinutes);
  EXPECT_EQ(Get("/console/api/state?" + std::string(kMaxConsoleTarget, 'x'), auth).status, 414);
  EXPECT_EQ(Get("/console/static/../../credentials", auth).status, 404);
  EXPECT_EQ(console_.Handle({"POST", "/console/api/state", auth, "{}"}).status, 405);
}

TEST(ConsoleToken, IsPrivateAndNewAtEachStartUnlessKept) {
  const auto dir = std::filesystem::temp_directory_path() / ("console-token-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto first = IssueConsoleToken(dir.string(), false);
  ASSERT_TRUE(first);
  struct stat st{};
  ASSERT_EQ(::stat((dir / kConsoleTokenFile).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(*ReadConsoleToken(dir.string()), *first);
  EXPECT_EQ(*IssueConsoleToken(dir.string(), true), *first);
  auto second = IssueConsoleToken(dir.string(), false);
  EXPECT_NE(*second, *first);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace slipway::engine
