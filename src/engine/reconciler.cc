// The reconciler: rolling updates, the circuit breaker and ECS service events.
#include <csignal>

#include "base/strings.h"
#include "engine/control_plane.h"

namespace slipway::engine {

using nlohmann::json;

namespace {

constexpr size_t kMaxEvents = 100;
constexpr double kStartupSeconds = 3;

std::string TaskList(const std::vector<std::string>& ids) {
  std::vector<std::string> parts;
  for (const auto& id : ids) parts.push_back("(task " + id + ")");
  return Join(parts, " ");
}

}  // namespace

void ControlPlane::AddEvent(Service& s, const std::string& message) {
  s.events.push_front({NewEventId(), Now(), "(service " + s.name + ") " + message});
  while (s.events.size() > kMaxEvents) s.events.pop_back();
  Touch(s);
}

void ControlPlane::Tick() {
  std::lock_guard lock(core_.mu);
  if (core_.frozen) return;
  ReapContainers();
  AdvanceTasks();
  RunContainerHealthChecks();
  for (auto& [id, t] : core_.state.tasks) {
    if (t.last_status != "STOPPED") ShipLogs(t);
  }
  // A stopped container's output ships a chunk per tick too, until none is left.
  for (auto it = unshipped_.begin(); it != unshipped_.end();) {
    auto t = core_.state.tasks.find(*it);
    it = t != core_.state.tasks.end() && ShipLogs(t->second) ? std::next(it) : unshipped_.erase(it);
  }
  for (auto& [key, s] : core_.state.services) {
    if (s.status == "ACTIVE") ReconcileService(s);
  }
  lb_.Tick();
  PruneStoppedTasks();
  if (auto r = Commit(); !r) std::fprintf(stderr, "slipway engine: %s\n", r.error().message.c_str());
}

TaskPhase ControlPlane::PhaseOf(const Service& s, const Task& t) const {
  if (t.desired_status == "STOPPED") return TaskPhase::kStopping;
  if (t.last_status != "RUNNING") return TaskPhase::kStarting;
  const bool in_grace = Now() - t.started_at < s.health_check_grace_period;
  if (HasContainerHealthCheck(t)) {
    // Container checks gate the task as ELB checks do; both must pass when both apply.
    if (t.health_status == "UNHEALTHY") return in_grace ? TaskPhase::kStarting : TaskPhase::kUnhealthy;
    if (t.health_status != "HEALTHY") return TaskPhase::kStarting;
  }
  if (s.load_balancers.empty()) {
    // With no health check at all, a task counts once it has stayed up through its start: one that
    // exits sooner never really started (ECS would not have marked it RUNNING), which is what the
    // circuit breaker counts.
    return HasContainerHealthCheck(t) || Now() - t.started_at >= kStartupSeconds ? TaskPhase::kHealthy
                                                                                : TaskPhase::kStarting;
  }
  const auto target = lb_.TargetState(t.target_group_arn, t.id, TargetIp(t), t.target_port);
  if (target == "healthy") return TaskPhase::kHealthy;
  if (target == "unhealthy" && !in_grace) return TaskPhase::kUnhealthy;
  return TaskPhase::kStarting;
}

int CircuitBreakerThreshold(int desired_count) {
  return std::clamp((desired_count + 1) / 2, 3, 200);
}

namespace {

// A task that stopped before it ever counted healthy, or that a health check failed, is a failed
// task for the circuit breaker; scheduler replacements and user stops are not.
bool IsFailedTask(const Task& t) {
  if (t.stop_code == "TaskFailedToStart") return true;
  if (t.stop_code == "EssentialContainerExited") return !t.counted_healthy;
  return t.stopped_reason.rfind("Task failed ELB health checks", 0) == 0 ||
         t.stopped_reason.rfind("Task failed container health checks", 0) == 0;
}

Deployment* FindDeployment(Service& s, const std::string& id) {
  for (auto& d : s.deployments) {
    if (d.id == id) return &d;
  }
  return nullptr;
}

}  // namespace

void ControlPlane::CountTaskOutcome(Service& s, Task& t, TaskPhase phase) {
  Deployment* d = FindDeployment(s, t.started_by);
  if (d == nullptr) return;
  if (phase == TaskPhase::kHealthy && !t.counted_healthy) {
    t.counted_healthy = true;
    d->failed_tasks = 0;  // resetOnHealthyTask: the consecutive model ECS defaults to
    Touch(t);
    Touch(s);
  }
  if (t.desired_status == "STOPPED" && !t.failure_counted && IsFailedTask(t)) {
    const double now = Now();
    t.failure_counted = true;
    ++d->failed_tasks;
    d->updated_at = now;
    // Back off relaunches as ECS's scheduler does, so a crash loop does not spin.
    double delay = std::min(0.5 * (1 << std::min(d->failed_tasks - 1, 6)), 30.0);
    s.launch_not_before = std::max(s.launch_not_before, now + delay);
    Touch(t);
    Touch(s);
  }
}

void ControlPlane::TripCircuitBreaker(Service& s) {
  Deployment& failed = s.deployments.front();
  failed.rollout_state = "FAILED";
  failed.rollout_state_reason = "ECS deployment circuit breaker: tasks failed to start.";
  failed.updated_at = Now();
  AddEvent(s, "(deployment " + failed.id + ") deployment failed: tasks failed to start.");
  const Deployment target = s.last_completed;
  if (!s.circuit_breaker_rollback || target.id.empty() || target.id == failed.id) {
    FailServiceDeployment(s, failed, "");
    return;
  }
  FailServiceDeployment(s, failed, target.id);
  // The last COMPLETED deployment becomes PRIMARY again under its own id.
  Deployment restored = target;
  restored.status = "PRIMARY";
  restored.rollout_state = "IN_PROGRESS";
  restored.rollout_state_reason = "ECS deployment circuit breaker: rolling back to deploymentId " + target.id + ".";
  restored.desired_count = s.desired_count;
  restored.failed_tasks = 0;
  restored.updated_at = Now();
  std::erase_if(s.deployments, [&](const Deployment& d) { return d.id == target.id; });
  for (auto& d : s.deployments) d.status = "ACTIVE";
  s.deployments.front().desired_count = 0;
  s.deployments.insert(s.deployments.begin(), restored);
  s.task_definition = restored.task_definition;
  s.launch_not_before = 0;
  AddEvent(s, "rolling back to deployment " + target.id + ".");
}

void ControlPlane::ReconcileService(Service& s) {
  if (s.deployments.empty()) return;
  // One pass over the service's tasks: each live task's phase for the planner, and every task's
  // outcome for the circuit breaker.
  PlanInput in{s.desired_count, s.maximum_percent, s.minimum_healthy_percent, "", {}};
  for (auto& [id, t] : core_.state.tasks) {
    if (t.service_name != s.name || t.cluster_arn != s.cluster_arn) continue;
    const bool stopped = t.last_status == "STOPPED";
    const TaskPhase phase = stopped ? TaskPhase::kStopping : PhaseOf(s, t);
    if (!stopped) in.tasks.push_back({id, t.started_by, phase});
    CountTaskOutcome(s, t, phase);
  }
  if (s.circuit_breaker_enable && s.deployments.front().rollout_state == "IN_PROGRESS" &&
      s.deployments.front().failed_tasks >= CircuitBreakerThreshold(s.desired_count)) {
    TripCircuitBreaker(s);
  }
  Deployment& primary = s.deployments.front();
  in.primary_deployment_id = primary.id;
  Plan plan = PlanRollingUpdate(in);
  // A FAILED deployment launches no new tasks; a backing-off one waits.
  if (primary.rollout_state == "FAILED" || Now() < s.launch_not_before) plan.start = 0;
  // The engine's task limit caps what a rollout may add (maximumPercent above it waits, as ECS
  // waits for capacity).
  plan.start = std::min(plan.start, std::max(0, options_.max_tasks - LiveTaskCount()));

  std::vector<std::string> replaced;
  for (const auto& stop : plan.stops) {
    Task& t = core_.state.tasks[stop.task_id];
    if (stop.cause == StopCause::kUnhealthy) {
      if (t.health_status == "UNHEALTHY") {
        BeginStop(t, "Task failed container health checks", "ServiceSchedulerInitiated");
        AddEvent(s, "(task " + t.id + ") failed container health checks.");
      } else {
        BeginStop(t, "Task failed ELB health checks in (target-group " + t.target_group_arn + ")",
                  "ServiceSchedulerInitiated");
        AddEvent(s, "(task " + t.id + ") (port " + std::to_string(t.target_port) + ") is unhealthy in (target-group " +
                        t.target_group_arn + ") due to (reason Health checks failed).");
      }
    } else {
      BeginStop(t, "Scaling activity initiated by (deployment " + t.started_by + ")", "ServiceSchedulerInitiated");
    }
    replaced.push_back(t.id);
  }
  if (!replaced.empty()) {
    AddEvent(s, "has stopped " + std::to_string(replaced.size()) + " running tasks: " + TaskList(replaced) + ".");
    std::map<std::string, int> draining;  // per deployment
    for (const auto& id : replaced) {
      if (core_.state.tasks[id].last_status == "DEACTIVATING") ++draining[core_.state.tasks[id].started_by];
    }
    for (const auto& [dep, n] : draining) {
      AddEvent(s, "deregistered " + std::to_string(n) + " targets in (target-group " +
                      s.load_balancers[0].value("targetGroupArn", "") + ")");
      s.events.push_front({NewEventId(), Now(), "(service " + s.name + ", taskSet " + dep +
                                                    ") has begun draining connections on " + std::to_string(n) + " tasks."});
    }
  }
  if (plan.start > 0) {
    std::vector<std::string> started;
    for (int i = 0; i < plan.start; ++i) started.push_back(LaunchTask(s, primary.id));
    AddEvent(s, "has started " + std::to_string(started.size()) + " tasks: " + TaskList(started) + ".");
    primary.updated_at = Now();
  }
  if (plan.blocked && !s.blocked_reported) {
    AddEvent(s, "was unable to stop or start tasks during a deployment because of the service deployment "
                "configuration. Update the minimumHealthyPercent or maximumPercent value and try again.");
    s.blocked_reported = true;
  }
  if (plan.steady && primary.rollout_state != "FAILED" &&
      (primary.rollout_state == "IN_PROGRESS" || s.deployments.size() > 1)) {
    primary.rollout_state = "COMPLETED";
    primary.rollout_state_reason = "ECS deployment " + primary.id + " completed.";
    primary.updated_at = Now();
    s.deployments.resize(1);
    s.last_completed = primary;
    CompleteServiceDeployment(s, primary);
    AddEvent(s, "(deployment " + primary.id + ") deployment completed.");
    AddEvent(s, "has reached a steady state.");
  }
}

}  // namespace slipway::engine
