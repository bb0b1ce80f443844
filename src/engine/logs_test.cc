#include "engine/logs.h"

#include <gtest/gtest.h>

#include <filesystem>

namespace slipway::engine {
namespace {

using nlohmann::json;

class LogServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("slipway-logs-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    auto opened = LogService::Open((dir_ / "logs.db").string());
    ASSERT_TRUE(opened) << opened.error().message;
    logs_ = std::move(*opened);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  json Call(const std::string& op, const json& r) {
    auto out = logs_->Handle(op, r, 1'000'000);
    EXPECT_TRUE(out) << op << ": " << (out ? "" : out.error().code + " " + out.error().message);
    return out ? *out : json();
  }
  std::vector<std::string> Messages(const json& response) {
    std::vector<std::string> out;
    for (const auto& e : response["events"]) out.push_back(e["message"]);
    return out;
  }

  std::filesystem::path dir_;
  std::unique_ptr<LogService> logs_;
};

TEST_F(LogServiceTest, MissingGroupAndStreamAreResourceNotFound) {
  auto r = logs_->Handle("CreateLogStream", {{"logGroupName", "/nope"}, {"logStreamName", "s"}}, 0);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, "ResourceNotFoundException");
  EXPECT_EQ(r.error().message, "The specified log group does not exist.");
  Call("CreateLogGroup", {{"logGroupName", "/g"}});
  auto again = logs_->Handle("CreateLogGroup", {{"logGroupName", "/g"}}, 0);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, "ResourceAlreadyExistsException");
  auto missing = logs_->Handle("GetLogEvents", {{"logGroupName", "/g"}, {"logStreamName", "s"}}, 0);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().message, "The specified log stream does not exist.");
  auto unnamed = logs_->Handle("CreateLogGroup", json::object(), 0);
  ASSERT_FALSE(unnamed);
  EXPECT_EQ(unnamed.error().code, "InvalidParameterException");
}

TEST_F(LogServiceTest, NumbersBeyondTheirFieldsRangeAreSerializationErrors) {
  Call("CreateLogGroup", {{"logGroupName", "/g"}});
  Call("CreateLogStream", {{"logGroupName", "/g"}, {"logStreamName", "s"}});
  for (const json& r : {json{{"limit", 1e30}}, json{{"startTime", -1e300}}, json{{"limit", 4294967296}}}) {
    json get{{"logGroupName", "/g"}, {"logStreamName", "s"}};
    get.update(r);
    auto out = logs_->Handle("GetLogEvents", get, 0);
    ASSERT_FALSE(out) << r.dump();
    EXPECT_EQ(out.error().code, "SerializationException") << r.dump();
  }
  auto put = logs_->Handle("PutLogEvents", {{"logGroupName", "/g"}, {"logStreamName", "s"},
                                            {"logEvents", {{{"timestamp", 1e19}, {"message", "x"}}}}}, 0);
  ASSERT_FALSE(put);
  EXPECT_EQ(put.error().code, "SerializationException");
}

TEST_F(LogServiceTest, GetLogEventsPagesForwardAndBackwardAndRepeatsTheTokenAtTheEnd) {
  std::vector<LogLine> lines;
  for (int i = 1; i <= 5; ++i) lines.push_back({1000 + i, "line " + std::to_string(i)});
  ASSERT_TRUE(logs_->Ingest("/g", "web/web/abc", lines, true, 2000));

  // Without startFromHead the newest events come back, oldest first.
  json tail = Call("GetLogEvents", {{"logGroupName", "/g"}, {"logStreamName", "web/web/abc"}, {"limit", 2}});
  EXPECT_EQ(Messages(tail), (std::vector<std::string>{"line 4", "line 5"}));
  json older = Call("GetLogEvents", {{"logGroupName", "/g"}, {"logStreamName", "web/web/abc"}, {"limit", 2},
                                     {"nextToken", tail["nextBackwardToken"]}});
  EXPECT_EQ(Messages(older), (std::vector<std::string>{"line 2", "line 3"}));

  json head = Call("GetLogEvents", {{"logGroupName", "/g"}, {"logStreamName", "web/web/abc"}, {"limit", 3},
                                    {"startFromHead", true}});
  EXPECT_EQ(Messages(head), (std::vector<std::string>{"line 1", "line 2", "line 3"}));
  json rest = Call("GetLogEvents", {{"logGroupName", "/g"}, {"logStreamName", "web/web/abc"},
                                    {"nextToken", head["nextForwardToken"]}});
  EXPECT_EQ(Messages(rest), (std::vector<std::string>{"line 4", "line 5"}));
  json end = Call("GetLogEvents", {{"logGroupName", "/g"}, {"logStreamName", "web/web/abc"},
                                   {"nextToken", rest["nextForwardToken"]}});
  EXPECT_TRUE(end["events"].empty());
  EXPECT_EQ(end["nextForwardToken"], rest["nextForwardToken"]);

  ASSERT_TRUE(logs_->Ingest("/g", "web/web/abc", {{1010, "line 6"}}, true, 3000));
  json follow = Call("GetLogEvents", {{"logGroupName", "/g"}, {"logStreamName", "web/web/abc"},
                                      {"nextToken", end["nextForwardToken"]}});
  EXPECT_EQ(Messages(follow), (std::vector<std::string>{"line 6"}));
}

