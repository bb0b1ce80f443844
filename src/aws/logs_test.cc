// Logs against a scripted transport: the bodies each call sends, botocore-shaped replies,
// pagination, and replies that are not what the model says.
#include "aws/logs.h"

#include <gtest/gtest.h>

#include "aws/testing/scripted_json_transport.h"

namespace slipway::aws {
namespace {

using nlohmann::json;
using testing::ScriptedJsonTransport;

struct LogsFixture {
  ScriptedJsonTransport transport;
  FakeClock clock;
  AwsClient client{transport, clock, Credentials{"AKID", "SECRET", ""},
                   Endpoint{"us-east-1", "http://x", {}}};
  Logs logs{client};
};

TEST(Logs, CreateLogGroupSendsTheNameToLogs) {
  LogsFixture f;
  f.transport.Answer("");  // CreateLogGroup's reply has no body
  ASSERT_TRUE(f.logs.CreateLogGroup("/ecs/demo-web"));
  ASSERT_EQ(f.transport.calls.size(), 1u);
  EXPECT_EQ(f.transport.calls[0].target, "Logs_20140328.CreateLogGroup");
  EXPECT_EQ(f.transport.calls[0].body, json({{"logGroupName", "/ecs/demo-web"}}));
}

TEST(Logs, CreateLogGroupKeepsTheCodeOfAGroupThatExists) {
  LogsFixture f;
  f.transport.Refuse("ResourceAlreadyExistsException", "The specified log group already exists");
  auto r = f.logs.CreateLogGroup("/ecs/demo-web");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, "ResourceAlreadyExistsException");
  EXPECT_EQ(r.error().message,
            "logs CreateLogGroup: ResourceAlreadyExistsException: The specified log group already "
            "exists");
}

TEST(Logs, GetLogEventsReadsEventsAndTheForwardToken) {
  LogsFixture f;
  f.transport.Answer(R"({"events":[
      {"timestamp":1700000000123,"message":"migrating 1/2","ingestionTime":1700000000200},
      {"timestamp":1700000000456,"message":"migrating 2/2","ingestionTime":1700000000500}],
    "nextForwardToken":"f/00000000000000000000000000000000000000000000000000000002",
    "nextBackwardToken":"b/00000000000000000000000000000000000000000000000000000001"})");
  auto page =
      f.logs.GetLogEvents({.group = "/ecs/demo", .stream = "web/web/abc", .start_from_head = true});
  ASSERT_TRUE(page) << page.error().message;
  ASSERT_EQ(page->events.size(), 2u);
  EXPECT_EQ(page->events[0].timestamp_ms, 1700000000123);
  EXPECT_EQ(page->events[0].message, "migrating 1/2");
  EXPECT_EQ(page->events[1].message, "migrating 2/2");
  EXPECT_EQ(page->next_token, "f/00000000000000000000000000000000000000000000000000000002");
  // A first read sends neither a token nor a limit.
  EXPECT_EQ(f.transport.calls[0].target, "Logs_20140328.GetLogEvents");
  EXPECT_EQ(f.transport.calls[0].body, json({{"logGroupName", "/ecs/demo"},
                                             {"logStreamName", "web/web/abc"},
                                             {"startFromHead", true}}));
}

TEST(Logs, GetLogEventsSendsTheTokenAndLimitWhenGiven) {
  LogsFixture f;
  f.transport.Answer(R"({"events":[],"nextForwardToken":"f/2","nextBackwardToken":"b/2"})");
  auto page = f.logs.GetLogEvents({.group = "g", .stream = "s", .next_token = "f/2", .limit = 20});
  ASSERT_TRUE(page) << page.error().message;
  EXPECT_TRUE(page->events.empty());
  // Nothing further: the token sent comes back.
  EXPECT_EQ(page->next_token, "f/2");
  EXPECT_EQ(f.transport.calls[0].body, json({{"logGroupName", "g"},
                                             {"logStreamName", "s"},
                                             {"startFromHead", false},
                                             {"nextToken", "f/2"},
                                             {"limit", 20}}));
}

TEST(Logs, GetLogEventsKeepsTheCodeOfAMissingStream) {
  LogsFixture f;
  f.transport.Refuse("ResourceNotFoundException", "The specified log stream does not exist.");
  auto page = f.logs.GetLogEvents({.group = "g", .stream = "s"});
  ASSERT_FALSE(page);
  EXPECT_EQ(page.error().code, "ResourceNotFoundException");
}

TEST(Logs, GetLogEventsReadsMissingFieldsAsEmpty) {
  LogsFixture f;
  f.transport.Answer(R"({"events":[{"message":"no time"},{"timestamp":5}]})");
  auto page = f.logs.GetLogEvents({.group = "g", .stream = "s"});
  ASSERT_TRUE(page) << page.error().message;
  ASSERT_EQ(page->events.size(), 2u);
  EXPECT_EQ(page->events[0].timestamp_ms, 0);
  EXPECT_EQ(page->events[0].message, "no time");
  EXPECT_EQ(page->events[1].message, "");
  EXPECT_EQ(page->next_token, "");
}

