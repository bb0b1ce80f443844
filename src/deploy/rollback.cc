// `slipway rollback`: decide every service's target first (reads only), then return each to it.
#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>

#include "deploy/records.h"
#include "deploy/release.h"
#include "deploy/rollout.h"
#include "deploy/run.h"

namespace slipway::deploy {

using nlohmann::json;

namespace {

// One service to roll back: where it is and where it goes.
struct Step {
  std::string service_name, current, target;
  int desired_count = -1;  ///< what it runs; a rollback keeps it
};

// The revision `to_revision` names ("N", "family:N" or an ARN), else the newest known-good
// revision other than what runs now.
Result<std::string> TargetFor(aws::AwsClient& c, const config::Environment& env, const std::string& service_name,
                              const std::string& current, const std::string& to_revision, bool force) {
  const std::string family = FamilyOf(current);
  if (!to_revision.empty()) {
    bool digits = !to_revision.empty() && std::all_of(to_revision.begin(), to_revision.end(), [](char ch) {
      return std::isdigit(static_cast<unsigned char>(ch));
    });
    const std::string named = digits ? family + ":" + to_revision : to_revision;
    auto rec = DescribeRevision(c, named);
    if (!rec && rec.error().code == "ClientException") {
      return tl::unexpected(Error{"--to " + to_revision + ": there is no revision " + named + " (" + service_name +
                                      " runs " + FamilyRevision(current) + ")",
                                  kBadRollbackTarget});
    }
    if (!rec) return tl::unexpected(Wrap("--to " + to_revision, rec.error()));
    if (rec->family != family) {
      return tl::unexpected(Error{"--to " + to_revision + " is not a revision of " + family + " (" + service_name +
                                      " runs " + FamilyRevision(current) + ")",
                                  kBadRollbackTarget});
    }
    // A revision whose release never completed was never verified to serve.
    const std::string result = rec->Tag("slipway:result");
    if (!force && (result == kResultAborted || result == kResultInterrupted || result == kResultFailed)) {
      std::string why = rec->Tag("slipway:detail");
      return tl::unexpected(Error{"--to " + to_revision + ": " + FamilyRevision(rec->arn) + " is recorded " + result +
                                      (why.empty() ? "" : " (" + why + ")") +
                                      "; pass --force to roll back to it anyway",
                                  kBadRollbackTarget});
    }
    return rec->arn;
  }
  auto good = FindKnownGood(c, family, ReleaseTarget(env.cluster, service_name), current);
  if (!good) return tl::unexpected(good.error());
  if (!*good) {
    return Fail(service_name + ": no known-good revision of " + family + " other than the current " +
                FamilyRevision(current) + "; pass --to REVISION");
  }
  return (*good)->arn;
}

// Reads only: an error here leaves every service as it was.
Result<std::vector<Step>> Plan(Run& run, const std::string& only_service, const std::string& to_revision, bool force) {
  std::vector<Step> steps;
  for (const auto& [name, se] : run.env.services) {
    if (!only_service.empty() && only_service != name && only_service != se.service_name) continue;
    auto d = DescribeService(run.c, run.env.cluster, se.service_name);
    if (!d) return tl::unexpected(d.error());
    if (!*d) return Fail("service " + se.service_name + " does not exist in " + run.env.cluster);
    const std::string current = (*d)->task_definition;
    auto target = TargetFor(run.c, run.env, se.service_name, current, to_revision, force);
    if (!target) return tl::unexpected(target.error());
    steps.push_back({se.service_name, current, *target, (*d)->desired_count});
  }
  if (steps.empty()) return Fail("no service '" + only_service + "' in environment " + run.env.name);
  return steps;
}

// Returns each service to its target in turn; the report says how far it got.
void Perform(Run& run, const std::vector<Step>& steps) {
  ReleaseReport& report = run.report;
  for (const auto& step : steps) {
    if (run.cancelled()) {
      report.outcome = Outcome::kInterrupted;
      report.failure = "interrupted; " + step.service_name + " and the services after it were not rolled back";
      return;
    }
    report.services.push_back({.service_name = step.service_name,
                               .task_definition_arn = step.target,
                               .known_good_arn = step.target,
                               .desired_count = step.desired_count});
    ServiceResult& sr = report.services.back();
    run.Progress(step.service_name + ": " + FamilyRevision(step.current) + " -> " + FamilyRevision(step.target));
    auto v = ReturnTo(run, sr, step.target);
    if (!v) {
      if (aws::IsUnreachable(v.error())) {
        if (run.AnyServiceTouched()) return EndUnknown(run, v.error());
        report.failure = v.error().message;  // nothing changed: the caller makes it an error
        return;
      }
      sr.rollback = "rollback failed: " + v.error().message;
      report.failure = step.service_name + ": " + sr.rollback;
      continue;
    }
    if (v->status == RolloutStatus::kInProgress) {
      report.outcome = Outcome::kInterrupted;
      report.failure = "interrupted while rolling back " + step.service_name;
      return;
    }
    if (v->status != RolloutStatus::kCompleted) {
      sr.rollback = "rollback to " + FamilyRevision(step.target) + " failed: " + v->reason;
      report.failure = step.service_name + ": " + sr.rollback;
      continue;
    }
    sr.rollback = "back on " + FamilyRevision(step.target);
    // The revision rolled away from is no longer a candidate known-good.
    if (step.current != step.target) {
      auto t = TagRevision(run.c, step.current, {{"slipway:result", kResultRolledBack},
                                                 {"slipway:detail", "rolled back by " + run.options.actor + " at " + IsoNow()}});
      if (!t) {
        report.warnings.push_back("could not record " + FamilyRevision(step.current) + " as rolled-back (" +
                                  t.error().message + "); it may still be chosen as known-good");
      }
    }
  }
}

}  // namespace

Result<ReleaseReport> Rollback(aws::AwsClient& c, aws::HttpTransport& http, Clock& clock,
                               const config::Environment& env, const std::string& only_service,
                               const std::string& to_revision, bool force, const ReleaseOptions& options) {
  ReleaseReport report;
  report.release_id = NewReleaseId();
  Run run{c, http, clock, env, options, report, clock.Now()};
  if (run.cancelled()) {
    report.outcome = Outcome::kInterrupted;
    report.failure = "interrupted before the rollback began; nothing was changed";
    return Finish(run);
  }
  auto lock = TakeLock(run, env.timeout_seconds * 2L + 600);
  if (!lock) return tl::unexpected(Error{lock.error().message + "; no service was changed", lock.error().code});
  if (!*lock) return Finish(run);
  auto steps = Plan(run, only_service, to_revision, force);
  if (!steps) return Conclude(run, **lock, tl::unexpected(steps.error()));
  Perform(run, *steps);
  // A failure before any service was touched (e.g. the endpoint stopped answering before the
  // first UpdateService) is an error: nothing happened.
  if (report.outcome == Outcome::kReleased && !report.failure.empty() && !run.AnyServiceTouched()) {
    return Conclude(run, **lock, Fail(report.failure));
  }
  if (report.outcome == Outcome::kReleased) {
    if (report.failure.empty()) report.failure = Verify(run);
    if (!report.failure.empty() && run.cancelled()) {
      report.outcome = Outcome::kInterrupted;
      report.failure = "interrupted while verifying";
    } else if (!report.failure.empty()) {
      report.outcome = Outcome::kRollbackFailed;
      report.state = DescribeState(run);
    } else {
      // Running again and verified: the revision is known-good (again).
      for (const auto& s : report.services) {
        auto t = TagRevision(c, s.task_definition_arn, {{"slipway:result", kResultReleased},
                                                        {"slipway:restored", IsoNow() + " by " + options.actor}});
        if (!t) {
          report.warnings.push_back("could not record " + FamilyRevision(s.task_definition_arn) + " as released (" +
                                    t.error().message + ")");
        }
      }
    }
  }
  return Conclude(run, **lock, {});
}

}  // namespace slipway::deploy
