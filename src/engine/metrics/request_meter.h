// Counts the load balancer's requests on the proxy's hot path: each thread adds to counters of
// its own, and the engine folds them into metric samples every 10 seconds.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "engine/metrics/statistics.h"
#include "engine/metrics/time_series.h"

namespace slipway::engine {

/// A metric's samples over one collection interval.
struct MetricSample {
  MetricKey key;
  Statistics samples;
};

/// The proxy's request counts and latencies per load balancer and target group, published as
/// ALB publishes them (namespace AWS/ApplicationELB):
/// - per LoadBalancer: RequestCount, HTTPCode_ELB_4XX_Count, HTTPCode_ELB_5XX_Count;
/// - per LoadBalancer and TargetGroup: RequestCount, HTTPCode_Target_2XX/3XX/4XX/5XX_Count and
///   TargetResponseTime (seconds, one sample per response from a target).
/// Dimension values are the ARNs' resource parts: "app/name/id" and "targetgroup/name/id".
///
/// Record() takes only its thread's own lock, uncontended except while Collect() swaps that
/// thread's counters out, and allocates only the first time a thread sees a target group.
class RequestMeter {
 public:
  RequestMeter();
  ~RequestMeter();
  RequestMeter(const RequestMeter&) = delete;
  RequestMeter& operator=(const RequestMeter&) = delete;

  /// One answered request. `target_group_arn` is empty when the load balancer answered without
  /// routing to a group (no rule matched, a fixed response). `from_target` says the response came
  /// from a target, not from the load balancer (a 502 or 503 of its own); `seconds` is how long
  /// the target took, counted only then.
  void Record(const std::string& load_balancer_arn, const std::string& target_group_arn, int status,
              bool from_target, double seconds);

  /// What every thread recorded since the last call, as metric samples (counts as one sample
  /// each, the count being its value; latencies as one sample per response). Counters that
  /// stayed zero give no sample, as ALB publishes none for an idle interval.
  std::vector<MetricSample> Collect();

 private:
  /// Response latency bins kept per thread: values from 1 µs (bin kFirstLatencyBin) to about
  /// 20 minutes; others are clamped to the ends.
  static constexpr int32_t kFirstLatencyBin = -698;  // BinOf(1e-6)
  static constexpr size_t kLatencyBins = 1056;
  struct GroupCounters {
    uint64_t requests = 0;
    std::array<uint64_t, 4> target_classes{};  ///< 2XX, 3XX, 4XX, 5XX from targets
    uint64_t responses = 0;                      ///< from targets, with latency
    double latency_sum = 0, latency_min = 0, latency_max = 0;
    std::array<uint32_t, kLatencyBins> latency_bins{};
  };
  struct BalancerCounters {
    uint64_t requests = 0, elb_4xx = 0, elb_5xx = 0;
    std::unordered_map<std::string, GroupCounters> groups;
  };
  struct Shard {
    std::mutex mu;
    std::unordered_map<std::string, BalancerCounters> balancers;
  };
  Shard& ThisThreadsShard();

  const uint64_t id_;  ///< tells this meter's thread-local shards from another meter's
  std::mutex shards_mu_;
  std::vector<std::unique_ptr<Shard>> shards_;
};

/// "app/name/id" from a load balancer ARN, "targetgroup/name/id" from a target group's: the
/// resource part CloudWatch names them by.
std::string ArnResource(const std::string& arn);

}  // namespace slipway::engine
