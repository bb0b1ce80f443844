// What `Release` and `Rollback` share: the run in progress, the way back to a known-good
// revision, verification, and how a run ends (recorded, unlocked, reported).
#pragma once

#include <map>
#include <memory>
#include <string>

#include "aws/aws_client.h"
#include "base/clock.h"
#include "config/config.h"
#include "deploy/ecr.h"
#include "deploy/lock.h"
#include "deploy/release.h"
#include "deploy/rollout.h"

namespace slipway::deploy {

/// One release or rollback in progress: what it talks to, and the report it builds.
struct Run {
  aws::AwsClient& c;
  aws::HttpTransport& http;
  Clock& clock;
  const config::Environment& env;
  const ReleaseOptions& options;
  ReleaseReport& report;
  SteadyTime started;

  bool cancelled() const { return Cancelled(options.cancel); }
  void Progress(const std::string& line) const { options.progress(line); }
  /// True once any service may have been changed by this run.
  bool AnyServiceTouched() const;
  /// Adds the time since `since` to the report as stage `name`.
  void Timed(const std::string& name, SteadyTime since) {
    report.stages.emplace_back(name, std::chrono::duration<double>(clock.Now() - since).count());
  }
  /// The environment's ECR login, asked on first use and then kept for the run.
  const Result<EcrLogin>& Ecr() {
    if (!ecr_login) ecr_login = LoginToEcr(c);
    return *ecr_login;
  }

  std::optional<Result<EcrLogin>> ecr_login = std::nullopt;
  /// What options.watch was last told about each service, by ECS service name.
  std::map<std::string, ServiceProgress> shown = {};
};

/// A fresh release id, "r<yyyymmddhhmmss>-<hex>".
std::string NewReleaseId();

/// Takes the release lock for the run; when another release holds it, returns null with the
/// report marked kLocked and naming the holder.
[[nodiscard]] Result<std::unique_ptr<ReleaseLock>> TakeLock(Run& run, long ttl_seconds);

/// Ends a run that holds `lock`: removes the lock and fills in the summary. `stages` is an error
/// only when no service was changed; the error returned then says so, and whether the lock
/// could be removed.
[[nodiscard]] Result<ReleaseReport> Conclude(Run& run, ReleaseLock& lock, const Result<void>& stages);
/// Fills in the summary (running counts, duration) and returns the report.
[[nodiscard]] Result<ReleaseReport> Finish(Run& run);

/// Runs the environment's HTTP checks through the load balancer, with retries. Returns "" when
/// all pass, else the first failure; stops early (with a failure) once the run is cancelled.
std::string Verify(Run& run);

/// Puts `s`'s service on `target_arn` and waits until ECS reports that deployment COMPLETED
/// (when ECS's circuit breaker is already returning to it, waits for that instead). Keeps
/// `s.in_flight` and `s.rollback_deployment` up to date. kInProgress means cancelled.
[[nodiscard]] Result<RolloutVerdict> ReturnTo(Run& run, ServiceResult& s, const std::string& target_arn);

/// The services' state in one line each, for a report whose rollback failed.
std::string DescribeState(Run& run);

/// Ends the run as kUnknown: `e` says which endpoint stopped answering, and since when.
void EndUnknown(Run& run, const Error& e);

}  // namespace slipway::deploy
