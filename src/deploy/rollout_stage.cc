// The rollout stage: every service updated (or created) at once, then each watched to its end.
#include "deploy/stages.h"

#include "aws/ecs.h"
#include "deploy/desired_count.h"
#include "deploy/records.h"
#include "deploy/rollout.h"
#include "deploy/service_request.h"

namespace slipway::deploy {

using nlohmann::json;

namespace {

// How often an update whose reply was lost, and which did not take effect, is sent again.
constexpr int kUpdateTries = 3;

// The id of `service`'s deployment of `td_arn`, if it has one.
std::optional<std::string> DeploymentOf(const aws::Service& service, const std::string& td_arn) {
  for (const auto& d : service.deployments) {
    if (d.task_definition == td_arn) return d.id;
  }
  return std::nullopt;
}

// UpdateService to `td_arn`. A lost reply is resolved by looking: `td_arn` is a revision only
// this release registered, so a deployment of it means the update took effect; none means it
// did not (yet), and it is sent again. Returns the service as the reply (or the look) shows it.
Result<aws::Service> Update(aws::AwsClient& c, const config::Environment& env, const config::ServiceEnv& se,
                            const json& req, const std::string& td_arn) {
  for (int tries = 1;; ++tries) {
    auto r = aws::Ecs(c).UpdateServiceWith(req);
    if (r || r.error().code != aws::kOutcomeUnknown || tries == kUpdateTries) return r;
    auto now = DescribeService(c, env.cluster, se.service_name);
    if (!now) return r;  // still unknown
    if (*now && DeploymentOf(**now, td_arn)) return std::move(**now);
  }
}

/// The deployment that carries a release's revision, the service deployment it began, and the
/// desiredCount it set.
struct Started {
  std::string deployment_id, service_deployment_arn;
  int desired_count = 0;
  std::optional<CountOverride> kept;  ///< the override it kept, if any
  aws::Service service;               ///< as the update's reply shows it
};

// Creates or updates the service; returns the deployment that carries `td_arn`.
// CreateService carries `client_token`, so that it is safe to send again when its reply is lost.
Result<Started> RollOut(aws::AwsClient& c, const config::Environment& env, const config::ServiceSpec& svc,
                            const config::ServiceEnv& se, const std::string& td_arn, const std::string& tg_arn,
                            const std::vector<std::string>& security_groups,
                            const std::string& client_token) {
  // With its tags: an override (scale, env down, a started on-demand service) is kept.
  auto d = DescribeService(c, env.cluster, se.service_name, /*with_tags=*/true);
  if (!d) return tl::unexpected(d.error());
  bool exists = *d && (*d)->status == "ACTIVE";
  const std::string previous_service_deployment = exists ? (*d)->current_service_deployment : "";
  const std::optional<CountOverride> kept = exists ? FindCountOverride((*d)->tags) : std::nullopt;
  const int count = exists ? ReleaseDesiredCount(se, kept) : DefaultDesiredCount(se);
  Result<aws::Service> r = Fail("");
  if (exists) {
    r = Update(c, env, se, UpdateServiceInput(env, se, td_arn, security_groups, count), td_arn);
  } else {
    r = aws::Ecs(c).CreateService(CreateServiceInput(env, svc, se, td_arn, tg_arn, security_groups), client_token);
  }
  if (!r) return tl::unexpected(aws::IsUnreachable(r.error()) ? r.error() : Wrap(se.service_name, r.error()));
  const aws::Service& service = *r;
  Started started{service.deployments.empty() ? "" : service.deployments[0].id, service.current_service_deployment,
                  count, kept, service};
  if (auto id = DeploymentOf(service, td_arn)) started.deployment_id = *id;
  // The service deployment that was current before the update (already judged, perhaps
  // SUCCESSFUL) says nothing about this one: the rollout is then judged from DescribeServices.
  if (started.service_deployment_arn == previous_service_deployment) started.service_deployment_arn.clear();
  return started;
}

}  // namespace

Result<void> StartRollouts(Run& run, const config::Config& cfg, const Infrastructure& infra) {
  size_t index = 0;
  for (const auto& [name, se] : run.env.services) {
    ServiceResult& sr = run.report.services[index++];
    if (run.cancelled()) {
      Interrupt(run, "while starting the rollouts; " + se.service_name + " and those after it were not updated");
      return {};
    }
    const std::string revision = FamilyRevision(sr.task_definition_arn);
    sr.in_flight = "the update to " + revision + " was sent without a reply";
    auto dep = RollOut(run.c, run.env, cfg.services.at(name), se, sr.task_definition_arn,
                       infra.target_group_by_service.at(name), infra.network.security_groups,
                       ClientToken(run.report.release_id, "CreateService " + se.service_name));
    if (!dep) {
      if (dep.error().code != aws::kOutcomeUnknown) sr.in_flight.clear();  // it never took effect
      if (!aws::IsUnreachable(dep.error())) {
        run.report.failure = dep.error().message;
        return {};
      }
      if (!run.AnyServiceTouched()) return tl::unexpected(dep.error());
      EndUnknown(run, dep.error());
      return {};
    }
    if (dep->deployment_id.empty()) {
      // The update was sent but nothing says what carries it: never verify unwatched. The
      // service counts as touched (in_flight), so the failure returns it to known-good.
      run.report.failure = se.service_name + ": ECS's reply named no deployment of " + revision;
      return {};
    }
    sr.deployment_id = dep->deployment_id;
    sr.desired_count = dep->desired_count;
    if (dep->kept && se.on_demand && dep->kept->count > 0) {
      run.Progress(se.service_name + ": on demand and started: keeps " + std::to_string(dep->kept->count) +
                   " task(s) until `slipway service stop " + run.env.name + " " + name + "`");
    } else if (dep->kept) {
      run.Progress(se.service_name + ": keeps desiredCount " + dep->kept->Describe() + " rather than slipway.yaml's " +
                   std::to_string(DefaultDesiredCount(se)) + "; `slipway env up " + run.env.name +
                   "` or `slipway scale " + run.env.name + " " + name + " --reset` returns to it");
    } else if (se.on_demand) {
      run.Progress(se.service_name + ": on demand and stopped: 0 tasks (`slipway service start " + run.env.name + " " +
                   name + "` starts it)");
    }
    sr.service_deployment_arn = dep->service_deployment_arn;
    sr.in_flight = "rolling out " + revision + " (deployment " + sr.deployment_id + ")";
    run.Progress("rolling out " + se.service_name + " (deployment " + sr.deployment_id + ")");
    ShowPhase(run, se.service_name, revision, "rolling out");
    ShowLook(run, sr.deployment_id, dep->service);  // its line shows the desired count before its watch begins
  }
  return {};
}

// Watches every started rollout to its end. Sets report.failure on the first that fails.
void WatchRollouts(Run& run) {
  const Millis timeout{static_cast<long>(run.env.timeout_seconds) * 1000};
  for (auto& s : run.report.services) {
    if (s.deployment_id.empty() || !run.report.failure.empty()) continue;
    const std::string revision = FamilyRevision(s.task_definition_arn);
    auto v = WatchRollout(run.c, run.clock, run.env.cluster, s.service_name, s.deployment_id, timeout,
                          [&](const std::string& event) { run.Progress(event); }, run.options.cancel,
                          s.service_deployment_arn,
                          [&](const aws::Service& look) { ShowLook(run, s.deployment_id, look); });
    if (!v) {
      ShowPhase(run, s.service_name, revision, "not watched", true);
      if (aws::IsUnreachable(v.error())) return EndUnknown(run, v.error());
      s.failure = v.error().message;
      run.report.failure = s.service_name + ": " + v.error().message;
      continue;
    }
    if (v->status == RolloutStatus::kInProgress) {
      ShowPhase(run, s.service_name, revision, "interrupted", true);
      return Interrupt(run, "while watching the rollout");
    }
    if (v->status == RolloutStatus::kFailed) {
      ShowPhase(run, s.service_name, revision, "failed", true);
      s.failure = v->reason;
      run.report.failure = s.service_name + ": " + v->reason;
      continue;
    }
    ShowPhase(run, s.service_name, revision, "completed", true);
    s.in_flight = "on " + FamilyRevision(s.task_definition_arn) + " (deployment " + s.deployment_id +
                  " completed), not verified";
  }
}

}  // namespace slipway::deploy
