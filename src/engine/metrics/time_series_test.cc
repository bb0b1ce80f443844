#include "engine/metrics/time_series.h"

#include <gtest/gtest.h>

#include <cmath>

namespace slipway::engine {
namespace {

constexpr int64_t kT0 = 1'699'999'980;  // 2023-11-14T22:13:00Z, a multiple of 60

const MetricKey kRequests{"AWS/ApplicationELB", "RequestCount", {{"LoadBalancer", "app/demo/1"}}};

Statistics Samples(std::initializer_list<double> values) {
  Statistics s;
  for (double v : values) s.Add(v);
  return s;
}

double Stat(const MetricStore& store, const char* statistic, int64_t period = 60) {
  auto points = store.Query(kRequests, kT0, kT0 + period, period, *ParseStatistic(statistic));
  EXPECT_EQ(points.size(), 1u) << statistic;
  return points.empty() ? NAN : points[0].value;
}

TEST(MetricStore, AggregatesSamplesIntoEachStatistic) {
  MetricStore store;
  store.Add(kRequests, kT0 + 1, Samples({1, 2, 3}));
  store.Add(kRequests, kT0 + 25, Samples({10}));
  EXPECT_EQ(Stat(store, "Sum"), 16);
  EXPECT_EQ(Stat(store, "SampleCount"), 4);
  EXPECT_EQ(Stat(store, "Average"), 4);
  EXPECT_EQ(Stat(store, "Minimum"), 1);
  EXPECT_EQ(Stat(store, "Maximum"), 10);
}

TEST(MetricStore, SplitsAQueryIntoAlignedPeriodsAndSkipsEmptyOnes) {
  MetricStore store;
  store.Add(kRequests, kT0 + 5, Samples({1}));
  store.Add(kRequests, kT0 + 15, Samples({2}));
  store.Add(kRequests, kT0 + 45, Samples({4}));
  auto points = store.Query(kRequests, kT0, kT0 + 60, 10, *ParseStatistic("Sum"));
  ASSERT_EQ(points.size(), 3u);
  EXPECT_EQ(points[0].timestamp, kT0);
  EXPECT_EQ(points[1].timestamp, kT0 + 10);
  EXPECT_EQ(points[2].timestamp, kT0 + 40);
  EXPECT_EQ(points[2].value, 4);
  // A 30-second period folds the first two 10-second points together.
  points = store.Query(kRequests, kT0, kT0 + 60, 30, *ParseStatistic("Sum"));
  ASSERT_EQ(points.size(), 2u);
  EXPECT_EQ(points[0].value, 3);
  EXPECT_EQ(points[1].value, 4);
}

TEST(MetricStore, LeavesOutPointsOutsideTheQueriedRange) {
  MetricStore store;
  store.Add(kRequests, kT0 - 60, Samples({100}));
  store.Add(kRequests, kT0, Samples({1}));
  store.Add(kRequests, kT0 + 60, Samples({100}));
  auto points = store.Query(kRequests, kT0, kT0 + 60, 60, *ParseStatistic("Sum"));
  ASSERT_EQ(points.size(), 1u);
  EXPECT_EQ(points[0].value, 1);
}

TEST(MetricStore, ReadsPercentilesWithinTheBinsAccuracy) {
  MetricStore store;
  Statistics latencies;
  for (int i = 1; i <= 1000; ++i) latencies.Add(i / 1000.0);  // 1 ms .. 1 s
  store.Add(kRequests, kT0, latencies);
  EXPECT_NEAR(Stat(store, "p50"), 0.5, 0.5 * 0.02);
  EXPECT_NEAR(Stat(store, "p99"), 0.99, 0.99 * 0.02);
  EXPECT_NEAR(Stat(store, "p99.9"), 0.999, 0.999 * 0.02);
  EXPECT_EQ(Stat(store, "p100"), 1.0);   // clamped to the maximum
  EXPECT_EQ(Stat(store, "p0"), 0.001);  // and to the minimum
}

TEST(MetricStore, KeepsTenSecondPointsForAnHourAndMinutePointsForADay) {
  MetricStore store;
  store.Add(kRequests, kT0, Samples({1}));
  store.Prune(kT0 + 3600 + 60);
  EXPECT_TRUE(store.Query(kRequests, kT0, kT0 + 60, 10, *ParseStatistic("Sum")).empty());
  ASSERT_EQ(store.Query(kRequests, kT0, kT0 + 60, 60, *ParseStatistic("Sum")).size(), 1u);
  store.Prune(kT0 + 24 * 3600 + 60);
  EXPECT_TRUE(store.Query(kRequests, kT0, kT0 + 60, 60, *ParseStatistic("Sum")).empty());
  EXPECT_EQ(store.series_count(), 0u);  // an empty series is forgotten
}

TEST(MetricStore, RefusesNewSeriesPastItsCapButKeepsAddingToKnownOnes) {
  MetricStore store(MetricLimits{.max_series = 2});
  MetricKey a = kRequests, b = kRequests, c = kRequests;
  b.name = "B";
  c.name = "C";
  EXPECT_TRUE(store.Add(a, kT0, Samples({1})));
  EXPECT_TRUE(store.Add(b, kT0, Samples({1})));
  EXPECT_FALSE(store.Add(c, kT0, Samples({1, 1})));
  EXPECT_TRUE(store.Add(a, kT0 + 10, Samples({1})));
  EXPECT_EQ(store.series_count(), 2u);
  EXPECT_EQ(store.dropped(), 2u);
}

TEST(MetricStore, ListsSeriesByNamespaceNameAndDimensions) {
  MetricStore store;
  MetricKey tg{"AWS/ApplicationELB", "RequestCount",
               SortedDimensions({{"TargetGroup", "targetgroup/web/1"}, {"LoadBalancer", "app/demo/1"}})};
  MetricKey ecs{"ECS/ContainerInsights", "RunningTaskCount", {{"ClusterName", "demo"}, {"ServiceName", "web"}}};
  for (const auto& k : {kRequests, tg, ecs}) store.Add(k, kT0, Samples({1}));
  EXPECT_EQ(store.List("", "", {}).size(), 3u);
  EXPECT_EQ(store.List("AWS/ApplicationELB", "", {}).size(), 2u);
  EXPECT_EQ(store.List("", "RunningTaskCount", {}).size(), 1u);
  auto with_group = store.List("", "", {{"TargetGroup", ""}});
  ASSERT_EQ(with_group.size(), 1u);
  EXPECT_EQ(with_group[0], tg);
  EXPECT_EQ(store.List("", "", {{"LoadBalancer", "app/demo/1"}}).size(), 2u);
  EXPECT_TRUE(store.List("", "", {{"LoadBalancer", "app/other/2"}}).empty());
}

TEST(ParseStatistic, KnowsCloudWatchsStatisticsAndPercentiles) {
  for (const char* ok : {"Sum", "Average", "Minimum", "Maximum", "SampleCount", "p0", "p50", "p99.9", "p99.99",
                         "p100"}) {
    EXPECT_TRUE(ParseStatistic(ok)) << ok;
  }
  for (const char* bad : {"", "sum", "p", "p101", "p-1", "p99.999", "p.5", "p5.", "tm99", "IQM", "p1e2"}) {
    EXPECT_FALSE(ParseStatistic(bad)) << bad;
  }
}

}  // namespace
}  // namespace slipway::engine
