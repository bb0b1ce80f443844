// AwsClient against a scripted transport: framing, signing, error decoding and retries.
#include "aws/aws_client.h"

#include <gtest/gtest.h>

#include <deque>
#include <nlohmann/json.hpp>

#include "aws/json_reply.h"

namespace slipway::aws {
namespace {

// Answers with `replies` in order, then with `otherwise` for ever.
class ScriptedTransport final : public HttpTransport {
 public:
  std::deque<Result<HttpResponse>> replies;
  Result<HttpResponse> otherwise = Fail("script ran out");
  std::vector<HttpRequest> sent;
  Result<HttpResponse> Send(const HttpRequest& r) override {
    sent.push_back(r);
    if (replies.empty()) return otherwise;
    auto next = replies.front();
    replies.pop_front();
    return next;
  }
};

tl::unexpected<Error> Refused() { return Fail("Couldn't connect to server", kTransportNotSent); }
tl::unexpected<Error> NoReply() { return Fail("Timeout was reached", kTransportMaybeSent); }

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

TEST(AwsClient, AnErrorReplyWithFieldsOfTheWrongTypeIsStillAnError) {
  ScriptedTransport t;
  FakeClock clock;
  const std::string odd = R"({"__type":7,"message":{"text":"bad"}})";
  t.replies.push_back(HttpResponse{400, odd});
  t.replies.push_back(HttpResponse{400, R"({"__type":"ClientException","Message":null})"});
  AwsClient client(t, clock, {"AKID", "SECRET", ""}, {"us-east-1", "http://x"});
  auto r = client.Json(kEcs, "UpdateService", nlohmann::json::object());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, "UnknownError");
  EXPECT_EQ(r.error().message, "ecs UpdateService: UnknownError: " + odd);
  auto null_message = client.Json(kEcs, "UpdateService", nlohmann::json::object());
  ASSERT_FALSE(null_message);
  EXPECT_EQ(null_message.error().code, "ClientException");
}

// `levels` arrays, one inside the other, holding 1.
std::string Nested(int levels) { return std::string(levels, '[') + "1" + std::string(levels, ']'); }

TEST(AwsClient, AReplyNestedPastTheBoundIsRefusedBeforeItIsParsed) {
  ScriptedTransport t;
  FakeClock clock;
  const std::string deep = R"({"services":[{"deep":)" + Nested(300'000) + "}]}";
  t.replies.push_back(HttpResponse{200, deep});
  t.replies.push_back(HttpResponse{200, R"({"a":)" + Nested(kMaxReplyDepth - 1) + "}"});
  t.replies.push_back(HttpResponse{200, R"({"a":)" + Nested(kMaxReplyDepth) + "}"});
  t.replies.push_back(HttpResponse{400, deep});
  AwsClient client(t, clock, {"AKID", "SECRET", ""}, {"us-east-1", "http://x"});
  auto r = client.Json(kEcs, "DescribeServices", nlohmann::json::object());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "ecs DescribeServices: unexpected reply: nested deeper than " +
                                   std::to_string(kMaxReplyDepth) + " levels");
  EXPECT_TRUE(client.Json(kEcs, "DescribeServices", nlohmann::json::object()));
  EXPECT_FALSE(client.Json(kEcs, "DescribeServices", nlohmann::json::object()));
  // An error reply that deep is reported without being read.
  auto refused = client.Json(kEcs, "DescribeServices", nlohmann::json::object());
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, "UnknownError");
}

// Jitter draws that are always one half: backoffs of 0.5 s, 1 s, 2 s, ...
RetryPolicy Attempts(int n) { return RetryPolicy{n, [] { return 0.5; }}; }

