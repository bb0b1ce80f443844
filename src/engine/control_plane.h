// The engine's control plane: the ECS API and the reconciler that turns desired state into
// running tasks, over the ELBv2 half (LoadBalancing) that registers their targets and routes.
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <string>

#include "base/clock.h"
#include "engine/api_types.h"
#include "engine/data_plane.h"
#include "engine/load_balancing.h"
#include "engine/logs.h"
#include "engine/model.h"
#include "engine/shared_state.h"
#include "engine/planner.h"
#include "engine/runtime/ip_pool.h"
#include "engine/runtime/port_pool.h"
#include "engine/runtime/runtime.h"
#include "engine/store.h"

namespace slipway::engine {

struct ControlPlaneOptions {
  std::string data_dir;
  /// Address listeners bind to.
  std::string listener_host = "127.0.0.1";
  /// Environment passed to every exec container before the task definition's own.
  std::map<std::string, std::string> base_env;
  /// The region the engine serves; its ARNs carry it.
  std::string region = "us-east-1";
  /// Most tasks that may be alive at once, across services and RunTask.
  int max_tasks = 128;
  /// Task launches per second; more wait their turn as PROVISIONING (ECS launches in batches).
  int launches_per_second = 20;
  /// Host ports handed to containers that name none.
  int first_task_port = 20000, last_task_port = 29999;
  /// Resolves a container's secrets[].valueFrom (Secrets Manager or SSM) at container start; the
  /// error is the task's stopped reason in ECS's words. Unset: every secret is missing.
  std::function<Result<std::string>(const std::string& value_from)> resolve_secret;
};

/// What Load() found.
struct LoadSummary {
  int adopted_tasks = 0;  ///< tasks whose containers still ran and are this engine's now
  int ended_tasks = 0;    ///< tasks that ended while no engine watched
  bool migrated = false;  ///< the store was converted from an older engine's format
};

/// One service's task counts, which the engine publishes as ECS/ContainerInsights metrics.
struct ServiceTaskCounts {
  std::string cluster, service;  ///< names, not ARNs
  int desired = 0, running = 0, pending = 0;
};

/// A running service task, what its task definition reserves, and what it uses: the engine
/// publishes these as AWS/ECS CPUUtilization and MemoryUtilization, as Fargate does.
struct ServiceTaskUse {
  std::string cluster, service, task_id;  ///< names, not ARNs
  double cpu_units = 0;                   ///< the task's cpu (1024 per vCPU); 0 when unset
  double memory_mib = 0;                  ///< the task's memory; 0 when unset
  std::optional<ResourceUse> use;         ///< nullopt when the runtime cannot measure the task
};

/// A target group's targets by health, per load balancer it serves, which the engine publishes as
/// HealthyHostCount and UnHealthyHostCount.
struct TargetHealthCounts {
  std::string load_balancer_arn, target_group_arn;
  int healthy = 0, unhealthy = 0;  ///< draining and initial targets count in neither
};

/// How much of the state the web console's snapshot holds at most.
struct ConsoleLimits {
  size_t services = 100;
  size_t events_per_service = 20;
  size_t releases_per_service = 10;
  size_t tasks = 200;
  size_t targets = 200;
};

/// The circuit breaker's failure threshold: clamp(ceil(0.5 x desiredCount), 3, 200).
int CircuitBreakerThreshold(int desired_count);

/// Owns the state. Every public method takes the lock; call from any thread.
class ControlPlane {
 public:
  ControlPlane(Clock& clock, TaskRuntime& runtime, DataPlane& data_plane, Store& store, LogService& logs,
               ControlPlaneOptions options);

  /// Restores state from the store, adopts the containers still running, and reopens listeners.
  [[nodiscard]] Result<LoadSummary> Load();
  /// Serves one ECS JSON 1.1 operation.
  ApiResult HandleEcs(const std::string& op, const nlohmann::json& request);
  /// Serves one ELBv2 Query action.
  XmlResult HandleElb(const std::string& action, const QueryParams& params);
  /// One reconciler pass: reap, advance task lifecycles, plan rollouts, schedule health checks.
  void Tick();
  /// Stops every task now (engine shutdown): SIGTERM, then SIGKILL after `grace`.
  void Shutdown(Millis grace);
  /// Commits outstanding changes and stops changing state (a restart hands over to a new engine,
  /// which adopts the tasks); later calls answer ServiceUnavailable.
  void Freeze();
  /// Undoes Freeze() when the successor never came, and returns true; returns false (and stays
  /// frozen) when another process has written the state since Freeze(): a successor that got as
  /// far as loading it may have changed it, so this engine's memory is stale.
  bool Unfreeze();
  /// Tasks alive now (not STOPPED), for `engine status`.
  int LiveTasks();
  /// Every active service's desired, running and pending task counts (task_counts.cc).
  std::vector<ServiceTaskCounts> TaskCounts();
  /// Every running service task with what it reserves and uses (task_counts.cc). Reads the
  /// tasks' cgroups outside the lock.
  std::vector<ServiceTaskUse> TaskUse();
  /// Every target group's health counts per load balancer (task_counts.cc).
  std::vector<TargetHealthCounts> TargetHealth();
  /// What the web console shows, within `limits` (console_snapshot.cc): {services (as
  /// DescribeServices, with their newest events), tasks (as DescribeTasks, live ones first),
  /// targets (group, address, health), releases (service deployments, newest first), truncated}.
  nlohmann::json ConsoleSnapshot(const ConsoleLimits& limits);

