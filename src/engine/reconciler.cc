// The reconciler: task lifecycles, rolling updates and ECS service events.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <csignal>
#include <filesystem>
#include <fstream>

#include "aws/task_definition.h"
#include "base/strings.h"
#include "base/unique_fd.h"
#include "engine/control_plane.h"

namespace slipway::engine {

using nlohmann::json;

namespace {

constexpr size_t kMaxEvents = 100;
constexpr int kDefaultStopTimeoutSeconds = 30;
constexpr size_t kMaxStoppedTasks = 300;
constexpr double kStartupSeconds = 3;

// Asks the kernel for a free loopback port for a container without a fixed host port.
int FreePort() {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return 0;
  socklen_t len = sizeof addr;
  ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&addr), &len);
  return ntohs(addr.sin_port);
}

std::string ClusterName(const std::string& arn) { return arn.substr(arn.rfind('/') + 1); }

std::string TaskList(const std::vector<std::string>& ids) {
  std::vector<std::string> parts;
  for (const auto& id : ids) parts.push_back("(task " + id + ")");
  return Join(parts, " ");
}

}  // namespace

ControlPlane::ControlPlane(Clock& clock, TaskRuntime& runtime, DataPlane& data_plane, Store& store, LogService& logs,
                           ControlPlaneOptions options)
    : core_(clock),
      runtime_(runtime),
      store_(store),
      logs_(logs),
      options_(std::move(options)),
      lb_(core_, data_plane, options_.listener_host) {}

Result<void> ControlPlane::Load() {
  std::lock_guard lock(core_.mu);
  auto doc = store_.Get("state");
  if (!doc) return tl::unexpected(doc.error());
  if (!doc->empty()) {
    auto j = json::parse(*doc, nullptr, false);
    if (j.is_discarded()) return Fail("engine state is corrupt (not JSON)");
    core_.state = StateFromJson(j);
  }
  // Processes do not survive the engine: tasks that were alive are recorded as stopped, and the
  // reconciler starts replacements for services below their desired count.
  for (auto& [id, t] : core_.state.tasks) {
    if (t.last_status == "STOPPED") continue;
    if (t.stopped_reason.empty()) {
      t.stopped_reason = "Task stopped because the slipway engine restarted";
      t.stop_code = "TaskFailedToStart";
    }
    FinishStop(t);
  }
  core_.dirty = true;
  return lb_.Restore();
}

void ControlPlane::AddEvent(Service& s, const std::string& message) {
  s.events.push_front({NewEventId(), Now(), "(service " + s.name + ") " + message});
  while (s.events.size() > kMaxEvents) s.events.pop_back();
  core_.dirty = true;
}

void ControlPlane::Tick() {
  std::lock_guard lock(core_.mu);
  ReapContainers();
  AdvanceTasks();
  RunContainerHealthChecks();
  for (auto& [id, t] : core_.state.tasks) {
    if (t.last_status != "STOPPED") ShipLogs(t);
  }
  for (auto& [key, s] : core_.state.services) {
    if (s.status == "ACTIVE") ReconcileService(s);
  }
  lb_.Tick();
  PruneStoppedTasks();
  Persist();
}

void ControlPlane::Persist() {
  if (!core_.dirty) return;
  if (auto r = store_.Put("state", ToJson(core_.state).dump()); r) core_.dirty = false;
}

void ControlPlane::ReapContainers() {
  for (const auto& exit : runtime_.Reap()) {
    auto it = core_.state.tasks.find(exit.task_id);
    if (it == core_.state.tasks.end()) continue;
    Task& t = it->second;
    for (auto& c : t.containers) {
      if (c.name != exit.name) continue;
      c.last_status = "STOPPED";
      c.exit_code = exit.status.code;
      if (exit.out_of_memory) c.reason = "OutOfMemoryError: Container killed due to memory usage";
    }
    ShipLogs(t);
    if (t.desired_status != "STOPPED") {
      t.stopped_reason = "Essential container in task exited";
      t.stop_code = "EssentialContainerExited";
      t.desired_status = "STOPPED";
      t.stopping_at = Now();
    }
    bool all_stopped = std::all_of(t.containers.begin(), t.containers.end(),
                                   [](const ContainerState& c) { return c.last_status == "STOPPED"; });
    if (all_stopped) FinishStop(t);
  }
}

