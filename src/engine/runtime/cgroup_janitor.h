// Removes one engine's cgroups: a task's when it ends (again later while a lingering process
// keeps one busy), all of them when the engine stops, and at start those of tasks that no longer
// exist.
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "base/clock.h"

namespace slipway::engine {

/// Removes the cgroup directories at `relative` (e.g. "slipway-podman-<id>/<task>") and below,
/// deepest first, under `cgroup_fs` itself (v2) and under each hierarchy in it (v1 controllers).
/// Only empty ones go (the kernel refuses the others); true when none is left.
bool RemoveCgroupTree(const std::string& relative, const std::string& cgroup_fs = "/sys/fs/cgroup");

/// The cgroups under `base` (one engine's root, e.g. "slipway-exec-<id>"), in every hierarchy.
/// Each child of base is one name (a task's, or a task's container's). Thread-safe.
class CgroupJanitor {
 public:
  /// Attempts at removing a busy cgroup, the first one included.
  static constexpr int kMaxAttempts = 8;
  /// The wait before the first retry; it doubles after each (about two minutes in all).
  static constexpr Millis kFirstRetry{1000};

  explicit CgroupJanitor(std::string base, std::string cgroup_fs = "/sys/fs/cgroup");

  const std::string& Base() const { return base_; }
  /// Removes cgroup `name` (with everything under it) now; when the kernel still refuses (EBUSY: a
  /// process is leaving it), Retry() tries again later. True when it is gone now.
  bool Remove(const std::string& name, SteadyTime now);
  /// Tries again each busy cgroup whose time has come. One busy through kMaxAttempts attempts is
  /// no longer retried here: it is reported by GivenUp(), and RemoveAll() at engine stop or the
  /// next engine's RemoveLeftovers() removes it. Returns how many went.
  int Retry(SteadyTime now);
  /// Names Retry() will still try.
  std::vector<std::string> Pending() const;
  /// Names that stayed busy through every attempt.
  std::vector<std::string> GivenUp() const;
  /// At start: removes every child of base that `keep` (given the child's name) does not claim,
  /// so the cgroups of this engine's tasks that no longer exist go. Busy ones stay (and are
  /// retried). Returns how many children went.
  int RemoveLeftovers(const std::function<bool(const std::string&)>& keep, SteadyTime now);
  /// At engine stop: removes base and everything under it, trying busy ones again every `wait`
  /// up to `attempts` times. True when nothing is left.
  bool RemoveAll(int attempts = 1, Millis wait = Millis(0));

 private:
  struct Busy {
    int attempts = 0;
    SteadyTime next;
  };
  bool RemoveLocked(const std::string& name, SteadyTime now);

  const std::string base_, cgroup_fs_;
  mutable std::mutex mu_;
  std::map<std::string, Busy> busy_;
  std::vector<std::string> given_up_;
};

}  // namespace slipway::engine
