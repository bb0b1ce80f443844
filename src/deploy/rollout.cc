// Rollout judgement and the polling loop that streams service events.
#include "deploy/rollout.h"

#include <algorithm>
#include <vector>

namespace slipway::deploy {

Result<std::optional<aws::Service>> DescribeService(aws::AwsClient& client, const std::string& cluster,
                                                    const std::string& service, bool with_tags) {
  auto r = aws::Ecs(client).DescribeServices(cluster, {service}, with_tags);
  if (!r) {
    if (r.error().code == "ClusterNotFoundException") return std::nullopt;
    return tl::unexpected(r.error());
  }
  if (r->services.empty()) return std::nullopt;
  return std::move(r->services[0]);
}

RolloutVerdict JudgeRollout(const aws::Service& service, const std::string& deployment_id) {
  const aws::Deployment* ours = nullptr;
  for (const auto& d : service.deployments) {
    if (d.id == deployment_id) ours = &d;
  }
  if (ours == nullptr) {
    // Gone already (e.g. a circuit-breaker rollback that finished at once): the events say why.
    const std::string marker = "(deployment " + deployment_id + ") deployment failed: ";
    for (const auto& e : service.events) {
      size_t at = e.message.find(marker);
      if (at != std::string::npos) {
        return {RolloutStatus::kFailed, "ECS deployment circuit breaker: " + e.message.substr(at + marker.size()) +
                                            " ECS rolled the service back."};
      }
    }
    return {RolloutStatus::kFailed, "deployment " + deployment_id + " is no longer on the service"};
  }
  const std::string& state = ours->rollout_state;
  if (state == "FAILED") {
    return {RolloutStatus::kFailed, ours->rollout_state_reason.empty() ? "rollout failed" : ours->rollout_state_reason};
  }
  if (ours->status != "PRIMARY") {
    return {RolloutStatus::kFailed, "another deployment replaced " + deployment_id};
  }
  const bool sole = service.deployments.size() == 1;
  const bool counts = service.running_count == service.desired_count;
  if (state == "COMPLETED" && sole && counts) return {RolloutStatus::kCompleted, ours->rollout_state_reason};
  return {RolloutStatus::kInProgress, ""};
}

RolloutVerdict JudgeServiceDeployment(const aws::ServiceDeployment& sd) {
  const std::string& status = sd.status;
  std::string reason = sd.status_reason;
  if (status == "SUCCESSFUL") return {RolloutStatus::kCompleted, reason};
  if (status == "PENDING" || status == "IN_PROGRESS") return {RolloutStatus::kInProgress, ""};
  if (status.rfind("ROLLBACK_", 0) == 0) {
    if (reason.empty()) reason = "the service deployment failed.";
    const char* how = status == "ROLLBACK_SUCCESSFUL" ? " ECS rolled the service back."
                      : status == "ROLLBACK_FAILED"   ? " ECS's rollback failed too."
                                                      : " ECS is rolling the service back.";
    return {RolloutStatus::kFailed, reason + how};
  }
  if (status == "STOPPED" || status == "STOP_REQUESTED") {
    return {RolloutStatus::kFailed, reason.empty() ? "the service deployment was stopped" : reason};
  }
  return {RolloutStatus::kFailed, "the service deployment is " + (status.empty() ? std::string("unknown") : status)};
}

namespace {

// The service deployment `arn` as ECS describes it; nullopt when the endpoint does not serve the
// ServiceDeployments API (or no longer knows it), so the caller judges from DescribeServices.
Result<std::optional<aws::ServiceDeployment>> DescribeServiceDeployment(aws::AwsClient& client, const std::string& arn) {
  auto r = aws::Ecs(client).DescribeServiceDeployments({arn});
  if (!r) {
    if (aws::IsUnreachable(r.error())) return tl::unexpected(r.error());
    return std::nullopt;
  }
  for (auto& sd : r->service_deployments) {
    if (sd.arn == arn) return std::move(sd);
  }
  return std::nullopt;  // not the one asked about: judged from DescribeServices
}

}  // namespace

Result<RolloutVerdict> WatchRollout(aws::AwsClient& client, Clock& clock, const std::string& cluster,
                                    const std::string& service, const std::string& deployment_id,
                                    Millis timeout, const std::function<void(const std::string&)>& on_event,
                                    const CancelToken* cancel, const std::string& service_deployment_arn,
                                    const std::function<void(const aws::Service&)>& on_look) {
  bool by_service_deployment = !service_deployment_arn.empty();
  constexpr Millis kFastPoll{250}, kSlowPoll{2000};
  const SteadyTime deadline = clock.Now() + timeout;
  std::set<std::string> seen;
  bool first = true;
  Millis interval = kFastPoll;
  for (;;) {
    if (Cancelled(cancel)) return RolloutVerdict{RolloutStatus::kInProgress, kWatchInterrupted};
    auto found = DescribeService(client, cluster, service);
    if (!found) return tl::unexpected(found.error());
    if (!*found) return Fail("ecs DescribeServices " + service + ": service is MISSING");
    const aws::Service& svc = **found;
    std::vector<const aws::ServiceEvent*> fresh;
    for (const auto& e : svc.events) {
      if (seen.insert(e.id).second && !first) fresh.push_back(&e);
    }
    first = false;
    std::reverse(fresh.begin(), fresh.end());  // events arrive newest first
    for (const aws::ServiceEvent* e : fresh) on_event(e->message);
    if (on_look) on_look(svc);
    RolloutVerdict v = JudgeRollout(svc, deployment_id);
    if (by_service_deployment) {
      auto sd = DescribeServiceDeployment(client, service_deployment_arn);
      if (!sd) return tl::unexpected(sd.error());
      if (!*sd) {
        by_service_deployment = false;  // judged from DescribeServices from now on
      } else {
        v = JudgeServiceDeployment(**sd);
      }
    }
    if (v.status != RolloutStatus::kInProgress) return v;
    if (clock.Now() >= deadline) {
      return RolloutVerdict{RolloutStatus::kFailed, "timed out after " + std::to_string(timeout.count() / 1000) +
                                                        " s waiting for deployment " + deployment_id};
    }
    interval = fresh.empty() ? std::min(kSlowPoll, interval * 3 / 2) : kFastPoll;
    SleepUnlessCancelled(clock, interval, cancel);
  }
}

}  // namespace slipway::deploy
