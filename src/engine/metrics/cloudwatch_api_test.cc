#include "engine/metrics/cloudwatch_api.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "engine/sqlite_util.h"
#include "engine/validate.h"

namespace slipway::engine {
namespace {

using nlohmann::json;

constexpr const char* kPrefix = "GraniteServiceVersion20100801";
constexpr int64_t kT0 = 1'699'999'980;  // 2023-11-14T22:13:00Z, a multiple of 60
const std::string kBody = R"({"widgets":[{"type":"text","x":0,"y":0,"width":6,"height":3,"properties":{"markdown":"hi"}}]})";

class CloudWatchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("slipway-cw-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    Open();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  void Open(DashboardLimits limits = {}) {
    service_.reset();
    dashboards_.reset();
    auto opened = DashboardStore::Open((dir_ / "cloudwatch.db").string());
    ASSERT_TRUE(opened) << opened.error().message;
    dashboards_ = std::move(*opened);
    service_ = std::make_unique<CloudWatchService>(*dashboards_, metrics_, limits);
  }

  /// The request as the JSON front would hand it over: validated first.
  ApiResult Call(const std::string& op, const json& request) {
    auto parsed = ParseJsonRequest(kPrefix, op, request.dump());
    if (!parsed) return tl::unexpected(parsed.error());
    return service_->Handle(op, *parsed, kT0 * 1000);
  }
  json Ok(const std::string& op, const json& request) {
    auto r = Call(op, request);
    EXPECT_TRUE(r) << op << ": " << (r ? "" : r.error().code + " " + r.error().message);
    return r ? *r : json();
  }
  std::string ErrorCode(const std::string& op, const json& request) {
    auto r = Call(op, request);
    return r ? "(no error)" : r.error().code;
  }
  std::vector<std::string> Names(const json& listed) {
    std::vector<std::string> out;
    for (const auto& e : listed["DashboardEntries"]) out.push_back(e["DashboardName"]);
    return out;
  }

  std::filesystem::path dir_;
  MetricStore metrics_;
  std::unique_ptr<DashboardStore> dashboards_;
  std::unique_ptr<CloudWatchService> service_;
};

TEST_F(CloudWatchTest, ADashboardIsPutReadListedAndSurvivesReopening) {
  Ok("PutDashboard", {{"DashboardName", "demo-dev"}, {"DashboardBody", kBody}});
  Open();  // a restarted engine reads the same database
  json got = Ok("GetDashboard", {{"DashboardName", "demo-dev"}});
  EXPECT_EQ(got["DashboardBody"], kBody);
  EXPECT_EQ(got["DashboardArn"], "arn:aws:cloudwatch::000000000000:dashboard/demo-dev");
  json listed = Ok("ListDashboards", json::object());
  ASSERT_EQ(listed["DashboardEntries"].size(), 1u);
  EXPECT_EQ(listed["DashboardEntries"][0]["Size"], kBody.size());
  EXPECT_EQ(listed["DashboardEntries"][0]["LastModified"], kT0);
}

TEST_F(CloudWatchTest, ADatabaseFromBeforeTheSizeColumnListsEachBodysSize) {
  service_.reset();
  dashboards_.reset();
  std::filesystem::remove(dir_ / "cloudwatch.db");
  {
    // Given a cloudwatch.db as engines wrote it before they kept sizes.
    auto old = OpenDatabase((dir_ / "cloudwatch.db").string(),
                            "CREATE TABLE dashboards (name TEXT PRIMARY KEY, body TEXT NOT NULL,"
                            "  modified INTEGER NOT NULL) WITHOUT ROWID;");
    ASSERT_TRUE(old) << old.error().message;
    auto insert = Prepare(old->get(), "INSERT INTO dashboards VALUES('old', ?1, 5000)");
    ASSERT_TRUE(insert);
    Bind(insert->get(), 1, kBody + "\u00e9");  // sizes count bytes, not characters
    ASSERT_EQ(sqlite3_step(insert->get()), SQLITE_DONE);
  }
  Open();
  json listed = Ok("ListDashboards", json::object());
  ASSERT_EQ(listed["DashboardEntries"].size(), 1u);
  EXPECT_EQ(listed["DashboardEntries"][0]["Size"], kBody.size() + 2);
  Ok("PutDashboard", {{"DashboardName", "new"}, {"DashboardBody", kBody}});
  Open();  // upgraded once: opening again changes nothing
  EXPECT_EQ(Names(Ok("ListDashboards", json::object())), (std::vector<std::string>{"new", "old"}));
}

TEST_F(CloudWatchTest, DashboardBodiesAreBoundedInAll) {
  Open({.dashboards = 10, .bytes = static_cast<int64_t>(3 * kBody.size())});
  for (const char* name : {"a", "b", "c"}) Ok("PutDashboard", {{"DashboardName", name}, {"DashboardBody", kBody}});
  auto refused = Call("PutDashboard", {{"DashboardName", "d"}, {"DashboardBody", kBody}});
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, "LimitExceeded");
  EXPECT_EQ(refused.error().status, 400);
  EXPECT_EQ(ErrorCode("GetDashboard", {{"DashboardName", "d"}}), "ResourceNotFound");  // not kept
  // Replacing a body counts only the difference; deleting frees room.
  Ok("PutDashboard", {{"DashboardName", "c"}, {"DashboardBody", kBody}});
  EXPECT_EQ(ErrorCode("PutDashboard", {{"DashboardName", "c"}, {"DashboardBody", kBody + " "}}), "LimitExceeded");
  Ok("DeleteDashboards", {{"DashboardNames", {"a"}}});
  Ok("PutDashboard", {{"DashboardName", "d"}, {"DashboardBody", kBody}});
}

