// The container runtime: each task is a podman pod in the engine's task network, with its own
// IP, and each container a podman container in it, run from its image.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "base/unique_fd.h"
#include "engine/runtime/runtime.h"
#include "engine/runtime/task_network.h"

namespace slipway::engine {

/// True for an image reference podman may be given: ECS's characters, no leading '-'.
bool IsImageReference(const std::string& image);

/// Runs task containers with rootful podman. Starting is slow (a pull, a pod, a container), so
/// Start() queues the work and returns; Running() and Reap() report the outcome. Containers run
/// under podman's conmon and outlive the engine; a restarted engine adopts them by their labels.
/// Destroying the runtime finishes queued work and leaves containers running.
class PodmanRuntime final : public TaskRuntime {
 public:
  explicit PodmanRuntime(TaskNetwork& network);
  ~PodmanRuntime() override;
  PodmanRuntime(const PodmanRuntime&) = delete;
  PodmanRuntime& operator=(const PodmanRuntime&) = delete;

  /// Credentials for pulls from `registry` (host:port), e.g. the engine's own ECR.
  void SetRegistryCredentials(const std::string& registry, const std::string& user, const std::string& password);

  [[nodiscard]] Result<void> Start(const ContainerLaunch& launch) override;
  Adoption Adopt(const std::string& task_id, const std::string& name, const std::string& task_dir) override;
  void Signal(const std::string& task_id, int sig) override;
  void SignalContainer(const std::string& task_id, const std::string& name, int sig) override;
  void CancelStarts(const std::string& task_id) override;
  std::vector<ContainerExit> Reap() override;
  std::string MemoryEnforcement() const override;
  /// From each task's cgroup (the --cgroup-parent of its containers): v2's cpu.stat and
  /// memory.current, or v1's cpuacct and memory hierarchies.
  std::map<std::string, ResourceUse> Usage(const std::set<std::string>& task_ids) const override;
  bool StartsInBackground() const override { return true; }
  std::vector<ContainerRunning> Running() override;
  std::string TaskSubnet() const override { return TaskNetwork::kSubnet; }
  void Release(const std::string& task_id) override;
  std::vector<std::string> HealthCheckArgv(const std::string& task_id, const std::string& name) const override;
  std::map<std::string, std::string> HealthCheckEnv() const override { return network_.Env(); }
  /// Task cgroups are "<task id>" under the engine's "slipway-podman-<id>".
  int RemoveLeftoverCgroups(const std::set<std::string>& live_task_ids) override;
  /// The cgroup removals in progress.
  const CgroupJanitor& Janitor() const { return janitor_; }

  /// podman's name for container `name` of task `task_id`.
  static std::string ContainerName(const std::string& task_id, const std::string& name);
  /// podman's name for the pod of task `task_id`.
  static std::string PodName(const std::string& task_id);

 private:
  struct Container {
    UniqueFd conmon;       ///< pidfd of the container's conmon, once it runs
    bool ending = false;   ///< its end is being read
    bool ended = false;
    std::string stop_signal = "15";  ///< the image's STOPSIGNAL, read once it runs
  };
  struct TaskState {
    std::map<std::string, Container> containers;
    bool stopped = false;  ///< SIGKILL or CancelStarts was asked for: launches still queued are dropped
  };
  /// A queue served by one thread: launches go on one, signals and reads on the other, so that a
  /// slow pull never delays a stop.
  struct Queue {
    std::deque<std::function<void()>> jobs;
    std::thread thread;
  };

  void Post(Queue& q, std::function<void()> job);
  void Serve(Queue& q);
  /// On the launch queue: pull, pod, container.
  void Launch(const ContainerLaunch& launch);
  [[nodiscard]] Result<void> Pull(const std::string& image);
  [[nodiscard]] Result<void> CreatePod(const ContainerLaunch& launch);
  [[nodiscard]] Result<void> RunContainer(const ContainerLaunch& launch);
  /// On the control queue: how the container ended.
  void ReadExit(const std::string& task_id, const std::string& name);
  /// Containers this engine's podman knows, by "task/name", read once for adoption.
  void ListContainers();
  std::vector<std::string> Podman(std::initializer_list<std::string> args) const;
  /// The cgroup (under every controller) the task's containers run in, so their memory cgroups
  /// can be read after they end.
  std::string CgroupParent(const std::string& task_id) const;
  /// Whether the kernel OOM-killed a process of the container.
  bool OomKilled(const std::string& task_id, const std::string& container_id) const;
  /// Queues `podman kill` of a running container on the control queue. Called with mu_ held.
  void QueueKill(const std::string& task_id, const std::string& name, const Container& c, int sig);
  /// The container's STOPSIGNAL as podman reports it, or empty when it cannot tell.
  std::string ReadStopSignal(const std::string& container) const;

  TaskNetwork& network_;
  std::string auth_file_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  Queue launches_, control_;
  std::map<std::string, TaskState> tasks_;
  std::vector<ContainerExit> ended_;
  std::vector<ContainerRunning> running_;
  struct Found {
    std::string state;  ///< podman's: running, exited, created, …
    int exit_code = 0;
  };
  std::set<std::string> present_;                    ///< digests pulled (or found) here
  CgroupJanitor janitor_;                            ///< tasks' cgroups, busy ones retried by Reap()
  std::map<std::string, std::string> stop_signals_;  ///< image -> its STOPSIGNAL
  bool listed_ = false;
  std::map<std::string, Found> found_;
};

}  // namespace slipway::engine
