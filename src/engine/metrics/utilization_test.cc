// CPU and memory percentages from the tasks' cgroup readings, per service as Fargate reports them.
#include "engine/metrics/utilization.h"

#include <gtest/gtest.h>

namespace slipway::engine {
namespace {

ServiceTaskUse Task(const std::string& id, double cpu_seconds, int64_t memory_bytes,
                    double cpu_units = 256, double memory_mib = 512) {
  return {"demo-dev", "web", id, cpu_units, memory_mib, ResourceUse{cpu_seconds, memory_bytes}};
}

const Statistics* Find(const std::vector<MetricSample>& samples, const std::string& name) {
  for (const auto& s : samples) {
    if (s.key.name == name) {
      EXPECT_EQ(s.key.name_space, "AWS/ECS");
      EXPECT_EQ(s.key.dimensions, (std::vector<std::pair<std::string, std::string>>{
                                      {"ClusterName", "demo-dev"}, {"ServiceName", "web"}}));
      return &s.samples;
    }
  }
  return nullptr;
}

TEST(UtilizationMeter, MemoryIsPercentOfTheTasksMemory) {
  UtilizationMeter meter;
  auto samples = meter.Sample({Task("a", 1.0, 128LL << 20)}, 100);
  ASSERT_NE(Find(samples, "MemoryUtilization"), nullptr);
  EXPECT_DOUBLE_EQ(Find(samples, "MemoryUtilization")->max, 25.0);
  EXPECT_EQ(Find(samples, "CPUUtilization"), nullptr) << "CPU needs two readings";
}

TEST(UtilizationMeter, CpuIsTimeUsedPerReservedVcpuBetweenReadings) {
  // Given a task of 256 cpu units (a quarter vCPU) that used 0.5 s of CPU in 10 s.
  UtilizationMeter meter;
  (void)meter.Sample({Task("a", 1.0, 0), Task("b", 3.0, 0, 1024)}, 100);
  auto samples = meter.Sample({Task("a", 1.5, 0), Task("b", 3.0, 0, 1024)}, 110);
  const Statistics* cpu = Find(samples, "CPUUtilization");
  ASSERT_NE(cpu, nullptr);
  // Then: 0.05 vCPU of 0.25 is 20%; the idle task of 1 vCPU is 0%; one sample per task.
  EXPECT_EQ(cpu->count, 2u);
  EXPECT_DOUBLE_EQ(cpu->max, 20.0);
  EXPECT_DOUBLE_EQ(cpu->min, 0.0);
}

TEST(UtilizationMeter, ALowerReadingIsNoUseAndGoneTasksAreForgotten) {
  UtilizationMeter meter;
  (void)meter.Sample({Task("a", 5.0, 0)}, 100);
  auto samples = meter.Sample({Task("a", 4.0, 0)}, 110);
  ASSERT_NE(Find(samples, "CPUUtilization"), nullptr);
  EXPECT_DOUBLE_EQ(Find(samples, "CPUUtilization")->max, 0.0);
  (void)meter.Sample({}, 120);  // "a" stopped
  samples = meter.Sample({Task("a", 9.0, 0)}, 130);
  EXPECT_EQ(Find(samples, "CPUUtilization"), nullptr) << "a task seen again starts afresh";
}

TEST(UtilizationMeter, UnmeasuredTasksGiveNoSample) {
  UtilizationMeter meter;
  ServiceTaskUse t = Task("a", 1.0, 1);
  t.use.reset();
  EXPECT_TRUE(meter.Sample({t}, 100).empty());
}

}  // namespace
}  // namespace slipway::engine
