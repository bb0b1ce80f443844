// ECS's ServiceDeployments API over the engine's rolling-update Deployments: each new Deployment
// begins a service deployment, which ends SUCCESSFUL, STOPPED, or (circuit breaker with rollback)
// ROLLBACK_IN_PROGRESS then ROLLBACK_SUCCESSFUL; each Deployment's settings are a service revision.
#include <algorithm>
#include <array>
#include <optional>

#include "engine/control_plane.h"

namespace slipway::engine {

using nlohmann::json;
using ecs::InvalidParameter;

namespace {

/// ListServiceDeployments' default and largest page; Describe* take at most this many ARNs.
constexpr int kDefaultPage = 20, kMaxPage = 100;
constexpr size_t kMaxDescribe = 20;

bool Ongoing(const ServiceDeploymentRecord& r) {
  return r.status == "PENDING" || r.status == "IN_PROGRESS" || r.status == "ROLLBACK_IN_PROGRESS";
}

/// The digits of "ecs-svc/<digits>", which number the Deployment's service revision.
std::string RevisionNumber(const std::string& deployment_id) { return deployment_id.substr(deployment_id.rfind('/') + 1); }

/// cluster, service and id from "…:service-deployment/<cluster>/<service>/<id>" (or service-revision).
std::optional<std::array<std::string, 3>> SplitArn(const std::string& arn, const std::string& kind) {
  const size_t at = arn.find(":" + kind + "/");
  if (at == std::string::npos) return std::nullopt;
  const std::string rest = arn.substr(at + kind.size() + 2);
  const size_t a = rest.find('/'), b = rest.rfind('/');
  if (a == std::string::npos || a == b || a == 0 || b + 1 == rest.size()) return std::nullopt;
  return std::array<std::string, 3>{rest.substr(0, a), rest.substr(a + 1, b - a - 1), rest.substr(b + 1)};
}

}  // namespace

std::string ControlPlane::ServiceDeploymentArn(const Service& s, const std::string& id) const {
  return core_.Arn("ecs", "service-deployment/" + NameFromArn(s.cluster_arn) + "/" + s.name + "/" + id);
}

std::string ControlPlane::ServiceRevisionArn(const Service& s, const std::string& deployment_id) const {
  return core_.Arn("ecs", "service-revision/" + NameFromArn(s.cluster_arn) + "/" + s.name + "/" + RevisionNumber(deployment_id));
}

void ControlPlane::BeginServiceDeployment(Service& s, const Deployment& d) {
  const double now = Now();
  for (auto& r : s.service_deployments) {
    if (!Ongoing(r)) continue;
    r.status = "STOPPED";
    r.status_reason = "A newer service deployment replaced this one.";
    r.stopped_at = r.finished_at = r.updated_at = now;
  }
  ServiceDeploymentRecord r;
  r.id = NewServiceDeploymentId();
  r.deployment_id = d.id;
  for (const auto& other : s.deployments) {
    if (other.id != d.id) r.source_deployments.push_back(other.id);
  }
  r.created_at = r.started_at = r.updated_at = now;
  s.service_deployments.push_front(std::move(r));
  if (s.service_deployments.size() > kServiceHistory) s.service_deployments.pop_back();
  const bool known = std::any_of(s.service_revisions.begin(), s.service_revisions.end(),
                                 [&](const ServiceRevisionRecord& v) { return v.deployment_id == d.id; });
  if (!known) {
    s.service_revisions.push_front({d.id, d.task_definition, s.load_balancers, s.network_configuration, s.launch_type, now});
    if (s.service_revisions.size() > kServiceHistory) s.service_revisions.pop_back();
  }
}

void ControlPlane::FailServiceDeployment(Service& s, const Deployment& failed, const std::string& rollback_to) {
  const double now = Now();
  for (auto& r : s.service_deployments) {
    if (r.deployment_id != failed.id || r.status != "IN_PROGRESS") continue;
    r.failure_count = failed.failed_tasks;
    r.status_reason = failed.rollout_state_reason;
    r.updated_at = now;
    if (rollback_to.empty()) {
      r.status = "STOPPED";
      r.stopped_at = r.finished_at = now;
    } else {
      r.status = "ROLLBACK_IN_PROGRESS";
      r.rollback_to = rollback_to;
      r.rollback_reason = "Service deployment rolled back because the circuit breaker threshold was exceeded.";
      r.rollback_started_at = now;
    }
    return;
  }
}

void ControlPlane::CompleteServiceDeployment(Service& s, const Deployment& d) {
  const double now = Now();
  for (auto& r : s.service_deployments) {
    const bool rolled_back = r.status == "ROLLBACK_IN_PROGRESS" && r.rollback_to == d.id;
    if (!rolled_back && !(r.status == "IN_PROGRESS" && r.deployment_id == d.id)) continue;
    r.status = rolled_back ? "ROLLBACK_SUCCESSFUL" : "SUCCESSFUL";
    if (!rolled_back) r.failure_count = d.failed_tasks;
    r.finished_at = r.updated_at = now;
    return;
  }
}

json ControlPlane::RevisionSummaryJson(const Service& s, const std::string& deployment_id) const {
  int requested = 0, running = 0, pending = 0;
  for (const auto& d : s.deployments) {
    if (d.id == deployment_id) requested = d.desired_count;
  }
  for (const auto& [id, t] : core_.state.tasks) {
    if (t.service_name != s.name || t.cluster_arn != s.cluster_arn || t.started_by != deployment_id) continue;
    running += t.last_status == "RUNNING";
    pending += t.last_status == "PROVISIONING" || t.last_status == "PENDING";
  }
  return {{"arn", ServiceRevisionArn(s, deployment_id)}, {"requestedTaskCount", requested},
          {"runningTaskCount", running}, {"pendingTaskCount", pending}};
}

json ControlPlane::ServiceDeploymentJson(const Service& s, const ServiceDeploymentRecord& r, bool brief) const {
  json out{{"serviceDeploymentArn", ServiceDeploymentArn(s, r.id)}, {"serviceArn", s.arn}, {"clusterArn", s.cluster_arn},
           {"createdAt", r.created_at}, {"startedAt", r.started_at}, {"status", r.status}};
  if (!r.status_reason.empty()) out["statusReason"] = r.status_reason;
  if (r.finished_at > 0) out["finishedAt"] = r.finished_at;
  if (brief) {
    out["targetServiceRevisionArn"] = ServiceRevisionArn(s, r.deployment_id);
    return out;
  }
  out["updatedAt"] = r.updated_at;
  if (r.stopped_at > 0) out["stoppedAt"] = r.stopped_at;
  out["targetServiceRevision"] = RevisionSummaryJson(s, r.deployment_id);
  out["sourceServiceRevisions"] = json::array();
  for (const auto& id : r.source_deployments) out["sourceServiceRevisions"].push_back(RevisionSummaryJson(s, id));
  out["deploymentConfiguration"] = {
      {"deploymentCircuitBreaker", {{"enable", s.circuit_breaker_enable}, {"rollback", s.circuit_breaker_rollback}}},
      {"maximumPercent", s.maximum_percent}, {"minimumHealthyPercent", s.minimum_healthy_percent}};
  std::string breaker = "DISABLED";
  if (s.circuit_breaker_enable) {
    breaker = Ongoing(r) && r.rollback_to.empty() ? "MONITORING"
              : r.status == "SUCCESSFUL"          ? "MONITORING_COMPLETE"
                                                  : "TRIGGERED";
  }
  out["deploymentCircuitBreaker"] = {{"status", breaker}, {"failureCount", r.failure_count},
                                     {"threshold", CircuitBreakerThreshold(s.desired_count)}};
  out["alarms"] = {{"status", "DISABLED"}};
  if (!r.rollback_to.empty()) {
    out["rollback"] = {{"reason", r.rollback_reason}, {"startedAt", r.rollback_started_at},
                       {"serviceRevisionArn", ServiceRevisionArn(s, r.rollback_to)}};
  }
  return out;
}

ApiResult ControlPlane::ListServiceDeployments(const json& r) {
  auto cluster = FindCluster(r);
  if (!cluster) return tl::unexpected(cluster.error());
  const Service* s = FindService(**cluster, r.value("service", ""));
  if (s == nullptr || s->status != "ACTIVE") {
    return tl::unexpected(ApiError{"ServiceNotFoundException", "Service not found.", 400});
  }
  const int max_results = IntField(r, "maxResults", kDefaultPage);
  if (max_results < 1 || max_results > kMaxPage) {
    return tl::unexpected(InvalidParameter("maxResults must be between 1 and 100."));
  }
  const auto statuses = r.value("status", std::vector<std::string>{});
  const json created = r.value("createdAt", json::object());
  const double after = created.is_object() ? created.value("after", 0.0) : 0.0;
  const double before = created.is_object() ? created.value("before", 0.0) : 0.0;
  const std::string token = r.value("nextToken", "");
  bool past_token = token.empty();
  if (!past_token && std::none_of(s->service_deployments.begin(), s->service_deployments.end(),
                                  [&](const ServiceDeploymentRecord& x) { return x.id == token; })) {
    return tl::unexpected(InvalidParameter("The nextToken is not valid."));
  }
  json out{{"serviceDeployments", json::array()}};
  for (const auto& record : s->service_deployments) {
    if (!past_token) {
      past_token = record.id == token;
      continue;
    }
    if (!statuses.empty() && std::find(statuses.begin(), statuses.end(), record.status) == statuses.end()) continue;
    if ((after > 0 && record.created_at < after) || (before > 0 && record.created_at > before)) continue;
    if (static_cast<int>(out["serviceDeployments"].size()) == max_results) {
      const std::string last = out["serviceDeployments"].back()["serviceDeploymentArn"];
      out["nextToken"] = last.substr(last.rfind('/') + 1);
      break;
    }
    out["serviceDeployments"].push_back(ServiceDeploymentJson(*s, record, /*brief=*/true));
  }
  return out;
}

ApiResult ControlPlane::DescribeServiceDeployments(const json& r) {
  const json arns = r.value("serviceDeploymentArns", json::array());
  if (!arns.is_array() || arns.empty() || arns.size() > kMaxDescribe) {
    return tl::unexpected(InvalidParameter("serviceDeploymentArns must hold 1 to 20 ARNs."));
  }
  json out{{"serviceDeployments", json::array()}, {"failures", json::array()}};
  for (const auto& item : arns) {
    const std::string arn = item.is_string() ? item.get<std::string>() : "";
    const Service* s = nullptr;
    const ServiceDeploymentRecord* found = nullptr;
    if (auto parts = SplitArn(arn, "service-deployment")) {
      auto it = core_.state.services.find(core_.Arn("ecs", "cluster/" + (*parts)[0]) + "/" + (*parts)[1]);
      if (it != core_.state.services.end()) {
        s = &it->second;
        for (const auto& x : s->service_deployments) found = x.id == (*parts)[2] ? &x : found;
      }
    }
    if (found == nullptr) {
      out["failures"].push_back({{"arn", arn}, {"reason", "MISSING"}});
    } else {
      out["serviceDeployments"].push_back(ServiceDeploymentJson(*s, *found, /*brief=*/false));
    }
  }
  return out;
}

ApiResult ControlPlane::DescribeServiceRevisions(const json& r) {
  const json arns = r.value("serviceRevisionArns", json::array());
  if (!arns.is_array() || arns.empty() || arns.size() > kMaxDescribe) {
    return tl::unexpected(InvalidParameter("serviceRevisionArns must hold 1 to 20 ARNs."));
  }
  json out{{"serviceRevisions", json::array()}, {"failures", json::array()}};
  for (const auto& item : arns) {
    const std::string arn = item.is_string() ? item.get<std::string>() : "";
    const Service* s = nullptr;
    const ServiceRevisionRecord* found = nullptr;
    if (auto parts = SplitArn(arn, "service-revision")) {
      auto it = core_.state.services.find(core_.Arn("ecs", "cluster/" + (*parts)[0]) + "/" + (*parts)[1]);
      if (it != core_.state.services.end()) {
        s = &it->second;
        for (const auto& v : s->service_revisions) found = RevisionNumber(v.deployment_id) == (*parts)[2] ? &v : found;
      }
    }
    if (found == nullptr) {
      out["failures"].push_back({{"arn", arn}, {"reason", "MISSING"}});
      continue;
    }
    json images = json::array();
    if (const json* td = FindTaskDefinition(found->task_definition)) {
      for (const auto& c : td->value("containerDefinitions", json::array())) {
        const std::string image = c.value("image", "");
        json entry{{"containerName", c.value("name", "")}, {"image", image}};
        if (const size_t at = image.find("@sha256:"); at != std::string::npos) entry["imageDigest"] = image.substr(at + 1);
        images.push_back(entry);
      }
    }
    json revision{{"serviceRevisionArn", arn}, {"serviceArn", s->arn}, {"clusterArn", s->cluster_arn},
                  {"taskDefinition", found->task_definition}, {"launchType", found->launch_type},
                  {"platformVersion", "1.4.0"}, {"platformFamily", "Linux"}, {"loadBalancers", found->load_balancers},
                  {"serviceRegistries", json::array()}, {"containerImages", images}, {"guardDutyEnabled", false},
                  {"createdAt", found->created_at}};
    if (!found->network_configuration.is_null()) revision["networkConfiguration"] = found->network_configuration;
    out["serviceRevisions"].push_back(revision);
  }
  return out;
}

}  // namespace slipway::engine
