// Per-thread request counters and their fold into AWS/ApplicationELB samples.
#include "engine/metrics/request_meter.h"

#include <algorithm>
#include <atomic>

namespace slipway::engine {

namespace {

constexpr const char* kNamespace = "AWS/ApplicationELB";
const std::string kNoGroup;

std::atomic<uint64_t> next_meter_id{1};

/// The shard this thread last used, and which meter it belongs to.
struct CachedShard {
  uint64_t meter_id = 0;
  void* shard = nullptr;
};
thread_local CachedShard cached_shard;

Statistics Count(uint64_t n) {
  Statistics s;
  s.Add(static_cast<double>(n));
  return s;
}

}  // namespace

std::string ArnResource(const std::string& arn) {
  const size_t colon = arn.rfind(':');
  std::string resource = colon == std::string::npos ? arn : arn.substr(colon + 1);
  if (resource.starts_with("loadbalancer/")) resource.erase(0, std::string("loadbalancer/").size());
  return resource;
}

RequestMeter::RequestMeter() : id_(next_meter_id.fetch_add(1)) {}

RequestMeter::~RequestMeter() = default;

RequestMeter::Shard& RequestMeter::ThisThreadsShard() {
  if (cached_shard.meter_id == id_) return *static_cast<Shard*>(cached_shard.shard);
  std::lock_guard lock(shards_mu_);
  shards_.push_back(std::make_unique<Shard>());
  cached_shard = {id_, shards_.back().get()};
  return *shards_.back();
}

void RequestMeter::Record(const std::string& load_balancer_arn, const std::string& target_group_arn,
                          int status, bool from_target, double seconds) {
  Shard& shard = ThisThreadsShard();
  std::lock_guard lock(shard.mu);
  auto lb = shard.balancers.find(load_balancer_arn);
  if (lb == shard.balancers.end()) lb = shard.balancers.emplace(load_balancer_arn, BalancerCounters{}).first;
  BalancerCounters& b = lb->second;
  ++b.requests;
  if (!from_target) {
    b.elb_4xx += status >= 400 && status < 500;
    b.elb_5xx += status >= 500 && status < 600;
  }
  if (target_group_arn.empty()) return;
  auto tg = b.groups.find(target_group_arn);
  if (tg == b.groups.end()) tg = b.groups.emplace(target_group_arn, GroupCounters{}).first;
  GroupCounters& g = tg->second;
  ++g.requests;
  if (!from_target) return;
  if (status >= 200 && status < 600) ++g.target_classes[static_cast<size_t>(status / 100 - 2)];
  g.latency_min = g.responses == 0 ? seconds : std::min(g.latency_min, seconds);
  g.latency_max = g.responses == 0 ? seconds : std::max(g.latency_max, seconds);
  ++g.responses;
  g.latency_sum += seconds;
  const int64_t bin = BinOf(seconds) == kZeroBin ? 0 : int64_t{BinOf(seconds)} - kFirstLatencyBin;
  ++g.latency_bins[static_cast<size_t>(std::clamp<int64_t>(bin, 0, kLatencyBins - 1))];
}

std::vector<MetricSample> RequestMeter::Collect() {
  // Every shard's counters are summed first, so one sample per series goes out per interval.
  std::map<MetricKey, Statistics> sums;
  auto add = [&sums](const std::string& name, const std::string& lb, const std::string& tg,
                     const Statistics& s) {
    MetricKey key{kNamespace, name, {{"LoadBalancer", ArnResource(lb)}}};
    if (!tg.empty()) key.dimensions = SortedDimensions({{"LoadBalancer", ArnResource(lb)}, {"TargetGroup", ArnResource(tg)}});
    sums[key].Merge(s);
  };
  std::map<std::pair<std::string, std::string>, std::array<uint64_t, 7>> counts;
  std::lock_guard shards_lock(shards_mu_);
  for (auto& shard : shards_) {
    std::lock_guard lock(shard->mu);
    for (auto lb = shard->balancers.begin(); lb != shard->balancers.end();) {
      BalancerCounters& b = lb->second;
      auto& lb_counts = counts[{lb->first, kNoGroup}];
      lb_counts[0] += b.requests;
      lb_counts[1] += b.elb_4xx;
      lb_counts[2] += b.elb_5xx;
      for (auto tg = b.groups.begin(); tg != b.groups.end();) {
        GroupCounters& g = tg->second;
        if (g.requests == 0) {  // idle for a whole interval: forget it
          tg = b.groups.erase(tg);
          continue;
        }
        auto& tg_counts = counts[{lb->first, tg->first}];
        tg_counts[0] += g.requests;
        for (size_t i = 0; i < 4; ++i) tg_counts[3 + i] += g.target_classes[i];
        if (g.responses > 0) {
          Statistics latency;
          latency.count = g.responses;
          latency.sum = g.latency_sum;
          latency.min = g.latency_min;
          latency.max = g.latency_max;
          for (size_t i = 0; i < kLatencyBins; ++i) {
            latency.AddToBin(static_cast<int32_t>(i) + kFirstLatencyBin, g.latency_bins[i]);
          }
          add("TargetResponseTime", lb->first, tg->first, latency);
        }
        g = GroupCounters{};
        ++tg;
      }
      const bool idle = b.requests == 0;
      b.requests = b.elb_4xx = b.elb_5xx = 0;
      lb = idle && b.groups.empty() ? shard->balancers.erase(lb) : std::next(lb);
    }
  }
  static const char* const kBalancerMetrics[] = {"RequestCount", "HTTPCode_ELB_4XX_Count",
                                                 "HTTPCode_ELB_5XX_Count"};
  static const char* const kGroupMetrics[] = {"RequestCount", "", "", "HTTPCode_Target_2XX_Count",
                                              "HTTPCode_Target_3XX_Count", "HTTPCode_Target_4XX_Count",
                                              "HTTPCode_Target_5XX_Count"};
  for (const auto& [where, n] : counts) {
    const bool group = !where.second.empty();
    for (size_t i = 0; i < (group ? 7 : 3); ++i) {
      const char* name = group ? kGroupMetrics[i] : kBalancerMetrics[i];
      if (*name != '\0' && n[i] > 0) add(name, where.first, where.second, Count(n[i]));
    }
  }
  std::vector<MetricSample> out;
  out.reserve(sums.size());
  for (auto& [key, s] : sums) out.push_back({key, std::move(s)});
  return out;
}

}  // namespace slipway::engine