TEST_F(LogServiceTest, FilterLogEventsMatchesTermsAcrossStreamsAndPages) {
  ASSERT_TRUE(logs_->Ingest("/g", "web/web/a", {{1, "error: DATABASE_URL is not set"}, {2, "ok"}}, true, 10));
  ASSERT_TRUE(logs_->Ingest("/g", "web/web/b", {{3, "error: port busy"}, {4, "warn: slow"}}, true, 10));
  json errors = Call("FilterLogEvents", {{"logGroupName", "/g"}, {"filterPattern", "error"}});
  EXPECT_EQ(Messages(errors), (std::vector<std::string>{"error: DATABASE_URL is not set", "error: port busy"}));
  EXPECT_EQ(errors["events"][1]["logStreamName"], "web/web/b");
  json phrase = Call("FilterLogEvents", {{"logGroupName", "/g"}, {"filterPattern", "\"port busy\""}});
  EXPECT_EQ(Messages(phrase), (std::vector<std::string>{"error: port busy"}));
  json only_a = Call("FilterLogEvents", {{"logGroupName", "/g"}, {"logStreamNames", {"web/web/a"}}});
  EXPECT_EQ(only_a["events"].size(), 2u);
  json page = Call("FilterLogEvents", {{"logGroupName", "/g"}, {"limit", 3}});
  EXPECT_EQ(page["events"].size(), 3u);
  ASSERT_TRUE(page.contains("nextToken"));
  json next = Call("FilterLogEvents", {{"logGroupName", "/g"}, {"limit", 3}, {"nextToken", page["nextToken"]}});
  EXPECT_EQ(Messages(next), (std::vector<std::string>{"warn: slow"}));
  EXPECT_FALSE(next.contains("nextToken"));
}

TEST(FilterPattern, TermsPhrasesAnyAndExclude) {
  EXPECT_TRUE(*MatchesFilterPattern("", "anything"));
  EXPECT_TRUE(*MatchesFilterPattern("ERROR db", "ERROR: db down"));
  EXPECT_FALSE(*MatchesFilterPattern("ERROR db", "ERROR: cache down"));
  EXPECT_TRUE(*MatchesFilterPattern("?WARN ?ERROR", "WARN: x"));
  EXPECT_FALSE(*MatchesFilterPattern("?WARN ?ERROR", "INFO: x"));
  EXPECT_FALSE(*MatchesFilterPattern("ERROR -timeout", "ERROR timeout"));
  EXPECT_TRUE(*MatchesFilterPattern("\"db down\"", "ERROR: db down"));
  EXPECT_FALSE(MatchesFilterPattern("{ $.level = \"error\" }", "x"));
}

TEST_F(LogServiceTest, ARetentionPolicyIsShownAndHonouredAndTheDefaultCapsTheRest) {
  Call("CreateLogGroup", {{"logGroupName", "/kept"}});
  Call("CreateLogGroup", {{"logGroupName", "/short"}});
  Call("CreateLogStream", {{"logGroupName", "/kept"}, {"logStreamName", "s"}});
  Call("CreateLogStream", {{"logGroupName", "/short"}, {"logStreamName", "s"}});
  Call("PutRetentionPolicy", {{"logGroupName", "/short"}, {"retentionInDays", 1}});
  auto bad = logs_->Handle("PutRetentionPolicy", {{"logGroupName", "/short"}, {"retentionInDays", 2}}, 0);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, "InvalidParameterException");
  json groups = Call("DescribeLogGroups", json::object())["logGroups"];
  ASSERT_EQ(groups.size(), 2u);
  EXPECT_FALSE(groups[0].contains("retentionInDays"));
  EXPECT_EQ(groups[1]["retentionInDays"], 1);

  constexpr int64_t kDay = 86'400'000;
  const int64_t now = 100 * kDay;
  for (const char* g : {"/kept", "/short"}) {
    Call("PutLogEvents", {{"logGroupName", g}, {"logStreamName", "s"},
                          {"logEvents", {{{"timestamp", now - 40 * kDay}, {"message", "old"}},
                                         {{"timestamp", now - 2 * kDay}, {"message", "days"}},
                                         {{"timestamp", now - 1000}, {"message", "new"}}}}});
  }
  auto removed = logs_->Sweep(now);
  ASSERT_TRUE(removed) << removed.error().message;
  EXPECT_EQ(*removed, 3);  // "old" from the default 30 days, "old" and "days" from the 1-day policy
  auto in = [&](const char* g) {
    return Messages(Call("GetLogEvents", {{"logGroupName", g}, {"logStreamName", "s"}, {"startFromHead", true}}));
  };
  EXPECT_EQ(in("/kept"), (std::vector<std::string>{"days", "new"}));
  EXPECT_EQ(in("/short"), (std::vector<std::string>{"new"}));

  // Past the cap on stored events, the oldest go first.
  ASSERT_TRUE(logs_->Sweep(now, {30, 1}));
  EXPECT_EQ(in("/kept"), std::vector<std::string>{});
  EXPECT_EQ(in("/short"), (std::vector<std::string>{"new"}));
}

}  // namespace
}  // namespace slipway::engine
