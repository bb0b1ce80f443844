// The exec runtime: one process group per container, reaped without blocking.
#include "engine/runtime.h"

namespace slipway::engine {

Result<void> ExecRuntime::Start(const ContainerLaunch& launch) {
  auto child = ChildProcess::Spawn({.argv = launch.argv, .env = launch.env, .cwd = launch.cwd,
                                    .output_path = launch.log_path});
  if (!child) return tl::unexpected(child.error());
  tasks_[launch.task_id][launch.name] = std::move(*child);
  return {};
}

void ExecRuntime::Signal(const std::string& task_id, int sig) {
  auto it = tasks_.find(task_id);
  if (it == tasks_.end()) return;
  for (auto& [name, child] : it->second) child.Signal(sig);
}

std::vector<ContainerExit> ExecRuntime::Reap() {
  std::vector<ContainerExit> out;
  for (auto task = tasks_.begin(); task != tasks_.end();) {
    for (auto c = task->second.begin(); c != task->second.end();) {
      if (auto st = c->second.Poll()) {
        out.push_back({task->first, c->first, *st});
        c = task->second.erase(c);
      } else {
        ++c;
      }
    }
    task = task->second.empty() ? tasks_.erase(task) : std::next(task);
  }
  return out;
}

}  // namespace slipway::engine