void ControlPlane::FinishStop(Task& t) {
  if (!t.target_group_arn.empty()) {
    if (lb_.HasTargetGroup(t.target_group_arn)) {
      // A task that died on its own is taken out of routing at once.
      lb_.RemoveTarget(t.target_group_arn, t.target_port);
      if (!t.service_name.empty() && t.last_status == "RUNNING") {
        auto svc = core_.state.services.find(t.cluster_arn + "/" + t.service_name);
        if (svc != core_.state.services.end()) {
          AddEvent(svc->second, "deregistered 1 targets in (target-group " + t.target_group_arn + ")");
        }
      }
    }
    t.target_group_arn.clear();
  }
  for (auto& c : t.containers) c.last_status = "STOPPED";
  t.last_status = "STOPPED";
  t.desired_status = "STOPPED";
  t.stopped_at = Now();
  if (t.stopping_at == 0) t.stopping_at = t.stopped_at;
  ++t.version;
  core_.dirty = true;
}

void ControlPlane::BeginStop(Task& t, const std::string& reason, const std::string& stop_code) {
  t.desired_status = "STOPPED";
  t.stopping_at = Now();
  t.stopped_reason = reason;
  t.stop_code = stop_code;
  ++t.version;
  core_.dirty = true;
  if (t.last_status == "PROVISIONING" || t.last_status == "PENDING") {
    runtime_.Signal(t.id, SIGKILL);
    if (std::none_of(t.containers.begin(), t.containers.end(),
                     [](const ContainerState& c) { return c.last_status == "RUNNING"; })) {
      FinishStop(t);
    }
    return;
  }
  if (auto delay = lb_.DrainTarget(t.target_group_arn, t.target_port)) {
    t.last_status = "DEACTIVATING";
    t.drain_until = Now() + *delay;
    return;
  }
  t.last_status = "STOPPING";
  runtime_.Signal(t.id, SIGTERM);
  t.kill_at = Now() + kDefaultStopTimeoutSeconds;
}

namespace {

const json* ContainerOverride(const json& overrides, const std::string& name) {
  if (!overrides.is_object()) return nullptr;
  auto list = overrides.find("containerOverrides");
  if (list == overrides.end() || !list->is_array()) return nullptr;
  for (const auto& o : *list) {
    if (o.is_object() && o.value("name", "") == name) return &o;
  }
  return nullptr;
}

}  // namespace

bool ControlPlane::StartContainers(Task& t, const json& td) {
  std::string dir = options_.data_dir + "/tasks/" + t.id;
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  for (const auto& def : td["containerDefinitions"]) {
    ContainerState c;
    c.name = def.value("name", "");
    const json* override = ContainerOverride(t.overrides, c.name);
    std::vector<std::string> argv = def.value("entryPoint", std::vector<std::string>{});
    json command = override && override->contains("command") ? (*override)["command"] : def.value("command", json::array());
    for (const auto& a : command) argv.push_back(a.get<std::string>());
    std::map<std::string, std::string> env = options_.base_env;
    for (const auto& kv : def.value("environment", json::array())) env[kv.value("name", "")] = kv.value("value", "");
    if (override) {
      for (const auto& kv : override->value("environment", json::array())) env[kv.value("name", "")] = kv.value("value", "");
    }
    for (const auto& pm : def.value("portMappings", json::array())) {
      c.container_port = pm.value("containerPort", 0);
      c.host_port = pm.value("hostPort", 0);
      if (c.host_port == 0) c.host_port = FreePort();
      if (!env.count("PORT")) env["PORT"] = std::to_string(c.host_port);
      break;
    }
    c.log_path = dir + "/" + c.name + ".log";
    if (auto awslogs = aws::Awslogs(def, t.id)) {
      c.log_group = awslogs->group;
      c.log_stream = awslogs->stream;
      if (!awslogs->create_group && !logs_.GroupExists(c.log_group)) {
        c.reason = "ResourceInitializationError: failed to validate logger args: The specified log group does not "
                   "exist. : exit status 1 (awslogs-group " + c.log_group + ")";
      }
    }
    if (!c.reason.empty()) {
      // Start refused below.
    } else if (argv.empty()) {
      c.reason = "CannotStartContainerError: the exec runtime needs entryPoint or command in container " + c.name;
    } else {
      auto started = runtime_.Start({t.id, c.name, argv, env, def.value("workingDirectory", ""), c.log_path,
                                     aws::ContainerMemoryMib(td, def) * 1024 * 1024});
      if (started) c.last_status = "RUNNING";
      else c.reason = "CannotStartContainerError: " + started.error().message;
    }
    t.containers.push_back(c);
    if (!c.reason.empty()) {
      t.stopped_reason = c.reason;
      t.stop_code = "TaskFailedToStart";
      runtime_.Signal(t.id, SIGKILL);
      return false;
    }
  }
  return true;
}