TEST(Logs, GetLogEventsSaysWhatIsWrongWithAGarbledReply) {
  struct Case {
    const char* reply;
    const char* error;
  } cases[] = {
      {R"([])", "logs GetLogEvents: unexpected reply: a list where an object with events belongs"},
      {R"({"events":"none"})",
       "logs GetLogEvents: unexpected reply: events is a string, not a list"},
      {R"({"events":[{"timestamp":"soon","message":"x"}]})",
       "logs GetLogEvents: unexpected reply: timestamp is a string, not a number"},
      {R"({"events":[{"timestamp":1,"message":7}]})",
       "logs GetLogEvents: unexpected reply: message is a number, not a string"},
      {R"({"events":["line"]})",
       "logs GetLogEvents: unexpected reply: events is a string, not a list of objects"},
      {R"({"events":[],"nextForwardToken":{}})",
       "logs GetLogEvents: unexpected reply: nextForwardToken is an object, not a string"},
      {"<html>busy</html>", "logs GetLogEvents: malformed JSON reply"},
  };
  for (const auto& c : cases) {
    LogsFixture f;
    f.transport.Answer(c.reply);
    auto page = f.logs.GetLogEvents({.group = "g", .stream = "s"});
    ASSERT_FALSE(page) << c.reply;
    EXPECT_EQ(page.error().message, c.error) << c.reply;
  }
}

TEST(Logs, FilterLogEventsFollowsNextTokenToTheLastPage) {
  LogsFixture f;
  f.transport.Answer(R"({"events":[{"logStreamName":"web/web/t1","timestamp":10,"message":"a",
      "ingestionTime":11,"eventId":"e1"}],"searchedLogStreams":[],"nextToken":"n1"})");
  // A page may hold nothing while the search goes on.
  f.transport.Answer(R"({"events":[],"searchedLogStreams":[],"nextToken":"n2"})");
  f.transport.Answer(R"({"events":[{"logStreamName":"web/web/t2","timestamp":20,"message":"b",
      "ingestionTime":21,"eventId":"e2"}],"searchedLogStreams":[]})");
  auto events = f.logs.FilterLogEvents(
      {.group = "/ecs/demo", .stream_prefix = "web/web/", .start_time_ms = 5});
  ASSERT_TRUE(events) << events.error().message;
  ASSERT_EQ(events->size(), 2u);
  EXPECT_EQ((*events)[0].event_id, "e1");
  EXPECT_EQ((*events)[0].log_stream_name, "web/web/t1");
  EXPECT_EQ((*events)[0].timestamp_ms, 10);
  EXPECT_EQ((*events)[1].message, "b");
  ASSERT_EQ(f.transport.calls.size(), 3u);
  EXPECT_EQ(f.transport.calls[0].target, "Logs_20140328.FilterLogEvents");
  EXPECT_EQ(
      f.transport.calls[0].body,
      json({{"logGroupName", "/ecs/demo"}, {"logStreamNamePrefix", "web/web/"}, {"startTime", 5}}));
  EXPECT_EQ(f.transport.calls[1].body.value("nextToken", ""), "n1");
  EXPECT_EQ(f.transport.calls[2].body.value("nextToken", ""), "n2");
}

TEST(Logs, FilterLogEventsFailsWhenTheSameTokenComesBack) {
  LogsFixture f;
  f.transport.Answer(
      R"({"events":[{"timestamp":1,"message":"a","eventId":"e1"}],"nextToken":"n1"})");
  f.transport.Answer(R"({"events":[],"nextToken":"n1"})");
  auto events = f.logs.FilterLogEvents({.group = "g"});
  ASSERT_FALSE(events);
  EXPECT_EQ(events.error().message,
            "logs FilterLogEvents: unexpected reply: nextToken n1 came twice");
  EXPECT_EQ(f.transport.calls.size(), 2u);
  // No prefix: every stream of the group.
  EXPECT_FALSE(f.transport.calls[0].body.contains("logStreamNamePrefix"));
}

TEST(Logs, FilterLogEventsFailsOnTokensThatAlternate) {
  LogsFixture f;
  // Given a service that answers A, B, A, B, ... each page with an event.
  for (int i = 0; i < 2000; ++i) {
    f.transport.Answer(R"({"events":[{"timestamp":1,"message":"a","eventId":"e1"}],"nextToken":")" +
                       std::string(i % 2 == 0 ? "A" : "B") + "\"}");
  }
  auto events = f.logs.FilterLogEvents({.group = "g"});
  ASSERT_FALSE(events);
  EXPECT_EQ(events.error().message,
            "logs FilterLogEvents: unexpected reply: nextToken A came twice");
  EXPECT_EQ(f.transport.calls.size(), 3u);
}

TEST(Logs, FilterLogEventsStopsPastTheLastPageThereCanBe) {
  LogsFixture f;
  for (int i = 0; i < 1001; ++i) {
    f.transport.Answer(R"({"events":[],"nextToken":"n)" + std::to_string(i) + "\"}");
  }
  auto events = f.logs.FilterLogEvents({.group = "g"});
  ASSERT_FALSE(events);
  EXPECT_EQ(events.error().message, "logs FilterLogEvents: unexpected reply: more than 1000 pages");
  EXPECT_EQ(f.transport.calls.size(), 1000u);
}

TEST(Logs, FilterLogEventsFailsOnAGarbledPage) {
  LogsFixture f;
  f.transport.Answer(R"({"events":[],"nextToken":"n1"})");
  f.transport.Answer(R"({"events":[{"eventId":3}]})");
  auto events = f.logs.FilterLogEvents({.group = "g"});
  ASSERT_FALSE(events);
  EXPECT_EQ(events.error().message,
            "logs FilterLogEvents: unexpected reply: eventId is a number, not a string");
}

TEST(Logs, FilterLogEventsPassesOnAnErrorOfALaterPage) {
  LogsFixture f;
  f.transport.Answer(R"({"events":[],"nextToken":"n1"})");
  f.transport.Refuse("InvalidParameterException", "The specified nextToken is invalid.");
  auto events = f.logs.FilterLogEvents({.group = "g"});
  ASSERT_FALSE(events);
  EXPECT_EQ(events.error().code, "InvalidParameterException");
}

}  // namespace
}  // namespace slipway::aws
