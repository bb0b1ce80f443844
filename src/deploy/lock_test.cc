// The lock tag's one parser, and `slipway unlock`'s refusal while a release looks alive.
#include "deploy/lock.h"

#include <gtest/gtest.h>

#include <functional>
#include <sstream>

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
// `created_at` is when the deployment began, in epoch seconds.
FakeEcsTransport LockedService(bool rolling_out, std::vector<std::string>& untagged,
                               double created_at = 1.7e9) {
  return FakeEcsTransport([rolling_out, &untagged, created_at](
                              const std::string& op,
                              const json& body) -> Result<aws::HttpResponse> {
    if (op == "DescribeServices") {
      json dep{{"id", "ecs-svc/1"},
               {"status", "PRIMARY"},
               {"rolloutState", rolling_out ? "IN_PROGRESS" : "COMPLETED"},
               {"taskDefinition", "arn:aws:ecs:us-east-1:0:task-definition/demo-web:5"},
               {"createdAt", created_at}};
      return Reply({{"services", {{{"serviceName", "demo-dev-web"}, {"serviceArn", "arn:svc/demo-dev-web"},
                                   {"status", "ACTIVE"}, {"deployments", {dep}}}}}});
    }
    if (op == "DescribeClusters") {
      return Reply({{"clusters", {{{"clusterArn", "arn:cluster/demo-dev"}, {"status", "ACTIVE"}}}}});
    }
    if (op == "ListTagsForResource" && body["resourceArn"] == "arn:cluster/demo-dev") {
      return Reply({{"tags", {{{"key", "slipway:lock:demo-dev-web/r1-aa"},
                               {"value", "r1-aa 2026-11-29T12:00:01.000Z 4102444800 ci@runner"}},
                              {{"key", "team"}, {"value", "web"}}}}});
    }
    if (op == "ListTagsForResource") {
      return Reply({{"tags", {{{"key", "slipway:lock"}, {"value", "r1-aa 2026-11-29T12:00:01.000Z 4102444800 ci@runner"}}}}});
    }
    if (op == "ListTasks") return Reply({{"taskArns", json::array()}});
    if (op == "UntagResource") {
      untagged.push_back(body["resourceArn"].get<std::string>() + " " + body["tagKeys"][0].get<std::string>());
      return Reply(json::object());
    }
    return Fail("unexpected " + op);
  });
}

TEST(Unlock, RemovesALockAndNamesItsHolder) {
  std::vector<std::string> untagged;
  auto t = LockedService(false, untagged);
  FakeClock clock;
  aws::AwsClient client(t, clock, {"AKID", "SECRET", ""}, {"us-east-1", "http://x"});
  auto r = Unlock(client, OneService(), false);
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->locks.size(), 2u);  // the service's, and the cluster's (a tag of another key is no lock)
  EXPECT_EQ(r->locks[0].holder->release_id, "r1-aa");
  EXPECT_EQ(r->locks[0].holder->actor, "ci@runner");
  EXPECT_FALSE(r->locks[0].on_cluster);
  EXPECT_TRUE(r->locks[1].on_cluster);
  EXPECT_EQ(r->locks[1].service_name, "demo-dev");
  EXPECT_EQ(r->locks[1].holder->release_id, "r1-aa");
  EXPECT_FALSE(r->refused);
  EXPECT_EQ(untagged, (std::vector<std::string>{"arn:svc/demo-dev-web slipway:lock",
                                                "arn:cluster/demo-dev slipway:lock:demo-dev-web/r1-aa"}));
}

TEST(Unlock, ADeploymentStartedAtATimeOutOfRangeIsShownAsItCame) {
  for (double created_at : {1e300, -1e300, 9.3e9}) {
    std::vector<std::string> untagged;
    auto t = LockedService(true, untagged, created_at);
    FakeClock clock;
    aws::AwsClient client(t, clock, {"AKID", "SECRET", ""}, {"us-east-1", "http://x"});
    auto r = Unlock(client, OneService(), false);
    ASSERT_TRUE(r) << r.error().message;
    std::ostringstream number;
    number << created_at;
    EXPECT_NE(r->in_flight.find("started a time out of range (" + number.str() +
                                " s from 1970) with demo-web:5"),
              std::string::npos)
        << r->in_flight;
  }
}

TEST(Unlock, RefusesWhileADeploymentIsInProgressUnlessForced) {
  std::vector<std::string> untagged;
  auto t = LockedService(true, untagged);
  FakeClock clock;
  aws::AwsClient client(t, clock, {"AKID", "SECRET", ""}, {"us-east-1", "http://x"});
  auto r = Unlock(client, OneService(), false);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(r->refused);
  EXPECT_NE(r->in_flight.find("has deployment ecs-svc/1 in flight"), std::string::npos) << r->in_flight;
  EXPECT_EQ(r->locks.size(), 2u);  // it still says whose lock it is
  EXPECT_TRUE(untagged.empty());

  auto forced = Unlock(client, OneService(), true);
  ASSERT_TRUE(forced);
  EXPECT_FALSE(forced->refused);
  EXPECT_EQ(untagged.size(), 2u);
}

