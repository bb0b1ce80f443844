// How a release ends other than released: recorded, and on failure every touched service back on
// its known-good revision, verified.
#include "deploy/stages.h"

#include "deploy/diagnose.h"
#include "deploy/records.h"

namespace slipway::deploy {

using nlohmann::json;

void Record(Run& run, const char* result, const std::string& detail) {
  for (const auto& s : run.report.services) {
    std::map<std::string, std::string> tags{{"slipway:result", result}, {"slipway:finished", IsoNow()}};
    if (!detail.empty()) tags["slipway:detail"] = detail;
    if (auto t = TagRevision(run.c, s.task_definition_arn, tags); !t) {
      run.report.warnings.push_back("could not record " + FamilyRevision(s.task_definition_arn) + " as " + result +
                                    " (" + t.error().message + "); slipway history shows what it last recorded");
    }
  }
}

void Abort(Run& run, const std::string& when) {
  run.report.outcome = Outcome::kInterrupted;
  run.report.failure = "interrupted " + when + "; no service was changed";
  Record(run, kResultAborted, run.report.failure);
}

void Interrupt(Run& run, const std::string& when) {
  run.report.outcome = Outcome::kInterrupted;
  run.report.failure = "interrupted " + when;
  std::string detail = run.report.failure;
  for (const auto& s : run.report.services) {
    if (!s.in_flight.empty()) detail += "; " + s.service_name + ": " + s.in_flight;
  }
  Record(run, kResultInterrupted, detail);
}

void FailAndReturn(Run& run) {
  ReleaseReport& report = run.report;
  run.Progress("release failed: " + report.failure);
  for (auto& s : report.services) {
    if (s.deployment_id.empty()) continue;
    auto tasks = CollectTasks(run.c, {run.env.cluster, "", s.deployment_id, "STOPPED", 20, 20});
    if (tasks) s.stopped_tasks = *tasks;
  }
  Record(run, kResultFailed, report.failure);
  bool all_back = true;
  for (auto& s : report.services) {
    if (s.deployment_id.empty() && s.in_flight.empty()) continue;  // never updated
    if (s.known_good_arn.empty()) {
      s.rollback = "no known-good revision to return to";
      all_back = false;
      continue;
    }
    auto v = ReturnTo(run, s, s.known_good_arn);
    if (!v) {
      if (aws::IsUnreachable(v.error())) return EndUnknown(run, v.error());
      s.rollback = "rollback failed: " + v.error().message;
      all_back = false;
    } else if (v->status == RolloutStatus::kInProgress) {
      report.outcome = Outcome::kInterrupted;
      report.failure += "; interrupted while returning to known-good";
      return;
    } else if (v->status != RolloutStatus::kCompleted) {
      s.rollback = "rollback to " + FamilyRevision(s.known_good_arn) + " failed: " + v->reason;
      all_back = false;
    } else {
      s.rollback = "back on " + FamilyRevision(s.known_good_arn);
      run.Progress(s.service_name + ": back on known-good " + FamilyRevision(s.known_good_arn));
    }
  }
  if (all_back) {
    std::string verify = Verify(run);
    if (!verify.empty() && run.cancelled()) {
      report.outcome = Outcome::kInterrupted;
      report.failure += "; every service is back on known-good, interrupted while verifying it";
      return;
    }
    if (!verify.empty()) {
      all_back = false;
      report.state = "services are on their known-good revisions but " + verify + "; ";
    }
  }
  report.outcome = all_back ? Outcome::kFailed : Outcome::kRollbackFailed;
  if (!all_back) report.state += DescribeState(run);
}

}  // namespace slipway::deploy