TEST_F(CloudWatchTest, ListDashboardsFiltersByPrefixTakenLiterally) {
  for (const char* name : {"demo-dev", "demo-prod", "demoXdev", "other"}) {
    Ok("PutDashboard", {{"DashboardName", name}, {"DashboardBody", kBody}});
  }
  EXPECT_EQ(Names(Ok("ListDashboards", {{"DashboardNamePrefix", "demo-"}})),
            (std::vector<std::string>{"demo-dev", "demo-prod"}));
  EXPECT_EQ(Names(Ok("ListDashboards", {{"DashboardNamePrefix", "demo_"}})).size(), 0u);
}

TEST_F(CloudWatchTest, DeleteDashboardsDeletesAllOrNone) {
  Ok("PutDashboard", {{"DashboardName", "a"}, {"DashboardBody", kBody}});
  Ok("PutDashboard", {{"DashboardName", "b"}, {"DashboardBody", kBody}});
  auto r = Call("DeleteDashboards", {{"DashboardNames", {"a", "missing"}}});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, "ResourceNotFound");
  EXPECT_EQ(r.error().status, 404);
  EXPECT_NE(r.error().message.find("missing"), std::string::npos);
  EXPECT_EQ(Names(Ok("ListDashboards", json::object())), (std::vector<std::string>{"a", "b"}));
  Ok("DeleteDashboards", {{"DashboardNames", {"a", "b", "a"}}});
  EXPECT_TRUE(Names(Ok("ListDashboards", json::object())).empty());
  EXPECT_EQ(ErrorCode("GetDashboard", {{"DashboardName", "a"}}), "ResourceNotFound");
}

TEST_F(CloudWatchTest, ABadDashboardBodyIsInvalidParameterInputWithValidationMessages) {
  struct Case {
    std::string body, data_path, message;
  };
  const Case cases[] = {
      {"not json", "", "Should be a valid JSON document"},
      {"[]", "", "Should be object"},
      {"{}", "", "Should have required property 'widgets'"},
      {R"({"widgets":{}})", "/widgets", "Should be array"},
      {R"({"widgets":[{}]})", "/widgets/0", "Should have required property 'type'"},
      {R"({"widgets":[{"type":"chart"}]})", "/widgets/0/type", "Should be equal to one of the allowed values"},
      {R"({"widgets":[{"type":"metric","width":25}]})", "/widgets/0/width", "Should be <= 24"},
      // 2**63 and 2**64-1 are too large, not negative.
      {R"({"widgets":[{"type":"text","height":9223372036854775808}]})", "/widgets/0/height", "Should be <= 1000"},
      {R"({"widgets":[{"type":"text","x":18446744073709551615}]})", "/widgets/0/x", "Should be <= 23"},
      {std::string(100, '[') + std::string(100, ']'), "", ""},
  };
  for (const auto& c : cases) {
    auto r = Call("PutDashboard", {{"DashboardName", "bad"}, {"DashboardBody", c.body}});
    ASSERT_FALSE(r) << c.body;
    EXPECT_EQ(r.error().code, "InvalidParameterInput") << c.body;
    const json& messages = r.error().members["dashboardValidationMessages"];
    ASSERT_EQ(messages.size(), 1u) << c.body;
    EXPECT_EQ(messages[0]["DataPath"], c.data_path) << c.body;
    if (!c.message.empty()) {
      EXPECT_EQ(messages[0]["Message"], c.message) << c.body;
    }
  }
  EXPECT_EQ(ErrorCode("GetDashboard", {{"DashboardName", "bad"}}), "ResourceNotFound");  // none kept
}

