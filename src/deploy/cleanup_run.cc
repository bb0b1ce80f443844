// Cleanup against ECS and ECR: gather what the plan reads, then apply it under the release lock.
#include <algorithm>
#include <limits>

#include "aws/ecr.h"
#include "aws/ecs.h"
#include "base/clock.h"
#include "deploy/cleanup.h"
#include "deploy/ecr.h"
#include "deploy/lock.h"
#include "deploy/rollout.h"
#include "deploy/run.h"

namespace slipway::deploy {

namespace {

/// How long the release lock a cleanup takes lasts if cleanup dies holding it; it is checked
/// before each change, so a cleanup that outlives it stops.
constexpr long kCleanupLockSeconds = 1800;
/// ECS and ECR batch limits.
constexpr size_t kDescribeTasksBatch = 100, kDeleteRevisionsBatch = 10, kEcrBatch = 100;

std::string TaskId(const std::string& arn) { return arn.substr(arn.rfind('/') + 1); }

// Every task of `cluster` that has not stopped yet (running, starting, or stopping).
Result<std::vector<std::string>> LiveTasks(aws::AwsClient& c, const std::string& cluster) {
  std::vector<std::string> tasks;
  for (const char* desired : {"RUNNING", "STOPPED"}) {
    auto listed = aws::Ecs(c).ListTasks({.cluster = cluster, .desired_status = desired});
    if (!listed && listed.error().code == "ClusterNotFoundException") return tasks;
    if (!listed) return tl::unexpected(listed.error());
    tasks.insert(tasks.end(), listed->begin(), listed->end());
  }
  return tasks;
}

// What uses a revision now in `env`: each service's current one and its deployments', and every
// task not yet stopped in the cluster (migration tasks among them). Adds to `in_use` and
// `families`.
Result<void> InUse(aws::AwsClient& c, const config::Environment& env, std::map<std::string, std::string>& in_use,
                   std::vector<std::string>& families) {
  const std::string where = env.cluster + "/";
  for (const auto& [name, se] : env.services) {
    auto s = DescribeService(c, env.cluster, se.service_name);
    if (!s) return tl::unexpected(s.error());
    if (!*s) continue;
    const std::string& current = (*s)->task_definition;
    if (!current.empty()) {
      in_use.emplace(current, "service " + where + se.service_name);
      families.push_back(FamilyOf(current));
    }
    for (const auto& d : (*s)->deployments) {
      in_use.emplace(d.task_definition, "service " + where + se.service_name + " (deployment " + d.id + ")");
    }
  }
  auto tasks = LiveTasks(c, env.cluster);
  if (!tasks) return tl::unexpected(tasks.error());
  for (size_t i = 0; i < tasks->size(); i += kDescribeTasksBatch) {
    const std::vector<std::string> batch(tasks->begin() + static_cast<long>(i),
                                         tasks->begin() + static_cast<long>(std::min(tasks->size(), i + kDescribeTasksBatch)));
    auto described = aws::Ecs(c).DescribeTasks(env.cluster, batch);
    if (!described) return tl::unexpected(described.error());
    for (const auto& t : described->tasks) {
      if (t.last_status == "STOPPED") continue;
      in_use.emplace(t.task_definition_arn, "task " + where + TaskId(t.arn));
    }
    for (const auto& f : described->failures) {
      // A task that ended and was forgotten between the two calls uses nothing.
      if (f.reason != "MISSING") return Fail("DescribeTasks " + f.arn + ": " + f.reason);
    }
  }
  in_use.erase("");
  return {};
}

Result<std::map<std::string, std::string>> InUseEverywhere(aws::AwsClient& c, const config::Environment& env,
                                                           const CleanupOptions& options, std::vector<std::string>& families) {
  std::map<std::string, std::string> in_use;
  if (auto r = InUse(c, env, in_use, families); !r) return tl::unexpected(r.error());
  for (const auto& other : options.neighbours) {
    if (auto r = InUse(c, other, in_use, families); !r) return tl::unexpected(r.error());
  }
  return in_use;
}

// What each tag the revisions name in `registry` points at now ("repository:tag" -> digest).
Result<std::map<std::string, std::string>> ResolveTags(aws::AwsClient& c, const std::vector<RevisionRecord>& revisions,
                                                       const std::string& registry) {
  std::map<std::string, std::set<std::string>> tags;  // repository -> tags
  for (const auto& r : revisions) {
    for (const auto& image : r.images) {
      const std::string tagged = EcrTagOf(image, registry);
      if (!tagged.empty()) tags[tagged.substr(0, tagged.rfind(':'))].insert(tagged.substr(tagged.rfind(':') + 1));
    }
  }
  aws::Ecr ecr(c);
  std::map<std::string, std::string> out;
  for (const auto& [repository, names] : tags) {
    const std::vector<std::string> list(names.begin(), names.end());
    for (size_t i = 0; i < list.size(); i += kEcrBatch) {
      std::vector<aws::ImageId> ids;
      for (size_t j = i; j < std::min(list.size(), i + kEcrBatch); ++j) ids.push_back({.tag = list[j]});
      auto r = ecr.DescribeImages(repository, ids);
      if (!r && r.error().code == "RepositoryNotFoundException") break;
      if (!r && r.error().code == "ImageNotFoundException") continue;  // tags that name nothing keep nothing
      if (!r) return tl::unexpected(r.error());
      for (const auto& d : *r) {
        for (const auto& t : d.tags) {
          if (names.count(t)) out[repository + ":" + t] = d.digest;
        }
      }
    }
  }
  return out;
}

Result<CleanupInput> Gather(aws::AwsClient& c, const config::Environment& env, const CleanupOptions& options,
                            std::string& registry_note) {
  CleanupInput in;
  in.environment = env.name;
  for (const auto& [name, se] : env.services) in.targets.insert(ReleaseTarget(env.cluster, se.service_name));
  std::vector<std::string> families = options.families;
  auto in_use = InUseEverywhere(c, env, options, families);
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
  if (auto login = LoginToEcr(c)) {
    in.registry = login->registry;
    auto tags = ResolveTags(c, in.revisions, in.registry);
    if (!tags) return tl::unexpected(tags.error());
    in.tag_digests = std::move(*tags);
  } else {
    registry_note = "no image is deleted, and no revision that names one by digest goes: the environment's ECR did not "
                    "answer (" + login.error().message + ")";
  }
  RealClock clock;
  in.policy = {options.keep, options.older_than_seconds, EpochSeconds(clock.WallNow())};
  return in;
}

// Stops the cleanup when the lock is no longer its own (it expired and a release took it).
bool StillLocked(ReleaseLock& lock, CleanupReport& report) {
  auto held = lock.Held();
  if (held && *held) return true;
  report.errors.push_back(held ? "the release lock expired and another release took it; stopped"
                               : "cannot confirm the release lock: " + held.error().message + "; stopped");
  return false;
}

void Apply(aws::AwsClient& c, const config::Environment& env, const CleanupOptions& options, CleanupInput& in,
           ReleaseLock& lock, CleanupReport& report) {
  // Revisions first: once none is ACTIVE, nothing new can start from the images that go next.
  std::set<std::string> going;
  for (const auto& v : report.plan.deregister) {
    if (!StillLocked(lock, report)) return;
    auto r = aws::Ecs(c).DeregisterTaskDefinition(v.record.arn);
    if (!r) {
      report.errors.push_back("deregistering " + FamilyRevision(v.record.arn) + ": " + r.error().message);
      continue;
    }
    going.insert(v.record.arn);
    report.deregistered.push_back(v.record.arn);
    options.progress("deregistered " + FamilyRevision(v.record.arn));
  }
  // ECS may still start tasks from a revision for a while after it is deregistered: look again,
  // and keep the images of any revision that started something meanwhile.
  std::vector<std::string> families;
  auto now_in_use = InUseEverywhere(c, env, options, families);
  if (!now_in_use) {
    report.errors.push_back("no image was deleted: cannot tell what runs now: " + now_in_use.error().message);
    return;
  }
  for (const auto& [arn, user] : *now_in_use) {
    if (going.erase(arn)) report.errors.push_back(FamilyRevision(arn) + " was deregistered but " + user + " uses it: kept its images");
  }
  for (auto& r : in.revisions) {
    if (going.count(r.arn)) r.status = "INACTIVE";
  }
  // Images named only by revisions that did go (one that failed to deregister keeps its own).
  std::set<std::string> failed_images;  // repository@digest
  if (!in.registry.empty()) {
    aws::Ecr ecr(c);
    std::map<std::string, std::vector<std::string>> by_repository;
    for (const auto& image : ImagesOnlyNamedBy(in, going, nullptr)) by_repository[image.repository].push_back(image.digest);
    for (const auto& [repository, digests] : by_repository) {
      for (size_t i = 0; i < digests.size(); i += kEcrBatch) {
        if (!StillLocked(lock, report)) return;
        std::set<std::string> batch(digests.begin() + static_cast<long>(i),
                                    digests.begin() + static_cast<long>(std::min(digests.size(), i + kEcrBatch)));
        std::vector<aws::ImageId> ids;
        for (const auto& d : batch) ids.push_back({.digest = d});
        auto r = ecr.BatchDeleteImage(repository, ids);
        if (!r) {
          report.errors.push_back("deleting images from " + repository + ": " + r.error().message);
          for (const auto& d : batch) failed_images.insert(repository + "@" + d);
          continue;
        }
        for (const auto& f : r->failures) {
          const std::string& digest = f.image.digest;
          if (f.code == "ImageNotFound") continue;  // already gone is what was wanted
          report.errors.push_back("deleting " + repository + "@" + digest + ": " + f.code + " " + f.reason);
          failed_images.insert(repository + "@" + digest);
          batch.erase(digest);
        }
        for (const auto& d : batch) {
          report.deleted_images.push_back({repository, d, {}});
          options.progress("deleted image " + repository + "@" + d);
        }
      }
    }
  }
  // A deregistered revision is deleted once its images are gone: while one is left, the revision
  // stays INACTIVE and names it.
  std::vector<std::string> deletable;
  for (const auto& r : in.revisions) {
    if (!going.count(r.arn)) continue;
    bool left = false;
    for (const auto& image : r.images) {
      const std::string repository = EcrRepositoryOf(image, in.registry);
      const size_t at = image.rfind('@');
      left = left || (at != std::string::npos && failed_images.count(repository + image.substr(at)));
    }
    if (!left) deletable.push_back(r.arn);
  }
  for (size_t i = 0; i < deletable.size(); i += kDeleteRevisionsBatch) {
    if (!StillLocked(lock, report)) return;
    const std::vector<std::string> batch(deletable.begin() + static_cast<long>(i),
                                         deletable.begin() + static_cast<long>(std::min(deletable.size(), i + kDeleteRevisionsBatch)));
    auto r = aws::Ecs(c).DeleteTaskDefinitions(batch);
    if (!r) {
      report.errors.push_back("deleting deregistered revisions: " + r.error().message);
      continue;
    }
    for (const auto& arn : r->arns) report.deleted_revisions.push_back(arn);
    for (const auto& f : r->failures) {
      report.errors.push_back("deleting " + FamilyRevision(f.arn) + ": " + f.reason + " " + f.detail);
    }
  }
}

}  // namespace

Result<CleanupReport> Cleanup(aws::AwsClient& c, const config::Environment& env, const CleanupOptions& options) {
  CleanupReport report;
  report.dry_run = options.dry_run;
  // No release may start (or be running) while revisions and images go. A dry run takes no lock,
  // but says when a release is in flight, as the real run would refuse.
  std::unique_ptr<ReleaseLock> lock;
  if (!options.dry_run) {
    auto taken = ReleaseLock::Acquire(c, env, "cleanup-" + NewReleaseId(), options.actor, kCleanupLockSeconds,
                                      report.locked_by);
    if (!taken) return tl::unexpected(taken.error());
    if (!*taken) return report;
    lock = std::move(*taken);
  }
  auto in = Gather(c, env, options, report.note);
  if (!in) return tl::unexpected(in.error());
  report.registry = in->registry;
  report.plan = PlanCleanup(*in);
  if (lock) {
    Apply(c, env, options, *in, *lock, report);
    if (auto removed = lock->Remove(); !removed) {
      report.errors.push_back("the release lock could not be removed (it expires by itself in " +
                              std::to_string(kCleanupLockSeconds / 60) + " min): " + removed.error().message);
    }
  }
  return report;
}

}  // namespace slipway::deploy