// An environment whose cluster exists and none of whose services does yet (a first release):
// the cluster's tags live in `tags`. `on_tag` runs after each TagResource, e.g. to let another
// release add its key at the same moment.
struct FirstRelease {
  json tags = json::array();
  std::function<void()> on_tag = [] {};
  FakeEcsTransport transport{[this](const std::string& op, const json& body) -> Result<aws::HttpResponse> {
    if (op == "DescribeServices") {
      return Reply({{"services", json::array()}, {"failures", {{{"arn", "demo-dev-web"}, {"reason", "MISSING"}}}}});
    }
    if (op == "DescribeClusters") {
      return Reply({{"clusters", {{{"clusterArn", "arn:cluster/demo-dev"}, {"status", "ACTIVE"}}}}});
    }
    if (body.value("resourceArn", "") != "arn:cluster/demo-dev") return Fail("unexpected resource for " + op);
    if (op == "ListTagsForResource") return Reply({{"tags", tags}});
    if (op == "TagResource") {
      Untag(body["tags"][0]["key"]);
      tags.push_back(body["tags"][0]);
      on_tag();
      return Reply(json::object());
    }
    if (op == "UntagResource") {
      Untag(body["tagKeys"][0]);
      return Reply(json::object());
    }
    return Fail("unexpected " + op);
  }};
  void Untag(const std::string& key) {
    json kept = json::array();
    for (const auto& t : tags) {
      if (t["key"] != key) kept.push_back(t);
    }
    tags = kept;
  }
  std::vector<std::string> Keys() const {
    std::vector<std::string> keys;
    for (const auto& t : tags) keys.push_back(t["key"]);
    return keys;
  }
};

TEST(ClusterLock, AFirstReleaseIsLockedOnTheClusterUntilItEnds) {
  FirstRelease ecs;
  FakeClock clock;
  aws::AwsClient client(ecs.transport, clock, {"AKID", "SECRET", ""}, {"us-east-1", "http://x"});
  std::string held_by;
  auto first = ReleaseLock::Acquire(client, OneService(), "r20261129120001-aaaa", "ada@host", 600, held_by);
  ASSERT_TRUE(first) << first.error().message;
  ASSERT_TRUE(*first) << held_by;
  EXPECT_EQ(ecs.Keys(), std::vector<std::string>{"slipway:lock:demo-dev-web/r20261129120001-aaaa"});
  auto held = (*first)->Held();
  ASSERT_TRUE(held);
  EXPECT_TRUE(*held);

  auto second = ReleaseLock::Acquire(client, OneService(), "r20261129120002-bbbb", "bob@host", 600, held_by);
  ASSERT_TRUE(second) << second.error().message;
  EXPECT_FALSE(*second);
  EXPECT_NE(held_by.find("cluster demo-dev is being released by ada@host (release r20261129120001-aaaa, started "),
            std::string::npos)
      << held_by;
  EXPECT_EQ(ecs.Keys().size(), 1u);  // the refused release left nothing behind

  ASSERT_TRUE((*first)->Remove());
  EXPECT_TRUE(ecs.Keys().empty());
  auto third = ReleaseLock::Acquire(client, OneService(), "r20261129120003-cccc", "bob@host", 600, held_by);
  ASSERT_TRUE(third && *third);
  third->reset();  // the destructor removes it too
  EXPECT_TRUE(ecs.Keys().empty());
}

TEST(ClusterLock, OfTwoThatTagAtTheSameMomentNeitherProceedsAndTheFirstBackTakesIt) {
  FirstRelease ecs;
  const json other{{"key", "slipway:lock:demo-dev-web/r20261129120001-bbbb"},
                   {"value", "r20261129120001-bbbb 2026-11-29T12:00:01.000Z 4102444800 bob@host"}};
  // The other release adds its key right after ours, sees both, steps back and comes back first.
  int tagged = 0;
  ecs.on_tag = [&] {
    if (++tagged == 1) ecs.tags.push_back(other);
  };
  FakeClock clock;
  aws::AwsClient client(ecs.transport, clock, {"AKID", "SECRET", ""}, {"us-east-1", "http://x"});
  std::string held_by;
  auto lock = ReleaseLock::Acquire(client, OneService(), "r20261129120001-aaaa", "ada@host", 600, held_by);
  ASSERT_TRUE(lock) << lock.error().message;
  EXPECT_FALSE(*lock);
  EXPECT_NE(held_by.find("cluster demo-dev is being released by bob@host (release r20261129120001-bbbb"),
            std::string::npos)
      << held_by;
  EXPECT_EQ(ecs.Keys(), std::vector<std::string>{other["key"]});  // ours was taken back
}

TEST(ClusterLock, AnExpiredKeyIsIgnoredAndTidiedAway) {
  FirstRelease ecs;
  ecs.tags.push_back({{"key", "slipway:lock:demo-dev-web/r20200101000000-dead"},
                      {"value", "r20200101000000-dead 2020-01-01T00:00:00.000Z 1577840400 crashed@host"}});
  ecs.tags.push_back({{"key", "slipway:lock:other-env-web/r20261129120001-eeee"},  // another environment's
                      {"value", "r20261129120001-eeee 2026-11-29T12:00:01.000Z 4102444800 eve@host"}});
  FakeClock clock;
  aws::AwsClient client(ecs.transport, clock, {"AKID", "SECRET", ""}, {"us-east-1", "http://x"});
  std::string held_by;
  auto lock = ReleaseLock::Acquire(client, OneService(), "r20261129120001-aaaa", "ada@host", 600, held_by);
  ASSERT_TRUE(lock) << lock.error().message;
  ASSERT_TRUE(*lock) << held_by;
  EXPECT_EQ(ecs.Keys(), (std::vector<std::string>{"slipway:lock:other-env-web/r20261129120001-eeee",
                                                  "slipway:lock:demo-dev-web/r20261129120001-aaaa"}));
}

}  // namespace
}  // namespace slipway::deploy
