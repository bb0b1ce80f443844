// What the engine's web console shows of the control plane: services (as DescribeServices words
// them), tasks (as DescribeTasks does), targets with their health, and the release timeline, read
// under one hold of the lock and bounded in size.
#include <algorithm>

#include "engine/control_plane.h"

namespace slipway::engine {

namespace {

using json = nlohmann::json;

/// The target group's resource part ("targetgroup/name/id"), as CloudWatch's TargetGroup dimension
/// names it.
std::string TargetGroupDimension(const std::string& arn) {
  const size_t at = arn.find(":targetgroup/");
  return at == std::string::npos ? arn : arn.substr(at + 1);
}

}  // namespace

json ControlPlane::ConsoleSnapshot(const ConsoleLimits& limits) {
  std::lock_guard lock(core_.mu);
  json services = json::array(), timeline = json::array();
  size_t service_count = 0;
  for (const auto& [arn, s] : core_.state.services) {
    if (s.status != "ACTIVE") continue;
    if (++service_count > limits.services) break;
    json one = ServiceJson(s);
    // The console shows the newest events; DescribeServices keeps up to 100 per service.
    json events = json::array();
    for (const auto& e : s.events) {
      if (events.size() >= limits.events_per_service) break;
      events.push_back({{"id", e.id}, {"createdAt", e.created_at}, {"message", e.message}});
    }
    one["events"] = std::move(events);
    services.push_back(std::move(one));
    size_t releases = 0;
    for (const auto& r : s.service_deployments) {
      if (++releases > limits.releases_per_service) break;
      std::string task_definition;
      for (const auto& rev : s.service_revisions) {
        if (rev.deployment_id == r.deployment_id) task_definition = rev.task_definition;
      }
      json entry{{"service", s.name},     {"cluster", NameFromArn(s.cluster_arn)},
                 {"status", r.status},    {"taskDefinition", task_definition},
                 {"createdAt", r.created_at}, {"startedAt", r.started_at}};
      if (r.finished_at > 0) entry["finishedAt"] = r.finished_at;
      if (!r.status_reason.empty()) entry["statusReason"] = r.status_reason;
      timeline.push_back(std::move(entry));
    }
  }
  // Live tasks first, then the most recently stopped ones.
  std::vector<const Task*> tasks;
  for (const auto& [id, t] : core_.state.tasks) tasks.push_back(&t);
  std::sort(tasks.begin(), tasks.end(), [](const Task* a, const Task* b) {
    const bool a_live = a->last_status != "STOPPED", b_live = b->last_status != "STOPPED";
    if (a_live != b_live) return a_live;
    return std::max(a->created_at, a->stopped_at) > std::max(b->created_at, b->stopped_at);
  });
  json task_list = json::array();
  for (const Task* t : tasks) {
    if (task_list.size() >= limits.tasks) break;
    task_list.push_back(TaskJson(*t));
  }
  json targets = json::array();
  for (const auto& [arn, tg] : core_.state.target_groups) {
    for (const auto& [key, t] : tg.targets) {
      if (targets.size() >= limits.targets) break;
      json one{{"targetGroup", tg.name}, {"targetGroupDimension", TargetGroupDimension(arn)},
               {"id", t.id},             {"port", t.port},
               {"taskId", t.task_id},    {"state", t.state}};
      if (t.state != "healthy") one["reason"] = t.reason, one["description"] = t.description;
      targets.push_back(std::move(one));
    }
  }
  std::sort(timeline.begin(), timeline.end(),
            [](const json& a, const json& b) { return a.value("createdAt", 0.0) > b.value("createdAt", 0.0); });
  return {{"services", services}, {"tasks", task_list}, {"targets", targets},
          {"releases", timeline}, {"truncated", service_count > limits.services}};
}

}  // namespace slipway::engine
