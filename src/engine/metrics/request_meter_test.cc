#include "engine/metrics/request_meter.h"

#include <gtest/gtest.h>

#include <map>
#include <thread>

namespace slipway::engine {
namespace {

const std::string kLb = "arn:aws:elasticloadbalancing:us-east-1:000000000000:loadbalancer/app/demo/abc";
const std::string kTg = "arn:aws:elasticloadbalancing:us-east-1:000000000000:targetgroup/demo-web/def";

/// The collected samples by "MetricName LoadBalancer[ TargetGroup]".
std::map<std::string, Statistics> ByName(const std::vector<MetricSample>& samples) {
  std::map<std::string, Statistics> out;
  for (const auto& s : samples) {
    std::string name = s.key.name;
    EXPECT_EQ(s.key.name_space, "AWS/ApplicationELB");
    for (const auto& [dimension, value] : s.key.dimensions) name += " " + value;
    out[name] = s.samples;
  }
  return out;
}

TEST(ArnResource, NamesLoadBalancersAndTargetGroupsAsCloudWatchDoes) {
  EXPECT_EQ(ArnResource(kLb), "app/demo/abc");
  EXPECT_EQ(ArnResource(kTg), "targetgroup/demo-web/def");
}

TEST(RequestMeter, CountsRequestsAndStatusClassesPerLoadBalancerAndTargetGroup) {
  RequestMeter meter;
  meter.Record(kLb, kTg, 200, true, 0.010);
  meter.Record(kLb, kTg, 204, true, 0.030);
  meter.Record(kLb, kTg, 503, true, 0.020);
  meter.Record(kLb, kTg, 502, false, 0);  // the load balancer's own: no target answered
  meter.Record(kLb, "", 404, false, 0);   // no rule matched
  auto got = ByName(meter.Collect());
  const std::string both = " app/demo/abc targetgroup/demo-web/def";
  EXPECT_EQ(got.at("RequestCount app/demo/abc").sum, 5);
  EXPECT_EQ(got.at("HTTPCode_ELB_5XX_Count app/demo/abc").sum, 1);
  EXPECT_EQ(got.at("HTTPCode_ELB_4XX_Count app/demo/abc").sum, 1);
  EXPECT_EQ(got.at("RequestCount" + both).sum, 4);
  EXPECT_EQ(got.at("HTTPCode_Target_2XX_Count" + both).sum, 2);
  EXPECT_EQ(got.at("HTTPCode_Target_5XX_Count" + both).sum, 1);
  EXPECT_EQ(got.count("HTTPCode_Target_4XX_Count" + both), 0u);  // zero: no sample, as ALB
  const Statistics& latency = got.at("TargetResponseTime" + both);
  EXPECT_EQ(latency.count, 3u);  // the load balancer's own 502 took no target time
  EXPECT_DOUBLE_EQ(latency.min, 0.010);
  EXPECT_DOUBLE_EQ(latency.max, 0.030);
  EXPECT_NEAR(latency.sum, 0.060, 1e-12);
  EXPECT_NEAR(Compute(latency, *ParseStatistic("p50")), 0.020, 0.020 * 0.02);
}

TEST(RequestMeter, StartsEachIntervalFromZero) {
  RequestMeter meter;
  meter.Record(kLb, kTg, 200, true, 0.001);
  ASSERT_FALSE(meter.Collect().empty());
  EXPECT_TRUE(meter.Collect().empty());
  meter.Record(kLb, kTg, 200, true, 0.001);
  EXPECT_EQ(ByName(meter.Collect()).at("RequestCount app/demo/abc").sum, 1);
}

TEST(RequestMeter, SumsWhatEveryThreadRecordedIntoOneSamplePerSeries) {
  RequestMeter meter;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&meter] {
      for (int i = 0; i < 1000; ++i) meter.Record(kLb, kTg, 200, true, 0.002);
    });
  }
  for (auto& t : threads) t.join();
  auto samples = meter.Collect();
  auto got = ByName(samples);
  EXPECT_EQ(got.at("RequestCount app/demo/abc").sum, 4000);
  EXPECT_EQ(got.at("RequestCount app/demo/abc").count, 1u);  // one sample: the interval's count
  EXPECT_EQ(got.at("TargetResponseTime app/demo/abc targetgroup/demo-web/def").count, 4000u);
}

TEST(RequestMeter, ClampsLatenciesBeyondItsBinsToTheEndBins) {
  RequestMeter meter;
  meter.Record(kLb, kTg, 200, true, 0);
  meter.Record(kLb, kTg, 200, true, 1e6);
  const auto got = ByName(meter.Collect());
  const Statistics& latency = got.at("TargetResponseTime app/demo/abc targetgroup/demo-web/def");
  EXPECT_EQ(latency.count, 2u);
  EXPECT_EQ(latency.max, 1e6);
  EXPECT_EQ(Compute(latency, *ParseStatistic("p100")), 1e6);  // clamped to the true maximum
}

}  // namespace
}  // namespace slipway::engine