 private:
  // ECS operations (ecs_api.cc; task definitions in task_definitions_api.cc).
  ApiResult CreateCluster(const nlohmann::json& r);
  ApiResult DescribeClusters(const nlohmann::json& r);
  ApiResult RegisterTaskDefinition(const nlohmann::json& r);
  ApiResult DescribeTaskDefinition(const nlohmann::json& r);
  ApiResult ListTaskDefinitions(const nlohmann::json& r);
  ApiResult DeregisterTaskDefinition(const nlohmann::json& r);
  ApiResult DeleteTaskDefinitions(const nlohmann::json& r);
  ApiResult CreateService(const nlohmann::json& r);
  ApiResult UpdateService(const nlohmann::json& r);
  ApiResult DescribeServices(const nlohmann::json& r);
  ApiResult ListServices(const nlohmann::json& r);
  ApiResult ListTasks(const nlohmann::json& r);
  ApiResult DescribeTasks(const nlohmann::json& r);
  ApiResult StopTask(const nlohmann::json& r);
  ApiResult RunTask(const nlohmann::json& r);
  ApiResult TagResource(const nlohmann::json& r);
  ApiResult UntagResource(const nlohmann::json& r);
  ApiResult ListTagsForResource(const nlohmann::json& r);
  tl::expected<std::string, ApiError> CheckTaggable(const std::string& arn) const;
  ApiResult ListClusters(const nlohmann::json& r);
  /// `tags` with `added` ({key, value} each) put over it; refuses what ECS refuses.
  static tl::expected<nlohmann::json, ApiError> MergeTags(nlohmann::json tags, const nlohmann::json& added);

  // Service deployments and revisions (service_deployments.cc).
  ApiResult ListServiceDeployments(const nlohmann::json& r);
  ApiResult DescribeServiceDeployments(const nlohmann::json& r);
  ApiResult DescribeServiceRevisions(const nlohmann::json& r);
  /// A new Deployment `d` of `s` begins a service deployment (replacing any still going).
  void BeginServiceDeployment(Service& s, const Deployment& d);
  /// The circuit breaker failed `failed`; `rollback_to` is the Deployment it returns to, or "".
  void FailServiceDeployment(Service& s, const Deployment& failed, const std::string& rollback_to);
  /// Deployment `d` reached COMPLETED: its service deployment, or the rollback to it, succeeded.
  void CompleteServiceDeployment(Service& s, const Deployment& d);
  std::string ServiceDeploymentArn(const Service& s, const std::string& id) const;
  std::string ServiceRevisionArn(const Service& s, const std::string& deployment_id) const;
  nlohmann::json RevisionSummaryJson(const Service& s, const std::string& deployment_id) const;
  nlohmann::json ServiceDeploymentJson(const Service& s, const ServiceDeploymentRecord& r, bool brief) const;

  tl::expected<Cluster*, ApiError> FindCluster(const nlohmann::json& r);
  /// Refuses `wanted` more tasks (beyond what `except` has) when they would pass max_tasks.
  tl::expected<void, ApiError> CheckTaskLimit(const Service* except, long long wanted, const std::string& what) const;
  /// A revision by ARN, "family:revision", or "family" (its newest ACTIVE revision); null when none.
  const nlohmann::json* FindTaskDefinition(const std::string& ref) const;
  nlohmann::json* MutableTaskDefinition(const std::string& ref);
  /// Whether new tasks, services and deployments may use the revision: only ACTIVE ones.
  static bool Usable(const nlohmann::json& td) { return td.value("status", "") == "ACTIVE"; }
  Service* FindService(const Cluster& cluster, const std::string& name_or_arn);
  nlohmann::json ServiceJson(const Service& s) const;
  nlohmann::json TaskJson(const Task& t) const;
  void ApplyDeploymentConfiguration(Service& s, const nlohmann::json& config);

