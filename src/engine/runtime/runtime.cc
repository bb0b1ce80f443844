// The exec runtime: one process group per container, reaped without blocking, with memory
// limits from a cgroup or a resident-set watchdog.
#include "engine/runtime.h"

#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace slipway::engine {

namespace {

namespace fs = std::filesystem;

bool WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
  out.flush();
  return static_cast<bool>(out);
}

// Reads "key value" lines (memory.events, memory.oom_control) and returns `key`'s value.
long long ReadKeyed(const std::string& path, const std::string& key) {
  std::ifstream in(path);
  std::string k;
  long long v = 0;
  while (in >> k >> v) {
    if (k == key) return v;
  }
  return 0;
}

// Resident set of `pid` in bytes (VmRSS), 0 if unknown.
long long ResidentBytes(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::atoll(line.c_str() + 6) * 1024;
  }
  return 0;
}

}  // namespace

ExecRuntime::ExecRuntime(bool use_cgroups) {
  if (const char* w = std::getenv("SLIPWAY_MEMORY_WATCHDOG"); w && std::string(w) == "1") use_cgroups = false;
  if (!use_cgroups) return;
  const std::string name = "slipway-engine-" + std::to_string(::getpid());
  std::error_code ec;
  std::ifstream controllers("/sys/fs/cgroup/cgroup.controllers");
  std::string all((std::istreambuf_iterator<char>(controllers)), {});
  if (all.find("memory") != std::string::npos && fs::create_directory("/sys/fs/cgroup/" + name, ec)) {
    cgroup_root_ = "/sys/fs/cgroup/" + name;
    if (WriteFile(cgroup_root_ + "/cgroup.subtree_control", "+memory")) {
      mode_ = CgroupMode::kV2;
      return;
    }
    fs::remove(cgroup_root_, ec);
  }
  if (fs::exists("/sys/fs/cgroup/memory/memory.limit_in_bytes", ec) &&
      fs::create_directory("/sys/fs/cgroup/memory/" + name, ec)) {
    cgroup_root_ = "/sys/fs/cgroup/memory/" + name;
    mode_ = CgroupMode::kV1;
  }
}

ExecRuntime::~ExecRuntime() {
  tasks_.clear();  // kills and reaps what still runs
  if (cgroup_root_.empty()) return;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(cgroup_root_, ec)) {
    if (entry.is_directory()) ::rmdir(entry.path().c_str());
  }
  ::rmdir(cgroup_root_.c_str());
}

std::string ExecRuntime::MemoryEnforcement() const {
  switch (mode_) {
    case CgroupMode::kV2: return "cgroup v2 memory.max (" + cgroup_root_ + ")";
    case CgroupMode::kV1: return "cgroup v1 memory.limit_in_bytes (" + cgroup_root_ + ")";
    case CgroupMode::kNone: break;
  }
  return "resident-set watchdog (no writable cgroup memory controller)";
}

Result<void> ExecRuntime::Start(const ContainerLaunch& launch) {
  Container c;
  c.memory_limit_bytes = launch.memory_limit_bytes;
  std::vector<std::string> argv = launch.argv;
  if (launch.memory_limit_bytes > 0 && mode_ != CgroupMode::kNone) {
    std::string dir = cgroup_root_ + "/" + launch.task_id + "-" + launch.name;
    std::error_code ec;
    fs::create_directory(dir, ec);
    const std::string limit = std::to_string(launch.memory_limit_bytes);
    const bool ok = WriteFile(dir + (mode_ == CgroupMode::kV2 ? "/memory.max" : "/memory.limit_in_bytes"), limit);
    // No swap beyond the limit, where the kernel offers the knob (best effort).
    if (ok && mode_ == CgroupMode::kV2) (void)WriteFile(dir + "/memory.swap.max", "0");
    if (ok) {
      c.cgroup = dir;
      // The container joins its cgroup before exec, so every byte it allocates is charged.
      argv.insert(argv.begin(), {"/bin/sh", "-c", "echo $$ > \"$0\" && exec \"$@\"", dir + "/cgroup.procs"});
    } else {
      ::rmdir(dir.c_str());
    }
  }
  auto child = ChildProcess::Spawn({.argv = argv, .env = launch.env, .cwd = launch.cwd,
                                    .output_path = launch.log_path});
  if (!child) {
    if (!c.cgroup.empty()) ::rmdir(c.cgroup.c_str());
    return tl::unexpected(child.error());
  }
  c.process = std::move(*child);
  tasks_[launch.task_id][launch.name] = std::move(c);
  return {};
}

void ExecRuntime::Signal(const std::string& task_id, int sig) {
  auto it = tasks_.find(task_id);
  if (it == tasks_.end()) return;
  for (auto& [name, c] : it->second) c.process.Signal(sig);
}

bool ExecRuntime::OutOfMemory(Container& c) const {
  if (c.killed_for_memory) return true;
  if (c.cgroup.empty()) return false;
  if (mode_ == CgroupMode::kV2) return ReadKeyed(c.cgroup + "/memory.events", "oom_kill") > 0;
  return ReadKeyed(c.cgroup + "/memory.oom_control", "oom_kill") > 0;
}

std::vector<ContainerExit> ExecRuntime::Reap() {
  std::vector<ContainerExit> out;
  for (auto task = tasks_.begin(); task != tasks_.end();) {
    for (auto it = task->second.begin(); it != task->second.end();) {
      Container& c = it->second;
      if (auto st = c.process.Poll()) {
        bool oom = st->signal == SIGKILL && OutOfMemory(c);
        out.push_back({task->first, it->first, *st, oom});
        if (!c.cgroup.empty()) ::rmdir(c.cgroup.c_str());
        it = task->second.erase(it);
        continue;
      }
      if (c.cgroup.empty() && c.memory_limit_bytes > 0 && !c.killed_for_memory &&
          ResidentBytes(c.process.pid()) > c.memory_limit_bytes) {
        c.killed_for_memory = true;
        c.process.Signal(SIGKILL);
      }
      ++it;
    }
    task = task->second.empty() ? tasks_.erase(task) : std::next(task);
  }
  return out;
}

}  // namespace slipway::engine
