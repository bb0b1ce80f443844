// Task lifecycles: restoring and adopting tasks after a restart, launching (PROVISIONING ->
// PENDING -> RUNNING), stopping (DEACTIVATING -> STOPPING -> STOPPED), log shipping and pruning.
#include <fcntl.h>
#include <linux/falloc.h>

#include <csignal>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>

#include "aws/task_definition.h"
#include "base/strings.h"
#include "engine/control_plane.h"
#include "engine/runtime/supervisor_files.h"

namespace slipway::engine {

using nlohmann::json;

namespace {

constexpr int kDefaultStopTimeoutSeconds = 30;
constexpr int kMaxStopTimeoutSeconds = 120;  // Fargate's limit
/// How long a container waits for its dependsOn conditions unless the dependency sets startTimeout.
constexpr int kDefaultStartTimeoutSeconds = 180;
constexpr size_t kMaxStoppedTasks = 300;
constexpr double kStoppedTaskSeconds = 3600;  // ECS shows stopped tasks for about an hour
/// Shipped log bytes a task's log file keeps on disk before they are punched out.
constexpr long kLogKeepBytes = 8L << 20;
/// Log bytes shipped per container per tick, at most (256 KiB every 100 ms).
constexpr size_t kShipChunkBytes = 256 << 10;

/// Running, or being started by the runtime (a stopping task's runtime kills it once it runs).
bool Runs(const ContainerState& c) { return c.last_status == "RUNNING" || (c.last_status == "PENDING" && c.launched); }

std::string ClusterName(const std::string& arn) { return arn.substr(arn.rfind('/') + 1); }

const json* ContainerOverride(const json& overrides, const std::string& name) {
  if (!overrides.is_object()) return nullptr;
  auto list = overrides.find("containerOverrides");
  if (list == overrides.end() || !list->is_array()) return nullptr;
  for (const auto& o : *list) {
    if (o.is_object() && o.value("name", "") == name) return &o;
  }
  return nullptr;
}

const json* ContainerDefinition(const json& td, const std::string& name) {
  for (const auto& def : td["containerDefinitions"]) {
    if (def.value("name", "") == name) return &def;
  }
  return nullptr;
}

// Frees the disk blocks of log bytes already shipped, keeping the file's offsets as they are (the
// supervisor appends, the shipper reads by offset).
long PunchShipped(const std::string& path, long shipped, long punched) {
  const long upto = shipped / 4096 * 4096;
  if (upto - punched < kLogKeepBytes) return punched;
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return punched;
  const bool ok = ::fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, upto) == 0;
  ::close(fd);
  return ok ? upto : punched;
}

struct K8sLogEntry {
  int64_t time_ms = 0;
  bool partial = false;
  std::string text;
};

// One line of podman's k8s-file log; nullopt when it is not one.
std::optional<K8sLogEntry> ParseK8sLogLine(std::string_view line) {
  const size_t a = line.find(' ');
  if (a == std::string_view::npos) return std::nullopt;
  const size_t b = line.find(' ', a + 1);
  if (b == std::string_view::npos || b + 2 > line.size() || (line[b + 1] != 'F' && line[b + 1] != 'P')) return std::nullopt;
  K8sLogEntry e;
  e.partial = line[b + 1] == 'P';
  e.text = std::string(line.substr(std::min(line.size(), b + 3)));
  const std::string stamp(line.substr(0, a));
  std::tm tm{};
  const char* rest = strptime(stamp.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  if (rest == nullptr) return e;
  int64_t ms = static_cast<int64_t>(timegm(&tm)) * 1000;
  if (*rest == '.') {
    int64_t frac = 0;
    int digits = 0;
    for (++rest; std::isdigit(static_cast<unsigned char>(*rest)); ++rest, ++digits) {
      if (digits < 3) frac = frac * 10 + (*rest - '0');
    }
    for (; digits < 3; ++digits) frac *= 10;
    ms += frac;
  }
  if (*rest == '+' || *rest == '-') {
    const int sign = *rest == '+' ? 1 : -1;
    const int hours = std::atoi(rest + 1), minutes = std::strlen(rest) >= 6 ? std::atoi(rest + 4) : 0;
    ms -= sign * (hours * 60 + minutes) * 60000LL;
  }
  e.time_ms = ms;
  return e;
}

}  // namespace

int ControlPlane::StopTimeoutSeconds(const Task& t, const std::string& container) const {
  int timeout = kDefaultStopTimeoutSeconds;
  if (const json* td = FindTaskDefinition(t.task_definition_arn)) {
    if (const json* def = ContainerDefinition(*td, container)) timeout = def->value("stopTimeout", kDefaultStopTimeoutSeconds);
  }
  return std::clamp(timeout, 2, kMaxStopTimeoutSeconds);
}

ControlPlane::ControlPlane(Clock& clock, TaskRuntime& runtime, DataPlane& data_plane, Store& store, LogService& logs,
                           ControlPlaneOptions options)
    : core_(clock, options.region),
      runtime_(runtime),
      store_(store),
      logs_(logs),
      options_(std::move(options)),
      lb_(core_, data_plane, options_.listener_host),
      ports_(options_.listener_host, options_.first_task_port, options_.last_task_port),
      ips_(runtime.TaskSubnet()) {}

Result<LoadSummary> ControlPlane::Load() {
  std::lock_guard lock(core_.mu);
  LoadSummary summary;
  auto state = store_.Load(&summary.migrated);
  if (!state) return tl::unexpected(state.error());
  core_.state = std::move(*state);
  for (auto& [id, t] : core_.state.tasks) {
    if (t.last_status != "STOPPED") AdoptTask(t, summary);
    if (t.last_status == "STOPPED") unshipped_.insert(id);  // the next tick ships what is left
  }
  std::set<std::string> live;
  for (const auto& [id, t] : core_.state.tasks) {
    if (t.last_status != "STOPPED") live.insert(id);
  }
  if (auto r = lb_.Restore(live); !r) return tl::unexpected(r.error());
  // Directories of tasks the state no longer has, unless a supervisor still runs there.
  std::error_code ec;
  for (const auto& dir : std::filesystem::directory_iterator(options_.data_dir + "/tasks", ec)) {
    const std::string id = dir.path().filename().string();
    if (core_.state.tasks.count(id)) continue;
    bool supervised = false;
    for (const auto& f : std::filesystem::directory_iterator(dir.path(), ec)) {
      supervised = supervised || (f.path().extension() == ".lock" && LockHeld(f.path().string()));
    }
    if (!supervised) std::filesystem::remove_all(dir.path(), ec);
  }
  // Likewise the cgroups of this data dir's tasks that no longer run (an engine killed before it
  // could remove them); only empty ones ever go.
  if (int removed = runtime_.RemoveLeftoverCgroups(live); removed > 0) {
    std::fprintf(stderr, "slipway engine: removed the cgroups of %d tasks that no longer run\n", removed);
  }
  if (auto r = Commit(); !r) return tl::unexpected(r.error());
  return summary;
}

void ControlPlane::AdoptTask(Task& t, LoadSummary& summary) {
  bool adopted = false, lost = false;
  if (!t.ip.empty()) ips_.Hold(t.ip, t.id);
  for (auto& c : t.containers) {
    if (c.host_port >= options_.first_task_port && c.host_port <= options_.last_task_port) {
      ports_.Hold(c.host_port, t.id);
    }
    if (c.last_status == "STOPPED") continue;
    switch (runtime_.Adopt(t.id, c.name, TaskDir(t))) {
      case Adoption::kAdopted:
        // Started before the engine could record it: it runs, so it must not be started again.
        c.last_status = "RUNNING";
        adopted = true;
        break;
      case Adoption::kEnded:
        break;  // the next Reap() reports how it ended
      case Adoption::kNotStarted:
        // A PENDING container was decided but never started: StartContainers starts it. One the
        // store says ran has no supervisor record: an engine before supervisors ran it.
        c.launched = false;
        if (c.last_status != "PENDING") {
          c.last_status = "STOPPED";
          c.reason = "the container was not found when the engine restarted";
          lost = true;
        }
        break;
    }
  }
  if (adopted) ++summary.adopted_tasks;
  const bool all_running = std::all_of(t.containers.begin(), t.containers.end(),
                                       [](const ContainerState& c) { return c.last_status == "RUNNING"; });
  if (!lost && t.last_status == "PENDING" && !t.containers.empty() && all_running) {
    t.last_status = "RUNNING";
    t.started_at = Now();
    ++t.version;
    Touch(t);
    if (t.desired_status == "RUNNING") RegisterTarget(t);
  }
  if (lost) {
    ++summary.ended_tasks;
    if (t.desired_status != "STOPPED") {
      t.stopped_reason = "Task stopped because the slipway engine restarted and its containers were gone";
      t.stop_code = "ServiceSchedulerInitiated";
    }
    runtime_.Signal(t.id, SIGKILL);
    FinishStop(t);
  }
}

Result<void> ControlPlane::Commit() {
  auto r = store_.Commit(core_.state, core_.touched);
  if (r) core_.touched.clear();
  return r;
}

tl::expected<void, ApiError> ControlPlane::CommitEarlierChanges(const std::string& error_code) {
  // Changes made outside an API call (a tick whose commit failed, health results) are committed
  // first, so that a call whose own commit fails reverts only what the call changed.
  if (auto r = Commit(); !r) {
    return tl::unexpected(ApiError{error_code, "The engine could not save its state: " + r.error().message, 500});
  }
  return {};
}

Result<void> ControlPlane::CommitOrRevert() {
  auto r = Commit();
  if (r) return r;
  if (auto reverted = store_.Revert(core_.state, core_.touched); reverted) {
    core_.touched.clear();
  } else {
    std::fprintf(stderr, "slipway engine: %s\n", reverted.error().message.c_str());
  }
  return r;
}

void ControlPlane::Freeze() {
  std::lock_guard lock(core_.mu);
  if (auto r = Commit(); !r) std::fprintf(stderr, "slipway engine: %s\n", r.error().message.c_str());
  core_.frozen = true;
  auto version = store_.DataVersion();
  frozen_at_version_ = version ? *version : -1;
}

bool ControlPlane::Unfreeze() {
  std::lock_guard lock(core_.mu);
  auto version = store_.DataVersion();
  if (!version || *version != frozen_at_version_) return false;
  core_.frozen = false;
  return true;
}

int ControlPlane::LiveTasks() {
  std::lock_guard lock(core_.mu);
  return LiveTaskCount();
}

int ControlPlane::LiveTaskCount() const {
  return static_cast<int>(std::count_if(core_.state.tasks.begin(), core_.state.tasks.end(),
                                        [](const auto& kv) { return kv.second.last_status != "STOPPED"; }));
}

void ControlPlane::ReapContainers() {
  for (const auto& run : runtime_.Running()) {
    auto it = core_.state.tasks.find(run.task_id);
    if (it == core_.state.tasks.end() || it->second.last_status == "STOPPED") continue;
    for (auto& c : it->second.containers) {
      if (c.name != run.name || c.last_status != "PENDING") continue;
      c.last_status = "RUNNING";
      c.started_at = Now();
    }
    // A container that came up after its task began stopping stops too (the runtime was told not
    // to start it, so this is only a start that was already under way).
    if (it->second.last_status == "STOPPING") StopNextContainers(it->second);
    Touch(it->second);
  }
  for (const auto& exit : runtime_.Reap()) {
    auto it = core_.state.tasks.find(exit.task_id);
    if (it == core_.state.tasks.end()) continue;
    Task& t = it->second;
    const json* td = FindTaskDefinition(t.task_definition_arn);
    const json* def = td ? ContainerDefinition(*td, exit.name) : nullptr;
    for (auto& c : t.containers) {
      if (c.name != exit.name) continue;
      c.last_status = "STOPPED";
      c.exit_code = exit.status.code;
      if (exit.out_of_memory) c.reason = "OutOfMemoryError: Container killed due to memory usage";
      if (!exit.reason.empty()) c.reason = exit.reason;
    }
    // A stopping task's next containers stop once those that depend on them have.
    if (t.last_status == "STOPPING") StopNextContainers(t);
    if (ShipLogs(t)) unshipped_.insert(t.id);
    // A container that is not essential may end (an init step, a one-off sidecar); the task runs on.
    const bool essential = def == nullptr || def->value("essential", true) || exit.failed_to_start;
    if (essential && t.desired_status != "STOPPED") {
      t.stopped_reason = exit.failed_to_start ? exit.reason : "Essential container in task exited";
      t.stop_code = exit.failed_to_start ? "TaskFailedToStart" : "EssentialContainerExited";
      t.desired_status = "STOPPED";
      t.stopping_at = Now();
      if (!t.target_group_arn.empty()) lb_.RemoveTarget(t.target_group_arn, t.id, TargetIp(t), t.target_port);
      // The task's other containers stop too, the way any task stops.
      StopContainers(t);
    }
    Touch(t);
  }
  for (auto& [id, t] : core_.state.tasks) FinishIfDone(t);
}

void ControlPlane::FinishIfDone(Task& t) {
  if (t.desired_status != "STOPPED" || t.last_status == "STOPPED") return;
  // Done once no container runs or is still being started by the runtime.
  if (std::none_of(t.containers.begin(), t.containers.end(), Runs)) FinishStop(t);
}

void ControlPlane::FinishStop(Task& t) {
  if (t.last_status == "STOPPED") return;
  if (!t.target_group_arn.empty()) {
    // A task that died on its own is taken out of routing at once.
    if (lb_.RemoveTarget(t.target_group_arn, t.id, TargetIp(t), t.target_port) && !t.service_name.empty() &&
        t.last_status == "RUNNING") {
      auto svc = core_.state.services.find(t.cluster_arn + "/" + t.service_name);
      if (svc != core_.state.services.end()) {
        AddEvent(svc->second, "deregistered 1 targets in (target-group " + t.target_group_arn + ")");
      }
    }
    t.target_group_arn.clear();
  }
  ports_.Release(t.id);
  ips_.Release(t.id);
  runtime_.Release(t.id);
  for (auto& c : t.containers) c.last_status = "STOPPED";
  t.last_status = "STOPPED";
  t.desired_status = "STOPPED";
  t.stopped_at = Now();
  if (t.stopping_at == 0) t.stopping_at = t.stopped_at;
  ++t.version;
  Touch(t);
}

void ControlPlane::BeginStop(Task& t, const std::string& reason, const std::string& stop_code) {
  t.desired_status = "STOPPED";
  t.stopping_at = Now();
  t.stopped_reason = reason;
  t.stop_code = stop_code;
  ++t.version;
  Touch(t);
  if (t.last_status == "PROVISIONING" || t.last_status == "PENDING") {
    StopContainers(t);
    if (std::none_of(t.containers.begin(), t.containers.end(), Runs)) FinishStop(t);
    return;
  }
  if (auto delay = lb_.DrainTarget(t.target_group_arn, t.id, TargetIp(t), t.target_port)) {
    t.last_status = "DEACTIVATING";
    t.drain_until = Now() + *delay;
    return;
  }
  SignalStop(t);
}

void ControlPlane::StopContainers(Task& t) {
  const bool started = std::any_of(t.containers.begin(), t.containers.end(),
                                   [](const ContainerState& c) { return c.last_status == "RUNNING"; });
  if (t.last_status == "RUNNING" || started) {
    // Containers still to start are dropped; those running stop as in any task, with their stop
    // signal and stopTimeout.
    if (t.last_status != "RUNNING") runtime_.CancelStarts(t.id);
    SignalStop(t);
    return;
  }
  // Nothing runs yet: whatever is being started is killed as soon as it runs.
  runtime_.Signal(t.id, SIGKILL);
}

void ControlPlane::SignalStop(Task& t) {
  t.last_status = "STOPPING";
  StopNextContainers(t);
}

void ControlPlane::StopNextContainers(Task& t) {
  // As ECS does, containers stop in the reverse of their dependsOn order: a container that others
  // depend on keeps running, and serving them, until each of them has stopped.
  const json* td = FindTaskDefinition(t.task_definition_arn);
  auto depends_on = [&](const ContainerState& d, const std::string& name) {
    const json* def = td ? ContainerDefinition(*td, d.name) : nullptr;
    if (def == nullptr) return false;
    const json deps = def->value("dependsOn", json::array());
    return std::any_of(deps.begin(), deps.end(), [&](const json& dep) { return dep.value("containerName", "") == name; });
  };
  std::vector<ContainerState*> next;
  bool in_flight = false;
  for (auto& c : t.containers) {
    if (c.last_status != "RUNNING") continue;
    if (c.stop_sent_at > 0) {
      in_flight = true;
      continue;
    }
    const bool needed = std::any_of(t.containers.begin(), t.containers.end(), [&](const ContainerState& d) {
      return &d != &c && Runs(d) && depends_on(d, c.name);
    });
    if (!needed) next.push_back(&c);
  }
  if (next.empty() && !in_flight) {
    // Only a dependency cycle leaves running containers that all wait on each other: stop them together.
    for (auto& c : t.containers) {
      if (c.last_status == "RUNNING" && c.stop_sent_at == 0) next.push_back(&c);
    }
  }
  const double now = Now();
  for (auto* c : next) {
    runtime_.SignalContainer(t.id, c->name, SIGTERM);
    c->stop_sent_at = now;
  }
  if (!next.empty()) Touch(t);
}

void ControlPlane::KillOverdueContainers(Task& t, double now) {
  if (t.kill_at > 0 && now >= t.kill_at) {
    // Written by an engine that stopped a task's containers together: its deadline holds for all.
    runtime_.Signal(t.id, SIGKILL);
    t.kill_at = 0;
    Touch(t);
  }
  for (auto& c : t.containers) {
    if (c.stop_sent_at == 0 || c.kill_sent || c.last_status != "RUNNING" ||
        now < c.stop_sent_at + StopTimeoutSeconds(t, c.name)) {
      continue;
    }
    runtime_.SignalContainer(t.id, c.name, SIGKILL);
    c.kill_sent = true;
    Touch(t);
  }
}

bool ControlPlane::PrepareContainers(Task& t, const json& td) {
  t.containers.clear();
  if (!ips_.empty()) {
    // awsvpc: the task has an address of its own, and its containers listen on their ports as written.
    auto ip = ips_.Acquire(t.id);
    if (!ip) {
      t.stopped_reason = "ResourceInitializationError: no free address in the task network " + runtime_.TaskSubnet();
      t.stop_code = "TaskFailedToStart";
      return false;
    }
    t.ip = *ip;
  }
  for (const auto& def : td["containerDefinitions"]) {
    ContainerState c;
    c.name = def.value("name", "");
    for (const auto& pm : def.value("portMappings", json::array())) {
      c.container_port = pm.value("containerPort", 0);
      if (!t.ip.empty()) {
        c.host_port = c.container_port;
        break;
      }
      c.host_port = pm.value("hostPort", 0);
      const bool in_pool = c.host_port >= options_.first_task_port && c.host_port <= options_.last_task_port;
      if (in_pool && !ports_.Hold(c.host_port, t.id)) {
        // A fixed port inside the pool is held like a pooled one, so no other task gets it.
        c.reason = "ResourceInitializationError: host port " + std::to_string(c.host_port) +
                   " is in use by task " + ports_.Holder(c.host_port);
      } else if (c.host_port == 0) {
        auto port = ports_.Acquire(t.id);
        if (!port) {
          c.reason = "ResourceInitializationError: no free host port in " + std::to_string(options_.first_task_port) +
                     "-" + std::to_string(options_.last_task_port);
        }
        c.host_port = port.value_or(0);
      }
      break;
    }
    c.log_path = LogPath(TaskDir(t), c.name);
    if (auto awslogs = aws::Awslogs(def, t.id)) {
      c.log_group = awslogs->group;
      c.log_stream = awslogs->stream;
      if (!awslogs->create_group && !logs_.GroupExists(c.log_group)) {
        c.reason = "ResourceInitializationError: failed to validate logger args: The specified log group does not "
                   "exist. : exit status 1 (awslogs-group " + c.log_group + ")";
      }
    }
    t.containers.push_back(c);
    if (!c.reason.empty()) {
      t.stopped_reason = c.reason;
      t.stop_code = "TaskFailedToStart";
      return false;
    }
  }
  return true;
}

ContainerLaunch ControlPlane::LaunchFor(const Task& t, const ContainerState& c, const json& td,
                                        const json& def) const {
  const json* override = ContainerOverride(t.overrides, c.name);
  ContainerLaunch launch;
  launch.task_id = t.id;
  launch.name = c.name;
  launch.task_dir = TaskDir(t);
  launch.image = def.value("image", "");
  auto strings = [](const json& list) {
    std::vector<std::string> out;
    for (const auto& a : list) out.push_back(a.get<std::string>());
    return out;
  };
  if (def.contains("entryPoint")) launch.entry_point = strings(def["entryPoint"]);
  if (override && override->contains("command")) launch.command = strings((*override)["command"]);
  else if (def.contains("command")) launch.command = strings(def["command"]);
  // The exec runtime runs entryPoint + command as a host process.
  launch.argv = launch.entry_point.value_or(std::vector<std::string>{});
  for (const auto& a : launch.command.value_or(std::vector<std::string>{})) launch.argv.push_back(a);
  if (!runtime_.StartsInBackground()) launch.env = options_.base_env;
  for (const auto& kv : def.value("environment", json::array())) launch.env[kv.value("name", "")] = kv.value("value", "");
  if (override) {
    for (const auto& kv : override->value("environment", json::array())) {
      launch.env[kv.value("name", "")] = kv.value("value", "");
    }
  }
  // Host processes share the host's ports, so each gets one of its own to listen on; a task with
  // its own address listens on its containerPort as written.
  if (t.ip.empty() && c.host_port != 0 && !launch.env.count("PORT")) launch.env["PORT"] = std::to_string(c.host_port);
  launch.cwd = def.value("workingDirectory", "");
  launch.memory_limit_bytes = aws::ContainerMemoryMib(td, def) * 1024 * 1024;
  launch.task_ip = t.ip;
  for (const auto& [arn, lb] : core_.state.load_balancers) {
    if (lb.dns_name != options_.listener_host) launch.load_balancer_names.push_back(lb.dns_name);
  }
  launch.user = def.value("user", "");
  launch.read_only_root = def.value("readonlyRootFilesystem", false);
  launch.init = def.contains("linuxParameters") && def["linuxParameters"].value("initProcessEnabled", false);
  for (const auto& u : def.value("ulimits", json::array())) {
    launch.ulimits.push_back(u.value("name", "") + "=" + std::to_string(u.value("softLimit", 0LL)) + ":" +
                             std::to_string(u.value("hardLimit", 0LL)));
  }
  launch.stop_timeout_seconds = std::clamp(def.value("stopTimeout", kDefaultStopTimeoutSeconds), 2, kMaxStopTimeoutSeconds);
  if (def.contains("healthCheck")) launch.health_command = strings(def["healthCheck"].value("command", json::array()));
  return launch;
}

std::string ControlPlane::AddSecrets(const json& def, std::map<std::string, std::string>& env) const {
  // Read at each start, as ECS does: a rotated secret reaches the next task. Values live only in
  // the launch (and the container); never in the state, the task's description or its log.
  for (const auto& secret : def.value("secrets", json::array())) {
    const std::string value_from = secret.value("valueFrom", "");
    auto value = options_.resolve_secret ? options_.resolve_secret(value_from)
                                         : Result<std::string>(Fail("ResourceInitializationError: unable to pull "
                                                                    "secrets or registry auth: no secret store"));
    if (!value) return value.error().message;
    env[secret.value("name", "")] = *value;
  }
  return "";
}

bool ControlPlane::StartContainers(Task& t, const json& td) {
  std::error_code ec;
  std::filesystem::create_directories(TaskDir(t), ec);
  const bool background = runtime_.StartsInBackground();
  for (auto& c : t.containers) {
    if (c.last_status != "PENDING" || c.launched) continue;
    const json* def = ContainerDefinition(td, c.name);
    if (def == nullptr) {
      c.reason = "CannotStartContainerError: container " + c.name + " is not in the task definition";
    } else {
      if (c.pending_since == 0) c.pending_since = Now();
      std::string failed;
      if (!DependenciesMet(t, *def, failed)) {
        if (failed.empty()) continue;  // waits for its dependencies
        c.reason = failed;
      } else {
        ContainerLaunch launch = LaunchFor(t, c, td, *def);
        if (std::string missing = AddSecrets(*def, launch.env); !missing.empty()) {
          c.reason = missing;
        } else if (!background && launch.argv.empty()) {
          // Only an image: the exec runtime cannot run it, and must not pretend to by running something else.
          c.reason = "CannotStartContainerError: container " + c.name + " names only an image (" + launch.image +
                     "): running images needs the container runtime (podman); this engine runs tasks with the exec "
                     "runtime, which runs a container's entryPoint and command as host processes";
        } else if (auto started = runtime_.Start(launch); !started) {
          c.reason = "CannotStartContainerError: " + started.error().message;
        } else if (background) {
          c.launched = true;  // RUNNING once the runtime reports it
          c.log_timestamped = true;
        } else {
          c.last_status = "RUNNING";
          c.started_at = Now();
        }
        Touch(t);
      }
    }
    if (!c.reason.empty()) {
      c.last_status = "STOPPED";
      t.stopped_reason = c.reason;
      t.stop_code = "TaskFailedToStart";
      runtime_.Signal(t.id, SIGKILL);
      return false;
    }
  }
  return true;
}

bool ControlPlane::DependenciesMet(const Task& t, const json& def, std::string& failed) const {
  const json* td = FindTaskDefinition(t.task_definition_arn);
  const ContainerState* self = nullptr;
  for (const auto& c : t.containers) {
    if (c.name == def.value("name", "")) self = &c;
  }
  bool met = true;
  for (const auto& dep : def.value("dependsOn", json::array())) {
    const std::string name = dep.value("containerName", ""), condition = dep.value("condition", "");
    const ContainerState* d = nullptr;
    for (const auto& c : t.containers) {
      if (c.name == name) d = &c;
    }
    if (d == nullptr) continue;  // validated at registration; nothing to wait for
    const bool stopped = d->last_status == "STOPPED";
    bool ok = false, never = false;
    if (condition == "START") {
      ok = d->last_status == "RUNNING" || (stopped && d->exit_code.has_value());
      never = stopped && !d->exit_code.has_value();
    } else if (condition == "COMPLETE") {
      ok = stopped;
    } else if (condition == "SUCCESS") {
      ok = stopped && d->exit_code == 0;
      never = stopped && d->exit_code != 0;
    } else if (condition == "HEALTHY") {
      ok = d->health_status == "HEALTHY";
      never = stopped || d->health_status == "UNHEALTHY";
    }
    if (ok) continue;
    met = false;
    const json* dep_def = td ? ContainerDefinition(*td, name) : nullptr;
    const int timeout = dep_def ? dep_def->value("startTimeout", kDefaultStartTimeoutSeconds) : kDefaultStartTimeoutSeconds;
    if (never || (self && Now() - self->pending_since > timeout)) {
      failed = "CannotStartContainerError: dependency " + name + " of container " + def.value("name", "") +
               " did not reach " + condition + (never ? "" : " within its startTimeout of " + std::to_string(timeout) + "s");
      return false;
    }
  }
  return met;
}

bool ControlPlane::ShipLogs(Task& t) {
  const int64_t now_ms = static_cast<int64_t>(Now() * 1000);
  bool more = false;
  for (auto& c : t.containers) {
    if (c.log_path.empty()) continue;
    std::error_code ec;
    const auto size = static_cast<long>(std::filesystem::file_size(c.log_path, ec));
    if (ec) continue;
    if (c.log_group.empty()) {
      // Nothing ships this log: only its last kLogKeepBytes stay on disk.
      c.log_punched = PunchShipped(c.log_path, std::max(0L, size - kLogKeepBytes), c.log_punched);
      continue;
    }
    if (size <= c.log_offset) continue;
    // A bounded chunk per tick, so a container that writes without pause cannot hold the lock
    // (and the load balancer's routing changes with it) for long.
    std::ifstream in(c.log_path, std::ios::binary);
    in.seekg(c.log_offset);
    std::string chunk(static_cast<size_t>(std::min<long>(size - c.log_offset, kShipChunkBytes)), '\0');
    in.read(chunk.data(), static_cast<std::streamsize>(chunk.size()));
    chunk.resize(static_cast<size_t>(in.gcount()));
    // Whole lines; a partial last line waits, unless it is the stopped container's last or the
    // line alone fills a chunk (CloudWatch Logs splits events past 256 KiB too; the split never
    // cuts a UTF-8 character).
    const size_t end = chunk.rfind('\n');
    const bool last = c.last_status == "STOPPED" && c.log_offset + static_cast<long>(chunk.size()) == size;
    size_t take = end == std::string::npos ? 0 : end + 1;
    if (last) take = chunk.size();
    if (end == std::string::npos && chunk.size() == kShipChunkBytes) take = Utf8CutLength(chunk);
    if (take == 0) continue;
    std::vector<LogLine> lines;
    std::string partial;
    for (const auto& line : Split(std::string_view(chunk).substr(0, take), '\n')) {
      if (line.empty()) continue;
      if (!c.log_timestamped) {
        lines.push_back({now_ms, line});
        continue;
      }
      // podman's k8s-file: "<RFC 3339 time> <stdout|stderr> <F|P> <text>"; P is a piece of a
      // longer line, which the next F ends.
      auto entry = ParseK8sLogLine(line);
      if (!entry) {
        lines.push_back({now_ms, line});
        continue;
      }
      partial += entry->text;
      if (entry->partial) continue;
      if (!partial.empty()) lines.push_back({entry->time_ms > 0 ? entry->time_ms : now_ms, std::move(partial)});
      partial.clear();
    }
    if (!partial.empty()) lines.push_back({now_ms, std::move(partial)});
    if (logs_.Ingest(c.log_group, c.log_stream, lines, true, now_ms)) {
      c.log_offset += static_cast<long>(take);
      c.log_punched = PunchShipped(c.log_path, c.log_offset, c.log_punched);
      Touch(t);
    }
    more = more || size > c.log_offset;
  }
  return more;
}

std::string ControlPlane::LaunchTask(Service& s, const std::string& deployment_id) {
  Task t;
  t.id = RandomHex(32);
  t.cluster_arn = s.cluster_arn;
  t.arn = core_.Arn("ecs", "task/" + ClusterName(s.cluster_arn) + "/" + t.id);
  t.service_name = s.name;
  t.group = "service:" + s.name;
  t.started_by = deployment_id;
  for (const auto& d : s.deployments) {
    if (d.id == deployment_id) t.task_definition_arn = d.task_definition;
  }
  t.created_at = Now();
  Touch(t);
  core_.state.tasks[t.id] = t;
  return t.id;
}

void ControlPlane::RegisterTarget(Task& t) {
  auto svc = core_.state.services.find(t.cluster_arn + "/" + t.service_name);
  if (svc == core_.state.services.end() || svc->second.load_balancers.empty()) return;
  const json& lb = svc->second.load_balancers[0];
  const std::string tg_arn = lb.value("targetGroupArn", "");
  for (const auto& c : t.containers) {
    if (c.name != lb.value("containerName", "") || c.host_port == 0) continue;
    if (!lb_.RegisterTarget(tg_arn, t.id, TargetIp(t), c.host_port)) continue;
    t.target_group_arn = tg_arn;
    t.target_port = c.host_port;
    AddEvent(svc->second, "registered 1 targets in (target-group " + tg_arn + ")");
  }
}

void ControlPlane::AdvanceTasks() {
  const double now = Now();
  // Launches come in batches: a bucket of launch_per_second tokens, refilled continuously.
  const double rate = std::max(1, options_.launches_per_second);
  launch_tokens_ = std::min(rate, launch_tokens_ + (now - tokens_at_) * rate);
  tokens_at_ = now;

  // Decide each new task's containers and commit that before any process starts, so a restarted
  // engine knows every container that may be running.
  bool decided = false;
  int started = static_cast<int>(std::count_if(core_.state.tasks.begin(), core_.state.tasks.end(), [](const auto& kv) {
    return kv.second.last_status != "STOPPED" && kv.second.last_status != "PROVISIONING";
  }));
  for (auto& [id, t] : core_.state.tasks) {
    if (t.last_status != "PROVISIONING" || t.desired_status != "RUNNING" || launch_tokens_ < 1) continue;
    if (started >= options_.max_tasks) break;  // the rest wait for room
    ++started;
    launch_tokens_ -= 1;
    t.last_status = "PENDING";
    Touch(t);
    decided = true;
    const json* td = FindTaskDefinition(t.task_definition_arn);
    if (td == nullptr || !PrepareContainers(t, *td)) {
      if (td == nullptr) {
        t.stopped_reason = "TaskFailedToStart: task definition not found";
        t.stop_code = "TaskFailedToStart";
      }
      FinishStop(t);
    }
  }
  if (decided) {
    if (auto r = Commit(); !r) {
      std::fprintf(stderr, "slipway engine: not starting tasks: %s\n", r.error().message.c_str());
      return;
    }
  }

  for (auto& [id, t] : core_.state.tasks) {
    if (t.last_status == "PENDING" && t.desired_status == "RUNNING") {
      const json* td = FindTaskDefinition(t.task_definition_arn);
      if (td == nullptr || !StartContainers(t, *td)) {
        if (td == nullptr) {
          t.stopped_reason = "TaskFailedToStart: task definition not found";
          t.stop_code = "TaskFailedToStart";
        }
        t.desired_status = "STOPPED";
        t.stopping_at = now;
        Touch(t);
        FinishIfDone(t);  // or once no container runs or is being started (ReapContainers)
        continue;
      }
      // RUNNING once every container has started (those that already ended, like an init step, count).
      if (std::any_of(t.containers.begin(), t.containers.end(),
                      [](const ContainerState& c) { return c.last_status == "PENDING"; })) {
        continue;
      }
      t.last_status = "RUNNING";
      t.started_at = now;
      ++t.version;
      Touch(t);
      RegisterTarget(t);
    } else if (t.last_status == "DEACTIVATING" && now >= t.drain_until) {
      SignalStop(t);
      ++t.version;
      Touch(t);
    } else if (t.last_status == "STOPPING") {
      KillOverdueContainers(t, now);
    }
  }
}

void ControlPlane::PruneStoppedTasks() {
  // Keep at most the newest kMaxStoppedTasks, none older than an hour; their directories go too.
  const double cutoff = Now() - kStoppedTaskSeconds;
  std::vector<std::pair<double, std::string>> stopped;
  for (const auto& [id, t] : core_.state.tasks) {
    if (t.last_status == "STOPPED") stopped.emplace_back(t.stopped_at, id);
  }
  std::sort(stopped.begin(), stopped.end(), std::greater<>());
  for (size_t i = 0; i < stopped.size(); ++i) {
    if (i < kMaxStoppedTasks && stopped[i].first >= cutoff) continue;
    const std::string& id = stopped[i].second;
    std::error_code ec;
    std::filesystem::remove_all(TaskDir(core_.state.tasks[id]), ec);
    core_.state.tasks.erase(id);
    core_.Touch(ObjectKind::kTask, id);
  }
}

void ControlPlane::Shutdown(Millis grace) {
  std::unique_lock lock(core_.mu);
  for (auto& [id, t] : core_.state.tasks) {
    if (t.last_status == "STOPPED") continue;
    runtime_.Signal(id, SIGTERM);
    if (t.desired_status != "STOPPED") {
      t.desired_status = "STOPPED";
      t.stopped_reason = "Task stopped because the slipway engine stopped";
      t.stop_code = "ServiceSchedulerInitiated";
      Touch(t);
    }
  }
  // Reaps until every task has stopped or `limit` passes, letting API calls in between.
  auto reap_for = [&](Millis limit, Millis step) {
    const SteadyTime deadline = core_.clock.Now() + limit;
    for (;;) {
      ReapContainers();
      if (LiveTaskCount() == 0 || core_.clock.Now() >= deadline) return;
      lock.unlock();
      core_.clock.SleepFor(step);
      lock.lock();
    }
  };
  reap_for(grace, Millis(50));
  for (auto& [id, t] : core_.state.tasks) {
    if (t.last_status == "STOPPED") continue;
    runtime_.Signal(id, SIGKILL);
  }
  // Supervisors report a killed container within moments; whatever has not reported by then is
  // recorded stopped anyway.
  reap_for(Millis(2000), Millis(20));
  for (auto& [id, t] : core_.state.tasks) {
    if (t.last_status == "STOPPED") continue;
    if (t.desired_status != "STOPPED") {
      t.stopped_reason = "Task stopped because the slipway engine stopped";
      t.stop_code = "ServiceSchedulerInitiated";
    }
    FinishStop(t);
  }
  if (auto r = Commit(); !r) std::fprintf(stderr, "slipway engine: %s\n", r.error().message.c_str());
}

}  // namespace slipway::engine
