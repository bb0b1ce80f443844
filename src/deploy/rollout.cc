// Rollout judgement and the polling loop that streams service events.
#include "deploy/rollout.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <vector>

namespace slipway::deploy {

using nlohmann::json;

Result<json> DescribeService(aws::AwsClient& client, const std::string& cluster, const std::string& service) {
  auto r = client.Json(aws::kEcs, "DescribeServices", {{"cluster", cluster}, {"services", {service}}});
  if (!r) {
    if (r.error().code == "ClusterNotFoundException") return json();
    return tl::unexpected(r.error());
  }
  return (*r)["services"].empty() ? json() : (*r)["services"][0];
}

RolloutVerdict JudgeRollout(const json& service, const std::string& deployment_id) {
  const json& deployments = service.value("deployments", json::array());
  const json* ours = nullptr;
  for (const auto& d : deployments) {
    if (d.value("id", "") == deployment_id) ours = &d;
  }
  if (ours == nullptr) {
    // Gone already (e.g. a circuit-breaker rollback that finished at once): the events say why.
    const std::string marker = "(deployment " + deployment_id + ") deployment failed: ";
    for (const auto& e : service.value("events", json::array())) {
      const std::string message = e.value("message", "");
      size_t at = message.find(marker);
      if (at != std::string::npos) {
        return {RolloutStatus::kFailed, "ECS deployment circuit breaker: " + message.substr(at + marker.size()) +
                                            " ECS rolled the service back."};
      }
    }
    return {RolloutStatus::kFailed, "deployment " + deployment_id + " is no longer on the service"};
  }
  const std::string state = ours->value("rolloutState", "");
  if (state == "FAILED") {
    return {RolloutStatus::kFailed, ours->value("rolloutStateReason", "rollout failed")};
  }
  if (ours->value("status", "") != "PRIMARY") {
    return {RolloutStatus::kFailed, "another deployment replaced " + deployment_id};
  }
  const bool sole = deployments.size() == 1;
  const bool counts = service.value("runningCount", -1) == service.value("desiredCount", -2);
  if (state == "COMPLETED" && sole && counts) return {RolloutStatus::kCompleted, ours->value("rolloutStateReason", "")};
  return {RolloutStatus::kInProgress, ""};
}

RolloutVerdict JudgeServiceDeployment(const json& sd) {
  const std::string status = sd.value("status", "");
  std::string reason = sd.value("statusReason", "");
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

// The service deployment `arn` as ECS describes it; null when the endpoint does not serve the
// ServiceDeployments API (or no longer knows it), so the caller judges from DescribeServices.
Result<json> DescribeServiceDeployment(aws::AwsClient& client, const std::string& arn) {
  auto r = client.Json(aws::kEcs, "DescribeServiceDeployments", {{"serviceDeploymentArns", {arn}}});
  if (!r) {
    if (aws::IsUnreachable(r.error())) return tl::unexpected(r.error());
    return json();
  }
  const json list = r->value("serviceDeployments", json::array());
  if (!list.is_array()) return json();
  for (const json& sd : list) {
    if (sd.is_object() && sd.value("serviceDeploymentArn", "") == arn) return sd;
  }
  return json();  // not the one asked about: judged from DescribeServices
}

}  // namespace

Result<RolloutVerdict> WatchRollout(aws::AwsClient& client, Clock& clock, const std::string& cluster,
                                    const std::string& service, const std::string& deployment_id,
                                    Millis timeout, const std::function<void(const std::string&)>& on_event,
                                    const CancelToken* cancel, const std::string& service_deployment_arn) {
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
    if (found->is_null()) return Fail("ecs DescribeServices " + service + ": service is MISSING");
    const json& svc = *found;
    const json events = svc.value("events", json::array());
    std::vector<const json*> fresh;
    for (const auto& e : events) {
      if (seen.insert(e.value("id", "")).second && !first) fresh.push_back(&e);
    }
    first = false;
    std::reverse(fresh.begin(), fresh.end());  // events arrive newest first
    for (const json* e : fresh) on_event((*e)["message"].get<std::string>());
    RolloutVerdict v = JudgeRollout(svc, deployment_id);
    if (by_service_deployment) {
      auto sd = DescribeServiceDeployment(client, service_deployment_arn);
      if (!sd) return tl::unexpected(sd.error());
      if (sd->is_null()) {
        by_service_deployment = false;  // judged from DescribeServices from now on
      } else {
        v = JudgeServiceDeployment(*sd);
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
