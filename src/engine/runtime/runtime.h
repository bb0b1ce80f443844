// Runs a task's containers. The exec runtime makes each container a host process.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "base/child_process.h"
#include "base/result.h"

namespace slipway::engine {

/// Everything needed to start one container.
struct ContainerLaunch {
  std::string task_id;
  std::string name;
  std::vector<std::string> argv;
  std::map<std::string, std::string> env;
  std::string cwd;
  std::string log_path;
  /// Hard memory limit in bytes; 0 means none.
  long long memory_limit_bytes = 0;
};

/// A container that ended, reported once by Reap().
struct ContainerExit {
  std::string task_id;
  std::string name;
  ExitStatus status;
  /// Killed for exceeding its memory limit.
  bool out_of_memory = false;
};

/// Starts, signals and reaps task containers.
class TaskRuntime {
 public:
  virtual ~TaskRuntime() = default;
  [[nodiscard]] virtual Result<void> Start(const ContainerLaunch& launch) = 0;
  /// Sends `sig` to every container of the task that still runs.
  virtual void Signal(const std::string& task_id, int sig) = 0;
  /// Containers that ended since the last call.
  virtual std::vector<ContainerExit> Reap() = 0;
  /// How memory limits are enforced, for `slipway engine status`.
  virtual std::string MemoryEnforcement() const = 0;
};

/// Host processes: argv without a shell, an explicit environment, output to a log file.
///
/// Memory limits use a cgroup per container (v2 `memory.max`, or v1 `memory.limit_in_bytes`)
/// when the engine may create one; the kernel then OOM-kills the container. Where it may not
/// (no root, no memory controller), a watchdog samples each container's resident set every
/// reap and kills it with SIGKILL once it passes the limit.
class ExecRuntime final : public TaskRuntime {
 public:
  /// `use_cgroups` false forces the resident-set watchdog (also: SLIPWAY_MEMORY_WATCHDOG=1).
  explicit ExecRuntime(bool use_cgroups = true);
  ~ExecRuntime() override;
  ExecRuntime(const ExecRuntime&) = delete;
  ExecRuntime& operator=(const ExecRuntime&) = delete;

  [[nodiscard]] Result<void> Start(const ContainerLaunch& launch) override;
  void Signal(const std::string& task_id, int sig) override;
  std::vector<ContainerExit> Reap() override;
  std::string MemoryEnforcement() const override;

 private:
  struct Container {
    ChildProcess process;
    long long memory_limit_bytes = 0;
    std::string cgroup;          ///< this container's cgroup dir, empty when watched instead
    bool killed_for_memory = false;
  };
  bool OutOfMemory(Container& c) const;

  enum class CgroupMode { kNone, kV1, kV2 } mode_ = CgroupMode::kNone;
  std::string cgroup_root_;  ///< the engine's parent cgroup, removed on destruction
  std::map<std::string, std::map<std::string, Container>> tasks_;
};

}  // namespace slipway::engine
