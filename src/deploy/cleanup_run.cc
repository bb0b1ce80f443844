// Cleanup against ECS and ECR: gather what the plan reads, then apply it under the release lock.
#include <algorithm>
#include <nlohmann/json.hpp>

#include "base/clock.h"
#include "deploy/cleanup.h"
#include "deploy/ecr.h"
#include "deploy/lock.h"
#include "deploy/rollout.h"
#include "deploy/run.h"

namespace slipway::deploy {

using nlohmann::json;

namespace {

/// How long the release lock a cleanup takes lasts if cleanup dies holding it.
constexpr long kCleanupLockSeconds = 900;
/// ECS and ECR batch limits.
constexpr size_t kDescribeTasksBatch = 100, kDeleteRevisionsBatch = 10, kDeleteImagesBatch = 100;

std::string TaskId(const std::string& arn) { return arn.substr(arn.rfind('/') + 1); }

// What uses a revision now: each service's current one and its deployments', and every task
// alive in the cluster (migration tasks among them). Adds the services' families to `families`.
Result<std::map<std::string, std::string>> InUse(aws::AwsClient& c, const config::Environment& env,
                                                  std::vector<std::string>& families) {
  std::map<std::string, std::string> in_use;
  for (const auto& [name, se] : env.services) {
    auto s = DescribeService(c, env.cluster, se.service_name);
    if (!s) return tl::unexpected(s.error());
    if (s->is_null()) continue;
    const std::string current = s->value("taskDefinition", "");
    if (!current.empty()) {
      in_use.emplace(current, "service " + se.service_name);
      families.push_back(FamilyOf(current));
    }
    for (const auto& d : s->value("deployments", json::array())) {
      in_use.emplace(d.value("taskDefinition", ""), "service " + se.service_name + " (deployment " + d.value("id", "") + ")");
    }
  }
  json request{{"cluster", env.cluster}, {"desiredStatus", "RUNNING"}};
  std::vector<std::string> tasks;
  for (;;) {
    auto listed = c.Json(aws::kEcs, "ListTasks", request);
    if (!listed && listed.error().code == "ClusterNotFoundException") break;
    if (!listed) return tl::unexpected(listed.error());
    for (const auto& t : listed->value("taskArns", json::array())) tasks.push_back(t.get<std::string>());
    if (!listed->contains("nextToken") || (*listed)["nextToken"].is_null()) break;
    request["nextToken"] = (*listed)["nextToken"];
  }
  for (size_t i = 0; i < tasks.size(); i += kDescribeTasksBatch) {
    const std::vector<std::string> batch(tasks.begin() + static_cast<long>(i),
                                         tasks.begin() + static_cast<long>(std::min(tasks.size(), i + kDescribeTasksBatch)));
    auto described = c.Json(aws::kEcs, "DescribeTasks", {{"cluster", env.cluster}, {"tasks", batch}});
    if (!described) return tl::unexpected(described.error());
    for (const auto& t : described->value("tasks", json::array())) {
      in_use.emplace(t.value("taskDefinitionArn", ""), "task " + TaskId(t.value("taskArn", "")));
    }
  }
  in_use.erase("");
  return in_use;
}

Result<CleanupInput> Gather(aws::AwsClient& c, const config::Environment& env, const CleanupOptions& options,
                            std::string& registry_note) {
  CleanupInput in;
  in.environment = env.name;
  for (const auto& [name, se] : env.services) in.targets.insert(ReleaseTarget(env.cluster, se.service_name));
  std::vector<std::string> families = options.families;
  auto in_use = InUse(c, env, families);
  if (!in_use) return tl::unexpected(in_use.error());
  in.in_use = std::move(*in_use);
  std::sort(families.begin(), families.end());
  families.erase(std::unique(families.begin(), families.end()), families.end());
  std::set<std::string> listed;
  for (const auto& family : families) {
    options.progress("reading the revisions of " + family);
    auto revisions = ListRevisions(c, family, std::numeric_limits<int>::max());
    if (!revisions) return tl::unexpected(revisions.error());
    for (auto& r : *revisions) {
      listed.insert(r.arn);
      in.revisions.push_back(std::move(r));
    }
  }
  // A revision in use that is no longer ACTIVE still names the images its tasks run.
  for (const auto& [arn, user] : in.in_use) {
    if (listed.count(arn)) continue;
    auto r = DescribeRevision(c, arn);
    if (!r) return tl::unexpected(r.error());
    in.revisions.push_back(std::move(*r));
  }
  auto login = LoginToEcr(c);
  if (login) {
    in.registry = login->registry;
  } else {
    registry_note = "no images are deleted: the environment's ECR did not answer (" + login.error().message + ")";
  }
  RealClock clock;
  in.policy = {options.keep, options.older_than_seconds, EpochSeconds(clock.WallNow())};
  return in;
}

void Apply(aws::AwsClient& c, CleanupReport& report, const std::function<void(const std::string&)>& progress) {
  const CleanupPlan& plan = report.plan;
  // Revisions first: once none is ACTIVE, nothing new can start from the images that go next.
  std::vector<std::string> deregistered;
  for (const auto& v : plan.deregister) {
    auto r = c.Json(aws::kEcs, "DeregisterTaskDefinition", {{"taskDefinition", v.record.arn}});
    if (!r) {
      report.errors.push_back("deregistering " + FamilyRevision(v.record.arn) + ": " + r.error().message);
      continue;
    }
    deregistered.push_back(v.record.arn);
    progress("deregistered " + FamilyRevision(v.record.arn));
  }
  if (deregistered.size() == plan.deregister.size()) {
    std::map<std::string, std::vector<std::string>> by_repository;
    for (const auto& image : plan.delete_images) by_repository[image.repository].push_back(image.digest);
    for (const auto& [repository, digests] : by_repository) {
      for (size_t i = 0; i < digests.size(); i += kDeleteImagesBatch) {
        json ids = json::array();
        for (size_t j = i; j < std::min(digests.size(), i + kDeleteImagesBatch); ++j) ids.push_back({{"imageDigest", digests[j]}});
        auto r = c.Json(aws::kEcr, "BatchDeleteImage", {{"repositoryName", repository}, {"imageIds", ids}});
        if (!r) {
          report.errors.push_back("deleting images from " + repository + ": " + r.error().message);
          continue;
        }
        for (const auto& f : r->value("failures", json::array())) {
          // Already gone is what was wanted.
          if (f.value("failureCode", "") == "ImageNotFound") continue;
          report.errors.push_back("deleting " + repository + "@" + f["imageId"].value("imageDigest", "") + ": " +
                                  f.value("failureCode", "") + " " + f.value("failureReason", ""));
        }
        for (const auto& id : ids) progress("deleted image " + repository + "@" + id.value("imageDigest", ""));
      }
    }
  } else {
    // Some revision that was to go is still ACTIVE: its images stay with it.
    report.errors.push_back("no images were deleted, as not every revision could be deregistered");
  }
  for (size_t i = 0; i < deregistered.size(); i += kDeleteRevisionsBatch) {
    const std::vector<std::string> batch(deregistered.begin() + static_cast<long>(i),
                                         deregistered.begin() + static_cast<long>(std::min(deregistered.size(), i + kDeleteRevisionsBatch)));
    auto r = c.Json(aws::kEcs, "DeleteTaskDefinitions", {{"taskDefinitions", batch}});
    if (!r) {
      report.errors.push_back("deleting deregistered revisions: " + r.error().message);
      continue;
    }
    for (const auto& f : r->value("failures", json::array())) {
      report.errors.push_back("deleting " + FamilyRevision(f.value("arn", "")) + ": " + f.value("reason", "") + " " +
                              f.value("detail", ""));
    }
  }
}

}  // namespace

Result<CleanupReport> Cleanup(aws::AwsClient& c, const config::Environment& env, const CleanupOptions& options) {
  CleanupReport report;
  report.dry_run = options.dry_run;
  // No release may start (or be running) while revisions and images go.
  std::unique_ptr<ReleaseLock> lock;
  if (!options.dry_run) {
    auto taken = ReleaseLock::Acquire(c, env, NewReleaseId(), options.actor, kCleanupLockSeconds, report.locked_by);
    if (!taken) return tl::unexpected(taken.error());
    if (!*taken) return report;
    lock = std::move(*taken);
  }
  auto in = Gather(c, env, options, report.note);
  if (!in) return tl::unexpected(in.error());
  report.registry = in->registry;
  report.plan = PlanCleanup(*in);
  if (!options.dry_run) Apply(c, report, options.progress);
  if (lock) {
    if (auto removed = lock->Remove(); !removed) {
      report.errors.push_back("the release lock could not be removed (it expires by itself in " +
                              std::to_string(kCleanupLockSeconds / 60) + " min): " + removed.error().message);
    }
  }
  return report;
}

}  // namespace slipway::deploy
