#include "deploy/cleanup.h"

#include <gtest/gtest.h>

namespace slipway::deploy {
namespace {

constexpr const char* kRegistry = "127.0.0.1:5000";
constexpr const char* kWeb = "c/web";
constexpr const char* kApi = "c/api";

std::string Digest(char c) { return "sha256:" + std::string(64, c); }
std::string Image(const std::string& repository, char c) { return std::string(kRegistry) + "/" + repository + "@" + Digest(c); }

// A revision of `family` registered at `at`, released by `release` to `target` in environment `env`.
RevisionRecord Rev(const std::string& family, int revision, const std::string& release, const std::string& result,
                   double at, std::vector<std::string> images, const std::string& target = kWeb,
                   const std::string& env = "dev") {
  RevisionRecord r;
  r.family = family;
  r.revision = revision;
  r.arn = "arn:aws:ecs:us-east-1:000000000000:task-definition/" + family + ":" + std::to_string(revision);
  r.images = std::move(images);
  r.registered_at = at;
  if (!release.empty()) {
    r.tags = {{"slipway:release", release}, {"slipway:result", result}, {"slipway:target", target},
              {"slipway:environment", env}};
  }
  return r;
}

std::vector<std::string> Names(const std::vector<RevisionVerdict>& v) {
  std::vector<std::string> out;
  for (const auto& x : v) out.push_back(FamilyRevision(x.record.arn));
  return out;
}
std::vector<std::string> Digests(const std::vector<EcrImage>& v) {
  std::vector<std::string> out;
  for (const auto& x : v) out.push_back(x.repository + "@" + x.digest.substr(7, 1));
  return out;
}

struct Case {
  std::string name;
  std::vector<RevisionRecord> revisions;
  std::map<std::string, std::string> in_use;
  CleanupPolicy policy;
  std::vector<std::string> deregister;  // family:revision, newest first
  std::vector<std::string> deleted;     // repository@<digest's first hex digit>
  std::vector<std::string> kept_images;
  std::string registry = kRegistry;
  std::map<std::string, std::string> tag_digests = {};
};

// Five releases of web: 1-3 released, 4 and 5 failed (so 3 is known-good). Release 3 reused 2's image.
std::vector<RevisionRecord> FiveReleases() {
  return {Rev("web", 1, "r1", "released", 100, {Image("shop/web", '1')}),
          Rev("web", 2, "r2", "released", 200, {Image("shop/web", '2')}),
          Rev("web", 3, "r3", "released", 300, {Image("shop/web", '2')}),
          Rev("web", 4, "r4", "failed", 400, {Image("shop/web", '4')}),
          Rev("web", 5, "r5", "failed", 500, {Image("shop/web", '5')})};
}

TEST(PlanCleanup, KeepsTheNewestReleasesTheKnownGoodAndWhatRunsAndOnlyDeletesImagesNothingElseNames) {
  const std::string arn1 = Rev("web", 1, "", "", 0, {}).arn;
  std::vector<Case> cases = {
      {"keep 2: the known-good (3) stays though older", FiveReleases(), {}, {2, 0, 1000}, {"web:2", "web:1"},
       {"shop/web@1"}, {"shop/web@2"}},
      {"keep 5: nothing goes", FiveReleases(), {}, {5, 0, 1000}, {}, {}, {}},
      {"keep 0: only the known-good stays", FiveReleases(), {}, {0, 0, 1000}, {"web:5", "web:4", "web:2", "web:1"},
       {"shop/web@1", "shop/web@4", "shop/web@5"}, {"shop/web@2"}},
      {"a revision a service or task runs stays", FiveReleases(), {{arn1, "service web"}}, {2, 0, 1000}, {"web:2"}, {},
       {"shop/web@2"}},
      {"--older-than keeps what is younger", FiveReleases(), {}, {2, 850, 1000}, {"web:1"}, {"shop/web@1"}, {}},
      {"without a registry nothing that names an image by digest goes", FiveReleases(), {}, {2, 0, 1000}, {}, {}, {},
       ""},
      {"the previous released revision stays for slipway rollback while the known-good runs", FiveReleases(),
       {{Rev("web", 3, "", "", 0, {}).arn, "service web"}}, {2, 0, 1000}, {"web:1"}, {"shop/web@1"}, {}},
  };
  // A release in flight is never touched, however old.
  {
    auto revisions = FiveReleases();
    revisions[0].tags["slipway:result"] = kResultInProgress;
    revisions[1].tags["slipway:result"] = kResultInterrupted;
    cases.push_back({"releases in flight stay", revisions, {}, {2, 0, 1000}, {}, {}, {}});
  }
  // Another environment's revisions of the same family, and revisions registered outside
  // slipway, stay, and so do the images they name.
  {
    auto revisions = FiveReleases();
    revisions.push_back(Rev("web", 6, "p1", "released", 600, {Image("shop/web", '1')}, "prod/web", "prod"));
    revisions.push_back(Rev("web", 7, "", "", 700, {Image("shop/web", '4')}));
    cases.push_back({"other environments' images stay", revisions, {}, {0, 0, 1000},
                     {"web:5", "web:4", "web:2", "web:1"}, {"shop/web@5"}, {"shop/web@1", "shop/web@2", "shop/web@4"}});
  }
  // Images by tag, or in other registries, are never deleted.
  {
    auto revisions = FiveReleases();
    revisions[0].images = {"nginx@" + Digest('9'), std::string(kRegistry) + "/shop/web:v1",
                           "other.example:5000/shop/web@" + Digest('8')};
    cases.push_back({"only the environment's ECR images by digest go", revisions, {}, {2, 0, 1000}, {"web:2", "web:1"},
                     {}, {"shop/web@2"}});
  }
  // A tag another environment's revision names keeps the image it points at.
  {
    auto revisions = FiveReleases();
    revisions.push_back(Rev("web", 6, "p1", "released", 600, {std::string(kRegistry) + "/shop/web:stable"}, "prod/web", "prod"));
    Case c{"a tag that points at an image keeps it", revisions, {}, {2, 0, 1000}, {"web:2", "web:1"}, {}, {"shop/web@1", "shop/web@2"}};
    c.tag_digests = {{"shop/web:stable", Digest('1')}};
    cases.push_back(c);
  }
  // The known-good is chosen among ACTIVE revisions, as release and rollback choose it: a
  // deregistered revision a service still runs does not take its place.
  {
    auto revisions = FiveReleases();
    revisions[3].tags["slipway:result"] = "released";
    revisions[3].status = "INACTIVE";
    cases.push_back({"an INACTIVE revision is never the known-good", revisions, {{revisions[3].arn, "service web"}},
                     {0, 0, 1000}, {"web:5", "web:2", "web:1"}, {"shop/web@1", "shop/web@5"}, {"shop/web@2"}});
  }
  // Each target has its own known-good; a release spans both services.
  {
    std::vector<RevisionRecord> revisions = {
        Rev("web", 1, "r1", "released", 100, {Image("shop/web", '1')}),
        Rev("api", 1, "r1", "released", 101, {Image("shop/api", 'a')}, kApi),
        Rev("web", 2, "r2", "released", 200, {Image("shop/web", '2')}),
        Rev("api", 2, "r2", "rolled-back", 201, {Image("shop/api", 'b')}, kApi),
        Rev("web", 3, "r3", "failed", 300, {Image("shop/web", '3')}),
        Rev("api", 3, "r3", "failed", 301, {Image("shop/api", 'c')}, kApi)};
    cases.push_back({"each service keeps its own known-good", revisions, {}, {1, 0, 1000}, {"api:2", "web:1"},
                     {"shop/api@b", "shop/web@1"}, {}});
  }
  for (const auto& c : cases) {
    CleanupInput in{"dev", {kWeb, kApi}, c.revisions, c.in_use, c.registry, c.tag_digests, c.policy};
    const CleanupPlan plan = PlanCleanup(in);
    EXPECT_EQ(Names(plan.deregister), c.deregister) << c.name;
    EXPECT_EQ(Digests(plan.delete_images), c.deleted) << c.name;
    EXPECT_EQ(Digests(plan.keep_images), c.kept_images) << c.name;
  }
}

TEST(PlanCleanup, SaysWhyEachRevisionStays) {
  auto revisions = FiveReleases();
  CleanupInput in{"dev", {kWeb}, revisions, {{revisions[3].arn, "task abc"}, {revisions[4].arn, "service web"}},
                  kRegistry, {}, {1, 0, 1000}};
  const CleanupPlan plan = PlanCleanup(in);
  std::map<std::string, std::string> why;
  for (const auto& v : plan.keep) why[FamilyRevision(v.record.arn)] = v.reason;
  EXPECT_EQ(why["web:5"], "in use by service web; release r5 is one of the newest 1");
  EXPECT_EQ(why["web:4"], "in use by task abc");
  EXPECT_EQ(why["web:3"], "known-good for c/web; where slipway rollback returns for c/web");
  ASSERT_EQ(plan.keep_images.size(), 1u);
  EXPECT_EQ(plan.keep_images[0].used_by, std::vector<std::string>{"web:3"});
  EXPECT_EQ(plan.deregister[0].reason, "release r2 (released) is older than the newest 1");
}

}  // namespace
}  // namespace slipway::deploy
