// Turns the tasks' cumulative CPU time and current memory into the percentages Fargate publishes
// as AWS/ECS CPUUtilization and MemoryUtilization per ClusterName and ServiceName.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "engine/control_plane.h"
#include "engine/metrics/request_meter.h"

namespace slipway::engine {

/// Remembers each task's last CPU reading, so that the CPU it used between two collections can be
/// told. Memory needs no history. Holds only the tasks of the last call. Not thread-safe.
class UtilizationMeter {
 public:
  /// Samples of one collection at wall time `now` (seconds): per service, one MemoryUtilization
  /// sample per measured task (percent of the task's memory), and one CPUUtilization sample per
  /// task measured at an earlier collection too (percent of the task's cpu units, 1024 per vCPU;
  /// a task without cpu units counts as 1 vCPU). The engine does not cap CPU, so a task can pass
  /// 100%. A reading lower than the last (a v1 member reaped elsewhere) counts as no use.
  std::vector<MetricSample> Sample(const std::vector<ServiceTaskUse>& tasks, double now);

 private:
  struct Reading {
    double cpu_seconds = 0;
    double at = 0;
  };
  std::map<std::string, Reading> last_;  ///< by task id
};

}  // namespace slipway::engine