  // Reconciler (reconciler.cc).
  void ReapContainers();
  void AdvanceTasks();
  void ReconcileService(Service& s);
  void CountTaskOutcome(Service& s, Task& t, TaskPhase phase);
  void TripCircuitBreaker(Service& s);
  void PruneStoppedTasks();

  // Container health checks (container_health.cc).
  void RunContainerHealthChecks();
  bool HasContainerHealthCheck(const Task& t) const;
  struct RunningCheck {
    ChildProcess process;
    double deadline = 0;
  };
  std::map<std::string, RunningCheck> container_checks_;  ///< by "task-id/container"; not persisted
  /// Creates a PROVISIONING task of the deployment; returns its id.
  std::string LaunchTask(Service& s, const std::string& deployment_id);
  int LiveTaskCount() const;
  /// PROVISIONING -> PENDING: decides the task's containers (ports, log paths) without starting them.
  bool PrepareContainers(Task& t, const nlohmann::json& task_definition);
  /// Starts the task's PENDING containers; false when one could not start.
  bool StartContainers(Task& t, const nlohmann::json& task_definition);
  void AdoptTask(Task& t, LoadSummary& summary);
  /// SIGTERM to SIGKILL for one container: its stopTimeout (default 30, at most 120).
  int StopTimeoutSeconds(const Task& t, const std::string& container) const;
  void RegisterTarget(Task& t);
  std::string TaskDir(const Task& t) const { return options_.data_dir + "/tasks/" + t.id; }
  /// The address the task's target is registered at: its own, or the host's.
  std::string TargetIp(const Task& t) const { return t.ip.empty() ? options_.listener_host : t.ip; }
  /// Whether container `c`'s dependsOn conditions hold now; sets `failed` with the reason when they
  /// never will (a dependency ended wrongly, or startTimeout passed).
  bool DependenciesMet(const Task& t, const nlohmann::json& def, std::string& failed) const;
  /// Fills in how container `def` of `t` runs (the task definition and RunTask's overrides).
  ContainerLaunch LaunchFor(const Task& t, const ContainerState& c, const nlohmann::json& td,
                            const nlohmann::json& def) const;
  /// Adds container `def`'s secrets to `env`; the stopped reason when one cannot be read.
  std::string AddSecrets(const nlohmann::json& def, std::map<std::string, std::string>& env) const;
  void Touch(const Task& t) { core_.Touch(ObjectKind::kTask, t.id); }
  void Touch(const Service& s) { core_.Touch(ObjectKind::kService, s.cluster_arn + "/" + s.name); }
  /// Ships at most one bounded chunk per container; true when a container's log has more to ship.
  bool ShipLogs(Task& t);
  void BeginStop(Task& t, const std::string& reason, const std::string& stop_code);
  /// Stops a task's containers: gracefully (SignalStop) once any of them runs, else by killing
  /// whatever the runtime is starting.
  void StopContainers(Task& t);
  /// STOPPING: each container gets SIGTERM once every container that depends on it has stopped
  /// (reverse dependsOn order), then SIGKILL once its own stopTimeout has passed.
  void SignalStop(Task& t);
  /// Sends SIGTERM to the running containers of a STOPPING task that no running container
  /// depends on and that have not had it yet.
  void StopNextContainers(Task& t);
  /// SIGKILL for the containers of a STOPPING task whose stopTimeout has passed.
  void KillOverdueContainers(Task& t, double now);
  void FinishStop(Task& t);
  /// FinishStop() for a task meant to stop once none of its containers runs or is starting.
  void FinishIfDone(Task& t);
  TaskPhase PhaseOf(const Service& s, const Task& t) const;
  void AddEvent(Service& s, const std::string& message);
  /// Writes what changed since the last commit; the caller holds the lock.
  [[nodiscard]] Result<void> Commit();
  /// Commits what was changed before an API call (a failed tick's changes, health results); an
  /// error to answer with if that fails.
  [[nodiscard]] tl::expected<void, ApiError> CommitEarlierChanges(const std::string& error_code);
  /// Commit() for an API call: when it fails, the call's changes are undone in memory too, so
  /// what the caller is told (an error) is what happened.
  [[nodiscard]] Result<void> CommitOrRevert();

  double Now() const { return core_.Now(); }

  SharedState core_;
  TaskRuntime& runtime_;
  Store& store_;
  LogService& logs_;
  ControlPlaneOptions options_;
  LoadBalancing lb_;
  PortPool ports_;
  IpPool ips_;
  long long frozen_at_version_ = -1;  ///< the store's data_version when Freeze() ran
  std::set<std::string> unshipped_;  ///< stopped tasks whose output is not yet all shipped
  double launch_tokens_ = 0;   ///< launches allowed now (refilled at launches_per_second)
  double tokens_at_ = 0;       ///< when launch_tokens_ was last refilled
};

}  // namespace slipway::engine
