// The engine's task network: one network namespace (with a mount namespace for podman's own
// mounts) that holds a bridge and every task's pod, so that tasks get their own IPs without the
// host's routes, addresses or firewall ever changing.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/netns.h"
#include "base/result.h"
#include "engine/runtime/cgroup_janitor.h"

namespace slipway::engine {

/// The namespaces and podman settings of one engine's task network, under <data-dir>/podman.
/// The namespaces are pinned by bind mounts there, so a SIGKILLed engine's tasks keep their
/// network and the next engine enters the same namespaces. Destroying the object leaves them;
/// Remove() takes them down.
class TaskNetwork {
 public:
  /// The subnet every engine's bridge uses: each engine has its own namespace, so they never meet.
  static constexpr const char* kSubnet = "10.213.0.0/16";
  static constexpr const char* kGateway = "10.213.0.1";

  /// Creates the namespaces, podman's configuration and the bridge network, or reuses them.
  [[nodiscard]] static Result<std::unique_ptr<TaskNetwork>> Open(const std::string& data_dir);

  /// podman with the engine's settings, run inside the task namespace (argv prefix).
  std::vector<std::string> PodmanInside() const;
  /// podman with the engine's settings in the host's namespaces: pulls reach registries there.
  std::vector<std::string> PodmanOnHost() const;
  /// The environment podman runs with (its configuration file among it).
  std::map<std::string, std::string> Env() const;
  /// This engine's podman network, and its label value on pods and containers.
  const std::string& NetworkName() const { return network_; }
  const std::string& EngineId() const { return engine_id_; }
  /// The cgroup (in every hierarchy) the engine's containers run under: "slipway-podman-<id>".
  std::string CgroupRoot() const { return "slipway-podman-" + engine_id_; }
  const NetNamespace& Namespace() const { return ns_; }

  /// Removes the engine's pods, its network, its cgroups and the namespaces. Best effort: returns
  /// the first error.
  [[nodiscard]] Result<void> Remove();

 private:
  TaskNetwork() = default;
  /// podman's run-time state for this engine (cleared at boot, as /run is).
  std::string RunDir() const;
  std::string dir_;        ///< <data-dir>/podman
  std::string engine_id_;  ///< random, kept across restarts
  std::string network_;
  NetNamespace ns_;
};

/// The data dir's engine id: 8 hex digits, random, made once and kept in <data-dir>/podman/engine-id.
/// Every engine on that data dir uses it, and only they: it names the data dir's cgroups
/// ("slipway-podman-<id>", "slipway-exec-<id>"), its podman network and its labels.
[[nodiscard]] Result<std::string> DataDirEngineId(const std::string& data_dir);

/// The ulimits podman needs on every container here: both nofile and nproc, each at most the host's
/// hard limit (podman fails otherwise), as "name=soft:hard".
std::vector<std::string> DefaultUlimits();

/// A task definition's ulimit.
struct Ulimit {
  std::string name;  ///< nofile, nproc, core, memlock, stack, …
  long long soft = 0, hard = 0;
};

/// The ulimits to pass podman for a container's `ulimits`: each within the host's hard limit (a
/// note in `warnings` for each one lowered or unknown), with nofile and nproc always present.
std::vector<std::string> ContainerUlimits(const std::vector<Ulimit>& wanted, std::vector<std::string>* warnings);

}  // namespace slipway::engine
