// desiredCount overrides (tag values, which count a release sets) and the cost arithmetic.
#include "deploy/desired_count.h"

#include <gtest/gtest.h>

namespace slipway::deploy {
namespace {

TEST(CountOverride, TagValueReadsBackAsWritten) {
  const CountOverride o{0, "env-down", 2};
  EXPECT_EQ(o.TagValue(), "0 by=env-down was=2");
  auto back = ParseCountOverride(o.TagValue());
  ASSERT_TRUE(back);
  EXPECT_EQ(back->count, 0);
  EXPECT_EQ(back->by, "env-down");
  EXPECT_EQ(back->was, 2);
  EXPECT_EQ(back->Describe(), "0 (set by env down; was 2)");
}

TEST(CountOverride, ABareCountIsAnOverrideAndUnknownWordsAreIgnored) {
  auto o = ParseCountOverride("4");
  ASSERT_TRUE(o);
  EXPECT_EQ(o->count, 4);
  EXPECT_EQ(o->by, "");
  EXPECT_FALSE(o->was);
  EXPECT_EQ(o->Describe(), "4");
  auto later = ParseCountOverride("3 by=scale until=tomorrow");
  ASSERT_TRUE(later);
  EXPECT_EQ(later->count, 3);
}

TEST(CountOverride, AValueThatIsNoCountIsNone) {
  for (const char* bad : {"", "four", "-1", "1001", "2.5", "by=scale", " "}) {
    SCOPED_TRACE(bad);
    EXPECT_FALSE(ParseCountOverride(bad));
  }
  EXPECT_FALSE(ParseCountOverride("2 was=lots")->was);
}

TEST(CountOverride, FoundAmongOtherTags) {
  std::vector<aws::Tag> tags{{"slipway:lock", "r1 …"}, {kDesiredCountTag, "1 by=scale was=2"}};
  auto o = FindCountOverride(tags);
  ASSERT_TRUE(o);
  EXPECT_EQ(o->count, 1);
  EXPECT_FALSE(FindCountOverride({{"slipway:lock", "x"}}));
  EXPECT_FALSE(FindCountOverride({{kDesiredCountTag, "garbage"}}));
}

TEST(ReleaseDesiredCount, TheOverrideWinsElseTheConfigElseZeroForOnDemand) {
  config::ServiceEnv web;
  web.desired_count = 3;
  EXPECT_EQ(ReleaseDesiredCount(web, std::nullopt), 3);
  EXPECT_EQ(ReleaseDesiredCount(web, CountOverride{0, "env-down", 3}), 0);
  config::ServiceEnv pgadmin;
  pgadmin.desired_count = 1;
  pgadmin.on_demand = true;
  EXPECT_EQ(DefaultDesiredCount(pgadmin), 0);
  EXPECT_EQ(ReleaseDesiredCount(pgadmin, std::nullopt), 0);  // stopped until started
  EXPECT_EQ(ReleaseDesiredCount(pgadmin, CountOverride{1, "service-start", 0}), 1);  // started: kept
}

TEST(Cost, TaskSizesInEitherOfEcsNotations) {
  EXPECT_DOUBLE_EQ(*VcpusOf("256"), 0.25);
  EXPECT_DOUBLE_EQ(*VcpusOf("1024"), 1.0);
  EXPECT_DOUBLE_EQ(*VcpusOf("0.5 vCPU"), 0.5);
  EXPECT_DOUBLE_EQ(*VcpusOf("2vcpu"), 2.0);
  EXPECT_DOUBLE_EQ(*GigabytesOf("512"), 0.5);
  EXPECT_DOUBLE_EQ(*GigabytesOf("3 GB"), 3.0);
  for (const char* bad : {"", "0", "-256", "lots", "1 GB", "nan vCPU"}) {
    SCOPED_TRACE(bad);
    EXPECT_FALSE(VcpusOf(bad));
  }
  EXPECT_FALSE(GigabytesOf("2 vCPU"));
}

TEST(Cost, VcpuAndMemoryHoursTimesRunningTasks) {
  const config::Pricing us_east_1;  // $0.04048 per vCPU-hour, $0.004445 per GB-hour
  // The demo's task: 256 CPU units, 512 MiB; two running.
  EXPECT_NEAR(HourlyCost(0.25, 0.5, 2, us_east_1), 2 * (0.25 * 0.04048 + 0.5 * 0.004445), 1e-12);
  EXPECT_NEAR(HourlyCost(0.25, 0.5, 2, us_east_1), 0.024685, 1e-9);
  EXPECT_DOUBLE_EQ(HourlyCost(1, 2, 0, us_east_1), 0.0);
  const config::Pricing own{0.1, 0.01};
  EXPECT_NEAR(HourlyCost(1, 2, 3, own), 3 * (0.1 + 0.02), 1e-12);
}

}  // namespace
}  // namespace slipway::deploy
