// Runs a task's containers. The exec runtime makes each container a host process owned by a
// supervisor (slipway-supervisor) that outlives the engine, so a restarted engine adopts tasks
// instead of restarting them.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "base/child_process.h"
#include "base/result.h"
#include "base/unique_fd.h"

namespace slipway::engine {

/// Everything needed to start one container.
struct ContainerLaunch {
  std::string task_id;
  std::string name;
  std::vector<std::string> argv;
  std::map<std::string, std::string> env;
  std::string cwd;
  /// The task's directory: the container's log and its supervisor's records live here.
  std::string task_dir;
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
  /// Why it never ran or why its end is unknown, in ECS's words (e.g. "CannotStartContainerError:
  /// …"); empty for a container that ran and exited.
  std::string reason;
  /// The container never started (its task failed to start).
  bool failed_to_start = false;
};

/// What Adopt() found for a container a previous engine started.
enum class Adoption {
  kAdopted,     ///< its supervisor runs; the container is this runtime's now
  kEnded,       ///< it ended while no engine watched; Reap() reports how
  kNotStarted,  ///< no supervisor ever ran for it
};

/// Starts, adopts, signals and reaps task containers.
class TaskRuntime {
 public:
  virtual ~TaskRuntime() = default;
  [[nodiscard]] virtual Result<void> Start(const ContainerLaunch& launch) = 0;
  /// Takes over container `name` of `task_id`, found through the task's directory.
  virtual Adoption Adopt(const std::string& task_id, const std::string& name, const std::string& task_dir) = 0;
  /// Sends `sig` to every container of the task that still runs.
  virtual void Signal(const std::string& task_id, int sig) = 0;
  /// Containers that ended since the last call.
  virtual std::vector<ContainerExit> Reap() = 0;
  /// How memory limits are enforced, for `slipway engine status`.
  virtual std::string MemoryEnforcement() const = 0;
};

/// Host processes: argv without a shell, an explicit environment, output to the task's log, each
/// owned by a slipway-supervisor process.
///
/// Memory limits use a cgroup per container (v2 `memory.max`, or v1 `memory.limit_in_bytes`)
/// when the engine may create one; the kernel then OOM-kills the container. Where it may not (no
/// root, no memory controller), the supervisor samples the container's resident set every 100 ms
/// and kills it with SIGKILL once it passes the limit.
///
/// Destroying the runtime leaves containers running: stopping tasks is the engine's decision.
class ExecRuntime final : public TaskRuntime {
 public:
  /// `supervisor` is the slipway-supervisor executable (default: next to this program).
  /// `use_cgroups` false forces the resident-set watchdog (also: SLIPWAY_MEMORY_WATCHDOG=1).
  explicit ExecRuntime(bool use_cgroups = true, std::string supervisor = "");
  ~ExecRuntime() override;
  ExecRuntime(const ExecRuntime&) = delete;
  ExecRuntime& operator=(const ExecRuntime&) = delete;

  [[nodiscard]] Result<void> Start(const ContainerLaunch& launch) override;
  Adoption Adopt(const std::string& task_id, const std::string& name, const std::string& task_dir) override;
  void Signal(const std::string& task_id, int sig) override;
  std::vector<ContainerExit> Reap() override;
  std::string MemoryEnforcement() const override;

  /// Removes the empty cgroups that engines no longer running left behind (containers of adopted
  /// tasks keep theirs). Returns how many it removed.
  int RemoveStaleCgroups();

 private:
  struct Container {
    UniqueFd pidfd;      ///< the supervisor, safe against pid reuse
    std::string dir;     ///< the task's directory
    bool child = false;  ///< started by this process, so this process reaps it
  };
  ContainerExit Ended(const std::string& task_id, const std::string& name, const Container& c);

  enum class CgroupMode { kNone, kV1, kV2 } mode_ = CgroupMode::kNone;
  std::string cgroup_parent_;  ///< where engines' cgroups live (v1 memory or v2 root)
  std::string cgroup_root_;    ///< this engine's cgroup under the parent
  std::string supervisor_;
  std::map<std::string, std::map<std::string, Container>> tasks_;
  std::vector<ContainerExit> ended_;  ///< found ended by Adopt(), reported by the next Reap()
};

}  // namespace slipway::engine
