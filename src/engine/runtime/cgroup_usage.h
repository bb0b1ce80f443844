// Reads what a task's containers use from their cgroups: CPU time so far and memory in use, on
// cgroup v2 and on v1 (where the exec runtime's containers have only a memory cgroup).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace slipway::engine {

/// What one task's containers use, summed over them.
struct ResourceUse {
  /// CPU time consumed since the containers started, in seconds; only differences mean anything.
  double cpu_seconds = 0;
  /// Memory in use now, in bytes, without the page cache the kernel can drop (inactive files),
  /// as `docker stats` and ECS count it.
  int64_t memory_bytes = 0;

  ResourceUse& operator+=(const ResourceUse& o) {
    cpu_seconds += o.cpu_seconds;
    memory_bytes += o.memory_bytes;
    return *this;
  }
};

/// CPU seconds from a v2 cgroup's cpu.stat (usage_usec, kept even without the cpu controller).
std::optional<double> CpuSecondsV2(const std::string& dir);
/// CPU seconds from a v1 cpuacct cgroup's cpuacct.usage (nanoseconds).
std::optional<double> CpuSecondsV1(const std::string& cpuacct_dir);
/// CPU seconds of the processes in the cgroup at `dir` (its cgroup.procs), from `proc`/<pid>/stat:
/// user and system time with that of their reaped children. For a v1 memory cgroup, which counts no
/// CPU; time of members that ended and were reaped outside the cgroup is lost, so a caller must
/// treat a decrease as no use.
std::optional<double> MembersCpuSeconds(const std::string& dir, const std::string& proc = "/proc");
/// Memory in use from a v2 cgroup: memory.current less memory.stat's inactive_file.
std::optional<int64_t> MemoryBytesV2(const std::string& dir);
/// Memory in use from a v1 memory cgroup: memory.usage_in_bytes less memory.stat's
/// total_inactive_file.
std::optional<int64_t> MemoryBytesV1(const std::string& dir);

}  // namespace slipway::engine
