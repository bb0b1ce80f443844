// The exec runtime: each container runs under its own slipway-supervisor, which the engine
// reaches through a pidfd (safe against pid reuse) and which reports through the task directory.
#include "engine/runtime/runtime.h"

#include <poll.h>
// glibc 2.36's header lacks the C-linkage block.
extern "C" {
#include <sys/pidfd.h>
}
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstring>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "engine/runtime/supervisor_files.h"

namespace slipway::engine {

namespace {

namespace fs = std::filesystem;

constexpr const char* kCgroupPrefix = "slipway-engine-";

bool WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
  out.flush();
  return static_cast<bool>(out);
}

std::string SelfDir() {
  std::error_code ec;
  return fs::read_symlink("/proc/self/exe", ec).parent_path().string();
}

// True once the process behind `pidfd` has ended (it may still await reaping).
bool HasEnded(int pidfd) {
  pollfd p{pidfd, POLLIN, 0};
  return ::poll(&p, 1, 0) != 0;
}

// The container's process group, by the supervisor's record, when that process still runs and no
// supervisor holds it (a second supervisor that found it taken exits without touching it).
void KillOrphanedContainer(const std::string& dir, const std::string& name) {
  if (LockHeld(LockPath(dir, name))) return;
  auto rec = ReadSupervisorRecord(SupervisorPath(dir, name));
  if (!rec || rec->container_start == 0 || ProcessStartTime(rec->container_pid) != rec->container_start) return;
  ::kill(-rec->container_pid, SIGKILL);
  ::kill(rec->container_pid, SIGKILL);
}

}  // namespace

ExecRuntime::ExecRuntime(bool use_cgroups, std::string supervisor, std::string cgroup_name)
    : supervisor_(std::move(supervisor)) {
  if (supervisor_.empty()) supervisor_ = SelfDir() + "/slipway-supervisor";
  if (const char* w = std::getenv("SLIPWAY_MEMORY_WATCHDOG"); w && std::string(w) == "1") use_cgroups = false;
  if (!use_cgroups) return;
  pid_named_ = cgroup_name.empty();
  const std::string name = pid_named_ ? kCgroupPrefix + std::to_string(::getpid()) : cgroup_name;
  std::error_code ec;
  std::ifstream controllers("/sys/fs/cgroup/cgroup.controllers");
  std::string all((std::istreambuf_iterator<char>(controllers)), {});
  // Whether the controller is there and writable, by making the cgroup once. It is made again by
  // Start() when a container first needs it, so an engine that never starts one (or fails to
  // start itself) leaves none behind.
  if (all.find("memory") != std::string::npos) {
    const std::string dir = "/sys/fs/cgroup/" + name;
    const bool made = fs::create_directory(dir, ec);
    if (!ec && WriteFile(dir + "/cgroup.subtree_control", "+memory")) {
      mode_ = CgroupMode::kV2;
      cgroup_parent_ = "/sys/fs/cgroup";
    }
    if (made) ::rmdir(dir.c_str());
  }
  if (mode_ == CgroupMode::kNone && fs::exists("/sys/fs/cgroup/memory/memory.limit_in_bytes", ec)) {
    const std::string dir = "/sys/fs/cgroup/memory/" + name;
    const bool made = fs::create_directory(dir, ec);
    if (!ec && fs::is_directory(dir, ec)) {
      mode_ = CgroupMode::kV1;
      cgroup_parent_ = "/sys/fs/cgroup/memory";
    }
    if (made) ::rmdir(dir.c_str());
  }
  if (mode_ == CgroupMode::kNone) return;
  cgroup_root_ = cgroup_parent_ + "/" + name;
  janitor_ = std::make_unique<CgroupJanitor>(name);
}

ExecRuntime::~ExecRuntime() {
  // Containers keep running (they belong to their supervisors); only an empty cgroup goes. A
  // data dir's shared cgroup stays: a successor may be using it (engine stop removes it).
  if (pid_named_ && !cgroup_root_.empty()) ::rmdir(cgroup_root_.c_str());
}

int ExecRuntime::RemoveLeftoverCgroups(const std::set<std::string>& live_task_ids) {
  if (!janitor_) return 0;
  constexpr size_t kTaskIdLength = 32;
  return janitor_->RemoveLeftovers(
      [&live_task_ids](const std::string& name) { return live_task_ids.count(name.substr(0, kTaskIdLength)) > 0; },
      std::chrono::steady_clock::now());
}

std::string ExecRuntime::RemoveAllCgroups() {
  if (!janitor_) return "";
  // A supervisor that has just been reaped may still be removing its container's cgroup.
  if (janitor_->RemoveAll(30, Millis(100))) return "";
  return "some cgroups under " + cgroup_root_ + " are still in use";
}

