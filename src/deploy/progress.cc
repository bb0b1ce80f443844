// Reading a rollout's live state out of DescribeServices and DescribeTargetHealth.
#include "deploy/progress.h"

#include "deploy/run.h"

namespace slipway::deploy {

void Observe(const aws::Service& service, const std::string& deployment_id, ServiceProgress& p) {
  // A deployment gone (replaced, or rolled back by ECS) keeps the counts it was last seen with:
  // the service's own would be another revision's tasks.
  for (const auto& d : service.deployments) {
    if (d.id != deployment_id) continue;
    p.running = d.running_count;
    p.desired = d.desired_count;
  }
  if (!service.events.empty()) p.event = service.events.front().message;  // newest first
}

void CountTargets(const std::vector<aws::TargetHealth>& health, ServiceProgress& p) {
  p.healthy = p.targets = 0;
  for (const auto& t : health) {
    // A draining target is on its way out and an unused one takes no traffic: neither is part of
    // what the service serves with.
    if (t.state == "draining" || t.state == "unused") continue;
    ++p.targets;
    p.healthy += t.state == "healthy";
  }
}

void ShowPhase(Run& run, const std::string& service, const std::string& revision,
               const std::string& phase, bool done) {
  if (!run.options.watch) return;
  ServiceProgress& p = run.shown[service];
  p.service = service;
  p.revision = revision;
  p.phase = phase;
  p.done = done;
  run.options.watch(p);
}

void ShowLook(Run& run, const std::string& deployment_id, const aws::Service& service) {
  if (!run.options.watch) return;
  ServiceProgress& p = run.shown[service.name];
  p.service = service.name;
  Observe(service, deployment_id, p);
  // Health is a second call per look, made only for a live view; a failed one is no reason to
  // stop watching, and the next look asks again.
  if (!service.target_group_arns.empty()) {
    if (auto health = aws::Elbv2(run.c).DescribeTargetHealth(service.target_group_arns.front())) {
      CountTargets(*health, p);
    }
  }
  run.options.watch(p);
}

}  // namespace slipway::deploy
