// AwsClient against a scripted transport: framing, signing, error decoding and retries.
#include "aws/aws_client.h"

#include <gtest/gtest.h>

#include <deque>
#include <nlohmann/json.hpp>

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

TEST(AwsClient, RetriesThrottlingAndServerErrorsThenSucceeds) {
  ScriptedTransport t;
  FakeClock clock;
  t.replies.push_back(HttpResponse{500, R"({"__type":"ServerException","message":"oops"})"});
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

TEST(TransportRetry, RepeatsOnlyWhatCannotHappenTwice) {
  struct Row {
    const char* code;
    const char* op;
    TransportRetry want;
  };
  const Row rows[] = {
      {kTransportNotSent, "DescribeServices", TransportRetry::kRetry},
      {kTransportNotSent, "UpdateService", TransportRetry::kRetry},  // never arrived: safe for anything
      {kTransportNotSent, "RunTask", TransportRetry::kRetry},
      {kTransportMaybeSent, "DescribeServices", TransportRetry::kRetry},
      {kTransportMaybeSent, "ListTagsForResource", TransportRetry::kRetry},
      {kTransportMaybeSent, "GetLogEvents", TransportRetry::kRetry},
      {kTransportMaybeSent, "FilterLogEvents", TransportRetry::kRetry},
      {kTransportMaybeSent, "TagResource", TransportRetry::kRetry},
      {kTransportMaybeSent, "UntagResource", TransportRetry::kRetry},
      {kTransportMaybeSent, "UpdateService", TransportRetry::kOutcomeUnknown},
      {kTransportMaybeSent, "CreateService", TransportRetry::kOutcomeUnknown},
      {kTransportMaybeSent, "RegisterTaskDefinition", TransportRetry::kOutcomeUnknown},
      {kTransportMaybeSent, "RunTask", TransportRetry::kOutcomeUnknown},
      {kTransportMaybeSent, "StopTask", TransportRetry::kOutcomeUnknown},
      {"", "DescribeServices", TransportRetry::kGiveUp},  // e.g. a certificate that does not verify
  };
  for (const auto& row : rows) {
    EXPECT_EQ(DecideTransportRetry(row.code, row.op), row.want) << row.code << " " << row.op;
  }
}

TEST(TransportRetry, CurlFailuresAreSortedByWhetherTheRequestLeft) {
  EXPECT_STREQ(ClassifyCurlFailure(7, false), kTransportNotSent);    // couldn't connect (refused)
  EXPECT_STREQ(ClassifyCurlFailure(6, false), kTransportNotSent);    // couldn't resolve host
  EXPECT_STREQ(ClassifyCurlFailure(28, false), kTransportNotSent);   // timed out while connecting
  EXPECT_STREQ(ClassifyCurlFailure(28, true), kTransportMaybeSent);  // timed out waiting for the reply
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