std::string ExecRuntime::MemoryEnforcement() const {
  switch (mode_) {
    case CgroupMode::kV2: return "cgroup v2 memory.max (" + cgroup_root_ + ")";
    case CgroupMode::kV1: return "cgroup v1 memory.limit_in_bytes (" + cgroup_root_ + ")";
    case CgroupMode::kNone: break;
  }
  return "resident-set watchdog (no writable cgroup memory controller)";
}

std::map<std::string, ResourceUse> ExecRuntime::Usage(const std::set<std::string>& task_ids) const {
  std::map<std::string, ResourceUse> out;
  if (mode_ == CgroupMode::kNone || task_ids.empty()) return out;
  // Containers' cgroups are "<task id>-<container>" under the cgroup of the engine that started
  // them: this one's, or (for adopted tasks) a predecessor's.
  constexpr size_t kTaskIdLength = 32;
  std::error_code ec;
  for (const auto& engine : fs::directory_iterator(cgroup_parent_, ec)) {
    if (engine.path().filename().string().rfind(kCgroupPrefix, 0) != 0 && engine.path() != cgroup_root_) continue;
    for (const auto& container : fs::directory_iterator(engine.path(), ec)) {
      const std::string name = container.path().filename().string();
      if (name.size() <= kTaskIdLength || name[kTaskIdLength] != '-' || !container.is_directory(ec)) continue;
      const std::string task_id = name.substr(0, kTaskIdLength);
      if (!task_ids.count(task_id)) continue;
      const std::string dir = container.path().string();
      auto cpu = mode_ == CgroupMode::kV2 ? CpuSecondsV2(dir) : MembersCpuSeconds(dir);
      auto memory = mode_ == CgroupMode::kV2 ? MemoryBytesV2(dir) : MemoryBytesV1(dir);
      if (cpu && memory) out[task_id] += ResourceUse{*cpu, *memory};
    }
  }
  return out;
}

int ExecRuntime::RemoveStaleCgroups() {
  if (cgroup_parent_.empty()) return 0;
  int removed = 0;
  std::error_code ec;
  for (const auto& root : fs::directory_iterator(cgroup_parent_, ec)) {
    const std::string name = root.path().filename().string();
    if (name.rfind(kCgroupPrefix, 0) != 0 || root.path() == cgroup_root_) continue;
    const pid_t owner = std::atoi(name.c_str() + std::char_traits<char>::length(kCgroupPrefix));
    if (ProcessStartTime(owner) != 0) continue;  // that engine still runs
    // rmdir removes only empty cgroups: the ones adopted containers still run in stay.
    std::error_code ec2;
    for (const auto& child : fs::directory_iterator(root.path(), ec2)) {
      if (child.is_directory(ec2) && ::rmdir(child.path().c_str()) == 0) ++removed;
    }
    if (::rmdir(root.path().c_str()) == 0) ++removed;
  }
  return removed;
}

Result<void> ExecRuntime::Start(const ContainerLaunch& launch) {
  std::vector<std::string> argv = {supervisor_, "--dir", launch.task_dir, "--name", launch.name};
  std::string cgroup;
  if (launch.memory_limit_bytes > 0 && mode_ != CgroupMode::kNone) {
    cgroup = cgroup_root_ + "/" + launch.task_id + "-" + launch.name;
    std::error_code ec;
    // The data dir's cgroup may have been removed since (an engine stopped on it meanwhile).
    if (fs::create_directory(cgroup_root_, ec) && mode_ == CgroupMode::kV2) {
      (void)WriteFile(cgroup_root_ + "/cgroup.subtree_control", "+memory");
    }
    fs::create_directory(cgroup, ec);
    const std::string limit = std::to_string(launch.memory_limit_bytes);
    const bool ok = WriteFile(cgroup + (mode_ == CgroupMode::kV2 ? "/memory.max" : "/memory.limit_in_bytes"), limit);
    // No swap beyond the limit, where the kernel offers the knob (best effort).
    if (ok && mode_ == CgroupMode::kV2) (void)WriteFile(cgroup + "/memory.swap.max", "0");
    if (ok) {
      argv.insert(argv.end(), {"--cgroup", cgroup, "--cgroup-version", mode_ == CgroupMode::kV2 ? "2" : "1"});
    } else {
      ::rmdir(cgroup.c_str());
      cgroup.clear();
    }
  }
  if (cgroup.empty() && launch.memory_limit_bytes > 0) {
    argv.insert(argv.end(), {"--memory-watchdog", std::to_string(launch.memory_limit_bytes)});
  }
  if (!launch.cwd.empty()) argv.insert(argv.end(), {"--cwd", launch.cwd});
  argv.push_back("--");
  argv.insert(argv.end(), launch.argv.begin(), launch.argv.end());
  // A record left by an earlier attempt must not be mistaken for this one's.
  ::unlink(ExitPath(launch.task_dir, launch.name).c_str());
  auto child = ChildProcess::Spawn({.argv = argv,
                                    .env = launch.env,
                                    .output_path = LogPath(launch.task_dir, launch.name),
                                    .blocked_signals = {std::begin(kSupervisorSignals), std::end(kSupervisorSignals)}});
  if (!child) {
    if (!cgroup.empty()) ::rmdir(cgroup.c_str());
    return tl::unexpected(child.error());
  }
  UniqueFd pidfd(::pidfd_open(child->pid(), 0));
  if (!pidfd.valid()) {
    child->Signal(SIGKILL);
    return Fail(std::string("pidfd_open: ") + std::strerror(errno));
  }
  child->Release();  // reaped through the pidfd in Reap()
  tasks_[launch.task_id][launch.name] = Container{std::move(pidfd), launch.task_dir, true};
  return {};
}