TEST(AwsClient, RetriesThrottlingAndServerErrorsThenSucceeds) {
  ScriptedTransport t;
  FakeClock clock;
  t.replies.push_back(HttpResponse{500, R"({"__type":"ServerException","message":"oops"})"});
  t.replies.push_back(HttpResponse{400, R"({"__type":"ThrottlingException","message":"slow"})"});
  t.replies.push_back(HttpResponse{200, "{}"});
  AwsClient client(t, clock, {"AKID", "SECRET", ""}, {"us-east-1", "http://x"}, {}, Attempts(3));
  SteadyTime before = clock.Now();
  ASSERT_TRUE(client.Json(kEcs, "ListServices", nlohmann::json::object()));
  EXPECT_EQ(t.sent.size(), 3u);
  EXPECT_EQ(clock.Now() - before, Millis(1'500));  // half of 1 s, then half of 2 s
  // The success gave back what the last retry took.
  EXPECT_EQ(client.retry_quota_available(), kRetryQuotaCapacity - kRetryCost);
}

TEST(AwsClient, StopsAfterMaxAttemptsAndReturnsTheLastReply) {
  ScriptedTransport t;
  t.otherwise = HttpResponse{400, R"({"__type":"ThrottlingException","message":"Rate exceeded"})"};
  FakeClock clock;
  AwsClient client(t, clock, {"AKID", "SECRET", ""}, {"us-east-1", "http://x"}, {}, Attempts(6));
  auto r = client.Json(kEcs, "UpdateService", nlohmann::json::object());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "ecs UpdateService: ThrottlingException: Rate exceeded");
  EXPECT_EQ(t.sent.size(), 6u);
  EXPECT_EQ(client.retry_quota_available(), kRetryQuotaCapacity - 5 * kRetryCost);
}

TEST(AwsClient, AnEmptyRetryQuotaEndsRetriesForEveryCall) {
  ScriptedTransport t;
  t.otherwise = HttpResponse{503, R"({"__type":"ServiceUnavailable","message":"down"})"};
  FakeClock clock;
  AwsClient client(t, clock, {"AKID", "SECRET", ""}, {"us-east-1", "http://x"}, {}, Attempts(3));
  // 2 retries of 5 each per call: 50 calls spend the 500.
  for (int i = 0; i < 50; ++i) ASSERT_FALSE(client.Json(kEcs, "ListServices", nlohmann::json::object()));
  EXPECT_EQ(t.sent.size(), 150u);
  EXPECT_EQ(client.retry_quota_available(), 0);
  ASSERT_FALSE(client.Json(kEcs, "ListServices", nlohmann::json::object()));
  EXPECT_EQ(t.sent.size(), 151u);  // one attempt, no retry
  // Successes at the first attempt refill it one by one.
  t.otherwise = HttpResponse{200, "{}"};
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(client.Json(kEcs, "ListServices", nlohmann::json::object()));
  EXPECT_EQ(client.retry_quota_available(), 5);
}

TEST(AwsClient, ACreateWithAClientTokenIsSentAgainAfterABrokenConnection) {
  ScriptedTransport t;
  t.replies.push_back(NoReply());
  t.replies.push_back(HttpResponse{200, R"({"service":{"serviceName":"web"}})"});
  FakeClock clock;
  AwsClient client(t, clock, {"AKID", "SECRET", ""}, {"us-east-1", "http://x"}, {}, Attempts(3));
  auto r = client.Json(kEcs, "CreateService", {{"serviceName", "web"}, {"clientToken", "r1-web"}});
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(t.sent.size(), 2u);
  EXPECT_EQ(t.sent[0].body, t.sent[1].body);
  EXPECT_FALSE(t.sent[0].fresh_connection);
  // Without a token, the same call is sent once, on a connection of its own.
  t.replies.push_back(NoReply());
  auto once = client.Json(kEcs, "CreateService", {{"serviceName", "web"}});
  ASSERT_FALSE(once);
  EXPECT_EQ(once.error().code, kOutcomeUnknown);
  EXPECT_EQ(t.sent.size(), 3u);
  EXPECT_TRUE(t.sent[2].fresh_connection);
}

TEST(AwsClient, ACreateThatNeverGetsAReplyEndsOutcomeUnknownAfterItsAttempts) {
  ScriptedTransport t;
  t.otherwise = Fail("Empty reply from server", kTransportMaybeSent);
  FakeClock clock;
  AwsClient client(t, clock, {"AKID", "SECRET", ""}, {"us-east-1", "http://x"}, {}, Attempts(3));
  auto r = client.Query(kElbv2, "CreateTargetGroup", {{"Name", "web"}});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, kOutcomeUnknown);
  EXPECT_EQ(t.sent.size(), 3u);
  EXPECT_NE(r.error().message.find("(no reply in 3 attempts)"), std::string::npos) << r.error().message;
  // A read in the same state is unreachable, not unknown: it cannot have changed anything.
  auto read = client.Query(kElbv2, "DescribeTargetGroups", {});
  ASSERT_FALSE(read);
  EXPECT_EQ(read.error().code, kEndpointUnreachable);
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
  EXPECT_EQ(t.sent[0].body, "Action=DescribeLoadBalancers&Version=2015-12-01&Names.member.1=demo+dev");
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

TEST(AwsClient, Ec2RepliesAreReadFromTheirRootAndErrorsFromErrors) {
  ScriptedTransport t;
  FakeClock clock;
  t.replies.push_back(HttpResponse{200, "<DescribeSubnetsResponse><requestId>r</requestId><subnetSet><item>"
                                        "<subnetId>subnet-1</subnetId><vpcId>vpc-9</vpcId></item></subnetSet>"
                                        "</DescribeSubnetsResponse>"});
  t.replies.push_back(HttpResponse{400, "<Response><Errors><Error><Code>InvalidSubnetID.NotFound</Code>"
                                        "<Message>The subnet ID 'subnet-2' does not exist</Message></Error></Errors>"
                                        "<RequestID>r</RequestID></Response>"});
  AwsClient client(t, clock, {"AKID", "SECRET", ""}, {"us-east-1", "http://x"});
  auto r = client.Query(kEc2, "DescribeSubnets", {{"SubnetId.1", "subnet-1"}});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->Text("subnetSet/item/vpcId"), "vpc-9");
  EXPECT_EQ(t.sent[0].body, "Action=DescribeSubnets&Version=2016-11-15&SubnetId.1=subnet-1");
  auto missing = client.Query(kEc2, "DescribeSubnets", {{"SubnetId.1", "subnet-2"}});
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, "InvalidSubnetID.NotFound");
  EXPECT_EQ(missing.error().message, "ec2 DescribeSubnets: InvalidSubnetID.NotFound: The subnet ID 'subnet-2' does not exist");
}

