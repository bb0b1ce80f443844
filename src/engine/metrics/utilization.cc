// CPU percent is time used over time passed, per reserved vCPU, as Fargate computes it.
#include "engine/metrics/utilization.h"

namespace slipway::engine {

namespace {

constexpr const char* kEcs = "AWS/ECS";
constexpr double kCpuUnitsPerVcpu = 1024;
constexpr double kBytesPerMib = 1024.0 * 1024.0;

}  // namespace

std::vector<MetricSample> UtilizationMeter::Sample(const std::vector<ServiceTaskUse>& tasks,
                                                   double now) {
  std::map<MetricKey, Statistics> samples;
  std::map<std::string, Reading> seen;
  for (const auto& t : tasks) {
    if (!t.use) continue;
    auto key = [&t](const char* name) {
      return MetricKey{kEcs, name, {{"ClusterName", t.cluster}, {"ServiceName", t.service}}};
    };
    if (t.memory_mib > 0) {
      samples[key("MemoryUtilization")].Add(100.0 * static_cast<double>(t.use->memory_bytes) /
                                            (t.memory_mib * kBytesPerMib));
    }
    seen[t.task_id] = {t.use->cpu_seconds, now};
    auto last = last_.find(t.task_id);
    if (last == last_.end() || now <= last->second.at) continue;
    const double used = std::max(0.0, t.use->cpu_seconds - last->second.cpu_seconds);
    const double vcpus = (t.cpu_units > 0 ? t.cpu_units : kCpuUnitsPerVcpu) / kCpuUnitsPerVcpu;
    samples[key("CPUUtilization")].Add(100.0 * used / (now - last->second.at) / vcpus);
  }
  last_ = std::move(seen);
  std::vector<MetricSample> out;
  out.reserve(samples.size());
  for (auto& [key, stats] : samples) out.push_back({key, std::move(stats)});
  return out;
}

}  // namespace slipway::engine