void ControlPlane::ShipLogs(Task& t) {
  const int64_t now_ms = static_cast<int64_t>(Now() * 1000);
  for (auto& c : t.containers) {
    if (c.log_group.empty() || c.log_path.empty()) continue;
    std::error_code ec;
    auto size = static_cast<long>(std::filesystem::file_size(c.log_path, ec));
    if (ec || size <= c.log_offset) continue;
    std::ifstream in(c.log_path, std::ios::binary);
    in.seekg(c.log_offset);
    std::string chunk(static_cast<size_t>(size - c.log_offset), '\0');
    in.read(chunk.data(), static_cast<std::streamsize>(chunk.size()));
    // Ship whole lines; a partial last line waits, unless the container has stopped.
    size_t end = chunk.rfind('\n');
    bool final = c.last_status == "STOPPED";
    size_t take = end == std::string::npos ? (final ? chunk.size() : 0) : (final ? chunk.size() : end + 1);
    if (take == 0) continue;
    std::vector<LogLine> lines;
    for (const auto& line : Split(chunk.substr(0, take), '\n')) {
      if (!line.empty()) lines.push_back({now_ms, line});
    }
    if (logs_.Ingest(c.log_group, c.log_stream, lines, true, now_ms)) {
      c.log_offset += static_cast<long>(take);
      core_.dirty = true;
    }
  }
}

void ControlPlane::LaunchTask(Service& s, const std::string& deployment_id) {
  Task t;
  t.id = RandomHex(32);
  t.cluster_arn = s.cluster_arn;
  t.arn = std::string("arn:aws:ecs:us-east-1:") + kAccount + ":task/" + ClusterName(s.cluster_arn) + "/" + t.id;
  t.service_name = s.name;
  t.group = "service:" + s.name;
  t.started_by = deployment_id;
  for (const auto& d : s.deployments) {
    if (d.id == deployment_id) t.task_definition_arn = d.task_definition;
  }
  t.created_at = Now();
  core_.state.tasks[t.id] = t;
  core_.dirty = true;
}

