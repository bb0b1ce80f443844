// What a task's supervisor and the engine tell each other through the task's directory. The
// supervisor owns one container process and outlives the engine; these files are how a restarted
// engine finds it again and learns how its container ended.
//
//   <dir>/<name>.lock  held (flock) by the live supervisor for its whole life
//   <dir>/<name>.sup   who supervises: the supervisor's and the container's pid and start time
//   <dir>/<name>.exit  how the container ended, written just before the supervisor exits
//   <dir>/<name>.log   the container's stdout and stderr
#pragma once

#include <sys/types.h>

#include <csignal>

#include <optional>
#include <string>

#include "base/proc.h"
#include "base/result.h"

namespace slipway::engine {

/// A live supervisor and its container. A pid alone can be reused; pid plus start time cannot.
struct SupervisorRecord {
  pid_t supervisor_pid = 0;
  unsigned long long supervisor_start = 0;
  pid_t container_pid = 0;
  unsigned long long container_start = 0;
};

/// How a container ended.
struct ExitRecord {
  /// Exit code, or 128 + signal when a signal killed it.
  int code = 0;
  int signal = 0;
  /// Killed for passing its memory limit (the cgroup's OOM killer or the watchdog).
  bool out_of_memory = false;
  /// Set when the container never started (e.g. "exec /app: No such file or directory").
  std::string start_error;
};

/// The signals a supervisor handles itself (it forwards them, or reads SIGUSR1 as "kill"). It is
/// started with them already blocked, so one sent while it is still starting waits for it.
inline constexpr int kSupervisorSignals[] = {SIGCHLD, SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};

std::string LockPath(const std::string& dir, const std::string& name);
std::string SupervisorPath(const std::string& dir, const std::string& name);
std::string ExitPath(const std::string& dir, const std::string& name);
std::string LogPath(const std::string& dir, const std::string& name);

/// Writes `record` to `path` atomically (a temporary file renamed over it), mode 0600.
[[nodiscard]] Result<void> WriteSupervisorRecord(const std::string& path, const SupervisorRecord& record);
[[nodiscard]] Result<void> WriteExitRecord(const std::string& path, const ExitRecord& record);
/// nullopt when the file is missing or malformed.
std::optional<SupervisorRecord> ReadSupervisorRecord(const std::string& path);
std::optional<ExitRecord> ReadExitRecord(const std::string& path);

/// True while some process holds the lock at `path` (the supervisor is alive).
bool LockHeld(const std::string& path);

}  // namespace slipway::engine
