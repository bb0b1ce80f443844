// The engine's control plane: the ECS API and the reconciler that turns desired state into
// running tasks, over the ELBv2 half (LoadBalancing) that registers their targets and routes.
#pragma once

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
#include "engine/runtime.h"
#include "engine/store.h"

namespace slipway::engine {

struct ControlPlaneOptions {
  std::string data_dir;
  /// Address listeners bind to.
  std::string listener_host = "127.0.0.1";
  /// Environment passed to every exec container before the task definition's own.
  std::map<std::string, std::string> base_env;
};

/// The circuit breaker's failure threshold: clamp(ceil(0.5 x desiredCount), 3, 200).
int CircuitBreakerThreshold(int desired_count);

/// Owns the state. Every public method takes the lock; call from any thread.
class ControlPlane {
 public:
  ControlPlane(Clock& clock, TaskRuntime& runtime, DataPlane& data_plane, Store& store, LogService& logs,
               ControlPlaneOptions options);

  /// Restores state from the store, reopens listeners, and marks tasks whose processes are gone.
  [[nodiscard]] Result<void> Load();
  /// Serves one ECS JSON 1.1 operation.
  ApiResult HandleEcs(const std::string& op, const nlohmann::json& request);
  /// Serves one ELBv2 Query action.
  XmlResult HandleElb(const std::string& action, const QueryParams& params) { return lb_.Handle(action, params); }
  /// One reconciler pass: reap, advance task lifecycles, plan rollouts, schedule health checks.
  void Tick();
  /// Stops every task now (engine shutdown): SIGTERM, then SIGKILL after `grace`.
  void Shutdown(Millis grace);

 private:
  // ECS operations (ecs_api.cc).
  ApiResult CreateCluster(const nlohmann::json& r);
  ApiResult DescribeClusters(const nlohmann::json& r);
  ApiResult RegisterTaskDefinition(const nlohmann::json& r);
  ApiResult DescribeTaskDefinition(const nlohmann::json& r);
  ApiResult ListTaskDefinitions(const nlohmann::json& r);
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

  tl::expected<Cluster*, ApiError> FindCluster(const nlohmann::json& r);
  const nlohmann::json* FindTaskDefinition(const std::string& ref) const;
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
  void LaunchTask(Service& s, const std::string& deployment_id);
  bool StartContainers(Task& t, const nlohmann::json& task_definition);
  void ShipLogs(Task& t);
  void BeginStop(Task& t, const std::string& reason, const std::string& stop_code);
  void FinishStop(Task& t);
  TaskPhase PhaseOf(const Service& s, const Task& t) const;
  void AddEvent(Service& s, const std::string& message);
  void Persist();

  double Now() const { return core_.Now(); }

  SharedState core_;
  TaskRuntime& runtime_;
  Store& store_;
  LogService& logs_;
  ControlPlaneOptions options_;
  LoadBalancing lb_;
};

}  // namespace slipway::engine
