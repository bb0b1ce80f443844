// The API front on hostile requests: whatever the bytes, it answers with an AWS-shaped error.
#include "engine/api.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include "base/strings.h"
#include "engine/elb_wire.h"
#include "engine/metrics/cloudwatch_api.h"
#include "engine/testing/inert_data_plane.h"

namespace slipway::engine {
namespace {

using nlohmann::json;

const aws::Credentials kCredentials{"AKIDAPITEST", "api-test-secret", ""};

class ApiFrontTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("slipway-api-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    store_ = std::move(*Store::Open((dir_ / "engine.db").string()));
    logs_ = std::move(*LogService::Open((dir_ / "logs.db").string()));
    secrets_ = std::move(
        *SecretStore::Open((dir_ / "secrets.db").string(), (dir_ / "secrets.key").string(), "us-east-1", clock_));
    control_ = std::make_unique<ControlPlane>(clock_, runtime_, data_plane_, *store_, *logs_,
                                              ControlPlaneOptions{dir_.string()});
    front_ = std::make_unique<ApiFront>(*control_, *logs_, *secrets_, clock_, kCredentials, "us-east-1");
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  /// Sends `request` signed for `service` with the front's own key.
  ApiHttpResponse SendSigned(ApiHttpRequest request, const std::string& service) {
    aws::SignableRequest s{request.method, "/", "", request.headers, request.body};
    s.headers.emplace_back("Host", "127.0.0.1");
    aws::Sign(s, kCredentials, {"us-east-1", service}, clock_.WallNow());
    request.headers = s.headers;
    return front_->Handle(request);
  }

  /// Sends a Query request (form-encoded `body`) signed for `service`.
  ApiHttpResponse SendQuery(const std::string& body, const std::string& service) {
    return SendSigned({"POST", "/", {{"Content-Type", "application/x-www-form-urlencoded"}}, body}, service);
  }

  std::filesystem::path dir_;
  FakeClock clock_;
  ExecRuntime runtime_{/*use_cgroups=*/false};
  InertDataPlane data_plane_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<LogService> logs_;
  std::unique_ptr<SecretStore> secrets_;
  std::unique_ptr<ControlPlane> control_;
  std::unique_ptr<ApiFront> front_;
};

TEST_F(ApiFrontTest, AnUnknownTargetThatIsNotUtf8GetsAJsonError) {
  // Before any signature check: anyone who can reach the port can send this.
  ApiHttpResponse reply = front_->Handle(
      {"POST", "/", {{"X-Amz-Target", "\xff\xfe\x92.CreateCluster"}}, "{}"});
  EXPECT_EQ(reply.status, 400);
  json body = json::parse(reply.body, nullptr, false);
  ASSERT_TRUE(body.is_object()) << reply.body;
  EXPECT_EQ(body["__type"], "UnknownOperationException");
}

TEST_F(ApiFrontTest, AnUnknownEcsOperationThatIsNotUtf8GetsAJsonError) {
  ApiHttpResponse reply = SendSigned(
      {"POST", "/", {{"X-Amz-Target", "AmazonEC2ContainerServiceV20141113.\xc3\x28"}}, "{}"}, "ecs");
  EXPECT_EQ(reply.status, 400);
  json body = json::parse(reply.body, nullptr, false);
  ASSERT_TRUE(body.is_object()) << reply.body;
  EXPECT_EQ(body["__type"], "UnknownOperationException");
}

TEST_F(ApiFrontTest, AQueryParameterThatIsNotUtf8IsRefusedAndTheEngineKeepsSaving) {
  const std::string form = "application/x-www-form-urlencoded; charset=utf-8";
  ApiHttpResponse refused = SendSigned(
      {"POST", "/", {{"Content-Type", form}},
       "Action=CreateLoadBalancer&Version=2015-12-01&Name=%FF%FE"},
      "elasticloadbalancing");
  EXPECT_EQ(refused.status, 400) << refused.body;
  EXPECT_NE(refused.body.find("<Code>ValidationError</Code>"), std::string::npos) << refused.body;
  // Nothing unsavable reached the state: later changes are still committed.
  ApiHttpResponse created = SendSigned(
      {"POST", "/", {{"Content-Type", form}},
       "Action=CreateLoadBalancer&Version=2015-12-01&Name=demo"},
      "elasticloadbalancing");
  EXPECT_EQ(created.status, 200) << created.body;
}

TEST_F(ApiFrontTest, CloudWatchAnswersJson10AndQueryInItsOwnNamespaceAndScope) {
  auto dashboards = DashboardStore::Open((dir_ / "cloudwatch.db").string());
  ASSERT_TRUE(dashboards) << dashboards.error().message;
  MetricStore metrics;
  CloudWatchService cloudwatch(**dashboards, metrics);
  front_ = std::make_unique<ApiFront>(*control_, *logs_, *secrets_, clock_, kCredentials, "us-east-1", nullptr,
                                      &cloudwatch);
  const ApiHttpRequest put{"POST", "/",
                           {{"X-Amz-Target", "GraniteServiceVersion20100801.PutDashboard"},
                            {"Content-Type", "application/x-amz-json-1.0"}},
                           R"({"DashboardName":"d","DashboardBody":"{\"widgets\":[]}"})"};
  // Given a request signed for another service's scope, it is refused as AWS refuses it.
  ApiHttpResponse wrong_scope = SendSigned(put, "ecs");
  EXPECT_EQ(wrong_scope.status, 403) << wrong_scope.body;
  ApiHttpResponse ok = SendSigned(put, "monitoring");
  EXPECT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(ok.content_type, "application/x-amz-json-1.0");
  ApiHttpResponse got = SendSigned({"POST", "/", {{"Content-Type", "application/x-www-form-urlencoded"}},
                                    "Action=GetDashboard&Version=2010-08-01&DashboardName=d"},
                                   "monitoring");
  EXPECT_EQ(got.status, 200) << got.body;
  EXPECT_NE(got.body.find("<GetDashboardResponse xmlns=\"http://monitoring.amazonaws.com/doc/2010-08-01/\">"
                          "<GetDashboardResult>"),
            std::string::npos)
      << got.body;
  EXPECT_NE(got.body.find("<DashboardBody>{&quot;widgets&quot;:[]}</DashboardBody>"), std::string::npos) << got.body;
  ApiHttpResponse missing = SendSigned({"POST", "/", {{"Content-Type", "application/x-www-form-urlencoded"}},
                                        "Action=GetDashboard&Version=2010-08-01&DashboardName=none"},
                                       "monitoring");
  EXPECT_EQ(missing.status, 404);
  EXPECT_NE(missing.body.find("<Code>ResourceNotFound</Code>"), std::string::npos) << missing.body;
  front_.reset();  // before the CloudWatch service it points to
}

TEST_F(ApiFrontTest, AWrongTypePastTheTenthViolationGetsAnAwsShapedRefusal) {
  auto dashboards = DashboardStore::Open((dir_ / "cloudwatch.db").string());
  ASSERT_TRUE(dashboards) << dashboards.error().message;
  MetricStore metrics;
  CloudWatchService cloudwatch(**dashboards, metrics);
  front_ = std::make_unique<ApiFront>(*control_, *logs_, *secrets_, clock_, kCredentials, "us-east-1", nullptr,
                                      &cloudwatch);
  // Ten violations fill the checker's list; the eleventh query's Period is a string.
  json queries = json::array();
  for (int i = 0; i < 10; ++i) queries.push_back({{"Id", ""}});
  queries.push_back({{"Id", "q"},
                     {"MetricStat",
                      {{"Metric", {{"Namespace", "n"}, {"MetricName", "m"}}}, {"Period", "x"}, {"Stat", "Sum"}}}});
  const json metric_data{{"StartTime", 1}, {"EndTime", 2}, {"MetricDataQueries", queries}};
  ApiHttpResponse cw = SendSigned({"POST", "/",
                                   {{"X-Amz-Target", "GraniteServiceVersion20100801.GetMetricData"},
                                    {"Content-Type", "application/x-amz-json-1.0"}},
                                   metric_data.dump()},
                                  "monitoring");
  EXPECT_EQ(cw.status, 400) << cw.body;
  EXPECT_EQ(json::parse(cw.body, nullptr, false).value("__type", ""), "ValidationError") << cw.body;
  // Ten bad placement constraints, and a serviceName that is a number.
  json constraints = json::array();
  for (int i = 0; i < 10; ++i) constraints.push_back({{"type", "bad"}});
  const json create{{"serviceName", 123}, {"taskDefinition", "x"}, {"placementConstraints", constraints}};
  ApiHttpResponse ecs = SendSigned({"POST", "/",
                                    {{"X-Amz-Target", "AmazonEC2ContainerServiceV20141113.CreateService"},
                                     {"Content-Type", "application/x-amz-json-1.1"}},
                                    create.dump()},
                                   "ecs");
  EXPECT_EQ(ecs.status, 400) << ecs.body;
  EXPECT_EQ(json::parse(ecs.body, nullptr, false).value("__type", ""), "InvalidParameterException") << ecs.body;
  front_.reset();  // before the CloudWatch service it points to
}

/// Whether `body` holds only characters an XML 1.0 parser accepts: UTF-8, and no control
/// characters but tab, newline and CR.
bool IsXmlText(const std::string& body) {
  return IsUtf8(body) && std::none_of(body.begin(), body.end(), [](char c) {
           return static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n' && c != '\r';
         });
}

TEST_F(ApiFrontTest, QueryRepliesStayParseableWhateverTheRequestQuotes) {
  auto dashboards = DashboardStore::Open((dir_ / "cloudwatch.db").string());
  ASSERT_TRUE(dashboards) << dashboards.error().message;
  MetricStore metrics;
  CloudWatchService cloudwatch(**dashboards, metrics);
  front_ = std::make_unique<ApiFront>(*control_, *logs_, *secrets_, clock_, kCredentials, "us-east-1", nullptr,
                                      &cloudwatch);
  // A label is echoed in a 200; names and actions in errors.
  ApiHttpResponse labelled = SendQuery(
      "Action=GetMetricData&Version=2010-08-01&StartTime=2023-11-14T22:13:00Z&EndTime=2023-11-14T23:13:00Z"
      "&MetricDataQueries.member.1.Id=m&MetricDataQueries.member.1.Label=x%01y"
      "&MetricDataQueries.member.1.MetricStat.Metric.Namespace=n"
      "&MetricDataQueries.member.1.MetricStat.Metric.MetricName=m"
      "&MetricDataQueries.member.1.MetricStat.Period=60&MetricDataQueries.member.1.MetricStat.Stat=Sum",
      "monitoring");
  EXPECT_EQ(labelled.status, 200) << labelled.body;
  EXPECT_NE(labelled.body.find("<Label>x\xef\xbf\xbdy</Label>"), std::string::npos) << labelled.body;
  for (const char* form : {"Action=GetDashboard&Version=2010-08-01&DashboardName=a%02b",
                                  "Action=Get%01Dashboard&Version=2010-08-01",
                                  "Action=GetDashboard&Version=2010-08-01&DashboardName=%FF%01"}) {
    ApiHttpResponse refused = SendQuery(form, "monitoring");
    EXPECT_EQ(refused.status, 400) << form;
    EXPECT_TRUE(IsXmlText(refused.body)) << form << ": " << refused.body;
  }
  // An ELBv2 error quotes at most 256 bytes of a value, and never half a character.
  ApiHttpResponse created = SendQuery("Action=CreateLoadBalancer&Version=2015-12-01&Name=demo", "elasticloadbalancing");
  ASSERT_EQ(created.status, 200) << created.body;
  const size_t arn_at = created.body.find("<LoadBalancerArn>") + std::string("<LoadBalancerArn>").size();
  const std::string lb_arn = created.body.substr(arn_at, created.body.find("</LoadBalancerArn>") - arn_at);
  std::string target_group = "a";
  for (int i = 0; i < 200; ++i) target_group += "%C3%A9";  // é
  ApiHttpResponse listener = SendQuery("Action=CreateListener&Version=2015-12-01&Port=8080&LoadBalancerArn=" +
                                           UriEncode(lb_arn) + "&DefaultActions.member.1.Type=forward" +
                                           "&DefaultActions.member.1.TargetGroupArn=" + target_group,
                                       "elasticloadbalancing");
  EXPECT_EQ(listener.status, 400) << listener.body;
  EXPECT_NE(listener.body.find("<Code>TargetGroupNotFound</Code>"), std::string::npos) << listener.body;
  EXPECT_TRUE(IsXmlText(listener.body)) << listener.body;
  front_.reset();  // before the CloudWatch service it points to
}

TEST(Quotable, CutsALongValueBetweenCharacters) {
  std::string value = "a";
  for (int i = 0; i < 200; ++i) value += "\xc3\xa9";  // é: byte 256 is the first half of one
  const std::string quoted = Quotable(value);
  EXPECT_EQ(quoted, value.substr(0, 255) + "...");
  EXPECT_TRUE(IsUtf8(quoted));
  EXPECT_EQ(Quotable("a\x01" "b"), "a?b");
}

}  // namespace
}  // namespace slipway::engine
