// Runs a task's containers. The exec runtime makes each container a host process owned by a
// supervisor (slipway-supervisor) that outlives the engine, so a restarted engine adopts tasks
// instead of restarting them.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "base/child_process.h"
#include "base/result.h"
#include "base/unique_fd.h"
#include "engine/runtime/cgroup_janitor.h"
#include "engine/runtime/cgroup_usage.h"

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

  // What only a container runtime uses (the exec runtime runs `argv` on the host).
  std::string image;
  /// The container definition's entryPoint and command; unset means the image's own.
  std::optional<std::vector<std::string>> entry_point, command;
  /// The task's address in the task network; every container of the task shares it.
  std::string task_ip;
  /// The load balancers' DNS names, which the task resolves to where the engine's listeners
  /// are reachable from it.
  std::vector<std::string> load_balancer_names;
  std::string user;
  bool read_only_root = false;
  /// Run an init process as PID 1 (initProcessEnabled).
  bool init = false;
  /// The container definition's ulimits, as "name=soft:hard" (the runtime fits them to the host).
  std::vector<std::string> ulimits;
  /// Seconds between SIGTERM and SIGKILL when the runtime stops it on its own.
  int stop_timeout_seconds = 30;
  /// ECS healthCheck.command ("CMD" or "CMD-SHELL" first); empty when none.
  std::vector<std::string> health_command;
};

/// A container that a runtime starting in the background (see StartsInBackground()) reports
/// running, once, through Running().
struct ContainerRunning {
  std::string task_id;
  std::string name;
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
  /// Sends `sig` to every container of the task that still runs. SIGTERM stands for "stop": a
  /// runtime that knows the image's STOPSIGNAL sends that instead.
  virtual void Signal(const std::string& task_id, int sig) = 0;
  /// Sends `sig` to container `name` of the task, if it still runs (the same meaning of SIGTERM).
  virtual void SignalContainer(const std::string& task_id, const std::string& name, int sig) = 0;
  /// Drops the task's containers that are still to start; those running are left alone.
  virtual void CancelStarts(const std::string& task_id) { (void)task_id; }
  /// Containers that ended since the last call.
  virtual std::vector<ContainerExit> Reap() = 0;
  /// How memory limits are enforced, for `slipway engine status`.
  virtual std::string MemoryEnforcement() const = 0;

  /// Start() only accepts the container, which runs once Running() reports it (a pull and a
  /// container create happen in between); false when Start() returns with it running.
  virtual bool StartsInBackground() const { return false; }
  /// Containers that began running since the last call (runtimes that start in the background).
  virtual std::vector<ContainerRunning> Running() { return {}; }
  /// The subnet tasks get their own addresses in, or empty when tasks share the host's network.
  virtual std::string TaskSubnet() const { return ""; }
  /// The task has stopped and its output is read: what the runtime kept for it may go.
  virtual void Release(const std::string& task_id) { (void)task_id; }
  /// argv that runs container `name`'s health check once (exit 0 healthy), or empty when the
  /// engine runs the command itself.
  virtual std::vector<std::string> HealthCheckArgv(const std::string& task_id, const std::string& name) const {
    (void)task_id;
    (void)name;
    return {};
  }
  /// The environment HealthCheckArgv() runs with (added to the engine's).
  virtual std::map<std::string, std::string> HealthCheckEnv() const { return {}; }
  /// What the containers of each of `task_ids` use now, read from their cgroups; a task whose
  /// containers have no cgroup to read is absent. Safe from any thread.
  virtual std::map<std::string, ResourceUse> Usage(const std::set<std::string>& task_ids) const {
    (void)task_ids;
    return {};
  }
  /// At start, once tasks are adopted: removes this data dir's cgroups of tasks other than
  /// `live_task_ids` (those that may still run). Returns how many went.
  virtual int RemoveLeftoverCgroups(const std::set<std::string>& live_task_ids) {
    (void)live_task_ids;
    return 0;
  }
  /// At engine stop, after every task stopped: removes the engine's cgroups (retrying busy ones
  /// for a few seconds). Empty when none is left, else what stayed.
  virtual std::string RemoveAllCgroups() { return ""; }
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
  /// `cgroup_name` is the engine's cgroup, "slipway-exec-<data dir's engine id>", which every
  /// engine on that data dir shares and which only engine stop removes; empty means
  /// "slipway-engine-<pid>", this process's own, removed (when empty) as the runtime goes.
  explicit ExecRuntime(bool use_cgroups = true, std::string supervisor = "", std::string cgroup_name = "");
  ~ExecRuntime() override;
  ExecRuntime(const ExecRuntime&) = delete;
  ExecRuntime& operator=(const ExecRuntime&) = delete;

  [[nodiscard]] Result<void> Start(const ContainerLaunch& launch) override;
  Adoption Adopt(const std::string& task_id, const std::string& name, const std::string& task_dir) override;
  void Signal(const std::string& task_id, int sig) override;
  void SignalContainer(const std::string& task_id, const std::string& name, int sig) override;
  std::vector<ContainerExit> Reap() override;
  std::string MemoryEnforcement() const override;
  /// From each container's memory cgroup (made when the container has a memory limit), this
  /// engine's and those of the engines whose containers it adopted. On v1 the CPU time is that of
  /// the cgroup's member processes, as a v1 memory cgroup counts none.
  std::map<std::string, ResourceUse> Usage(const std::set<std::string>& task_ids) const override;

  /// Removes the empty "slipway-engine-<pid>" cgroups that engines no longer running left behind
  /// (containers of adopted tasks keep theirs). Returns how many it removed.
  int RemoveStaleCgroups();
  /// Container cgroups are "<task id>-<container>" under the engine's.
  int RemoveLeftoverCgroups(const std::set<std::string>& live_task_ids) override;
  std::string RemoveAllCgroups() override;
  /// The cgroup removals in progress (null without cgroups).
  const CgroupJanitor* Janitor() const { return janitor_.get(); }

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
  bool pid_named_ = true;      ///< cgroup_root_ is this process's alone
  std::unique_ptr<CgroupJanitor> janitor_;
  std::string supervisor_;
  std::map<std::string, std::map<std::string, Container>> tasks_;
  std::vector<ContainerExit> ended_;  ///< found ended by Adopt(), reported by the next Reap()
};

}  // namespace slipway::engine
