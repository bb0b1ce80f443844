// The lock tag's one parser, and `slipway unlock`'s refusal while a release looks alive.
#include "deploy/lock.h"

#include <gtest/gtest.h>

#include "deploy/fake_ecs_test.h"

namespace slipway::deploy {
namespace {

using nlohmann::json;

TEST(LockTag, ParsesReleaseStartedExpiryAndAnActorWithSpaces) {
  auto h = ParseLockTag("r20261129120001-ab12 2026-11-29T12:00:01.000Z 1795000000 Ada Lovelace (CI)");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->release_id, "r20261129120001-ab12");
  EXPECT_EQ(h->started, "2026-11-29T12:00:01.000Z");
  EXPECT_EQ(h->expires, 1795000000);
  EXPECT_EQ(h->actor, "Ada Lovelace (CI)");
}

TEST(LockTag, WhatItWritesItReadsBack) {
  LockHolder h{"r1-aa", "2026-11-29T12:00:01.000Z", 1795000000, "ci@runner"};
  auto back = ParseLockTag(h.TagValue());
  ASSERT_TRUE(back);
  EXPECT_EQ(back->TagValue(), h.TagValue());
  EXPECT_EQ(back->actor, "ci@runner");
}

TEST(LockTag, AValueThatIsNotALockIsRejected) {
  EXPECT_FALSE(ParseLockTag(""));
  EXPECT_FALSE(ParseLockTag("taken by bob"));
}

config::Environment OneService() {
  config::Environment env;
  env.name = "dev";
  env.cluster = "demo-dev";
  env.services["web"].service_name = "demo-dev-web";
  return env;
}

// A service locked by a release that died, optionally with a deployment still rolling out.
FakeEcsTransport LockedService(bool rolling_out, bool& untagged) {
  return FakeEcsTransport([rolling_out, &untagged](const std::string& op, const json&) -> Result<aws::HttpResponse> {
    if (op == "DescribeServices") {
      json dep{{"id", "ecs-svc/1"}, {"status", "PRIMARY"}, {"rolloutState", rolling_out ? "IN_PROGRESS" : "COMPLETED"},
               {"taskDefinition", "arn:aws:ecs:us-east-1:0:task-definition/demo-web:5"}, {"createdAt", 1.7e9}};
      return Reply({{"services", {{{"serviceName", "demo-dev-web"}, {"serviceArn", "arn:svc/demo-dev-web"},
                                   {"status", "ACTIVE"}, {"deployments", {dep}}}}}});
    }
    if (op == "ListTagsForResource") {
      return Reply({{"tags", {{{"key", "slipway:lock"}, {"value", "r1-aa 2026-11-29T12:00:01.000Z 4102444800 ci@runner"}}}}});
    }
    if (op == "ListTasks") return Reply({{"taskArns", json::array()}});
    if (op == "UntagResource") {
      untagged = true;
      return Reply(json::object());
    }
    return Fail("unexpected " + op);
  });
}

TEST(Unlock, RemovesALockAndNamesItsHolder) {
  bool untagged = false;
  auto t = LockedService(false, untagged);
  FakeClock clock;
  aws::AwsClient client(t, clock, {"AKID", "SECRET", ""}, {"us-east-1", "http://x"});
  auto r = Unlock(client, OneService(), false);
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->locks.size(), 1u);
  EXPECT_EQ(r->locks[0].holder->release_id, "r1-aa");
  EXPECT_EQ(r->locks[0].holder->actor, "ci@runner");
  EXPECT_FALSE(r->refused);
  EXPECT_TRUE(untagged);
}

TEST(Unlock, RefusesWhileADeploymentIsInProgressUnlessForced) {
  bool untagged = false;
  auto t = LockedService(true, untagged);
  FakeClock clock;
  aws::AwsClient client(t, clock, {"AKID", "SECRET", ""}, {"us-east-1", "http://x"});
  auto r = Unlock(client, OneService(), false);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(r->refused);
  EXPECT_NE(r->in_flight.find("has deployment ecs-svc/1 in flight"), std::string::npos) << r->in_flight;
  EXPECT_EQ(r->locks.size(), 1u);  // it still says whose lock it is
  EXPECT_FALSE(untagged);

  auto forced = Unlock(client, OneService(), true);
  ASSERT_TRUE(forced);
  EXPECT_FALSE(forced->refused);
  EXPECT_TRUE(untagged);
}

}  // namespace
}  // namespace slipway::deploy
