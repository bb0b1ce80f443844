// AwsClient against a scripted transport: framing, signing, error decoding and retries.
#include "aws/aws_client.h"

#include <gtest/gtest.h>

#include <deque>
#include <nlohmann/json.hpp>

namespace slipway::aws {
namespace {

class ScriptedTransport final : public HttpTransport {
 public:
  std::deque<Result<HttpResponse>> replies;
  std::vector<HttpRequest> sent;
  Result<HttpResponse> Send(const HttpRequest& r) override {
    sent.push_back(r);
    auto next = replies.front();
    replies.pop_front();
    return next;
  }
};

std::string HeaderOf(const HttpRequest& r, const std::string& name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) return v;
  }
  return "";
}

TEST(AwsClient, JsonCallSetsTargetSignsAndParsesReply) {
  ScriptedTransport t;
  FakeClock clock;
  t.replies.push_back(HttpResponse{200, R"({"clusters":[]})"});
  AwsClient client(t, clock, {"AKID", "SECRET", ""}, {"us-east-1", "http://127.0.0.1:4580"});
  auto r = client.Json(kEcs, "DescribeClusters", {{"clusters", {"demo"}}});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE((*r)["clusters"].is_array());
  ASSERT_EQ(t.sent.size(), 1u);
  EXPECT_EQ(HeaderOf(t.sent[0], "X-Amz-Target"), "AmazonEC2ContainerServiceV20141113.DescribeClusters");
  EXPECT_NE(HeaderOf(t.sent[0], "Authorization").find("Credential=AKID/"), std::string::npos);
  EXPECT_EQ(HeaderOf(t.sent[0], "Host"), "127.0.0.1:4580");
}

TEST(AwsClient, JsonErrorNamesServiceOperationAndCode) {
  ScriptedTransport t;
  FakeClock clock;
  t.replies.push_back(HttpResponse{400, R"({"__type":"ClientException","message":"bad"})"});
  AwsClient client(t, clock, {"AKID", "SECRET", ""}, {"us-east-1", "http://x"});
  auto r = client.Json(kEcs, "UpdateService", nlohmann::json::object());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "ecs UpdateService: ClientException: bad");
  EXPECT_EQ(r.error().code, "ClientException");
}

TEST(AwsClient, RetriesThrottlingAndServerErrorsThenSucceeds) {
  ScriptedTransport t;
  FakeClock clock;
  t.replies.push_back(Fail("connection refused"));
  t.replies.push_back(HttpResponse{400, R"({"__type":"ThrottlingException","message":"slow"})"});
  t.replies.push_back(HttpResponse{200, "{}"});
  AwsClient client(t, clock, {"AKID", "SECRET", ""}, {"us-east-1", "http://x"});
  SteadyTime before = clock.Now();
  ASSERT_TRUE(client.Json(kEcs, "ListServices", nlohmann::json::object()));
  EXPECT_EQ(t.sent.size(), 3u);
  EXPECT_EQ(clock.Now() - before, Millis(600));  // 200 ms then 400 ms of backoff
}

TEST(AwsClient, QueryCallEncodesFormAndReturnsResultElement) {
  ScriptedTransport t;
  FakeClock clock;
  t.replies.push_back(HttpResponse{200, "<DescribeLoadBalancersResponse><DescribeLoadBalancersResult>"
                                        "<LoadBalancers/></DescribeLoadBalancersResult>"
                                        "</DescribeLoadBalancersResponse>"});
  AwsClient client(t, clock, {"AKID", "SECRET", ""}, {"us-east-1", "http://x"});
  auto r = client.Query(kElbv2, "DescribeLoadBalancers", {{"Names.member.1", "demo dev"}});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->name, "DescribeLoadBalancersResult");
  EXPECT_EQ(t.sent[0].body, "Action=DescribeLoadBalancers&Version=2015-12-01&Names.member.1=demo%20dev");
}

TEST(AwsClient, QueryErrorIsDecodedFromErrorResponse) {
  ScriptedTransport t;
  FakeClock clock;
  t.replies.push_back(HttpResponse{400, "<ErrorResponse><Error><Type>Sender</Type><Code>LoadBalancerNotFound"
                                        "</Code><Message>One or more load balancers not found</Message>"
                                        "</Error></ErrorResponse>"});
  AwsClient client(t, clock, {"AKID", "SECRET", ""}, {"us-east-1", "http://x"});
  auto r = client.Query(kElbv2, "DescribeLoadBalancers", {});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, "LoadBalancerNotFound");
}

}  // namespace
}  // namespace slipway::aws