TEST_F(CloudWatchTest, InputsAreBoundedAndCheckedBeforeAnyHandlerRuns) {
  EXPECT_EQ(ErrorCode("PutDashboard", {{"DashboardName", "has space"}, {"DashboardBody", kBody}}), "ValidationError");
  EXPECT_EQ(ErrorCode("PutDashboard", {{"DashboardName", std::string(256, 'a')}, {"DashboardBody", kBody}}),
            "ValidationError");
  EXPECT_EQ(ErrorCode("PutDashboard", {{"DashboardName", ""}, {"DashboardBody", kBody}}), "ValidationError");
  EXPECT_EQ(ErrorCode("PutDashboard", {{"DashboardName", "big"},
                                       {"DashboardBody", R"({"widgets":[],"x":")" + std::string(1 << 20, 'x') + "\"}"}}),
            "ValidationError");
  EXPECT_EQ(ErrorCode("PutDashboard", {{"DashboardName", "x"}}), "ValidationError");
  std::vector<std::string> many(101, "a");
  EXPECT_EQ(ErrorCode("DeleteDashboards", {{"DashboardNames", many}}), "ValidationError");
  EXPECT_EQ(ErrorCode("ListDashboards", {{"NextToken", "../x"}}), "InvalidParameterValue");
  auto r = Call("PutDashboard", {{"DashboardName", "a b"}, {"DashboardBody", kBody}});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message,
            "1 validation error detected: Value 'a b' at 'dashboardName' failed to satisfy constraint: Member "
            "must satisfy regular expression pattern: [a-zA-Z0-9_-]{1,255}");
}

json Query(const std::string& id, const std::string& stat, int period, const std::string& name = "RequestCount") {
  return {{"Id", id},
          {"MetricStat",
           {{"Metric",
             {{"Namespace", "AWS/ApplicationELB"},
              {"MetricName", name},
              {"Dimensions", {{{"Name", "LoadBalancer"}, {"Value", "app/demo/1"}}}}}},
            {"Period", period},
            {"Stat", stat}}}};
}

TEST_F(CloudWatchTest, GetMetricDataReturnsEachQuerysDatapointsNewestFirstByDefault) {
  const MetricKey key{"AWS/ApplicationELB", "RequestCount", {{"LoadBalancer", "app/demo/1"}}};
  Statistics five, seven;
  five.Add(5);
  seven.Add(7);
  metrics_.Add(key, kT0, five);
  metrics_.Add(key, kT0 + 60, seven);
  json r = Ok("GetMetricData", {{"MetricDataQueries", {Query("total", "Sum", 60), Query("peak", "Maximum", 120)}},
                                {"StartTime", kT0},
                                {"EndTime", kT0 + 120}});
  ASSERT_EQ(r["MetricDataResults"].size(), 2u);
  const json& total = r["MetricDataResults"][0];
  EXPECT_EQ(total["Id"], "total");
  EXPECT_EQ(total["Label"], "RequestCount");
  EXPECT_EQ(total["StatusCode"], "Complete");
  EXPECT_EQ(total["Timestamps"], json({kT0 + 60, kT0}));
  EXPECT_EQ(total["Values"], json({7.0, 5.0}));
  EXPECT_EQ(r["MetricDataResults"][1]["Values"], json({7.0}));
  r = Ok("GetMetricData", {{"MetricDataQueries", {Query("total", "Sum", 60)}},
                           {"StartTime", kT0},
                           {"EndTime", kT0 + 120},
                           {"ScanBy", "TimestampAscending"},
                           {"MaxDatapoints", 1}});
  EXPECT_EQ(r["MetricDataResults"][0]["Values"], json({5.0}));
  EXPECT_EQ(r["MetricDataResults"][0]["StatusCode"], "PartialData");
}

TEST_F(CloudWatchTest, GetMetricDataRefusesWhatItCannotAnswer) {
  auto call = [&](json queries, int64_t start = kT0, int64_t end = kT0 + 60) {
    return ErrorCode("GetMetricData", {{"MetricDataQueries", queries}, {"StartTime", start}, {"EndTime", end}});
  };
  EXPECT_EQ(call({Query("a", "Sum", 60)}, kT0, kT0), "InvalidParameterValue");  // empty range
  EXPECT_EQ(ErrorCode("GetMetricData", {{"MetricDataQueries", {Query("a", "Sum", 60)}},
                                        {"StartTime", 0},
                                        {"EndTime", 1e300}}),
            "InvalidParameterValue");
  EXPECT_EQ(call({Query("a", "Sum", 60), Query("a", "Sum", 60)}), "InvalidParameterValue");  // Ids repeat
  EXPECT_EQ(call({Query("A", "Sum", 60)}), "ValidationError");     // Id must start lowercase
  EXPECT_EQ(call({Query("a", "Sum", 45)}), "ValidationError");     // period
  EXPECT_EQ(call({Query("a", "tm99", 60)}), "ValidationError");    // statistic
  EXPECT_EQ(call({{{"Id", "m"}, {"Expression", "SUM(METRICS())"}}}), "InvalidParameterValue");
  EXPECT_EQ(call({{{"Id", "m"}}}), "InvalidParameterValue");
  EXPECT_EQ(call(json::array({Query("a", "Sum", 60)}), kT0, kT0 + 60), "(no error)");
}