Adoption ExecRuntime::Adopt(const std::string& task_id, const std::string& name, const std::string& dir) {
  // A supervisor takes its lock first and writes its record a moment later.
  auto record = ReadSupervisorRecord(SupervisorPath(dir, name));
  for (int i = 0; i < 50 && !record && LockHeld(LockPath(dir, name)); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    record = ReadSupervisorRecord(SupervisorPath(dir, name));
  }
  if (record) {
    // Open the pidfd first, then confirm the supervisor (its lock) is alive: then the pid was not
    // reused in between, and the pidfd names the supervisor.
    UniqueFd pidfd(::pidfd_open(record->supervisor_pid, 0));
    if (pidfd.valid() && LockHeld(LockPath(dir, name)) &&
        ProcessStartTime(record->supervisor_pid) == record->supervisor_start) {
      tasks_[task_id][name] = Container{std::move(pidfd), dir, false};
      return Adoption::kAdopted;
    }
  }
  if (!record && !fs::exists(ExitPath(dir, name))) return Adoption::kNotStarted;
  ended_.push_back(Ended(task_id, name, Container{UniqueFd(), dir, false}));
  return Adoption::kEnded;
}

ContainerExit ExecRuntime::Ended(const std::string& task_id, const std::string& name, const Container& c) {
  ContainerExit out{task_id, name, {}, false, "", false};
  // The supervisor removes the container's cgroup as it ends; one a process still leaves is
  // retried by later Reap()s.
  if (janitor_) janitor_->Remove(task_id + "-" + name, std::chrono::steady_clock::now());
  if (auto exit = ReadExitRecord(ExitPath(c.dir, name))) {
    out.status = {exit->code, exit->signal};
    out.out_of_memory = exit->out_of_memory;
    if (!exit->start_error.empty()) {
      out.reason = "CannotStartContainerError: " + exit->start_error;
      out.failed_to_start = true;
    }
    return out;
  }
  // The supervisor died without a word (it was killed): its container must not run unsupervised.
  KillOrphanedContainer(c.dir, name);
  out.status = {137, SIGKILL};
  out.reason = "the container's supervisor ended without reporting how the container exited; it was stopped";
  return out;
}

void ExecRuntime::Signal(const std::string& task_id, int sig) {
  auto it = tasks_.find(task_id);
  if (it == tasks_.end()) return;
  for (auto& [name, c] : it->second) SignalContainer(task_id, name, sig);
}

void ExecRuntime::SignalContainer(const std::string& task_id, const std::string& name, int sig) {
  auto task = tasks_.find(task_id);
  if (task == tasks_.end()) return;
  auto c = task->second.find(name);
  if (c == task->second.end()) return;
  // SIGKILL cannot be forwarded; the supervisor reads SIGUSR1 as "kill the container".
  ::pidfd_send_signal(c->second.pidfd.get(), sig == SIGKILL ? SIGUSR1 : sig, nullptr, 0);
}

std::vector<ContainerExit> ExecRuntime::Reap() {
  std::vector<ContainerExit> out = std::move(ended_);
  ended_.clear();
  if (janitor_) janitor_->Retry(std::chrono::steady_clock::now());
  for (auto task = tasks_.begin(); task != tasks_.end();) {
    for (auto it = task->second.begin(); it != task->second.end();) {
      Container& c = it->second;
      if (!HasEnded(c.pidfd.get())) {
        ++it;
        continue;
      }
      if (c.child) {
        siginfo_t info{};
        ::waitid(P_PIDFD, static_cast<id_t>(c.pidfd.get()), &info, WEXITED | WNOHANG);
      }
      out.push_back(Ended(task->first, it->first, c));
      it = task->second.erase(it);
    }
    task = task->second.empty() ? tasks_.erase(task) : std::next(task);
  }
  return out;
}

}  // namespace slipway::engine
