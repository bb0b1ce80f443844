// `slipway deploy` and `slipway rollback`: provision what is missing, register, migrate, roll
// out, watch, verify, and on any failure return every service to its last known-good revision.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "aws/aws_client.h"
#include "base/cancel.h"
#include "base/clock.h"
#include "config/config.h"
#include "deploy/diagnose.h"
#include "deploy/progress.h"

namespace slipway::deploy {

/// What the release needs besides the config.
struct ReleaseOptions {
  /// Variables for task definition templates (the process environment plus slipway's own).
  std::map<std::string, std::string> vars;
  /// Progress lines for the user.
  std::function<void(const std::string&)> progress = [](const std::string&) {};
  /// When set, hears how each service's rollout stands at every look while the run waits for it
  /// (a live view on a terminal); the run then also asks for routed services' target health.
  std::function<void(const ServiceProgress&)> watch;
  /// Who runs it, recorded on the revisions it registers.
  std::string actor;
  /// Once set (the CLI sets it on SIGINT/SIGTERM), the release stops at its next safe point,
  /// removes its lock, records what it registered, and reports kInterrupted.
  const CancelToken* cancel = nullptr;
};

/// How a release (or rollback) ended; the CLI maps these to exit codes.
enum class Outcome {
  kReleased,        ///< 0
  kFailed,          ///< 1: failed; every service is back on (or never left) its known-good revision
  kRollbackFailed,  ///< 3: failed, and returning to known-good failed too
  kLocked,          ///< 5: another deployment of a service is in flight; nothing changed
  kUnknown,         ///< 6: the endpoint stopped answering after something may have changed
  kInterrupted,     ///< 130: stopped on request; the report says what is still in flight
};

/// One service's result.
struct ServiceResult {
  std::string service_name;
  std::string task_definition_arn;
  std::string deployment_id;
  /// The service deployment the update began (ECS's currentServiceDeployment); "" where the
  /// endpoint has no ServiceDeployments API.
  std::string service_deployment_arn;
  int running_count = 0;
  /// What the service runs when the run ends ("" when it does not exist), which after a failed
  /// migration is not task_definition_arn.
  std::string running_task_definition;
  std::string known_good_arn;  ///< what a failure returns to ("" if none)
  std::string failure;         ///< this service's own failure, if any
  std::vector<TaskFacts> stopped_tasks;  ///< of the failed deployment, newest first
  std::string rollback;        ///< what happened on the way back
  /// What the service was doing when the release stopped without an end (kInterrupted,
  /// kUnknown), e.g. "rolling out demo-web:5 (deployment ecs-svc/123)"; "" when nothing.
  std::string in_flight;
  std::string rollback_deployment;  ///< the deployment that returns it to known-good, if started
  /// The desiredCount the run gave it (an override or an on-demand service's 0 included); -1 when
  /// the run did not set one: then the config's desiredCount is what it runs.
  int desired_count = -1;
};

/// The release's outcome.
struct ReleaseReport {
  Outcome outcome = Outcome::kReleased;
  std::string release_id;
  std::vector<ServiceResult> services;
  std::string failure;     ///< the cause, one line
  std::string state;       ///< after kRollbackFailed: what state the services are in
  std::vector<std::string> migration_log;  ///< last lines of a failed migration's output
  /// kUnknown: "could not reach <endpoint> since <time>: <what was being called>: <cause>".
  std::string unreachable;
  /// What the user should know that does not change the outcome, e.g. a lock left behind.
  std::vector<std::string> warnings;
  double seconds = 0;
  /// Wall time of each stage that ran, in order: build, push, images (resolve and check),
  /// provision, register, migrate, rollout, verify.
  std::vector<std::pair<std::string, double>> stages;
};

/// Runs one release of `env`. An error means no service was changed (the message says so);
/// anything after a service may have changed is a report: released, failed (with diagnosis and
/// the way back), interrupted, or unknown when the endpoint stopped answering.
[[nodiscard]] Result<ReleaseReport> Release(aws::AwsClient& client, aws::HttpTransport& http, Clock& clock,
                                            const config::Config& cfg, const config::Environment& env,
                                            const ReleaseOptions& options);

/// Error code of a rollback target that is no revision of the family, or one recorded aborted,
/// interrupted or failed without `force` (the CLI exits 2: nothing was changed).
inline constexpr const char* kBadRollbackTarget = "BadRollbackTarget";

/// `slipway rollback`: returns `only_service` (or every service) to `to_revision` ("family:N",
/// "N" or an ARN) or else to the newest known-good revision older than what runs now. A
/// `to_revision` recorded aborted, interrupted or failed is refused unless `force`. Errors and
/// reports mean what they mean for Release.
[[nodiscard]] Result<ReleaseReport> Rollback(aws::AwsClient& client, aws::HttpTransport& http, Clock& clock,
                                             const config::Environment& env,
                                             const std::string& only_service, const std::string& to_revision,
                                             bool force, const ReleaseOptions& options);

/// Current state of the environment's services, as printed by `slipway status`.
struct ServiceStatus {
  std::string service_name, status, task_definition, rollout_state;
  int desired = 0, running = 0, pending = 0, deployments = 0;
  /// Its desiredCount override, as CountOverride::Describe says it; "" when none.
  std::string count_override = "";
};
[[nodiscard]] Result<std::vector<ServiceStatus>> Status(aws::AwsClient& client, const config::Environment& env);

/// The task definition family a service's template registers (its "family", else the ECS
/// service name).
[[nodiscard]] Result<std::string> TemplateFamily(const config::ServiceSpec& svc, const config::ServiceEnv& se,
                                                 const std::map<std::string, std::string>& vars);

}  // namespace slipway::deploy