TEST_F(CloudWatchTest, GetMetricDataTakesARangeWithinOneSecond) {
  const MetricKey key{"AWS/ApplicationELB", "RequestCount", {{"LoadBalancer", "app/demo/1"}}};
  Statistics five;
  five.Add(5);
  metrics_.Add(key, kT0, five);
  auto range = [&](double start, double end) {
    return Call("GetMetricData", {{"MetricDataQueries", {Query("a", "Sum", 60)}}, {"StartTime", start}, {"EndTime", end}});
  };
  auto within = range(kT0 + 0.2, kT0 + 0.7);
  ASSERT_TRUE(within) << within.error().message;
  EXPECT_EQ((*within)["MetricDataResults"][0]["Values"], json({5.0}));
  // The end is exclusive, and compared as sent.
  EXPECT_FALSE(range(kT0 + 0.7, kT0 + 0.7));
  EXPECT_FALSE(range(kT0 + 0.7, kT0 + 0.2));
}

TEST_F(CloudWatchTest, AHandlerReadingAMemberOfAnotherTypeAnswersAnErrorInsteadOfThrowing) {
  // Given a request that skipped validation: the handler's reads are not the last line of defence.
  const json unchecked{{"StartTime", "x"}, {"EndTime", kT0}, {"MetricDataQueries", json::array()}};
  ApiResult r;
  ASSERT_NO_THROW(r = service_->Handle("GetMetricData", unchecked, kT0 * 1000));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, "InternalServiceError");
  EXPECT_EQ(r.error().status, 500);
  EXPECT_EQ(r.error().message.find("json.exception"), std::string::npos) << r.error().message;
}

TEST_F(CloudWatchTest, ListMetricsFindsRecordedSeries) {
  Statistics one;
  one.Add(1);
  metrics_.Add({"AWS/ApplicationELB", "RequestCount", {{"LoadBalancer", "app/demo/1"}}}, kT0, one);
  metrics_.Add({"ECS/ContainerInsights", "RunningTaskCount", {{"ClusterName", "c"}, {"ServiceName", "web"}}}, kT0,
               one);
  json r = Ok("ListMetrics", {{"Namespace", "ECS/ContainerInsights"}, {"Dimensions", {{{"Name", "ServiceName"}}}}});
  ASSERT_EQ(r["Metrics"].size(), 1u);
  EXPECT_EQ(r["Metrics"][0]["MetricName"], "RunningTaskCount");
  EXPECT_EQ(r["Metrics"][0]["Dimensions"][1], json({{"Name", "ServiceName"}, {"Value", "web"}}));
  EXPECT_FALSE(r.contains("NextToken"));
  EXPECT_EQ(ErrorCode("ListMetrics", {{"NextToken", "x"}}), "InvalidParameterValue");
}

TEST(CloudWatchQuery, ReadsTimestampsInIso8601AndListsByMember) {
  QueryParams params{{"MetricDataQueries.member.1.Id", "m"},
                     {"MetricDataQueries.member.1.MetricStat.Metric.Namespace", "AWS/ApplicationELB"},
                     {"MetricDataQueries.member.1.MetricStat.Metric.MetricName", "RequestCount"},
                     {"MetricDataQueries.member.1.MetricStat.Period", "60"},
                     {"MetricDataQueries.member.1.MetricStat.Stat", "Sum"},
                     {"StartTime", "2023-11-14T22:13:00Z"},
                     {"EndTime", "2023-11-14T23:13:00.500+01:00"}};
  auto r = ParseQueryRequest("cloudwatch", "GetMetricData", params);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ((*r)["StartTime"], kT0);
  EXPECT_EQ((*r)["EndTime"], kT0 + 0.5);
  params["StartTime"] = "yesterday";
  r = ParseQueryRequest("cloudwatch", "GetMetricData", params);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, "ValidationError");
}

TEST(CloudWatchXml, WritesMembersListsAndIsoTimestamps) {
  json result{{"DashboardEntries", {{{"DashboardName", "a<b"}, {"LastModified", 1.5}, {"Size", 3}}}},
              {"Timestamps", {kT0}}};
  EXPECT_EQ(CloudWatchXml(result),
            "<DashboardEntries><member><DashboardName>a&lt;b</DashboardName><LastModified>1970-01-01T00:00:01.500Z"
            "</LastModified><Size>3</Size></member></DashboardEntries><Timestamps><member>2023-11-14T22:13:00.000Z"
            "</member></Timestamps>");
}

}  // namespace
}  // namespace slipway::engine