TEST(AwsClient, RepeatsOnlyWhatCannotHappenTwice) {
  for (const char* op : {"DescribeServices", "ListTagsForResource", "GetLogEvents", "FilterLogEvents", "TagResource",
                         "UntagResource", "CreateCluster", "CreateLoadBalancer", "CreateTargetGroup", "CreateListener",
                         "ModifyTargetGroupAttributes", "CreateLogGroup", "StopTask"}) {
    EXPECT_TRUE(SafeToRepeat(op)) << op;
  }
  for (const char* op : {"UpdateService", "CreateService", "RegisterTaskDefinition", "RunTask", "CreateRule",
                         "DeregisterTaskDefinition", "DeleteTaskDefinitions", "BatchDeleteImage"}) {
    EXPECT_FALSE(SafeToRepeat(op)) << op;
  }
}

TEST(TransportRetry, CurlFailuresAreSortedByWhetherTheRequestLeft) {
  EXPECT_STREQ(ClassifyCurlFailure(7, false), kTransportNotSent);    // couldn't connect (refused)
  EXPECT_STREQ(ClassifyCurlFailure(6, false), kTransportNotSent);    // couldn't resolve host
  EXPECT_STREQ(ClassifyCurlFailure(28, false), kTransportNotSent);   // timed out while connecting
  EXPECT_STREQ(ClassifyCurlFailure(28, true), kTransportTimedOut);   // timed out waiting for the reply
  EXPECT_STREQ(ClassifyCurlFailure(52, true), kTransportMaybeSent);  // empty reply
  EXPECT_STREQ(ClassifyCurlFailure(56, true), kTransportMaybeSent);  // connection reset
  EXPECT_STREQ(ClassifyCurlFailure(3, false), "");                    // malformed URL
  EXPECT_STREQ(ClassifyCurlFailure(60, false), "");                   // certificate does not verify
}

TEST(AwsClient, KeepsCallingAnEndpointThatRefusesUntilItAnswers) {
  ScriptedTransport t;
  FakeClock clock;
  for (int i = 0; i < 8; ++i) t.replies.push_back(Refused());
  t.replies.push_back(HttpResponse{200, R"({"service":{}})"});
  AwsClient client(t, clock, {"AKID", "SECRET", ""}, {"us-east-1", "http://127.0.0.1:4580"});
  // Refused connections never reached the endpoint, so even a change is safe to send again.
  auto r = client.Json(kEcs, "UpdateService", nlohmann::json::object());
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(t.sent.size(), 9u);
}

TEST(AwsClient, GivesUpOnAnEndpointDownPastTheBoundNamingItAndSince) {
  ScriptedTransport t;
  // As the curl transport words it, with the URL.
  t.otherwise = Fail("Couldn't connect to server (http://127.0.0.1:4580/)", kTransportNotSent);
  FakeClock clock;
  std::vector<std::pair<std::string, WallTime>> notices;
  ReachPolicy reach;
  reach.on_waiting = [&](const std::string& endpoint, WallTime since) { notices.emplace_back(endpoint, since); };
  AwsClient client(t, clock, {"AKID", "SECRET", ""}, {"us-east-1", "http://127.0.0.1:4580"}, reach);
  const SteadyTime before = clock.Now();
  const WallTime first_failure = clock.WallNow();
  auto r = client.Json(kEcs, "DescribeServices", nlohmann::json::object());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, kEndpointUnreachable);
  EXPECT_EQ(clock.Now() - before, Millis(60'000));
  EXPECT_EQ(r.error().message.rfind("could not reach http://127.0.0.1:4580 since " + LocalTimeOfDay(first_failure) +
                                        ": ecs DescribeServices: Couldn't connect to server",
                                    0),
            0u)
      << r.error().message;
  EXPECT_EQ(r.error().message.find("4580", r.error().message.find("4580") + 1), std::string::npos)
      << "the endpoint is named more than once: " << r.error().message;
  ASSERT_GE(notices.size(), 2u);  // the wait was reported, more than once
  EXPECT_EQ(notices[0].first, "http://127.0.0.1:4580");
  EXPECT_EQ(notices[0].second, first_failure);
}

TEST(AwsClient, TheBoundRunsFromTheFirstFailureNotFromEachCall) {
  ScriptedTransport t;
  t.otherwise = Refused();
  FakeClock clock;
  AwsClient client(t, clock, {"AKID", "SECRET", ""}, {"us-east-1", "http://x"});
  ASSERT_FALSE(client.Json(kEcs, "DescribeServices", nlohmann::json::object()));
  // Given an endpoint already down past the bound, the next call tries once and gives up at once.
  const size_t attempts = t.sent.size();
  const SteadyTime before = clock.Now();
  auto again = client.Json(kEcs, "UntagResource", nlohmann::json::object());
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, kEndpointUnreachable);
  EXPECT_EQ(t.sent.size(), attempts + 1);
  EXPECT_EQ(clock.Now(), before);
}

