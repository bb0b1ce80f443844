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
};

/// A container that ended, reported once by Reap().
struct ContainerExit {
  std::string task_id;
  std::string name;
  ExitStatus status;
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
};

/// Host processes: argv without a shell, an explicit environment, output to a log file.
class ExecRuntime final : public TaskRuntime {
 public:
  [[nodiscard]] Result<void> Start(const ContainerLaunch& launch) override;
  void Signal(const std::string& task_id, int sig) override;
  std::vector<ContainerExit> Reap() override;

 private:
  std::map<std::string, std::map<std::string, ChildProcess>> tasks_;
};

}  // namespace slipway::engine
