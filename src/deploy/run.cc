// The parts of a release that a rollback shares: locking, verifying, returning to a revision,
// and ending a run honestly whichever way it went.
#include "deploy/run.h"

#include <cctype>
#include <nlohmann/json.hpp>

#include "aws/ecs.h"
#include "base/cancel.h"
#include "base/strings.h"
#include "deploy/allowlist.h"
#include "deploy/records.h"

namespace slipway::deploy {

using nlohmann::json;

namespace {

// Best effort: the counts are for the summary; a failed read leaves them at 0 (and what runs, "").
void FillRunningCounts(Run& run) {
  if (auto st = Status(run.c, run.env)) {
    for (auto& s : run.report.services) {
      for (const auto& x : *st) {
        if (x.service_name != s.service_name) continue;
        s.running_count = x.running;
        s.running_task_definition = x.task_definition;
      }
    }
  }
}

}  // namespace

bool Run::AnyServiceTouched() const {
  for (const auto& s : report.services) {
    if (!s.deployment_id.empty() || !s.in_flight.empty() || !s.rollback_deployment.empty()) return true;
  }
  return false;
}

std::string NewReleaseId() {
  RealClock clock;
  std::string iso = IsoTime(clock.WallNow());  // 2026-11-27T23:59:01Z
  std::string digits;
  for (char ch : iso) {
    if (std::isdigit(static_cast<unsigned char>(ch))) digits += ch;
  }
  return "r" + digits.substr(0, 14) + "-" + RandomHex(4);
}

Result<std::unique_ptr<ReleaseLock>> TakeLock(Run& run, long ttl_seconds) {
  std::string held_by;
  auto lock = ReleaseLock::Acquire(run.c, run.env, run.report.release_id, run.options.actor, ttl_seconds, held_by);
  if (lock && !*lock) {
    run.report.outcome = Outcome::kLocked;
    run.report.failure = held_by;
  }
  return lock;
}

Result<ReleaseReport> Conclude(Run& run, ReleaseLock& lock, const Result<void>& stages) {
  std::string left;
  if (auto removed = lock.Remove(); !removed) {
    left = "the release lock could not be removed (" + removed.error().message + "); it expires " + lock.expires() +
           ", or `slipway unlock " + run.env.name + "` removes it";
  }
  if (!stages) {
    std::string message = stages.error().message + "; no service was changed";
    if (!left.empty()) message += "; " + left;
    return tl::unexpected(Error{message, stages.error().code});
  }
  if (!left.empty()) run.report.warnings.push_back(left);
  return Finish(run);
}

Result<ReleaseReport> Finish(Run& run) {
  // An endpoint that does not answer would only be asked again, to no end.
  if (run.report.outcome != Outcome::kUnknown) FillRunningCounts(run);
  run.report.seconds = std::chrono::duration<double>(run.clock.Now() - run.started).count();
  return run.report;
}

std::string Verify(Run& run) {
  const config::Environment& env = run.env;
  // Verify is a client like any other: behind an allowlist it sends from a listed loopback address.
  const VerifyAccess access = VerifyAccessFor(env);
  if (!access.source.empty()) run.Progress("verify sends from " + access.source + ", an address the allowlist admits");
  for (const auto& check : env.verify) {
    // A service asked to run no task serves no traffic: its check could only meet a 503. That is
    // the config's desiredCount 0, an on-demand service that is stopped, or an override of 0.
    const std::string service = config::ServiceForPath(env, check.path);
    if (!service.empty()) {
      const config::ServiceEnv& se = env.services.at(service);
      int desired = se.desired_count;
      for (const auto& s : run.report.services) {
        if (s.service_name == se.service_name && s.desired_count >= 0) desired = s.desired_count;
      }
      if (desired == 0) {
        run.Progress("verify GET " + check.path + ": skipped, " + service +
                     (se.on_demand ? " is on demand and stopped" : " has desiredCount 0") + " (no task serves it)");
        continue;
      }
    }
    const std::string url = "http://" + env.listener_host + ":" + std::to_string(env.listener_port) + check.path;
    const std::string what = "verify GET " + check.path + ": ";
    std::string last;
    bool passed = false;
    for (int attempt = 1; attempt <= env.verify_attempts && !passed; ++attempt) {
      if (run.cancelled()) return what + "interrupted";
      aws::HttpRequest request{"GET", url, {}, "", 5000};
      request.local_address = access.source;
      auto r = run.http.Send(request);
      if (!r) last = r.error().message;
      else if (r->status != check.status) last = "got HTTP " + std::to_string(r->status) + ", want " + std::to_string(check.status);
      else if (!check.contains.empty() && r->body.find(check.contains) == std::string::npos) {
        last = "body lacks \"" + check.contains + "\" (got \"" + Trim(r->body.substr(0, 80)) + "\")";
      }
      else passed = true;
      if (!passed && !SleepUnlessCancelled(run.clock, Millis(500), run.options.cancel)) return what + "interrupted";
    }
    if (!passed) return what + last;
    run.Progress("verify GET " + check.path + ": " + std::to_string(check.status) + " ok");
  }
  return "";
}

Result<RolloutVerdict> ReturnTo(Run& run, ServiceResult& s, const std::string& target_arn) {
  const config::Environment& env = run.env;
  const std::string revision = FamilyRevision(target_arn);
  auto d = DescribeService(run.c, env.cluster, s.service_name);
  if (!d) return tl::unexpected(d.error());
  if (!*d || (*d)->status != "ACTIVE") {
    return RolloutVerdict{RolloutStatus::kFailed, "service " + s.service_name + " is not ACTIVE"};
  }
  const aws::Service& svc = **d;
  const aws::Deployment primary = svc.deployments.empty() ? aws::Deployment{} : svc.deployments[0];
  std::string deployment;
  // Judged through the ServiceDeployments API only for an update of its own: ECS's own return
  // (a circuit-breaker rollback) ends as its failed service deployment's ROLLBACK_SUCCESSFUL.
  std::string service_deployment;
  if (svc.task_definition == target_arn && primary.task_definition == target_arn &&
      primary.rollout_state != "FAILED") {
    deployment = primary.id;
    run.Progress(s.service_name + ": ECS is already returning to " + revision + " (deployment " + deployment +
                 "); waiting for it");
  } else {
    const std::string before = s.in_flight;
    s.in_flight = "UpdateService to " + revision + " was sent without a reply" + (before.empty() ? "" : "; before that: " + before);
    auto u = aws::Ecs(run.c).UpdateService(
        {.cluster = env.cluster, .service = s.service_name, .task_definition = target_arn, .force_new_deployment = true});
    if (!u) {
      if (u.error().code != aws::kOutcomeUnknown) s.in_flight = before;  // it never took effect
      return tl::unexpected(u.error());
    }
    // The update took effect, so the service stays touched (in_flight) whatever comes next.
    if (u->deployments.empty()) return Fail("ecs UpdateService " + s.service_name + ": the reply names no deployment");
    deployment = u->deployments[0].id;
    service_deployment = u->current_service_deployment;
    run.Progress(s.service_name + ": rolling back to " + revision + " (deployment " + deployment + ")");
  }
  s.rollback_deployment = deployment;
  s.in_flight = "rolling back to " + revision + " (deployment " + deployment + ")";
  ShowPhase(run, s.service_name, revision, "rolling back");
  auto v = WatchRollout(run.c, run.clock, env.cluster, s.service_name, deployment,
                        Millis(static_cast<long>(env.timeout_seconds) * 1000),
                        [&](const std::string& event) { run.Progress(event); }, run.options.cancel,
                        service_deployment, [&](const aws::Service& look) { ShowLook(run, deployment, look); });
  if (v && v->status != RolloutStatus::kInProgress) s.in_flight.clear();
  const char* phase = !v                                          ? "not watched"
                      : v->status == RolloutStatus::kCompleted   ? "rolled back"
                      : v->status == RolloutStatus::kInProgress  ? "interrupted"
                                                                 : "rollback failed";
  ShowPhase(run, s.service_name, revision, phase, true);
  return v;
}

std::string DescribeState(Run& run) {
  auto st = Status(run.c, run.env);
  if (!st) return "unknown (" + st.error().message + ")";
  std::string out;
  for (const auto& s : *st) {
    out += (out.empty() ? "" : "; ") + s.service_name + " runs " + FamilyRevision(s.task_definition) + " with " +
           std::to_string(s.running) + "/" + std::to_string(s.desired) + " tasks, " + std::to_string(s.deployments) +
           " deployment(s), rollout " + (s.rollout_state.empty() ? "-" : s.rollout_state);
  }
  return out;
}

void EndUnknown(Run& run, const Error& e) {
  run.report.outcome = Outcome::kUnknown;
  run.report.unreachable = e.message;
}

}  // namespace slipway::deploy
