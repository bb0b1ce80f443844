// Per-service task counts, task resource use and target health for the engine's metrics; counts as
// DescribeServices counts them.
#include <cstdlib>
#include <map>
#include <set>

#include "engine/control_plane.h"

namespace slipway::engine {

std::vector<ServiceTaskCounts> ControlPlane::TaskCounts() {
  std::lock_guard lock(core_.mu);
  std::map<std::pair<std::string, std::string>, ServiceTaskCounts> by_service;  // (cluster ARN, name)
  for (const auto& [arn, s] : core_.state.services) {
    if (s.status != "ACTIVE") continue;
    by_service[{s.cluster_arn, s.name}] = {NameFromArn(s.cluster_arn), s.name, s.desired_count, 0, 0};
  }
  for (const auto& [id, t] : core_.state.tasks) {
    auto it = by_service.find({t.cluster_arn, t.service_name});
    if (it == by_service.end()) continue;
    it->second.running += t.last_status == "RUNNING";
    it->second.pending += t.last_status == "PROVISIONING" || t.last_status == "PENDING";
  }
  std::vector<ServiceTaskCounts> out;
  out.reserve(by_service.size());
  for (auto& [key, counts] : by_service) out.push_back(std::move(counts));
  return out;
}

}  // namespace slipway::engine

namespace slipway::engine {

namespace {

// A task definition's cpu or memory: ECS takes a number or a string of digits; 0 when neither.
double Units(const nlohmann::json& td, const char* key) {
  if (!td.contains(key)) return 0;
  const auto& v = td[key];
  if (v.is_number()) return v.get<double>();
  if (v.is_string()) return std::atof(v.get<std::string>().c_str());
  return 0;
}

// The task's reservation: the task-level value, else the sum over its containers.
double Reserved(const nlohmann::json& td, const char* key) {
  if (double task = Units(td, key); task > 0) return task;
  double sum = 0;
  for (const auto& c : td.value("containerDefinitions", nlohmann::json::array())) sum += Units(c, key);
  return sum;
}

}  // namespace

std::vector<ServiceTaskUse> ControlPlane::TaskUse() {
  std::vector<ServiceTaskUse> out;
  std::set<std::string> ids;
  {
    std::lock_guard lock(core_.mu);
    for (const auto& [id, t] : core_.state.tasks) {
      if (t.service_name.empty() || t.last_status != "RUNNING") continue;
      ServiceTaskUse u{NameFromArn(t.cluster_arn), t.service_name, t.id, 0, 0, std::nullopt};
      if (const nlohmann::json* td = FindTaskDefinition(t.task_definition_arn)) {
        u.cpu_units = Reserved(*td, "cpu");
        u.memory_mib = Reserved(*td, "memory");
      }
      ids.insert(t.id);
      out.push_back(std::move(u));
    }
  }
  // cgroup files are read without the lock: the API and the reconciler need not wait for them.
  const auto use = runtime_.Usage(ids);
  for (auto& u : out) {
    if (auto it = use.find(u.task_id); it != use.end()) u.use = it->second;
  }
  return out;
}

std::vector<TargetHealthCounts> ControlPlane::TargetHealth() {
  std::lock_guard lock(core_.mu);
  std::vector<TargetHealthCounts> out;
  for (const auto& [arn, tg] : core_.state.target_groups) {
    int healthy = 0, unhealthy = 0;
    for (const auto& [key, target] : tg.targets) {
      healthy += target.state == "healthy";
      unhealthy += target.state == "unhealthy";
    }
    for (const auto& lb : tg.load_balancer_arns) out.push_back({lb, arn, healthy, unhealthy});
  }
  return out;
}

}  // namespace slipway::engine