void ControlPlane::AdvanceTasks() {
  const double now = Now();
  for (auto& [id, t] : core_.state.tasks) {
    if (t.last_status == "PROVISIONING") {
      t.last_status = "PENDING";
      const json* td = FindTaskDefinition(t.task_definition_arn);
      if (td == nullptr || !StartContainers(t, *td)) {
        if (td == nullptr) {
          t.stopped_reason = "TaskFailedToStart: task definition not found";
          t.stop_code = "TaskFailedToStart";
        }
        FinishStop(t);
        continue;
      }
      t.last_status = "RUNNING";
      t.started_at = now;
      ++t.version;
      core_.dirty = true;
      auto svc = core_.state.services.find(t.cluster_arn + "/" + t.service_name);
      if (svc == core_.state.services.end() || svc->second.load_balancers.empty()) continue;
      const json& lb = svc->second.load_balancers[0];
      const std::string tg_arn = lb.value("targetGroupArn", "");
      for (const auto& c : t.containers) {
        if (c.name != lb.value("containerName", "") || c.host_port == 0) continue;
        if (!lb_.RegisterTarget(tg_arn, c.host_port)) continue;
        t.target_group_arn = tg_arn;
        t.target_port = c.host_port;
        AddEvent(svc->second, "registered 1 targets in (target-group " + tg_arn + ")");
      }
    } else if (t.last_status == "DEACTIVATING" && now >= t.drain_until) {
      t.last_status = "STOPPING";
      runtime_.Signal(t.id, SIGTERM);
      int timeout = kDefaultStopTimeoutSeconds;
      if (const json* td = FindTaskDefinition(t.task_definition_arn)) {
        timeout = (*td)["containerDefinitions"][0].value("stopTimeout", kDefaultStopTimeoutSeconds);
      }
      t.kill_at = now + timeout;
      ++t.version;
      core_.dirty = true;
    } else if (t.last_status == "STOPPING" && t.kill_at > 0 && now >= t.kill_at) {
      runtime_.Signal(t.id, SIGKILL);
      t.kill_at = 0;
    }
  }
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
  const auto target = lb_.TargetState(t.target_group_arn, t.target_port);
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
    core_.dirty = true;
  }
  if (t.desired_status == "STOPPED" && !t.failure_counted && IsFailedTask(t)) {
    const double now = Now();
    t.failure_counted = true;
    ++d->failed_tasks;
    d->updated_at = now;
    // Back off relaunches as ECS's scheduler does, so a crash loop does not spin.
    double delay = std::min(0.5 * (1 << std::min(d->failed_tasks - 1, 6)), 30.0);
    s.launch_not_before = std::max(s.launch_not_before, now + delay);
    core_.dirty = true;
  }
}

void ControlPlane::TripCircuitBreaker(Service& s) {
  Deployment& failed = s.deployments.front();
  failed.rollout_state = "FAILED";
  failed.rollout_state_reason = "ECS deployment circuit breaker: tasks failed to start.";
  failed.updated_at = Now();
  AddEvent(s, "(deployment " + failed.id + ") deployment failed: tasks failed to start.");
  const Deployment target = s.last_completed;
  if (!s.circuit_breaker_rollback || target.id.empty() || target.id == failed.id) return;
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
    for (int i = 0; i < plan.start; ++i) {
      LaunchTask(s, primary.id);
    }
    // AdvanceTasks ran first this tick, so every PROVISIONING task of the service is new.
    for (const auto& [id, t] : core_.state.tasks) {
      if (t.service_name == s.name && t.cluster_arn == s.cluster_arn && t.last_status == "PROVISIONING") started.push_back(id);
    }
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
    AddEvent(s, "(deployment " + primary.id + ") deployment completed.");
    AddEvent(s, "has reached a steady state.");
  }
}

void ControlPlane::PruneStoppedTasks() {
  // ECS shows stopped tasks for about an hour; keep at most the newest kMaxStoppedTasks.
  const double cutoff = Now() - 3600;
  std::vector<std::pair<double, std::string>> stopped;
  for (const auto& [id, t] : core_.state.tasks) {
    if (t.last_status == "STOPPED") stopped.emplace_back(t.stopped_at, id);
  }
  std::sort(stopped.begin(), stopped.end(), std::greater<>());
  for (size_t i = 0; i < stopped.size(); ++i) {
    if (i >= kMaxStoppedTasks || stopped[i].first < cutoff) {
      core_.state.tasks.erase(stopped[i].second);
      core_.dirty = true;
    }
  }
}

void ControlPlane::Shutdown(Millis grace) {
  std::unique_lock lock(core_.mu);
  for (auto& [id, t] : core_.state.tasks) {
    if (t.last_status != "STOPPED") runtime_.Signal(id, SIGTERM);
  }
  const SteadyTime deadline = core_.clock.Now() + grace;
  for (;;) {
    ReapContainers();
    bool alive = std::any_of(core_.state.tasks.begin(), core_.state.tasks.end(),
                             [](const auto& kv) { return kv.second.last_status != "STOPPED"; });
    if (!alive || core_.clock.Now() >= deadline) break;
    lock.unlock();
    core_.clock.SleepFor(Millis(50));
    lock.lock();
  }
  for (auto& [id, t] : core_.state.tasks) {
    if (t.last_status == "STOPPED") continue;
    runtime_.Signal(id, SIGKILL);
  }
  ReapContainers();
  Persist();
}

}  // namespace slipway::engine