TEST(AwsClient, AReplyEndsTheOutage) {
  ScriptedTransport t;
  FakeClock clock;
  AwsClient client(t, clock, {"AKID", "SECRET", ""}, {"us-east-1", "http://x"});
  // 50 s down, then back: the call succeeds.
  for (int i = 0; i < 27; ++i) t.replies.push_back(Refused());
  t.replies.push_back(HttpResponse{200, "{}"});
  ASSERT_TRUE(client.Json(kEcs, "DescribeServices", nlohmann::json::object()));
  // Down again: a fresh 60 s, not what was left of the first.
  t.otherwise = Refused();
  const SteadyTime before = clock.Now();
  ASSERT_FALSE(client.Json(kEcs, "DescribeServices", nlohmann::json::object()));
  EXPECT_EQ(clock.Now() - before, Millis(60'000));
}

TEST(AwsClient, AChangeThatMayHaveArrivedIsNotRepeatedAndReportsOutcomeUnknown) {
  ScriptedTransport t;
  t.replies.push_back(NoReply());
  t.otherwise = HttpResponse{200, "{}"};
  FakeClock clock;
  AwsClient client(t, clock, {"AKID", "SECRET", ""}, {"us-east-1", "http://127.0.0.1:4580"});
  auto r = client.Json(kEcs, "UpdateService", nlohmann::json::object());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, kOutcomeUnknown);
  EXPECT_EQ(t.sent.size(), 1u);
  EXPECT_NE(r.error().message.find("could not reach http://127.0.0.1:4580 since "), std::string::npos);
  EXPECT_NE(r.error().message.find("ecs UpdateService: Timeout was reached; it may or may not have been applied"),
            std::string::npos)
      << r.error().message;
}

TEST(AwsClient, AReadThatMayHaveArrivedIsSentAgain) {
  ScriptedTransport t;
  t.replies.push_back(NoReply());
  t.replies.push_back(HttpResponse{200, R"({"services":[]})"});
  FakeClock clock;
  AwsClient client(t, clock, {"AKID", "SECRET", ""}, {"us-east-1", "http://x"});
  ASSERT_TRUE(client.Json(kEcs, "DescribeServices", nlohmann::json::object()));
  EXPECT_EQ(t.sent.size(), 2u);
}

TEST(AwsClient, AFailureRetryingCannotCureIsReturnedAtOnce) {
  ScriptedTransport t;
  t.otherwise = Fail("SSL peer certificate or SSH remote key was not OK");
  FakeClock clock;
  AwsClient client(t, clock, {"AKID", "SECRET", ""}, {"us-east-1", "http://x"});
  auto r = client.Json(kEcs, "DescribeServices", nlohmann::json::object());
  ASSERT_FALSE(r);
  EXPECT_FALSE(IsUnreachable(r.error()));
  EXPECT_EQ(t.sent.size(), 1u);
}

TEST(AwsClient, StopsWaitingForTheEndpointOnceCancelled) {
  ScriptedTransport t;
  t.otherwise = Refused();
  FakeClock clock;
  CancelToken cancel;
  ReachPolicy reach;
  reach.cancel = &cancel;
  int waits = 0;
  reach.report_after = Millis(0);
  reach.on_waiting = [&](const std::string&, WallTime) {
    if (++waits == 1) cancel.Cancel();
  };
  AwsClient client(t, clock, {"AKID", "SECRET", ""}, {"us-east-1", "http://x"}, reach);
  const SteadyTime before = clock.Now();
  auto r = client.Json(kEcs, "DescribeServices", nlohmann::json::object());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, kEndpointUnreachable);
  EXPECT_LT(clock.Now() - before, Millis(1000));
  EXPECT_NE(r.error().message.find("(interrupted)"), std::string::npos) << r.error().message;
}

}  // namespace
}  // namespace slipway::aws
