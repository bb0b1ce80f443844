// Per-service task counts for the engine's ECS/ContainerInsights metrics, counted as
// DescribeServices counts them.
#include <map>

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
